"""When things happen in the fictional programme: planning only, no database.

Each function here turns a seeded `random.Random` and a few dates into `PlannedInspection`s:
what is inspected, under which methodology, and the dated lifecycle steps it takes. The
generator then writes the plans through the services, taking only the steps dated on or
before "today". The same seed and "today" always give the same plans.

Timings follow DOMAIN.md: the force is notified two to six weeks before two weeks on site;
the report is published about four to five months after fieldwork; the force's action plan
comes within six weeks; a post-inspection review returns 12 to 14 months after publication,
or, where concerns are serious, a re-inspection comes sooner.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from apps.core.dates import add_months
from apps.inspections.models import ProgrammeType, State

from .catalogue import JTAI_THEMES, PLANNING_NOTES, QA_RETURN_NOTES, THEMATIC_SUBJECTS

DAY = dt.timedelta(days=1)
WEEK = dt.timedelta(weeks=1)

NCPIS_PER_FORCE = (2, 3)  # every force is inspected two or three times in the ten years
NCPI_FIRST_WITHIN_MONTHS = 30  # a force's first NCPI of the window
NCPI_INTERVAL_MONTHS = (36, 54)  # between one force's NCPIs
REVIEW_AFTER_PUBLICATION_DAYS = (365, 420)  # 12 to 14 months (fieldwork starts on a Monday)
REINSPECTION_AFTER_PUBLICATION_DAYS = (180, 270)
REINSPECTION_CHANCE = 0.12
LIGHT_TOUCH_CHANCE = 0.08
QA_RETURN_CHANCE = 0.25


# Dates -------------------------------------------------------------------------------------


def monday_on_or_before(day: dt.date) -> dt.date:
    return day - day.weekday() * DAY


def monday_on_or_after(day: dt.date) -> dt.date:
    return day + ((7 - day.weekday()) % 7) * DAY


def weekday_on_or_before(day: dt.date) -> dt.date:
    """The day itself, or the Friday before if it falls at a weekend."""
    return day - max(0, day.weekday() - 4) * DAY


def weekday_on_or_after(day: dt.date) -> dt.date:
    """The day itself, or the Monday after if it falls at a weekend."""
    return day + (0 if day.weekday() < 5 else 7 - day.weekday()) * DAY


def days_between(rng: random.Random, start: dt.date, low: int, high: int) -> dt.date:
    return start + rng.randint(low, high) * DAY


# Methodologies -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MethodologyPeriod:
    """When a methodology version was in use, and for which programmes."""

    code: str
    programme_types: frozenset[str]
    valid_from: dt.date
    valid_to: dt.date | None

    def covers(self, programme_type: str, on: dt.date) -> bool:
        return (
            programme_type in self.programme_types
            and self.valid_from <= on
            and (self.valid_to is None or on <= self.valid_to)
        )


def methodology_for(
    periods: Iterable[MethodologyPeriod], programme_type: str, on: dt.date
) -> str | None:
    """The code of the version in use for the programme on the day (the newest, if two
    overlap), or None if there was none."""
    matches = [p for p in periods if p.covers(programme_type, on)]
    if not matches:
        return None
    return max(matches, key=lambda p: (p.valid_from, p.code)).code


def first_valid(periods: Iterable[MethodologyPeriod], programme_type: str) -> dt.date | None:
    starts = [p.valid_from for p in periods if programme_type in p.programme_types]
    return min(starts, default=None)


# Plans -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One lifecycle step: the state it moves to, the day, and the note."""

    target: str
    on: dt.date
    note: str = ""


@dataclass(frozen=True)
class TeamNeeds:
    """Who the inspection needs. Named people (demo) or how many to choose (national)."""

    lead: str = ""  # username of a named lead inspector; empty: choose one
    members: tuple[tuple[str, str], ...] = ()  # named (username, team role)
    inspectors: int = 0  # how many more inspectors to choose
    analyst: bool = False  # choose an analyst
    partners: tuple[str, ...] = ()  # inspectorate codes: choose a partner inspector of each


@dataclass(frozen=True)
class ForceInfo:
    code: str  # ONS police force area code
    name: str
    large: bool = False  # a bigger team and three weeks on site (the Metropolitan Police)


@dataclass(frozen=True)
class AreaInfo:
    code: str  # ONS upper-tier local authority code
    name: str
    force_code: str
    country: str


