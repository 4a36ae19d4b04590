"""Reads for fieldwork pages: a fixed number of queries whatever the size of the sample."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q

from apps.core.cache import cached_read
from apps.frameworks.loaders import COMPARABLE_LABELS, COMPARABLE_SCALE
from apps.frameworks.models import MethodologyVersion
from apps.inspections.models import SINGLE_FORCE_TYPES, Inspection, ProgrammeType

from .agreement import PairAgreement, krippendorff_alpha, pair_agreement
from .models import NOT_APPLICABLE, CaseAudit, CaseList, Judgement, Referral, Sample, SampledCase


def _grade(value: str) -> str | None:
    return None if value in ("", NOT_APPLICABLE) else value


# Overview -----------------------------------------------------------------------------------


@dataclass
class AreaProgress:
    code: str
    name: str
    eligible: int = 0
    quota: int = 0
    in_sample: int = 0
    replaced: int = 0
    submitted: int = 0
    drafts: int = 0
    for_moderation: int = 0
    second_marked: int = 0


def sample_of(inspection: Inspection) -> Sample | None:
    return Sample.objects.filter(inspection=inspection).first()


def fieldwork_overview(inspection: Inspection) -> dict[str, Any]:
    methodology = inspection.methodology
    sample = sample_of(inspection)
    areas = {a["code"]: AreaProgress(a["code"], a["name"]) for a in methodology.audit_areas}
    for row in inspection.eligible_cases.values("audit_area").annotate(n=Count("id")):
        if row["audit_area"] in areas:
            areas[row["audit_area"]].eligible = row["n"]
    if sample is not None:
        for area, quota in sample.quotas.items():
            if area in areas:
                areas[area].quota = quota
        cases = (
            SampledCase.objects.filter(inspection=inspection)
            .values("audit_area", "status")
            .annotate(n=Count("id"), moderated=Count("id", filter=Q(for_moderation=True)))
        )
        for row in cases:
            progress = areas[row["audit_area"]]
            if row["status"] == SampledCase.Status.IN_SAMPLE:
                progress.in_sample = row["n"]
                progress.for_moderation = row["moderated"]
            else:
                progress.replaced = row["n"]
        audits = (
            CaseAudit.objects.filter(
                inspection=inspection, sampled_case__status=SampledCase.Status.IN_SAMPLE
            )
            .values("sampled_case__audit_area", "kind", "status")
            .annotate(n=Count("id"))
        )
        for audit_row in audits:
            progress = areas[audit_row["sampled_case__audit_area"]]
            if audit_row["kind"] == CaseAudit.Kind.PRIMARY:
                if audit_row["status"] == CaseAudit.Status.SUBMITTED:
                    progress.submitted += audit_row["n"]
                else:
                    progress.drafts += audit_row["n"]
            elif audit_row["status"] == CaseAudit.Status.SUBMITTED:
                progress.second_marked += audit_row["n"]
    totals = AreaProgress("", "Total")
    for progress in areas.values():
        for name in (
            "eligible",
            "quota",
            "in_sample",
            "replaced",
            "submitted",
            "drafts",
            "for_moderation",
            "second_marked",
        ):
            setattr(totals, name, getattr(totals, name) + getattr(progress, name))
    referrals = Counter(inspection.referrals.values_list("status", flat=True))
    return {
        "sample": sample,
        "areas": list(areas.values()),
        "totals": totals,
        "case_lists": list(
            CaseList.objects.filter(inspection=inspection).select_related("uploaded_by")
        ),
        "open_referrals": sum(n for s, n in referrals.items() if s != Referral.Status.CLOSED),
        "referrals": sum(referrals.values()),
    }


def frame_sizes(inspection: Inspection) -> dict[str, int]:
    return dict(
        inspection.eligible_cases.values_list("audit_area").annotate(n=Count("id")).order_by()
    )


# The sample ---------------------------------------------------------------------------------


@dataclass
class CaseRow:
    case: SampledCase
    primary: CaseAudit | None = None
    second: CaseAudit | None = None
    show_primary_grade: bool = True


def sample_rows(inspection: Inspection, user: Any, *, lead: bool) -> list[CaseRow]:
    """The sample with each case's audits. Until both marks of a selected case are submitted,
    its audit grade is hidden from everyone but its auditor and the lead."""
    cases = list(SampledCase.objects.filter(inspection=inspection).select_related("replacement"))
    rows = {c.pk: CaseRow(c) for c in cases}
    for audit in CaseAudit.objects.filter(inspection=inspection).select_related("auditor"):
        row = rows[audit.sampled_case_id]
        if audit.kind == CaseAudit.Kind.PRIMARY:
            row.primary = audit
        else:
            row.second = audit
    for row in rows.values():
        both_in = (
            row.primary is not None
            and row.second is not None
            and row.primary.status == CaseAudit.Status.SUBMITTED
            and row.second.status == CaseAudit.Status.SUBMITTED
        )
        second_open = row.case.for_moderation and not both_in
        if second_open and not lead:
            row.show_primary_grade = bool(row.primary and row.primary.auditor_id == user.pk)
            if row.second and row.second.auditor_id != user.pk:
                row.second = None
    return list(rows.values())


# The audit form -----------------------------------------------------------------------------


@dataclass
class CriterionField:
    code: str
    text: str
    grade: str
    notes: str


@dataclass
class StageSection:
    code: str
    name: str
    criteria: list[CriterionField]
    grade: str
    notes: str


def audit_sections(audit: CaseAudit) -> list[StageSection]:
    judgements = {(j.stage, j.criterion): j for j in Judgement.objects.filter(audit=audit)}
    sections = []
    for stage in audit.inspection.methodology.stages_for_area(audit.sampled_case.audit_area):
        criteria = []
        for criterion in stage.get("criteria", []):
            j = judgements.get((stage["code"], criterion["code"]))
            criteria.append(
                CriterionField(
                    criterion["code"], criterion["text"], j.grade if j else "", j.notes if j else ""
                )
            )
        own = judgements.get((stage["code"], ""))
        sections.append(
            StageSection(
                stage["code"],
                stage["name"],
                criteria,
                own.grade if own else "",
                own.notes if own else "",
            )
        )
    return sections


# Agreement ----------------------------------------------------------------------------------


@dataclass
class AgreementRow:
    key: str
    label: str
    stats: PairAgreement
    flagged: bool = False
    group: str = ""


@dataclass
class AgreementReport:
    threshold: float
    selected: int
    pairs: int
    overall: AgreementRow | None
    stages: list[AgreementRow]
    criteria: list[AgreementRow]
    inspectors: list[AgreementRow]
    alpha: float | None
    raters: int
    disagreements: list[dict[str, Any]] = field(default_factory=list)

    @property
    def flags(self) -> set[str]:
        rows = [self.overall] if self.overall else []
        return {r.key for r in rows + self.stages + self.criteria + self.inspectors if r.flagged}

    @property
    def flag_labels(self) -> dict[str, str]:
        rows = [self.overall] if self.overall else []
        return {r.key: r.label for r in rows + self.stages + self.criteria + self.inspectors}


def agreement_report(inspection: Inspection) -> AgreementReport:
    """Agreement between each audit and its blind second marking, once both are submitted."""
    methodology = inspection.methodology
    scale = list(methodology.grade_scale)
    sample = inspection.sample
    threshold = float(sample.kappa_threshold)
    audits = list(
        CaseAudit.objects.filter(
            inspection=inspection,
            status=CaseAudit.Status.SUBMITTED,
            sampled_case__for_moderation=True,
            sampled_case__status=SampledCase.Status.IN_SAMPLE,
        ).values(
            "id", "sampled_case_id", "kind", "auditor_id", "auditor__full_name", "overall_grade"
        )
    )
    by_case: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    for values in audits:
        by_case[values["sampled_case_id"]][values["kind"]] = dict(values)
    pairs = {k: v for k, v in by_case.items() if len(v) == 2}
    ids = [a["id"] for pair in pairs.values() for a in pair.values()]
    grades: dict[int, dict[tuple[str, str], str]] = defaultdict(dict)
    for j in Judgement.objects.filter(audit_id__in=ids).values(
        "audit_id", "stage", "criterion", "grade"
    ):
        grades[j["audit_id"]][(j["stage"], j["criterion"])] = j["grade"]
    selected = SampledCase.objects.filter(
        inspection=inspection, for_moderation=True, status=SampledCase.Status.IN_SAMPLE
    ).count()

    def row(
        key: str, label: str, first: list[str | None], second: list[str | None], group: str = ""
    ) -> AgreementRow:
        stats = pair_agreement(first, second, scale)
        flagged = stats.kappa is not None and stats.kappa < threshold
        return AgreementRow(key, label, stats, flagged, group)

    primary = [p[CaseAudit.Kind.PRIMARY] for p in pairs.values()]
    second = [p[CaseAudit.Kind.SECOND] for p in pairs.values()]
    overall = (
        row(
            "overall",
            "Overall case grade",
            [_grade(a["overall_grade"]) for a in primary],
            [_grade(a["overall_grade"]) for a in second],
        )
        if pairs
        else None
    )
    stages, criteria = [], []
    if pairs:
        for stage in methodology.case_stages:
            keys = [(stage["code"], "")] + [
                (stage["code"], c["code"]) for c in stage.get("criteria", [])
            ]
            for key in keys:
                first = [_grade(grades[a["id"]].get(key, "")) for a in primary]
                other = [_grade(grades[a["id"]].get(key, "")) for a in second]
                if not any(
                    f is not None and o is not None for f, o in zip(first, other, strict=True)
                ):
                    continue
                if key[1]:
                    text = methodology.criteria_by_code[key[1]]["text"]
                    criteria.append(row(f"criterion:{key[1]}", text, first, other, stage["name"]))
                else:
                    stages.append(row(f"stage:{key[0]}", stage["name"], first, other))
    inspectors: dict[int, tuple[str, list[str | None], list[str | None]]] = {}
    for pair in pairs.values():
        for kind, other_kind in (
            (CaseAudit.Kind.PRIMARY, CaseAudit.Kind.SECOND),
            (CaseAudit.Kind.SECOND, CaseAudit.Kind.PRIMARY),
        ):
            me, them = pair[kind], pair[other_kind]
            entry = inspectors.setdefault(me["auditor_id"], (me["auditor__full_name"], [], []))
            entry[1].append(_grade(me["overall_grade"]))
            entry[2].append(_grade(them["overall_grade"]))
    inspector_rows = [
        row(f"inspector:{pk}", name, mine, theirs)
        for pk, (name, mine, theirs) in sorted(inspectors.items(), key=lambda i: i[1][0])
    ]
    raters = sorted(inspectors)
    alpha = None
    if len(raters) > 2:
        units = []
        for pair in pairs.values():
            unit: list[str | None] = [None] * len(raters)
            for marks in pair.values():
                unit[raters.index(marks["auditor_id"])] = _grade(marks["overall_grade"])
            units.append(unit)
        alpha = krippendorff_alpha(units, scale, level="ordinal")
    resolved = dict(
        SampledCase.objects.filter(pk__in=list(pairs), resolution__isnull=False).values_list(
            "pk", "resolution__agreed_grade"
        )
    )
    cases = dict(SampledCase.objects.filter(pk__in=list(pairs)).values_list("pk", "reference"))
    disagreements = [
        {
            "case_id": pk,
            "reference": cases[pk],
            "primary": pair[CaseAudit.Kind.PRIMARY]["overall_grade"],
            "primary_by": pair[CaseAudit.Kind.PRIMARY]["auditor__full_name"],
            "second": pair[CaseAudit.Kind.SECOND]["overall_grade"],
            "second_by": pair[CaseAudit.Kind.SECOND]["auditor__full_name"],
            "agreed": resolved.get(pk, ""),
        }
        for pk, pair in pairs.items()
        if pair[CaseAudit.Kind.PRIMARY]["overall_grade"]
        != pair[CaseAudit.Kind.SECOND]["overall_grade"]
    ]
    return AgreementReport(
        threshold=threshold,
        selected=selected,
        pairs=len(pairs),
        overall=overall,
        stages=stages,
        criteria=criteria,
        inspectors=inspector_rows,
        alpha=alpha,
        raters=len(raters),
        disagreements=sorted(disagreements, key=lambda d: d["reference"]),
    )


# Results ------------------------------------------------------------------------------------


@dataclass
class GradeRow:
    label: str
    counts: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def percents(self) -> list[float]:
        total = self.total
        return [100 * n / total if total else 0.0 for n in self.counts]

    @property
    def cells(self) -> list[tuple[int, float]]:
        return list(zip(self.counts, self.percents, strict=True))


@dataclass
class GradeTable:
    caption: str
    grades: list[str]
    rows: list[GradeRow]
    total: GradeRow | None = None


def _table(
    caption: str, grades: list[str], counted: dict[str, Counter[str]], labels: list[tuple[str, str]]
) -> GradeTable:
    rows = [
        GradeRow(label, [counted.get(code, Counter())[g] for g in grades]) for code, label in labels
    ]
    rows = [r for r in rows if r.total]
    total = GradeRow("All cases", [sum(r.counts[i] for r in rows) for i in range(len(grades))])
    return GradeTable(caption, grades, rows, total)


def _comparable_counts(filter_q: Q) -> list[int]:
    counts = dict(
        SampledCase.objects.filter(filter_q, status=SampledCase.Status.IN_SAMPLE)
        .exclude(comparable_grade="")
        .values_list("comparable_grade")
        .annotate(n=Count("id"))
    )
    return [counts.get(code, 0) for code, _ in COMPARABLE_SCALE]


def previous_inspection(inspection: Inspection) -> Inspection | None:
    """What to compare with: the inspection this one follows up (a review or re-inspection
    against its original), or else the force's latest earlier full inspection (an NCPI or
    re-inspection; reviews re-audit only a few areas) with graded cases."""
    graded = Inspection.objects.filter(
        Exists(
            SampledCase.objects.filter(
                inspection=OuterRef("pk"), status=SampledCase.Status.IN_SAMPLE
            ).exclude(comparable_grade="")
        )
    ).select_related("methodology")
    if inspection.follows_id:
        followed = graded.filter(pk=inspection.follows_id).first()
        if followed is not None:
            return followed
    if inspection.programme_type not in SINGLE_FORCE_TYPES or inspection.fieldwork_start is None:
        return None
    return (
        graded.filter(
            forces__in=inspection.forces.all(),
            programme_type__in=[ProgrammeType.NCPI, ProgrammeType.NCPI_REINSPECTION],
            fieldwork_start__lt=inspection.fieldwork_start,
        )
        .exclude(pk=inspection.pk)
        .order_by("-fieldwork_start", "-pk")
        .first()
    )


def national_comparable() -> list[int]:
    return cached_read(("fieldwork",), "national-comparable", lambda: _comparable_counts(Q()))


def inspection_results(inspection: Inspection) -> dict[str, Any]:
    """Case grades of an inspection by audit area and stage, and compared with the force's
    previous inspection and nationally. Cached under the fieldwork and inspections data
    versions, so a submitted audit or agreed grade shows at once."""
    return cached_read(
        ("fieldwork", "inspections"),
        f"inspection-results:{inspection.pk}",
        lambda: _inspection_results(inspection),
    )


def _inspection_results(inspection: Inspection) -> dict[str, Any]:
    methodology = inspection.methodology
    scale = list(methodology.grade_scale)
    by_area: dict[str, Counter[str]] = defaultdict(Counter)
    for area, grade, n in (
        SampledCase.objects.filter(inspection=inspection, status=SampledCase.Status.IN_SAMPLE)
        .exclude(final_grade="")
        .values_list("audit_area", "final_grade")
        .annotate(n=Count("id"))
    ):
        by_area[area][grade] = n
    by_stage: dict[str, Counter[str]] = defaultdict(Counter)
    for stage, grade, n in (
        Judgement.objects.filter(
            audit__inspection=inspection,
            audit__kind=CaseAudit.Kind.PRIMARY,
            audit__status=CaseAudit.Status.SUBMITTED,
            audit__sampled_case__status=SampledCase.Status.IN_SAMPLE,
            criterion="",
        )
        .exclude(audit__sampled_case__final_grade="")  # withheld until second marking is in
        .exclude(grade__in=["", NOT_APPLICABLE])
        .values_list("stage", "grade")
        .annotate(n=Count("id"))
    ):
        by_stage[stage][grade] = n
    areas = [(a["code"], a["name"]) for a in methodology.audit_areas]
    stages = [(s["code"], s["name"]) for s in methodology.case_stages]
    area_table = _table("Case grades by audit area", scale, by_area, areas)
    previous = previous_inspection(inspection)
    comparison: list[tuple[str, list[int], MethodologyVersion | None]] = [
        (
            f"This inspection ({inspection.reference})",
            _comparable_counts(Q(inspection=inspection)),
            methodology,
        ),
    ]
    if previous is not None:
        comparison.append(
            (
                f"Previous inspection ({previous.reference})",
                _comparable_counts(Q(inspection=previous)),
                previous.methodology,
            )
        )
    comparison.append(("All inspections nationally", national_comparable(), None))
    mappings = {m.code: m for _, _, m in comparison if m is not None}
    return {
        "scale": scale,
        "by_area": area_table,
        "by_stage": _table("Stage grades (from the audits)", scale, by_stage, stages),
        "comparison": GradeTable(
            "Case grades on the common scale",
            [label for _, label in COMPARABLE_SCALE],
            [GradeRow(label, counts) for label, counts, _ in comparison],
        ),
        "previous": previous,
        "mappings": [_mapping(m) for m in mappings.values()],
        "national_mappings": national_mappings(),
    }


def _mapping(methodology: MethodologyVersion) -> dict[str, Any]:
    labels = COMPARABLE_LABELS
    return {
        "title": methodology.title,
        "note": methodology.mapping_note,
        "pairs": [(g, labels[methodology.comparable(g) or ""]) for g in methodology.grade_scale],
    }


def national_mappings() -> list[dict[str, Any]]:
    return [_mapping(m) for m in MethodologyVersion.objects.all() if m.grade_scale]


def national_distribution() -> dict[str, Any]:
    """Every graded case nationally on the common scale, by year of fieldwork."""

    def read() -> dict[str, Any]:
        by_year: dict[int, Counter[str]] = defaultdict(Counter)
        for year, grade, n in (
            SampledCase.objects.filter(status=SampledCase.Status.IN_SAMPLE)
            .exclude(comparable_grade="")
            .values_list("inspection__fieldwork_start__year", "comparable_grade")
            .annotate(n=Count("id"))
        ):
            by_year[year][grade] = n
        years = sorted(y for y in by_year if y is not None)
        codes = [code for code, _ in COMPARABLE_SCALE]
        rows = [GradeRow(str(y), [by_year[y][c] for c in codes]) for y in years]
        total = GradeRow("All years", [sum(r.counts[i] for r in rows) for i in range(len(codes))])
        inspections = (
            SampledCase.objects.exclude(comparable_grade="").values("inspection").distinct().count()
        )
        return {
            "table": GradeTable(
                "Case grades nationally, by year of fieldwork",
                [label for _, label in COMPARABLE_SCALE],
                rows,
                total,
            ),
            "inspections": inspections,
        }

    result = cached_read(("fieldwork",), "national-distribution", read)
    result["mappings"] = national_mappings()
    return result
