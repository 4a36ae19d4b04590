"""Reads of follow-up, in the shapes its pages, exports and the API need. Each page reads a
fixed number of queries whatever the number of recommendations, updates or files."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Paginator
from django.db.models import (
    Count,
    F,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.utils import timezone

from apps.core.cache import cached_read
from apps.fieldwork.models import SampledCase
from apps.findings.models import (
    Finding,
    Kind,
    RecommendationStatus,
    RecommendationStatusChange,
    Timescale,
)
from apps.frameworks.loaders import COMPARABLE_SCALE
from apps.inspections.models import Inspection, ProgrammeType
from apps.reference.models import Force

from .models import (
    ActionPlan,
    Assessment,
    Comment,
    ConcernClosure,
    EvidenceFile,
    FollowUp,
    PlannedAction,
    ProgressUpdate,
)
from .reminders import FORCE_TO_ACT
from .services import ASSESSED_STATUSES, CLOSED_STATUSES

# Post-inspection reviews and re-inspections follow NCPIs (and their re-inspections) only.
REVIEWABLE_TYPES = frozenset({ProgrammeType.NCPI, ProgrammeType.NCPI_REINSPECTION})

S = RecommendationStatus
STATUS_LABELS = {s.value: str(s.label) for s in S}
FILE_FIELDS = (
    "id",
    "name",
    "size",
    "content_type",
    "sha256",
    "uploaded_at",
    "update_id",
    "plan_id",
)


def is_overdue(rec: Finding, today: dt.date | None = None) -> bool:
    today = today or timezone.localdate()
    return bool(rec.due_on and rec.due_on < today and rec.status in FORCE_TO_ACT)


def status_label(rec: Finding) -> str:
    if rec.kind == Kind.CAUSE_OF_CONCERN:
        return (
            "Closed"
            if rec.status == S.CLOSED
            else ("Carried into a later inspection" if rec.status == S.CARRIED_OVER else "Open")
        )
    return STATUS_LABELS.get(rec.status, "Not published")


# One inspection's follow-up ----------------------------------------------------------------


@dataclass
class GradeShift:
    """Case grades of a review or re-inspection beside those of the inspection it follows,
    on the common scale, as shares of the cases graded."""

    follow_up: Inspection
    labels: list[str]
    before: list[int]
    after: list[int]

    @staticmethod
    def _shares(counts: list[int]) -> list[int]:
        total = sum(counts)
        return [round(100 * c / total) if total else 0 for c in counts]

    @property
    def before_total(self) -> int:
        return sum(self.before)

    @property
    def after_total(self) -> int:
        return sum(self.after)

    @property
    def rows(self) -> list[tuple[str, int, int, int, int]]:
        b, a = self._shares(self.before), self._shares(self.after)
        return [
            (label, self.before[i], b[i], self.after[i], a[i])
            for i, label in enumerate(self.labels)
        ]

    @property
    def headline(self) -> str:
        """e.g. "29% of cases good before, 53% after" (the best grade of the scale)."""
        if not self.before_total or not self.after_total:
            return ""
        b, a = self._shares(self.before)[0], self._shares(self.after)[0]
        return f"{b}% of cases {self.labels[0].lower()} before, {a}% after"


def _comparable(inspection_ids: list[int]) -> dict[int, list[int]]:
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for inspection_id, grade, n in (
        SampledCase.objects.filter(
            inspection_id__in=inspection_ids, status=SampledCase.Status.IN_SAMPLE
        )
        .exclude(comparable_grade="")
        .values_list("inspection_id", "comparable_grade")
        .annotate(n=Count("id"))
    ):
        counts[inspection_id][grade] = n
    return {i: [counts[i].get(code, 0) for code, _ in COMPARABLE_SCALE] for i in inspection_ids}


def grade_shifts(inspection: Inspection, follow_ups: list[Inspection]) -> list[GradeShift]:
    """Re-audited grades of each follow-up beside the original's. Two queries."""
    if not follow_ups:
        return []
    counts = _comparable([inspection.pk, *(f.pk for f in follow_ups)])
    labels = [label for _, label in COMPARABLE_SCALE]
    return [
        GradeShift(f, labels, counts[inspection.pk], counts[f.pk])
        for f in follow_ups
        if sum(counts[f.pk])
    ]