@dataclass(frozen=True)
class PlannedInspection:
    key: str  # unique within one generation; `follows` refers to it
    programme_type: str
    title: str
    methodology: str
    planned_on: dt.date
    fieldwork_start: dt.date
    fieldwork_end: dt.date
    planned_publication: dt.date | None
    steps: tuple[Step, ...] = ()
    forces: tuple[str, ...] = ()  # force codes; empty for a joint inspection (from its areas)
    local_authorities: tuple[str, ...] = ()  # area codes
    theme: str = ""
    follows: str | None = None
    team: TeamNeeds = field(default_factory=TeamNeeds)
    confidential_notes: str = ""
    # Generate its case list, sample and case audits (where its methodology grades cases).
    # False leaves fieldwork to be done by hand: the demo's walk-through inspection.
    casework: bool = True

    def steps_until(self, today: dt.date) -> list[Step]:
        return [s for s in self.steps if s.on <= today]

    def state_on(self, today: dt.date) -> str:
        taken = self.steps_until(today)
        return taken[-1].target if taken else State.PLANNED

    def step_on(self, target: str) -> dt.date | None:
        """The day of the first step to `target`, if the plan takes one."""
        return next((s.on for s in self.steps if s.target == target), None)

    @property
    def published_on(self) -> dt.date | None:
        return self.step_on(State.PUBLISHED)

    def with_steps(self, *steps: Step) -> PlannedInspection:
        return replace(self, steps=(*self.steps, *steps))


def check_plan(plan: PlannedInspection) -> list[str]:
    """What is wrong with a plan's dates against the lifecycle's rules (empty if nothing)."""
    problems = []
    if plan.fieldwork_end < plan.fieldwork_start:
        problems.append("fieldwork ends before it starts")
    last = plan.planned_on
    for step in plan.steps:
        if step.on < last:
            problems.append(f"{step.target} on {step.on} is before the step before ({last})")
        last = step.on
    notified = plan.step_on(State.NOTIFIED)
    if notified and notified > plan.fieldwork_start:
        problems.append("notified after fieldwork starts")
    fieldwork = plan.step_on(State.FIELDWORK)
    if fieldwork and fieldwork < plan.fieldwork_start:
        problems.append("fieldwork step before the planned start")
    return problems


# Lifecycle timings -------------------------------------------------------------------------


def _before_fieldwork(
    rng: random.Random, fieldwork_start: dt.date, notice_days: tuple[int, int]
) -> list[Step]:
    notified = weekday_on_or_before(fieldwork_start - rng.randint(*notice_days) * DAY)
    return [Step(State.NOTIFIED, notified), Step(State.FIELDWORK, fieldwork_start)]


def _reporting(
    rng: random.Random,
    fieldwork_end: dt.date,
    *,
    qa_days: tuple[int, int],
    publish_days: tuple[int, int],
) -> list[Step]:
    """Reporting, quality assurance (sometimes sent back once), publication."""
    steps = [Step(State.REPORTING, fieldwork_end)]
    qa = weekday_on_or_after(days_between(rng, fieldwork_end, *qa_days))
    steps.append(Step(State.QUALITY_ASSURANCE, qa))
    if rng.random() < QA_RETURN_CHANCE:
        back = weekday_on_or_after(days_between(rng, qa, 5, 15))
        qa = weekday_on_or_after(days_between(rng, back, 7, 21))
        steps += [
            Step(State.REPORTING, back, rng.choice(QA_RETURN_NOTES)),
            Step(State.QUALITY_ASSURANCE, qa),
        ]
    published = weekday_on_or_after(
        max(days_between(rng, fieldwork_end, *publish_days), qa + 14 * DAY)
    )
    steps.append(Step(State.PUBLISHED, published))
    return steps


def _inspection(
    rng: random.Random,
    *,
    key: str,
    programme_type: str,
    title: str,
    periods: Sequence[MethodologyPeriod],
    fieldwork_start: dt.date,
    fieldwork_days: int,
    planned_weeks_before: tuple[int, int],
    notice_days: tuple[int, int],
    qa_days: tuple[int, int],
    publish_days: tuple[int, int],
    team: TeamNeeds,
    planned_on_not_before: dt.date | None = None,
    **extra: object,
) -> PlannedInspection | None:
    """A plan from planning to publication, or None if no methodology covered the day."""
    methodology = methodology_for(periods, programme_type, fieldwork_start)
    if methodology is None:
        return None
    planned_on = weekday_on_or_before(
        fieldwork_start - rng.randint(*planned_weeks_before) * WEEK - rng.randint(0, 4) * DAY
    )
    if planned_on_not_before and planned_on < planned_on_not_before:
        planned_on = planned_on_not_before
    fieldwork_end = fieldwork_start + fieldwork_days * DAY
    steps = _before_fieldwork(rng, fieldwork_start, notice_days)
    steps += _reporting(rng, fieldwork_end, qa_days=qa_days, publish_days=publish_days)
    published = steps[-1].on
    return PlannedInspection(
        key=key,
        programme_type=programme_type,
        title=title,
        methodology=methodology,
        planned_on=planned_on,
        fieldwork_start=fieldwork_start,
        fieldwork_end=fieldwork_end,
        planned_publication=published,
        steps=tuple(steps),
        team=team,
        **extra,  # type: ignore[arg-type]
    )


