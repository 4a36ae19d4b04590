"""Reads of the findings register, in the shapes its pages and the report need."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, QuerySet

from apps.fieldwork.models import SampledCase
from apps.inspections.models import Inspection

from .models import EARLIER_PROMISING_LABEL, EvidenceItem, Finding, Kind
from .services import PUBLISHED_STATES

# The order kinds appear in under a stage, as real reports present them.
KIND_ORDER = [
    Kind.CAUSE_OF_CONCERN,
    Kind.AREA_FOR_IMPROVEMENT,
    Kind.STRENGTH,
    Kind.PROMISING_PRACTICE,
    Kind.RECOMMENDATION,
]


def kind_labels(inspection: Inspection) -> dict[str, str]:
    """Kind labels in the inspection's own vocabulary: "effective practice" before the 2024
    methodology, "promising practice" from it."""
    labels = dict(Kind.choices)
    if inspection.methodology.valid_from.year < 2024:
        labels[Kind.PROMISING_PRACTICE] = EARLIER_PROMISING_LABEL
    return labels


def findings_of(inspection: Inspection) -> QuerySet[Finding]:
    return (
        Finding.objects.filter(inspection=inspection)
        .select_related("carried_over_from__inspection", "cause_of_concern")
        .prefetch_related(
            Prefetch("evidence", queryset=EvidenceItem.objects.only("id", "title", "source")),
            Prefetch(
                "recommendations",
                queryset=Finding.objects.order_by("number", "id").only(
                    "id", "number", "headline", "cause_of_concern_id"
                ),
            ),
        )
        .order_by("order", "id")
    )


@dataclass
class StageGroup:
    code: str
    name: str
    findings: list[Finding] = field(default_factory=list)


def register(inspection: Inspection) -> dict[str, Any]:
    """The register grouped by stage (in methodology order, general findings last), with
    counts per kind."""
    groups = {
        stage["code"]: StageGroup(stage["code"], stage["name"])
        for stage in inspection.methodology.stages
    }
    general = StageGroup("", "The force as a whole")
    findings = list(findings_of(inspection))
    rank = {kind: i for i, kind in enumerate(KIND_ORDER)}
    findings.sort(key=lambda f: (rank[Kind(f.kind)], f.number or 0, f.order, f.pk))
    counts = dict.fromkeys(Kind.values, 0)
    for finding in findings:
        groups.get(finding.stage, general).findings.append(finding)
        counts[finding.kind] += 1
    return {
        "groups": [g for g in [*groups.values(), general] if g.findings],
        "empty_stages": [g for g in groups.values() if not g.findings],
        "counts": counts,
        "total": len(findings),
        "labels": kind_labels(inspection),
    }


def evidence_of(inspection: Inspection) -> QuerySet[EvidenceItem]:
    return (
        EvidenceItem.objects.filter(inspection=inspection)
        .select_related("sampled_case", "created_by")
        .annotate(finding_count=Count("findings"))
        .order_by("source", "title", "id")
    )


def evidence_choices(inspection: Inspection) -> list[tuple[int, str]]:
    return [
        (item.pk, f"{item.get_source_display()}: {item.title}")
        for item in EvidenceItem.objects.filter(inspection=inspection).order_by("source", "title")
    ]


def case_choices(inspection: Inspection) -> list[tuple[int, str]]:
    """The inspection's sampled cases, by pseudonymous reference."""
    return [
        (pk, f"{reference} ({area})")
        for pk, reference, area in SampledCase.objects.filter(inspection=inspection)
        .order_by("audit_area", "reference")
        .values_list("pk", "reference", "audit_area")
    ]


def carry_over_choices(inspection: Inspection) -> list[tuple[int, str]]:
    """Findings of earlier published inspections of the same force(s) that can be carried
    over: causes of concern, areas for improvement and recommendations."""
    earlier = (
        Finding.objects.filter(
            inspection__forces__in=inspection.forces.all(),
            inspection__state__in=PUBLISHED_STATES,
            kind__in=[Kind.CAUSE_OF_CONCERN, Kind.AREA_FOR_IMPROVEMENT, Kind.RECOMMENDATION],
        )
        .exclude(inspection=inspection)
        .select_related("inspection")
        .distinct()
        .order_by("-inspection__fieldwork_start", "kind", "number", "id")
    )
    return [(f.pk, f"{f.inspection.reference}: {f}"[:200]) for f in earlier]


def causes_of_concern(inspection: Inspection) -> list[tuple[int, str]]:
    return [
        (pk, headline)
        for pk, headline in Finding.objects.filter(
            inspection=inspection, kind=Kind.CAUSE_OF_CONCERN
        )
        .order_by("order", "id")
        .values_list("pk", "headline")
    ]