def _with_latest_action(recs: QuerySet[Finding]) -> QuerySet[Finding]:
    latest = PlannedAction.objects.filter(recommendation=OuterRef("pk")).order_by("-plan__number")
    return recs.annotate(
        planned_action=Subquery(latest.values("action")[:1]),
        planned_date=Subquery(latest.values("target_date")[:1]),
        update_count=Count("progress_updates", distinct=True),
    )


def inspection_follow_up(inspection: Inspection) -> dict[str, Any]:
    follow_up = FollowUp.objects.select_related("route_decided_by").get(inspection=inspection)
    recs = _with_latest_action(
        Finding.objects.filter(inspection=inspection, kind=Kind.RECOMMENDATION).select_related(
            "cause_of_concern"
        )
    ).order_by("number", "id")
    concerns = list(
        Finding.objects.filter(inspection=inspection, kind=Kind.CAUSE_OF_CONCERN)
        .select_related("closure", "carried_over_from__inspection")
        .order_by("order", "id")
    )
    plans = list(
        ActionPlan.objects.filter(inspection=inspection)
        .select_related("reviewed_by")
        .annotate(
            action_count=Count("actions", distinct=True), file_count=Count("files", distinct=True)
        )
        .order_by("-number")
    )
    follow_ups = list(
        Inspection.objects.filter(follows=inspection).order_by("fieldwork_start", "pk")
    )
    today = timezone.localdate()
    rec_list = list(recs)
    for rec in rec_list:
        rec.overdue = is_overdue(rec, today)  # type: ignore[attr-defined]
    counts = Counter(rec.status for rec in rec_list)
    plan_due = follow_up.action_plan_due_on
    return {
        "follow_up": follow_up,
        "recommendations": rec_list,
        "concerns": concerns,
        "plans": plans,
        "latest_plan": plans[0] if plans else None,
        "plan_overdue": not plans
        and plan_due < today
        and any(
            r.timescale != Timescale.IMMEDIATELY and r.status in FORCE_TO_ACT for r in rec_list
        ),
        "plan_days_left": (plan_due - today).days,
        "counts": [(STATUS_LABELS[s], counts[s]) for s in S.values if counts[s]],
        "overdue_count": sum(1 for r in rec_list if is_overdue(r, today)),
        "follow_ups": follow_ups,
        # Post-inspection reviews and re-inspections follow NCPIs (and re-inspections) only.
        "reviewable": inspection.programme_type in REVIEWABLE_TYPES,
        "grade_shifts": grade_shifts(inspection, follow_ups),
        "immediate": [r for r in rec_list if r.timescale == Timescale.IMMEDIATELY],
    }


# One recommendation ------------------------------------------------------------------------


def concern_chain(finding: Finding) -> list[Finding]:
    """An enduring cause of concern (or recommendation) across reports: every finding it was
    carried over from and into, oldest first. One query per link (chains are short)."""
    chain = [finding]
    seen = {finding.pk}
    earlier = finding.carried_over_from
    while earlier is not None and earlier.pk not in seen:
        chain.insert(0, earlier)
        seen.add(earlier.pk)
        earlier = (
            Finding.objects.select_related("inspection", "carried_over_from__inspection")
            .get(pk=earlier.pk)
            .carried_over_from
        )
    later = Finding.objects.select_related("inspection").filter(carried_over_from=finding).first()
    while later is not None and later.pk not in seen:
        chain.append(later)
        seen.add(later.pk)
        later = Finding.objects.select_related("inspection").filter(carried_over_from=later).first()
    return chain if len(chain) > 1 else []


def recommendation_progress(rec: Finding) -> dict[str, Any]:
    """What the force's API returns beside the recommendation: its public history, the
    force's updates (with their files' details, not their content) and the latest planned
    action. Four queries; no comments or assessments are read or decrypted."""
    files = Prefetch("files", queryset=EvidenceFile.objects.only(*FILE_FIELDS))
    return {
        "history": list(
            RecommendationStatusChange.objects.filter(recommendation=rec)
            .select_related("by")
            .order_by("on", "id")
        ),
        "updates": list(
            ProgressUpdate.objects.filter(recommendation=rec)
            .prefetch_related(files)
            .order_by("posted_at", "id")
        ),
        "action": PlannedAction.objects.filter(recommendation=rec)
        .select_related("plan")
        .order_by("-plan__number")
        .first(),
    }