# Force inspections (NCPI and its follow-up) ------------------------------------------------


def _ncpi(
    rng: random.Random,
    *,
    key: str,
    force: ForceInfo,
    fieldwork_start: dt.date,
    periods: Sequence[MethodologyPeriod],
    programme_type: str = ProgrammeType.NCPI,
    follows: str | None = None,
    planned_on_not_before: dt.date | None = None,
) -> PlannedInspection | None:
    review = programme_type == ProgrammeType.NCPI_REVIEW
    if review:
        title = f"Post-inspection review of {force.name}"
        fieldwork_days, inspectors = 4, rng.randint(1, 2)  # one week back on site
        qa_days, publish_days = (28, 42), (63, 91)
    else:
        what = (
            "Re-inspection of child protection in"
            if programme_type == ProgrammeType.NCPI_REINSPECTION
            else "National child protection inspection of"
        )
        title = f"{what} {force.name}"
        fieldwork_days = 18 if force.large else 11  # two weeks on site (three for the Met)
        inspectors = rng.randint(5, 7) if force.large else rng.randint(2, 4)
        qa_days, publish_days = (49, 84), (119, 147)  # published about four to five months on
    notes = rng.choice(PLANNING_NOTES) if rng.random() < 0.2 else ""
    return _inspection(
        rng,
        key=key,
        programme_type=programme_type,
        title=title,
        periods=periods,
        fieldwork_start=fieldwork_start,
        fieldwork_days=fieldwork_days,
        planned_weeks_before=(16, 26) if not review else (8, 20),
        notice_days=(14, 42),
        qa_days=qa_days,
        publish_days=publish_days,
        team=TeamNeeds(inspectors=inspectors, analyst=not review and rng.random() < 0.5),
        planned_on_not_before=planned_on_not_before,
        forces=(force.code,),
        follows=follows,
        confidential_notes=notes,
    )


def _follow_up(
    rng: random.Random,
    ncpi: PlannedInspection,
    *,
    force: ForceInfo,
    periods: Sequence[MethodologyPeriod],
) -> tuple[PlannedInspection, PlannedInspection | None]:
    """After publication: the action plan (follow-up), then a post-inspection review 12-14
    months on, a re-inspection where concerns were serious, or a light-touch follow-up. The
    NCPI closes when its review or re-inspection is published."""
    published = ncpi.published_on
    assert published is not None
    follow_up_on = weekday_on_or_after(days_between(rng, published, 28, 40))  # within 6 weeks
    ncpi = ncpi.with_steps(Step(State.FOLLOW_UP, follow_up_on, "Action plan received"))
    chance = rng.random()
    if chance < LIGHT_TOUCH_CHANCE:
        closed = weekday_on_or_after(days_between(rng, follow_up_on, 120, 240))
        note = "Light-touch follow-up: progress discussed with the force's leaders"
        return ncpi.with_steps(Step(State.CLOSED, closed, note)), None
    if chance < LIGHT_TOUCH_CHANCE + REINSPECTION_CHANCE:
        programme_type = ProgrammeType.NCPI_REINSPECTION
        start = monday_on_or_after(
            days_between(rng, published, *REINSPECTION_AFTER_PUBLICATION_DAYS)
        )
    else:
        programme_type = ProgrammeType.NCPI_REVIEW
        start = monday_on_or_after(days_between(rng, published, *REVIEW_AFTER_PUBLICATION_DAYS))
    follow = _ncpi(
        rng,
        key=f"{ncpi.key}-{programme_type}",
        force=force,
        fieldwork_start=start,
        periods=periods,
        programme_type=programme_type,
        follows=ncpi.key,
        planned_on_not_before=follow_up_on,
    )
    if follow is None:  # no methodology for it (cannot happen with the shipped files)
        return ncpi, None
    follow_published = follow.published_on
    assert follow_published is not None
    if programme_type == ProgrammeType.NCPI_REVIEW:
        follow = follow.with_steps(
            Step(
                State.CLOSED,
                weekday_on_or_after(days_between(rng, follow_published, 14, 42)),
                "Review complete: progress on each recommendation recorded",
            )
        )
        ncpi_note = "Post-inspection review published"
    else:
        action_plan = weekday_on_or_after(days_between(rng, follow_published, 28, 40))
        follow = follow.with_steps(
            Step(State.FOLLOW_UP, action_plan, "New action plan received"),
            Step(
                State.CLOSED,
                weekday_on_or_after(days_between(rng, action_plan, 150, 240)),
                "Light-touch follow-up: actions complete",
            ),
        )
        ncpi_note = "Re-inspection published"
    return ncpi.with_steps(Step(State.CLOSED, follow_published, ncpi_note)), follow


