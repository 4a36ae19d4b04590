"""Reads about inspections, always through the visibility rules in permissions.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery

from apps.reference.models import Force, LocalAuthority

from .models import Inspection, State, StateChange, TeamMember, TeamRole
from .permissions import inspections_visible_to

ACTIVE_STATES = (
    State.PLANNED,
    State.NOTIFIED,
    State.FIELDWORK,
    State.REPORTING,
    State.QUALITY_ASSURANCE,
)


# Pages list forces by name; their boundary geometry and drawn map are large JSON values
# that would otherwise be fetched and decoded for every row.
FORCES_FOR_LISTS = Force.objects.defer("boundary", "boundary_map")


def _with_related(inspections: QuerySet[Inspection]) -> QuerySet[Inspection]:
    return (
        inspections.select_related("methodology", "lead_inspectorate", "follows")
        .defer("methodology__definition", "follows__confidential_notes")
        .prefetch_related(
            Prefetch("forces", queryset=FORCES_FOR_LISTS),
            "local_authorities",
            Prefetch(
                "team",
                queryset=TeamMember.objects.select_related("user").only(
                    "id", "inspection_id", "role", "user__id", "user__full_name"
                ),
            ),
        )
    )


ROW_FIELDS = (
    "id",
    "reference",
    "title",
    "programme_type",
    "state",
    "fieldwork_start",
    "fieldwork_end",
    "planned_publication",
)


def _for_rows(inspections: QuerySet[Inspection]) -> QuerySet[Inspection]:
    """Just what a table of inspections shows: three queries for any number of rows."""
    lead = TeamMember.objects.filter(
        inspection=OuterRef("pk"), role=TeamRole.LEAD_INSPECTOR
    ).values("user__full_name")[:1]
    return (
        inspections.only(*ROW_FIELDS)
        .annotate(lead_name=Subquery(lead))
        .prefetch_related(
            Prefetch("forces", queryset=Force.objects.only("id", "name", "slug")),
            Prefetch(
                "local_authorities",
                queryset=LocalAuthority.objects.only("id", "name", "code"),
            ),
        )
    )


@dataclass(frozen=True)
class InspectionFilter:
    state: str = ""
    programme_type: str = ""
    force: str = ""  # force slug
    year: int | None = None
    text: str = ""


def inspection_list(*, user: Any, filters: InspectionFilter) -> QuerySet[Inspection]:
    inspections = inspections_visible_to(user)
    if filters.state:
        inspections = inspections.filter(state=filters.state)
    if filters.programme_type:
        inspections = inspections.filter(programme_type=filters.programme_type)
    if filters.force:
        inspections = inspections.filter(
            id__in=Inspection.forces.through.objects.filter(force__slug=filters.force).values(
                "inspection_id"
            )
        )
    if filters.year:
        inspections = inspections.filter(fieldwork_start__year=filters.year)
    if filters.text:
        inspections = inspections.filter(
            Q(reference__icontains=filters.text) | Q(title__icontains=filters.text)
        )
    return _for_rows(inspections).order_by("-fieldwork_start", "reference")


def inspection_detail(*, user: Any, pk: int) -> Inspection | None:
    """The inspection if the user may see it, with everything its page shows."""
    return (
        _with_related(inspections_visible_to(user))
        .prefetch_related(
            "partner_inspectorates",
            "follow_ups",
            Prefetch("state_changes", queryset=StateChange.objects.order_by("on", "id")),
        )
        .filter(pk=pk)
        .first()
    )


@dataclass
class StaffHome:
    my_inspections: list[Inspection]
    due_this_week: list[tuple[dt.date, str, Inspection]]
    week_start: dt.date
    week_end: dt.date
    counts_by_state: dict[str, int]


def staff_home(*, user: Any, today: dt.date, limit: int = 25) -> StaffHome:
    """The signed-in person's own active inspections and what falls due this week.

    A fixed number of queries whatever the size of the programme.
    """
    visible = inspections_visible_to(user)
    week_start = today - dt.timedelta(days=today.weekday())
    week_end = week_start + dt.timedelta(days=6)
    mine = visible.filter(state__in=ACTIVE_STATES)
    if not user.has_perm("inspections.view_all_inspections"):
        mine = mine.filter(team__user=user) if user.is_inspectorate_staff else mine
    my_inspections = list(_for_rows(mine).order_by("fieldwork_start", "reference")[:limit])

    in_week = Q()
    for name in ("fieldwork_start", "fieldwork_end", "planned_publication"):
        in_week |= Q(**{f"{name}__range": (week_start, week_end)})
    due = []
    due_rows = visible.filter(in_week).only(*ROW_FIELDS).order_by("reference")[:limit]
    for inspection in due_rows:
        if inspection.fieldwork_start and week_start <= inspection.fieldwork_start <= week_end:
            due.append((inspection.fieldwork_start, "Fieldwork starts", inspection))
        if inspection.fieldwork_end and week_start <= inspection.fieldwork_end <= week_end:
            due.append((inspection.fieldwork_end, "Fieldwork ends", inspection))
        if (
            inspection.planned_publication
            and week_start <= inspection.planned_publication <= week_end
            and inspection.state != State.PUBLISHED
        ):
            due.append((inspection.planned_publication, "Planned publication", inspection))
    due.sort(key=lambda item: (item[0], item[2].reference))

    counts: dict[str, int] = dict.fromkeys(State.values, 0)
    for row in visible.order_by().values("state").annotate(n=Count("id")):
        counts[row["state"]] = row["n"]
    return StaffHome(
        my_inspections=my_inspections,
        due_this_week=due,
        week_start=week_start,
        week_end=week_end,
        counts_by_state=counts,
    )