def recommendation_detail(rec: Finding) -> dict[str, Any]:
    progress = recommendation_progress(rec)
    comments = list(Comment.objects.filter(recommendation=rec).order_by("posted_at", "id"))
    assessments = list(
        Assessment.objects.filter(recommendation=rec)
        .select_related("assessed_by", "in_inspection")
        .order_by("assessed_on", "id")
    )
    closure = None
    if rec.kind == Kind.CAUSE_OF_CONCERN:
        closure = (
            ConcernClosure.objects.filter(cause_of_concern=rec)
            .select_related("letter", "closed_by")
            .defer("letter__content")
            .first()
        )
    recommendations = (
        list(Finding.objects.filter(cause_of_concern=rec).order_by("number", "id"))
        if rec.kind == Kind.CAUSE_OF_CONCERN
        else []
    )
    return {
        **progress,
        "comments": comments,
        "assessments": assessments,
        "closure": closure,
        "concern_recommendations": recommendations,
        "chain": concern_chain(rec),
        "overdue": is_overdue(rec),
        "is_open": rec.status not in CLOSED_STATUSES,
        "assessed": rec.status in ASSESSED_STATUSES,
        "status_label": status_label(rec),
    }


def pcc_summary(rec: Finding) -> dict[str, Any]:
    """What a police and crime commissioner's public response needs for one recommendation:
    the action, the expected impact, the timing and the evidence, with the current status."""
    detail = recommendation_detail(rec)
    evidence = [u for u in detail["updates"] if u.kind == ProgressUpdate.Kind.EVIDENCE]
    return {
        **detail,
        "evidence_updates": evidence,
        "evidence_files": [f for u in detail["updates"] for f in u.files.all()],
        "latest_update": detail["updates"][-1] if detail["updates"] else None,
        "latest_assessment": detail["assessments"][-1] if detail["assessments"] else None,
    }


# The national tracker ----------------------------------------------------------------------

AGE_BANDS = {
    "0-6": (0, 6),
    "6-12": (6, 12),
    "12-24": (12, 24),
    "24+": (24, None),
}
SORTS = {
    "due": ("due_on", "inspection__reference", "number"),
    "-due": ("-due_on", "inspection__reference", "number"),
    "published": ("inspection__follow_up_record__published_on", "inspection__reference", "number"),
    "-published": (
        "-inspection__follow_up_record__published_on",
        "inspection__reference",
        "number",
    ),
    "force": ("force_name", "-inspection__follow_up_record__published_on", "number"),
    "status": ("status", "due_on", "number"),
}


@dataclass
class TrackerFilters:
    force: str = ""
    status: str = ""
    timescale: str = ""
    stage: str = ""
    programme_type: str = ""
    theme: str = ""
    overdue: bool = False
    age: str = ""
    sort: str = "due"

    def query_string(self, **changes: Any) -> str:
        from urllib.parse import urlencode

        values = {**self.__dict__, **changes}
        return urlencode({k: ("1" if v is True else v) for k, v in values.items() if v})


def _months_ago(today: dt.date, months: int) -> dt.date:
    from apps.core.dates import add_months

    return add_months(today, -months)