def force_programme(
    rng: random.Random,
    *,
    force: ForceInfo,
    start: dt.date,
    today: dt.date,
    periods: Sequence[MethodologyPeriod],
) -> list[PlannedInspection]:
    """One force's NCPIs from `start` to `today`, each with its follow-up, keeping only what
    had been planned by `today` (so the latest may still be planned, or under way).

    The first NCPI falls within 30 months of the start, the next ones three to four and a
    half years apart: two or three in ten years.
    """
    earliest = first_valid(periods, ProgrammeType.NCPI)
    if earliest is None:
        return []
    plans: list[PlannedInspection] = []
    offset = rng.randint(0, NCPI_FIRST_WITHIN_MONTHS * 30)
    fieldwork = monday_on_or_after(max(start + offset * DAY, earliest))
    for number in range(1, NCPIS_PER_FORCE[1] + 1):
        ncpi = _ncpi(
            rng,
            key=f"{force.code}-ncpi-{number}",
            force=force,
            fieldwork_start=fieldwork,
            periods=periods,
        )
        if ncpi is None or ncpi.planned_on > today:
            break
        ncpi, follow = _follow_up(rng, ncpi, force=force, periods=periods)
        plans.append(ncpi)
        if follow is not None and follow.planned_on <= today:
            plans.append(follow)
        fieldwork = monday_on_or_after(add_months(fieldwork, rng.randint(*NCPI_INTERVAL_MONTHS)))
    return plans


# Joint inspections of areas ----------------------------------------------------------------


def _after_letter(rng: random.Random, plan: PlannedInspection, who: str) -> PlannedInspection:
    """A joint inspection's letter of findings is followed by the area's action plan, which
    the lead inspectorate monitors."""
    published = plan.published_on
    assert published is not None
    action_plan = weekday_on_or_after(days_between(rng, published, 56, 98))
    closed = weekday_on_or_after(days_between(rng, action_plan, 140, 210))
    return plan.with_steps(
        Step(State.FOLLOW_UP, action_plan, "The area's written statement of action received"),
        Step(State.CLOSED, closed, f"Police actions complete; {who} monitors the area's plan"),
    )


