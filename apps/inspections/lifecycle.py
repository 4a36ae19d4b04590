"""The inspection lifecycle, as a table: which steps exist, who may take them and what must be
true first. Services call `check_transition`; pages call `allowed_transitions` to offer only
the steps the person may take now."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apps.accounts.models import Role

from .models import Inspection, State, TeamRole

PM = "programme_manager"
LEAD = "lead_inspector_of_this_inspection"

Check = Callable[[Inspection, dt.date, str], str | None]  # returns a reason to refuse, or None


def _has_lead(inspection: Inspection, on: dt.date, note: str) -> str | None:
    if not inspection.team.filter(role=TeamRole.LEAD_INSPECTOR).exists():
        return "Add a lead inspector to the team first."
    return None


def _has_fieldwork_dates(inspection: Inspection, on: dt.date, note: str) -> str | None:
    if not (inspection.fieldwork_start and inspection.fieldwork_end):
        return "Set the fieldwork start and end dates first."
    return None


def _notice_before_fieldwork(inspection: Inspection, on: dt.date, note: str) -> str | None:
    if inspection.fieldwork_start and on > inspection.fieldwork_start:
        return (
            f"The force must be notified on or before the fieldwork start "
            f"({inspection.fieldwork_start:%-d %B %Y})."
        )
    return None


def _fieldwork_started(inspection: Inspection, on: dt.date, note: str) -> str | None:
    if inspection.fieldwork_start and on < inspection.fieldwork_start:
        return (
            f"Fieldwork cannot begin before its planned start "
            f"({inspection.fieldwork_start:%-d %B %Y}); change the plan first."
        )
    return None


def _has_inspectors(inspection: Inspection, on: dt.date, note: str) -> str | None:
    if inspection.team.count() < 2:
        return "The team needs at least one inspector besides the lead before fieldwork."
    return None


def _needs_note(inspection: Inspection, on: dt.date, note: str) -> str | None:
    if not note.strip():
        return "Say why in the note."
    return None


def _report_published(inspection: Inspection, on: dt.date, note: str) -> str | None:
    """A report drafted in the service is published from its report page, which checks the
    disclosure check and the sign-off and then takes this step itself."""
    from apps.reports.models import Publication, Report

    drafted = Report.objects.filter(inspection=inspection).exists()
    if drafted and not Publication.objects.filter(inspection=inspection, is_current=True).exists():
        return (
            "This inspection's report is drafted in the service: publish it from its report "
            "page, which checks the disclosure check and the quality assurance sign-off first."
        )
    return None


@dataclass(frozen=True)
class Step:
    source: str
    target: str
    label: str
    who: frozenset[str]
    checks: tuple[Check, ...] = field(default_factory=tuple)


STEPS: tuple[Step, ...] = (
    Step(
        State.PLANNED,
        State.NOTIFIED,
        "Record that the force was notified",
        frozenset({PM, LEAD}),
        (_has_lead, _has_fieldwork_dates, _notice_before_fieldwork),
    ),
    Step(
        State.NOTIFIED,
        State.FIELDWORK,
        "Start fieldwork",
        frozenset({PM, LEAD}),
        (_has_lead, _has_inspectors, _fieldwork_started),
    ),
    Step(
        State.FIELDWORK,
        State.REPORTING,
        "Finish fieldwork and start reporting",
        frozenset({PM, LEAD}),
    ),
    Step(
        State.REPORTING,
        State.QUALITY_ASSURANCE,
        "Send the report for quality assurance",
        frozenset({PM, LEAD}),
    ),
    Step(
        State.QUALITY_ASSURANCE,
        State.REPORTING,
        "Return the report for changes",
        frozenset({PM, LEAD}),
        (_needs_note,),
    ),
    Step(
        State.QUALITY_ASSURANCE,
        State.PUBLISHED,
        "Record publication",
        frozenset({PM}),
        (_report_published,),
    ),
    Step(State.PUBLISHED, State.FOLLOW_UP, "Start follow-up", frozenset({PM, LEAD})),
    Step(State.PUBLISHED, State.CLOSED, "Close without follow-up", frozenset({PM}), (_needs_note,)),
    Step(State.FOLLOW_UP, State.CLOSED, "Close the inspection", frozenset({PM})),
)


def step_for(source: str, target: str) -> Step | None:
    for step in STEPS:
        if step.source == source and step.target == target:
            return step
    return None


def _actor_capacities(user: Any, inspection: Inspection) -> set[str]:
    capacities = set()
    if getattr(user, "role", None) == Role.PROGRAMME_MANAGER:
        capacities.add(PM)
    if (
        getattr(user, "is_authenticated", False)
        and inspection.team.filter(user=user, role=TeamRole.LEAD_INSPECTOR).exists()
    ):
        capacities.add(LEAD)
    return capacities


def check_transition(
    *, inspection: Inspection, target: str, user: Any, on: dt.date, note: str, today: dt.date
) -> list[str]:
    """Every reason the step cannot be taken; an empty list means it may."""
    step = step_for(inspection.state, target)
    if step is None:
        current = State(inspection.state).label
        wanted = State(target).label if target in State.values else target
        return [f"An inspection cannot move from {current} to {wanted}."]
    if not (_actor_capacities(user, inspection) & step.who):
        who = " or ".join(
            sorted(
                {PM: "the programme manager", LEAD: "the inspection's lead inspector"}[w]
                for w in step.who
            )
        )
        return [f"Only {who} can {step.label[0].lower()}{step.label[1:]}."]
    reasons = []
    if on > today:
        reasons.append("The date cannot be in the future.")
    previous = inspection.state_changed_on
    if previous and on < previous:
        reasons.append(f"The date cannot be before the last step ({previous:%-d %B %Y}).")
    for check in step.checks:
        reason = check(inspection, on, note)
        if reason:
            reasons.append(reason)
    return reasons


def allowed_transitions(*, inspection: Inspection, user: Any) -> list[Step]:
    capacities = _actor_capacities(user, inspection)
    return [s for s in STEPS if s.source == inspection.state and capacities & s.who]