def tracker_queryset(filters: TrackerFilters, today: dt.date | None = None) -> QuerySet[Finding]:
    """Every published recommendation, filtered and sorted: rows for the page and exports."""
    today = today or timezone.localdate()
    forces = Inspection.forces.through.objects.filter(inspection_id=OuterRef("inspection_id"))
    recs = Finding.objects.filter(
        kind=Kind.RECOMMENDATION, inspection__follow_up_record__isnull=False
    ).exclude(status="")
    if filters.force:
        recs = recs.filter(inspection__forces__code=filters.force)
    if filters.status:
        recs = recs.filter(status=filters.status)
    if filters.timescale:
        recs = recs.filter(timescale=filters.timescale)
    if filters.stage:
        recs = recs.filter(stage=filters.stage)
    if filters.programme_type:
        recs = recs.filter(inspection__programme_type=filters.programme_type)
    if filters.theme:
        # Coded to the theme (by a person, or suggested and not yet decided), under the
        # current codebook (apps/themes, ADR 18).
        from apps.themes.selectors import statements_coded_to

        recs = recs.filter(pk__in=statements_coded_to(filters.theme).values("finding_id"))
    if filters.overdue:
        recs = recs.filter(due_on__lt=today, status__in=FORCE_TO_ACT)
    if filters.age in AGE_BANDS:
        low, high = AGE_BANDS[filters.age]
        recs = recs.filter(inspection__follow_up_record__published_on__lte=_months_ago(today, low))
        if high is not None:
            recs = recs.filter(
                inspection__follow_up_record__published_on__gt=_months_ago(today, high)
            )
    recs = recs.annotate(published_on=F("inspection__follow_up_record__published_on"))
    if filters.sort == "force":
        # Only this sort needs every row's force in SQL; otherwise the page's (or the
        # export's) rows get theirs in one query afterwards (attach_force_names).
        recs = recs.annotate(
            force_name=Subquery(forces.order_by("force__name").values("force__name")[:1])
        )
    return (
        recs.select_related("inspection")
        .only(
            "id",
            "number",
            "headline",
            "timescale",
            "timescale_months",
            "due_by",
            "due_on",
            "status",
            "status_on",
            "stage",
            "kind",
            "to_force",
            "to_pcc",
            "national_bodies",
            "inspection__id",
            "inspection__reference",
            "inspection__title",
            "inspection__programme_type",
        )
        .order_by(*SORTS.get(filters.sort, SORTS["due"]), "id")
    )


def tracker_page(
    filters: TrackerFilters, page: str | int | None, per_page: int = 50
) -> dict[str, Any]:
    today = timezone.localdate()
    paginator = Paginator(tracker_queryset(filters, today), per_page)
    page_obj = paginator.get_page(page)
    rows = attach_force_names(list(page_obj.object_list))
    for rec in rows:
        rec.overdue = is_overdue(rec, today)  # type: ignore[attr-defined]
        rec.age_days = (today - rec.published_on).days  # type: ignore[attr-defined]
    return {"page": page_obj, "rows": rows, "count": paginator.count}


def attach_force_names(rows: list[Finding]) -> list[Finding]:
    """Set `force_name` (the first force inspected, by name) on each row: one query."""
    missing = {r.inspection_id for r in rows if not hasattr(r, "force_name")}
    names: dict[int, str] = {}
    if missing:
        for inspection_id, name in (
            Inspection.forces.through.objects.filter(inspection_id__in=missing)
            .order_by("inspection_id", "force__name")
            .values_list("inspection_id", "force__name")
        ):
            names.setdefault(inspection_id, name)
    for rec in rows:
        if not hasattr(rec, "force_name"):
            rec.force_name = names.get(rec.inspection_id, "")  # type: ignore[attr-defined]
    return rows


@dataclass
class ForceCounts:
    code: str
    name: str
    total: int = 0
    open: int = 0
    overdue: int = 0
    achieved: int = 0
    days_to_achieved: list[int] = field(default_factory=list)

    @property
    def median_days(self) -> int | None:
        return round(statistics.median(self.days_to_achieved)) if self.days_to_achieved else None