class _AreaPool:
    """Areas in a random order, each inspected once before any is inspected again, and those
    inspected late in one round not early in the next."""

    def __init__(self, rng: random.Random, areas: Sequence[AreaInfo]) -> None:
        self.rng, self.areas = rng, sorted(areas, key=lambda a: a.code)
        self.queue: list[AreaInfo] = []  # taken from the end
        self.taken: list[AreaInfo] = []  # this round, in order

    def _refill(self) -> None:
        recent = {a.code for a in self.taken[len(self.taken) // 2 :]}
        self.queue = list(self.areas)
        self.rng.shuffle(self.queue)
        self.queue.sort(key=lambda a: a.code not in recent)  # recent ones at the front: last
        self.taken = []

    def _mark(self, area: AreaInfo) -> AreaInfo:
        self.taken.append(area)
        return area

    def take(self) -> AreaInfo:
        if not self.queue:
            self._refill()
        return self._mark(self.queue.pop())

    def take_neighbour(self, area: AreaInfo) -> AreaInfo | None:
        """Another area of the same force not yet inspected this round, if there is one."""
        for candidate in reversed(self.queue):
            if candidate.force_code == area.force_code:
                self.queue.remove(candidate)
                return self._mark(candidate)
        return None


def jtai_programme(
    rng: random.Random,
    *,
    areas: Sequence[AreaInfo],
    start: dt.date,
    today: dt.date,
    periods: Sequence[MethodologyPeriod],
) -> list[PlannedInspection]:
    """Joint targeted area inspections of English areas: one starting every three to five
    weeks, a deep-dive theme a year, now and then two neighbouring areas together."""
    programme_start = first_valid(periods, ProgrammeType.JTAI)
    english = [a for a in areas if a.country == "england"]
    if programme_start is None or not english:
        return []
    pool = _AreaPool(rng, english)
    plans: list[PlannedInspection] = []
    fieldwork = monday_on_or_after(max(start, programme_start) + rng.randint(0, 21) * DAY)
    while True:
        first = pool.take()
        chosen = [first]
        if rng.random() < 0.1:
            neighbour = pool.take_neighbour(first)
            if neighbour is not None:
                chosen.append(neighbour)
        theme = JTAI_THEMES[((fieldwork - programme_start).days // 365) % len(JTAI_THEMES)]
        names = " and ".join(a.name for a in chosen)
        plan = _inspection(
            rng,
            key=f"jtai-{fieldwork:%Y%m%d}-{first.code}",
            programme_type=ProgrammeType.JTAI,
            title=f"Joint targeted area inspection of {names}",
            periods=periods,
            fieldwork_start=fieldwork,
            fieldwork_days=11,
            planned_weeks_before=(8, 14),
            notice_days=(14, 14),  # about nine or ten working days' notice
            qa_days=(21, 28),
            publish_days=(42, 56),
            team=TeamNeeds(inspectors=1, partners=("ofsted", "cqc")),
            local_authorities=tuple(sorted(a.code for a in chosen)),
            theme=theme,
        )
        if plan is None or plan.planned_on > today:
            break
        plans.append(_after_letter(rng, plan, "Ofsted"))
        fieldwork = monday_on_or_after(fieldwork + rng.randint(21, 35) * DAY)
    return plans


def jicpa_programme(
    rng: random.Random,
    *,
    areas: Sequence[AreaInfo],
    start: dt.date,
    today: dt.date,
    periods: Sequence[MethodologyPeriod],
) -> list[PlannedInspection]:
    """Joint inspections of child protection arrangements of Welsh areas: one every two to
    three months from the JICPA methodology's start."""
    programme_start = first_valid(periods, ProgrammeType.JICPA)
    welsh = [a for a in areas if a.country == "wales"]
    if programme_start is None or not welsh:
        return []
    pool = _AreaPool(rng, welsh)
    plans: list[PlannedInspection] = []
    fieldwork = monday_on_or_after(max(start, programme_start) + rng.randint(0, 42) * DAY)
    while True:
        area = pool.take()
        plan = _inspection(
            rng,
            key=f"jicpa-{fieldwork:%Y%m%d}-{area.code}",
            programme_type=ProgrammeType.JICPA,
            title=f"Joint inspection of child protection arrangements: {area.name}",
            periods=periods,
            fieldwork_start=fieldwork,
            fieldwork_days=11,
            planned_weeks_before=(8, 14),
            notice_days=(14, 21),
            qa_days=(28, 35),
            publish_days=(56, 70),
            team=TeamNeeds(inspectors=1, partners=("ciw", "hiw")),
            local_authorities=(area.code,),
        )
        if plan is None or plan.planned_on > today:
            break
        plans.append(_after_letter(rng, plan, "Care Inspectorate Wales"))
        fieldwork = monday_on_or_after(fieldwork + rng.randint(56, 91) * DAY)
    return plans


# Thematic inspections ----------------------------------------------------------------------


def thematic_programme(
    rng: random.Random,
    *,
    forces: Sequence[ForceInfo],
    start: dt.date,
    today: dt.date,
    periods: Sequence[MethodologyPeriod],
) -> list[PlannedInspection]:
    """A thematic inspection of five to eight forces about every two years."""
    plans: list[PlannedInspection] = []
    by_code = sorted(forces, key=lambda f: f.code)
    fieldwork = monday_on_or_after(add_months(start, rng.randint(6, 12)))
    for number, subject in enumerate(THEMATIC_SUBJECTS, start=1):
        chosen = rng.sample(by_code, min(len(by_code), rng.randint(5, 8)))
        plan = _inspection(
            rng,
            key=f"thematic-{number}",
            programme_type=ProgrammeType.THEMATIC,
            title=f"{subject}: a thematic inspection",
            periods=periods,
            fieldwork_start=fieldwork,
            fieldwork_days=39,  # six weeks across the forces
            planned_weeks_before=(20, 30),
            notice_days=(21, 35),
            qa_days=(70, 98),
            publish_days=(140, 182),
            team=TeamNeeds(inspectors=rng.randint(3, 4), analyst=True),
            forces=tuple(sorted(f.code for f in chosen)),
            theme=subject,
        )
        if plan is None or plan.planned_on > today:
            break
        published = plan.published_on
        assert published is not None
        closed = weekday_on_or_after(days_between(rng, published, 28, 56))
        plans.append(
            plan.with_steps(
                Step(
                    State.CLOSED,
                    closed,
                    "Recommendations are tracked through the national thematic report",
                )
            )
        )
        fieldwork = monday_on_or_after(add_months(fieldwork, rng.randint(20, 28)))
    return plans


def national_window(today: dt.date, periods: Sequence[MethodologyPeriod]) -> dt.date:
    """The start of the ten years ending today (not before the first NCPI methodology)."""
    try:
        start = today.replace(year=today.year - 10)
    except ValueError:  # 29 February
        start = today.replace(year=today.year - 10, day=28)
    earliest = first_valid(periods, ProgrammeType.NCPI)
    return max(start, earliest) if earliest else start


# The demo scale: a handful of inspections, one at every stage ------------------------------

CUMBRIA, CLEVELAND, DYFED_POWYS = "E23000002", "E23000013", "W15000004"
DEMO_FORCES = (CUMBRIA, CLEVELAND, DYFED_POWYS)  # the forces with organisations in the demo
LANCASHIRE, DURHAM, NORTH_WALES = "E23000003", "E23000008", "W15000001"
LEAD, INSPECTOR, PARTNER, ANALYST = "lead_inspector", "inspector", "partner_inspector", "analyst"


def demo_programme(
    rng: random.Random,
    *,
    today: dt.date,
    periods: Sequence[MethodologyPeriod],
    forces: dict[str, ForceInfo],
    areas: Sequence[AreaInfo],
) -> list[PlannedInspection]:
    """About a dozen inspections around `today`, one or more at each stage, with the demo
    sign-ins on their teams: `lead` and `inspector` on several, `partner` on the JTAI, and
    `liaison`'s force (Cumbria) with published and closed work, a thematic inspection it
    cannot see yet (still planned), and an NCPI in fieldwork with no case list yet: the
    walk-through, whose team is `lead`, `inspector` and `colleague`."""
    week = monday_on_or_before(today)

    def day(offset: int) -> dt.date:
        return week + offset * DAY

    def jitter(on: dt.date) -> dt.date:
        return weekday_on_or_before(on - rng.randint(0, 4) * DAY)

    def plan(
        key: str,
        programme_type: str,
        title: str,
        start: dt.date,
        days: int,
        steps: Sequence[Step],
        planned_on: dt.date,
        **extra: object,
    ) -> PlannedInspection:
        methodology = methodology_for(periods, programme_type, start)
        if methodology is None:
            raise ValueError(
                f"No {programme_type} methodology covers {start}: "
                "load the methodologies (load_methodologies)."
            )
        published = next((s.on for s in steps if s.target == State.PUBLISHED), None)
        extra.setdefault("planned_publication", published or start + days * DAY + 20 * WEEK)
        return PlannedInspection(
            key=key,
            programme_type=programme_type,
            title=title,
            methodology=methodology,
            planned_on=planned_on,
            fieldwork_start=start,
            fieldwork_end=start + days * DAY,
            steps=tuple(steps),
            **extra,  # type: ignore[arg-type]
        )

    def ncpi_title(code: str) -> str:
        return f"National child protection inspection of {forces[code].name}"

    def review_title(code: str) -> str:
        return f"Post-inspection review of {forces[code].name}"

    plans = []
    # Planned: fieldwork in three weeks; the force has not been told.
    start = day(21)
    plans.append(
        plan(
            "planned",
            ProgrammeType.NCPI,
            ncpi_title(CLEVELAND),
            start,
            11,
            (),
            jitter(today - 70 * DAY),
            forces=(CLEVELAND,),
            team=TeamNeeds(
                lead="lead", members=(("inspector", INSPECTOR), ("jenny.hollis", INSPECTOR))
            ),
            confidential_notes=PLANNING_NOTES[0],
        )
    )
    # Notified: on site in a fortnight.
    start = day(14)
    plans.append(
        plan(
            "notified",
            ProgrammeType.NCPI,
            ncpi_title(DYFED_POWYS),
            start,
            11,
            (Step(State.NOTIFIED, weekday_on_or_before(today - 9 * DAY)),),
            jitter(today - 120 * DAY),
            forces=(DYFED_POWYS,),
            team=TeamNeeds(
                lead="ruth.adeyemi",
                members=(("inspector", INSPECTOR), ("marek.kowalski", INSPECTOR)),
            ),
        )
    )
    # Fieldwork: on site since Monday, for two weeks. This is the walk-through for a new user:
    # the force (the `liaison` sign-in's) has not sent its case list yet, so there is no
    # sample and no case audit. `lead` leads; `inspector` audits and `colleague` second-marks.
    start = day(0)
    plans.append(
        plan(
            "fieldwork",
            ProgrammeType.NCPI,
            ncpi_title(CUMBRIA),
            start,
            11,
            (
                Step(State.NOTIFIED, weekday_on_or_before(start - 28 * DAY)),
                Step(State.FIELDWORK, start),
            ),
            jitter(start - 20 * WEEK),
            forces=(CUMBRIA,),
            team=TeamNeeds(
                lead="lead", members=(("inspector", INSPECTOR), ("colleague", INSPECTOR))
            ),
            confidential_notes=PLANNING_NOTES[2],
            casework=False,
        )
    )
    # Reporting: fieldwork finished six weeks ago.
    start = day(-56)
    plans.append(
        plan(
            "reporting",
            ProgrammeType.NCPI,
            ncpi_title(DURHAM),
            start,
            11,
            (
                Step(State.NOTIFIED, start - 30 * DAY),
                Step(State.FIELDWORK, start),
                Step(State.REPORTING, start + 11 * DAY),
            ),
            jitter(start - 22 * WEEK),
            forces=(DURHAM,),
            team=TeamNeeds(
                lead="ruth.adeyemi",
                members=(("jenny.hollis", INSPECTOR), ("marek.kowalski", INSPECTOR)),
            ),
        )
    )
    # Quality assurance, sent back once; publication planned for this Thursday.
    start = day(-17 * 7)
    plans.append(
        plan(
            "quality_assurance",
            ProgrammeType.NCPI,
            ncpi_title(NORTH_WALES),
            start,
            11,
            (
                Step(State.NOTIFIED, start - 35 * DAY),
                Step(State.FIELDWORK, start),
                Step(State.REPORTING, start + 11 * DAY),
                Step(State.QUALITY_ASSURANCE, weekday_on_or_before(today - 40 * DAY)),
                Step(State.REPORTING, weekday_on_or_before(today - 30 * DAY), QA_RETURN_NOTES[0]),
                Step(State.QUALITY_ASSURANCE, weekday_on_or_before(today - 12 * DAY)),
            ),
            jitter(start - 24 * WEEK),
            forces=(NORTH_WALES,),
            planned_publication=day(3),
            team=TeamNeeds(
                lead="lead", members=(("inspector", INSPECTOR), ("jenny.hollis", INSPECTOR))
            ),
        )
    )
    # Published five weeks ago; its post-inspection review is pencilled in (still planned).
    # Not Cumbria's: Cumbria is in fieldwork now (above).
    start = day(-30 * 7)
    published = weekday_on_or_before(today - 35 * DAY)
    plans.append(
        plan(
            "published",
            ProgrammeType.NCPI,
            ncpi_title(LANCASHIRE),
            start,
            11,
            (
                Step(State.NOTIFIED, start - 21 * DAY),
                Step(State.FIELDWORK, start),
                Step(State.REPORTING, start + 11 * DAY),
                Step(State.QUALITY_ASSURANCE, start + 11 * DAY + 9 * WEEK),
                Step(State.PUBLISHED, published),
            ),
            jitter(start - 20 * WEEK),
            forces=(LANCASHIRE,),
            team=TeamNeeds(lead="lead", members=(("jenny.hollis", INSPECTOR),)),
        )
    )
    start = monday_on_or_after(add_months(published, 13))
    plans.append(
        plan(
            "published-review",
            ProgrammeType.NCPI_REVIEW,
            review_title(LANCASHIRE),
            start,
            4,
            (),
            weekday_on_or_before(today - 6 * DAY),
            forces=(LANCASHIRE,),
            follows="published",
            team=TeamNeeds(lead="lead", members=(("inspector", INSPECTOR),)),
            confidential_notes=PLANNING_NOTES[1],
        )
    )
    # An older NCPI (the 2016 methodology), followed up by a review, both closed.
    start = monday_on_or_after(add_months(today, -78))
    end = start + 11 * DAY
    published = weekday_on_or_after(end + 19 * WEEK)
    review_start = monday_on_or_after(add_months(published, 13))
    review_published = weekday_on_or_after(review_start + 4 * DAY + 11 * WEEK)
    plans.append(
        plan(
            "closed",
            ProgrammeType.NCPI,
            ncpi_title(CUMBRIA),
            start,
            11,
            (
                Step(State.NOTIFIED, start - 28 * DAY),
                Step(State.FIELDWORK, start),
                Step(State.REPORTING, end),
                Step(State.QUALITY_ASSURANCE, end + 10 * WEEK),
                Step(State.PUBLISHED, published),
                Step(State.FOLLOW_UP, published + 6 * WEEK, "Action plan received"),
                Step(State.CLOSED, review_published, "Post-inspection review published"),
            ),
            jitter(start - 20 * WEEK),
            forces=(CUMBRIA,),
            team=TeamNeeds(
                lead="ruth.adeyemi",
                members=(("jenny.hollis", INSPECTOR), ("marek.kowalski", INSPECTOR)),
            ),
        )
    )
    plans.append(
        plan(
            "closed-review",
            ProgrammeType.NCPI_REVIEW,
            review_title(CUMBRIA),
            review_start,
            4,
            (
                Step(State.NOTIFIED, review_start - 21 * DAY),
                Step(State.FIELDWORK, review_start),
                Step(State.REPORTING, review_start + 4 * DAY),
                Step(State.QUALITY_ASSURANCE, review_start + 4 * DAY + 5 * WEEK),
                Step(State.PUBLISHED, review_published),
                Step(
                    State.CLOSED,
                    review_published + 3 * WEEK,
                    "Review complete: progress on each recommendation recorded",
                ),
            ),
            jitter(review_start - 14 * WEEK),
            forces=(CUMBRIA,),
            follows="closed",
            team=TeamNeeds(lead="ruth.adeyemi", members=(("jenny.hollis", INSPECTOR),)),
        )
    )
    # A JTAI of the Cumbrian areas: letter published, the areas' action plan followed up.
    cumbrian = tuple(
        sorted(a.code for a in areas if a.force_code == CUMBRIA and a.country == "england")
    )[:2]
    names = " and ".join(a.name for a in sorted(areas, key=lambda a: a.code) if a.code in cumbrian)
    start = day(-22 * 7)
    end = start + 11 * DAY
    plans.append(
        plan(
            "jtai",
            ProgrammeType.JTAI,
            f"Joint targeted area inspection of {names}",
            start,
            11,
            (
                Step(State.NOTIFIED, start - 14 * DAY),
                Step(State.FIELDWORK, start),
                Step(State.REPORTING, end),
                Step(State.QUALITY_ASSURANCE, end + 3 * WEEK),
                Step(State.PUBLISHED, end + 7 * WEEK),
                Step(
                    State.FOLLOW_UP,
                    end + 17 * WEEK,
                    "The area's written statement of action received",
                ),
            ),
            jitter(start - 12 * WEEK),
            local_authorities=cumbrian,
            theme=JTAI_THEMES[1],
            team=TeamNeeds(
                lead="ruth.adeyemi", members=(("inspector", INSPECTOR), ("partner", PARTNER))
            ),
        )
    )
    # A JICPA of a Dyfed-Powys area, now being written up.
    welsh = sorted(a.code for a in areas if a.force_code == DYFED_POWYS and a.country == "wales")
    area_name = next(a.name for a in areas if a.code == welsh[0])
    start = day(-6 * 7)
    plans.append(
        plan(
            "jicpa",
            ProgrammeType.JICPA,
            f"Joint inspection of child protection arrangements: {area_name}",
            start,
            11,
            (
                Step(State.NOTIFIED, start - 21 * DAY),
                Step(State.FIELDWORK, start),
                Step(State.REPORTING, start + 11 * DAY),
            ),
            jitter(start - 12 * WEEK),
            local_authorities=(welsh[0],),
            team=TeamNeeds(
                lead="lead", members=(("jenny.hollis", INSPECTOR), ("ceri.vaughan", PARTNER))
            ),
        )
    )
    # A thematic inspection of five forces, published and closed.
    start = monday_on_or_after(add_months(today, -15))
    end = start + 39 * DAY
    published = weekday_on_or_after(end + 22 * WEEK)
    plans.append(
        plan(
            "thematic",
            ProgrammeType.THEMATIC,
            f"{THEMATIC_SUBJECTS[0]}: a thematic inspection",
            start,
            39,
            (
                Step(State.NOTIFIED, start - 28 * DAY),
                Step(State.FIELDWORK, start),
                Step(State.REPORTING, end),
                Step(State.QUALITY_ASSURANCE, end + 12 * WEEK),
                Step(State.PUBLISHED, published),
                Step(
                    State.CLOSED,
                    published + 5 * WEEK,
                    "Recommendations are tracked through the national thematic report",
                ),
            ),
            jitter(start - 24 * WEEK),
            forces=tuple(sorted((CUMBRIA, CLEVELAND, DYFED_POWYS, LANCASHIRE, DURHAM))),
            theme=THEMATIC_SUBJECTS[0],
            team=TeamNeeds(
                lead="lead",
                members=(
                    ("inspector", INSPECTOR),
                    ("marek.kowalski", INSPECTOR),
                    ("analyst", ANALYST),
                ),
            ),
        )
    )
    # A thematic inspection still being planned, of five forces including Cumbria: the
    # force's liaison cannot see it yet.
    start = day(56)
    plans.append(
        plan(
            "planned-thematic",
            ProgrammeType.THEMATIC,
            f"{THEMATIC_SUBJECTS[1]}: a thematic inspection",
            start,
            39,
            (),
            weekday_on_or_before(today - 10 * DAY),
            forces=tuple(sorted((CUMBRIA, CLEVELAND, DURHAM, LANCASHIRE, NORTH_WALES))),
            theme=THEMATIC_SUBJECTS[1],
            team=TeamNeeds(
                lead="ruth.adeyemi",
                members=(("marek.kowalski", INSPECTOR), ("analyst", ANALYST)),
            ),
        )
    )
    return plans