def _force_counts(today_iso: str) -> dict[str, Any]:
    today = dt.date.fromisoformat(today_iso)
    forces = {
        str(code): ForceCounts(str(code), name)
        for code, name in Force.objects.values_list("code", "name")
    }
    rows = (
        Finding.objects.filter(kind=Kind.RECOMMENDATION, inspection__follow_up_record__isnull=False)
        .exclude(status="")
        .values_list("inspection__forces__code", "status")
        .annotate(
            n=Count("id"),
            late=Count("id", filter=Q(due_on__lt=today, status__in=FORCE_TO_ACT)),
        )
    )
    for code, status, n, late in rows:
        counts = forces.get(code)
        if counts is None:
            continue
        counts.total += n
        counts.overdue += late
        if status not in CLOSED_STATUSES and status not in ASSESSED_STATUSES:
            counts.open += n
    achieved = (
        RecommendationStatusChange.objects.filter(
            status=S.ACHIEVED, recommendation__kind=Kind.RECOMMENDATION
        )
        .values("recommendation_id")
        .annotate(first=Min("on"))
        .values_list(
            "recommendation__inspection__forces__code",
            "recommendation__inspection__follow_up_record__published_on",
            "first",
        )
    )
    for code, published, first in achieved:
        if code in forces and published and first:
            days = (first - published).days
            forces[code].achieved += 1
            forces[code].days_to_achieved.append(days)
    listed = [f for f in forces.values() if f.total]
    listed.sort(key=lambda f: f.name)
    # Nationally each recommendation counts once, though a thematic's counts for each force.
    national = ForceCounts("", "")
    for status, n, late in (
        Finding.objects.filter(kind=Kind.RECOMMENDATION, inspection__follow_up_record__isnull=False)
        .exclude(status="")
        .order_by()
        .values_list("status")
        .annotate(
            n=Count("id"),
            late=Count("id", filter=Q(due_on__lt=today, status__in=FORCE_TO_ACT)),
        )
    ):
        national.total += n
        national.overdue += late
        if status not in CLOSED_STATUSES and status not in ASSESSED_STATUSES:
            national.open += n
    national.days_to_achieved = [
        (first - published).days
        for published, first in RecommendationStatusChange.objects.filter(
            status=S.ACHIEVED,
            recommendation__kind=Kind.RECOMMENDATION,
            recommendation__inspection__follow_up_record__isnull=False,
        )
        .values("recommendation_id")
        .annotate(first=Min("on"))
        .values_list("recommendation__inspection__follow_up_record__published_on", "first")
        if published and first
    ]
    return {
        "forces": [
            {
                "code": f.code,
                "name": f.name,
                "total": f.total,
                "open": f.open,
                "overdue": f.overdue,
                "achieved": f.achieved,
                "median_days": f.median_days,
            }
            for f in listed
        ],
        "national": {
            "total": national.total,
            "open": national.open,
            "overdue": national.overdue,
            "achieved": len(national.days_to_achieved),
            "median_days": national.median_days,
        },
    }


def force_counts() -> dict[str, Any]:
    """Counts per force and the median days from publication to achieved: cached until the
    next status change (and per day, since "overdue" moves with the date)."""
    today = timezone.localdate().isoformat()
    return cached_read(
        ("findings",), f"followup-force-counts:{today}", lambda: _force_counts(today)
    )


def filter_choices() -> dict[str, Any]:
    """Options for the tracker's filters."""

    def build() -> dict[str, Any]:
        stages = sorted(
            {
                s
                for s in Finding.objects.filter(kind=Kind.RECOMMENDATION)
                .exclude(status="")
                .order_by()
                .values_list("stage", flat=True)
                .distinct()
                if s
            }
        )
        from apps.themes.selectors import current_theme_choices

        return {
            "forces": list(Force.objects.order_by("name").values_list("code", "name")),
            "stages": stages,
            "themes": current_theme_choices(),
        }

    data = cached_read(("findings", "reference", "themes"), "followup-filter-choices", build)
    return {
        **data,
        "statuses": list(S.choices),
        "timescales": list(Timescale.choices),
        "programme_types": list(ProgrammeType.choices),
        "ages": [
            (k, f"{k.replace('-', ' to ').replace('+', ' or more')} months") for k in AGE_BANDS
        ],
        "sorts": [
            ("due", "Due date, soonest first"),
            ("-due", "Due date, latest first"),
            ("published", "Published, oldest first"),
            ("-published", "Published, newest first"),
            ("force", "Force"),
            ("status", "Status"),
        ],
    }


def inspections_in_follow_up(visible: QuerySet[Inspection]) -> list[Inspection]:
    """The inspections in follow-up a person can see, newest first, with their counts."""
    today = timezone.localdate()
    return list(
        visible.select_related("follow_up_record")
        .annotate(
            rec_count=Count(
                "findings", filter=Q(findings__kind=Kind.RECOMMENDATION), distinct=True
            ),
            open_count=Count(
                "findings",
                filter=Q(findings__kind=Kind.RECOMMENDATION, findings__status__in=FORCE_TO_ACT),
                distinct=True,
            ),
            overdue_count=Count(
                "findings",
                filter=Q(
                    findings__kind=Kind.RECOMMENDATION,
                    findings__status__in=FORCE_TO_ACT,
                    findings__due_on__lt=today,
                ),
                distinct=True,
            ),
            plan_count=Count("action_plans", distinct=True),
        )
        .order_by("-follow_up_record__published_on", "reference")
    )
