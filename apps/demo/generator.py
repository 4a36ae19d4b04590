"""Generate a clearly fictional programme: organisations, people, inspections and their
fieldwork.

Everything is written through the services (`organisation_create`, `user_create`,
`inspection_create`, `team_member_add`, `inspection_transition`, and for fieldwork
`case_list_upload`, `sample_draw`, `case_replace`), so the audit trail records it as it would
any other change: organisations and people are created by `system:generate_programme`,
inspections are planned and staffed by a programme manager and moved through the lifecycle by
their lead inspector or the programme manager, each step on its own (past) date. The
exceptions are the case audits and what hangs off them (hundreds of thousands of judgements at
the national scale): `casework.py` writes those in bulk and records each inspection's with one
audit event; and, the same way, the history after fieldwork (below). The whole generation is
one transaction: a failure leaves nothing.

The plans themselves come from `schedule.py`; this module turns them into data. Each kind of
data has its own small function, so later work (recommendations) can add more. Fieldwork comes
from `casework.py`, as each inspection is created; findings, reports and publications from
`reporting.py`, and what happened after publication from `followup.py`, once all the
inspections exist (both written in bulk, with one audit event per inspection).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction

from apps.accounts.models import Organisation, Role, User
from apps.accounts.services import organisation_create, user_create
from apps.core.audit import SystemActor
from apps.core.cache import data_changed
from apps.core.dates import add_months
from apps.core.models import AuditEvent
from apps.frameworks.models import MethodologyVersion
from apps.inspections.models import Inspection, ProgrammeType, State, TeamRole
from apps.inspections.services import inspection_create, inspection_transition, team_member_add
from apps.reference.models import Force, Inspectorate, LocalAuthority

from . import schedule
from .casework import Casework
from .catalogue import DEMO_CAST, DEMO_PASSWORD, FIRST_NAMES, LAST_NAMES, SIGN_INS, Person
from .followup import FollowUpHistory
from .models import DemoProgramme
from .reporting import Reporting
from .schedule import AreaInfo, ForceInfo, MethodologyPeriod, PlannedInspection
from .services import demo_programme_record

DEFAULT_SEED = 2026
ACTOR = SystemActor("generate_programme")
POLICE = "police"
NATIONAL_BODY = "National Police Chiefs' Council"
METROPOLITAN = "E23000001"
# The inspectorates the plans need, besides the police inspectorate.
PARTNERS_NEEDED = ("ofsted", "cqc", "ciw", "hiw")
DEMO_PARTNERS = ("ofsted", "ciw")
# How many of each the national scale has (the sign-ins included).
NATIONAL_STAFF = {
    Role.PROGRAMME_MANAGER: 3,
    Role.LEAD_INSPECTOR: 18,
    Role.INSPECTOR: 42,
    Role.ANALYST: 4,
}
PARTNER_INSPECTORS_EACH = 3
# Steps only a programme manager may take (the lead takes the others; see lifecycle.py).
MANAGER_STEPS = frozenset({State.PUBLISHED, State.CLOSED})
PROGRESS_EVERY = 50

Progress = Callable[[str], None]


class GenerationError(Exception):
    """The programme cannot be generated into this database (and nothing was written)."""


@dataclass
class World:
    """The reference data and methodologies the plans are made from."""

    forces: dict[str, Force]  # territorial, by ONS code
    areas: dict[str, LocalAuthority]  # by ONS code
    inspectorates: dict[str, Inspectorate]  # by code
    methodologies: dict[str, MethodologyVersion]  # by code

    @property
    def periods(self) -> list[MethodologyPeriod]:
        return [
            MethodologyPeriod(m.code, frozenset(m.programme_types), m.valid_from, m.valid_to)
            for m in self.methodologies.values()
        ]

    def force_info(self, code: str) -> ForceInfo:
        force = self.forces[code]
        return ForceInfo(code=code, name=force.name, large=code == METROPOLITAN)

    def area_infos(self) -> list[AreaInfo]:
        return [
            AreaInfo(code=a.code, name=a.name, force_code=a.force.code or "", country=a.country)
            for a in self.areas.values()
        ]


@dataclass
class Cast:
    """The people made, by username and by role, and the organisations they belong to."""

    users: dict[str, User] = field(default_factory=dict)
    by_role: dict[str, list[User]] = field(default_factory=dict)
    partners: dict[str, list[User]] = field(default_factory=dict)  # by inspectorate code
    organisations: dict[str, Organisation] = field(default_factory=dict)

    def add(self, user: User, works_at: str) -> None:
        self.users[user.username] = user
        self.by_role.setdefault(user.role, []).append(user)
        if user.role == Role.PARTNER_INSPECTOR:
            self.partners.setdefault(works_at, []).append(user)


@dataclass
class Result:
    programme: DemoProgramme
    seconds: float
    summary: dict[str, object]


# Checks ------------------------------------------------------------------------------------


def load_world() -> World:
    """The reference data and methodologies, or a GenerationError saying what to load."""
    forces = {
        f.code: f
        for f in Force.objects.filter(territorial=True)
        .exclude(code=None)
        .defer("boundary", "boundary_map")
        .order_by("code")
        if f.code
    }
    inspectorates = {i.code: i for i in Inspectorate.objects.order_by("code")}
    missing = [c for c in (POLICE, *PARTNERS_NEEDED) if c not in inspectorates]
    if len(forces) < 43 or missing:
        raise GenerationError(
            "The reference data is not loaded (need the 43 territorial forces and the "
            f"inspectorates {', '.join((POLICE, *PARTNERS_NEEDED))}): "
            "run `python manage.py load_reference` first."
        )
    areas = {
        a.code: a
        for a in LocalAuthority.objects.select_related("force")
        .defer("force__boundary", "force__boundary_map")
        .order_by("code")
    }
    methodologies = {m.code: m for m in MethodologyVersion.objects.order_by("valid_from", "code")}
    needed = (
        ProgrammeType.NCPI,
        ProgrammeType.NCPI_REVIEW,
        ProgrammeType.JTAI,
        ProgrammeType.JICPA,
        ProgrammeType.THEMATIC,
    )
    covered = {t for m in methodologies.values() for t in m.programme_types}
    if not areas or not set(needed) <= covered:
        raise GenerationError(
            "The methodologies are not loaded (need versions for NCPI, reviews, JTAI, JICPA "
            "and thematic inspections): run `python manage.py load_methodologies` first."
            if areas
            else "The reference data has no local authority areas: run "
            "`python manage.py load_reference` first."
        )
    return World(
        forces=forces, areas=areas, inspectorates=inspectorates, methodologies=methodologies
    )


def check_empty(people: Iterable[Person], organisation_names: Iterable[str]) -> None:
    """Refuse to mix fictional data into a database that holds other work."""
    existing = Inspection.objects.count()
    if existing:
        raise GenerationError(
            f"This database already holds {existing} inspection(s) not made by the generator: "
            "it only fills an empty programme. Use a fresh database."
        )
    people = list(people)
    taken = sorted(
        User.objects.filter(username__in=[p.username for p in people]).values_list(
            "username", flat=True
        )
    )
    taken += sorted(
        User.objects.filter(email__in=[p.email for p in people]).values_list("email", flat=True)
    )
    taken += sorted(
        Organisation.objects.filter(name__in=list(organisation_names)).values_list(
            "name", flat=True
        )
    )
    if taken:
        raise GenerationError(
            "Some of the demo's people or organisations already exist ("
            + ", ".join(taken[:10])
            + "): use a fresh database."
        )


# Organisations and people ------------------------------------------------------------------


def _organisation_codes(world: World, scale: str) -> tuple[list[str], list[str]]:
    """The partner inspectorates and forces that have organisations at this scale."""
    if scale == DemoProgramme.Scale.DEMO:
        return list(DEMO_PARTNERS), list(schedule.DEMO_FORCES)
    return sorted(c for c in world.inspectorates if c != POLICE), sorted(world.forces)


def organisation_names(world: World, scale: str) -> list[str]:
    partner_codes, force_codes = _organisation_codes(world, scale)
    return [
        world.inspectorates[POLICE].name,
        *(world.inspectorates[c].name for c in partner_codes),
        *(world.forces[c].name for c in force_codes),
        NATIONAL_BODY,
    ]


def create_organisations(world: World, scale: str) -> dict[str, Organisation]:
    """The police inspectorate, the partner inspectorates, forces and a national body, keyed
    by inspectorate code, force code, or "national"."""
    partner_codes, force_codes = _organisation_codes(world, scale)
    made: dict[str, Organisation] = {}
    made[POLICE] = organisation_create(
        actor=ACTOR,
        name=world.inspectorates[POLICE].name,
        kind=Organisation.Kind.INSPECTORATE,
        inspectorate=world.inspectorates[POLICE],
    )
    for code in partner_codes:
        made[code] = organisation_create(
            actor=ACTOR,
            name=world.inspectorates[code].name,
            kind=Organisation.Kind.PARTNER_INSPECTORATE,
            inspectorate=world.inspectorates[code],
        )
    for code in force_codes:
        made[code] = organisation_create(
            actor=ACTOR,
            name=world.forces[code].name,
            kind=Organisation.Kind.FORCE,
            force=world.forces[code],
        )
    made["national"] = organisation_create(
        actor=ACTOR, name=NATIONAL_BODY, kind=Organisation.Kind.NATIONAL_BODY
    )
    return made


def invented_people(rng: random.Random, count: int, taken: Iterable[str]) -> list[tuple[str, str]]:
    """`count` distinct invented (username, full name) pairs, none of them in `taken`."""
    taken_names = set(taken)
    pairs = [(f, s) for f in FIRST_NAMES for s in LAST_NAMES if f"{f} {s}" not in taken_names]
    if count > len(pairs):
        raise GenerationError(f"Not enough invented names for {count} people.")
    return [(f"{f}.{s}".lower(), f"{f} {s}") for f, s in rng.sample(pairs, count)]


def cast_for(world: World, scale: str, rng: random.Random) -> list[Person]:
    """Who the programme needs: the sign-ins, then the rest of the staff."""
    people = list(SIGN_INS)
    if scale == DemoProgramme.Scale.DEMO:
        return people + list(DEMO_CAST)
    wanted: list[tuple[str, str]] = []
    for role, total in NATIONAL_STAFF.items():
        wanted += [(role, POLICE)] * (total - sum(1 for p in SIGN_INS if p.role == role))
    for code in sorted(c for c in world.inspectorates if c != POLICE):
        already = sum(1 for p in SIGN_INS if p.works_at == code)
        wanted += [(Role.PARTNER_INSPECTOR, code)] * (PARTNER_INSPECTORS_EACH - already)
    liaison_force = schedule.DEMO_FORCES[0]
    wanted += [(Role.FORCE_LIAISON, code) for code in sorted(world.forces) if code != liaison_force]
    names = invented_people(rng, len(wanted), (p.full_name for p in people))
    return people + [
        Person(username, full_name, role, works_at=works_at)
        for (role, works_at), (username, full_name) in zip(wanted, names, strict=True)
    ]


def create_people(
    people: Sequence[Person], organisations: dict[str, Organisation], scale: str
) -> Cast:
    """The users. The sign-ins (and, at national scale, every programme manager and lead
    inspector, for the benchmark) get the demo password; everyone else cannot sign in."""
    cast = Cast(organisations=organisations)
    for person in people:
        works_at = schedule.DEMO_FORCES[0] if person.works_at == "force" else person.works_at
        can_sign_in = person.sign_in or (
            scale == DemoProgramme.Scale.NATIONAL
            and person.role in (Role.PROGRAMME_MANAGER, Role.LEAD_INSPECTOR)
        )
        user = user_create(
            actor=ACTOR,
            password=DEMO_PASSWORD if can_sign_in else None,
            username=person.username,
            email=person.email,
            full_name=person.full_name,
            role=person.role,
            organisation=organisations[works_at],
            is_staff=person.role == Role.ADMINISTRATOR,
            is_superuser=person.role == Role.ADMINISTRATOR,
        )
        cast.add(user, works_at)
    return cast


# Plans -------------------------------------------------------------------------------------


def plan_demo(world: World, rng: random.Random, today: dt.date) -> list[PlannedInspection]:
    return schedule.demo_programme(
        rng,
        today=today,
        periods=world.periods,
        forces={code: world.force_info(code) for code in world.forces},
        areas=world.area_infos(),
    )


def plan_force_inspections(
    world: World, seed: int, today: dt.date, *, until: dt.date | None = None
) -> list[PlannedInspection]:
    """Every force's NCPIs and follow-ups over the ten years (one random stream per force, so
    one force's plan does not depend on another's). `until`: also what will have been planned
    by then (the same plans, and later ones), to know how an NCPI will be followed up."""
    start = schedule.national_window(today, world.periods)
    plans: list[PlannedInspection] = []
    for code in sorted(world.forces):
        plans += schedule.force_programme(
            random.Random(f"{seed}:force:{code}"),
            force=world.force_info(code),
            start=start,
            today=until or today,
            periods=world.periods,
        )
    return plans


def plan_joint_inspections(world: World, seed: int, today: dt.date) -> list[PlannedInspection]:
    start = schedule.national_window(today, world.periods)
    areas = world.area_infos()
    return schedule.jtai_programme(
        random.Random(f"{seed}:jtai"),
        areas=areas,
        start=start,
        today=today,
        periods=world.periods,
    ) + schedule.jicpa_programme(
        random.Random(f"{seed}:jicpa"),
        areas=areas,
        start=start,
        today=today,
        periods=world.periods,
    )


def plan_thematic_inspections(world: World, seed: int, today: dt.date) -> list[PlannedInspection]:
    return schedule.thematic_programme(
        random.Random(f"{seed}:thematic"),
        forces=[world.force_info(code) for code in sorted(world.forces)],
        start=schedule.national_window(today, world.periods),
        today=today,
        periods=world.periods,
    )


def plan_national(world: World, seed: int, today: dt.date) -> list[PlannedInspection]:
    return (
        plan_force_inspections(world, seed, today)
        + plan_joint_inspections(world, seed, today)
        + plan_thematic_inspections(world, seed, today)
    )


# Teams -------------------------------------------------------------------------------------


class TeamPicker:
    """Chooses teams so that nobody is on site in two places at once and the work is spread:
    the least-used free people first, ties broken at random."""

    def __init__(
        self, rng: random.Random, cast: Cast, featured_week: tuple[dt.date, dt.date] | None = None
    ) -> None:
        self.rng, self.cast = rng, cast
        self.busy: dict[int, list[tuple[dt.date, dt.date]]] = {}
        self.load: Counter[int] = Counter()
        # Inspections with something due this week get the `lead` and `inspector` sign-ins
        # when they are free, so those people have work on their home page at every scale.
        self.featured_week = featured_week

    def _featured(self, plan: PlannedInspection) -> bool:
        if self.featured_week is None:
            return False
        first, last = self.featured_week
        return any(
            day and first <= day <= last
            for day in (plan.fieldwork_start, plan.fieldwork_end, plan.planned_publication)
        )

    def _sign_in_if_free(self, username: str, start: dt.date, end: dt.date) -> User | None:
        user = self.cast.users.get(username)
        if user is None or not self._free(user, start, end):
            return None
        return self._take(user, start, end)

    def _free(self, user: User, start: dt.date, end: dt.date) -> bool:
        return all(end < b_start or start > b_end for b_start, b_end in self.busy.get(user.pk, []))

    def _take(self, user: User, start: dt.date, end: dt.date) -> User:
        self.busy.setdefault(user.pk, []).append((start, end))
        self.load[user.pk] += 1
        return user

    def _choose(
        self, pool: Sequence[User], count: int, start: dt.date, end: dt.date, exclude: set[int]
    ) -> list[User]:
        candidates = [u for u in pool if u.pk not in exclude]
        ranked = sorted(
            candidates,
            key=lambda u: (not self._free(u, start, end), self.load[u.pk], self.rng.random()),
        )
        return [self._take(u, start, end) for u in ranked[:count]]

    def team(self, plan: PlannedInspection) -> list[tuple[User, str]]:
        """The team for a plan: the lead first."""
        needs = plan.team
        start, end = plan.fieldwork_start - 3 * schedule.DAY, plan.fieldwork_end + 3 * schedule.DAY
        users = self.cast.users
        featured = not needs.lead and self._featured(plan)
        lead = self._sign_in_if_free("lead", start, end) if featured else None
        if needs.lead:
            lead = self._take(users[needs.lead], start, end)
        elif lead is None:
            lead = self._choose(self.cast.by_role[Role.LEAD_INSPECTOR], 1, start, end, set())[0]
        team: list[tuple[User, str]] = [(lead, TeamRole.LEAD_INSPECTOR)]
        team += [(self._take(users[name], start, end), role) for name, role in needs.members]
        inspectors = needs.inspectors
        if inspectors and featured:
            inspector = self._sign_in_if_free("inspector", start, end)
            if inspector is not None:
                team.append((inspector, TeamRole.INSPECTOR))
                inspectors -= 1
        chosen = {user.pk for user, _ in team}
        if inspectors:
            team += [
                (u, TeamRole.INSPECTOR)
                for u in self._choose(
                    self.cast.by_role[Role.INSPECTOR], inspectors, start, end, chosen
                )
            ]
        if needs.analyst:
            team += [
                (u, TeamRole.ANALYST)
                for u in self._choose(self.cast.by_role[Role.ANALYST], 1, start, end, chosen)
            ]
        for code in needs.partners:
            team += [
                (u, TeamRole.PARTNER_INSPECTOR)
                for u in self._choose(self.cast.partners.get(code, []), 1, start, end, chosen)
            ]
        return team


# Inspections -------------------------------------------------------------------------------


def create_inspection(
    plan: PlannedInspection,
    *,
    world: World,
    manager: User,
    team: Sequence[tuple[User, str]],
    created: dict[str, Inspection],
    today: dt.date,
    casework: Casework | None = None,
) -> Inspection:
    """Plan the inspection, staff it and take each of its steps dated on or before `today`.
    With `casework`, its case list and sample are made once it is in fieldwork and its case
    audits once its steps are taken."""
    problems = schedule.check_plan(plan)
    if problems:
        raise GenerationError(f"The plan {plan.key} is inconsistent: {'; '.join(problems)}")
    inspection = inspection_create(
        actor=manager,
        title=plan.title,
        programme_type=plan.programme_type,
        methodology=world.methodologies[plan.methodology],
        forces=[world.forces[c] for c in plan.forces],
        local_authorities=[world.areas[c] for c in plan.local_authorities],
        follows=created[plan.follows] if plan.follows else None,
        theme=plan.theme,
        fieldwork_start=plan.fieldwork_start,
        fieldwork_end=plan.fieldwork_end,
        planned_publication=plan.planned_publication,
        confidential_notes=plan.confidential_notes,
        planned_on=plan.planned_on,
    )
    for user, role in team:
        team_member_add(actor=manager, inspection=inspection, user=user, role=role)
    lead = team[0][0]
    for step in plan.steps_until(today):
        # The lead takes the steps a lead may; publication, closure and sending a report
        # back from quality assurance are the programme manager's.
        by_manager = step.target in MANAGER_STEPS or (
            step.target == State.REPORTING and inspection.state == State.QUALITY_ASSURANCE
        )
        inspection_transition(
            actor=manager if by_manager else lead,
            inspection=inspection,
            target=step.target,
            on=step.on,
            note=step.note,
            today=today,
        )
        if casework is not None and step.target == State.FIELDWORK:
            casework.prepare(plan, inspection, team)
    created[plan.key] = inspection
    if casework is not None:
        casework.audit(plan, inspection, team)
    return inspection


def create_inspections(
    plans: Sequence[PlannedInspection],
    *,
    world: World,
    cast: Cast,
    rng: random.Random,
    today: dt.date,
    progress: Progress,
    featured: bool = False,
    casework: Casework | None = None,
) -> list[Inspection]:
    """All the plans, in fieldwork order (so references number up through each year and an
    inspection exists before its follow-up). `featured`: put the `lead` and `inspector`
    sign-ins on what falls due this week, where they are free. `casework`: make their
    fieldwork too."""
    monday = schedule.monday_on_or_before(today)
    picker = TeamPicker(
        rng, cast, featured_week=(monday, monday + 6 * schedule.DAY) if featured else None
    )
    managers = sorted(cast.by_role[Role.PROGRAMME_MANAGER], key=lambda u: u.username)
    created: dict[str, Inspection] = {}
    ordered = sorted(plans, key=lambda p: (p.fieldwork_start, p.programme_type, p.key))
    made = []
    for number, plan in enumerate(ordered, start=1):
        made.append(
            create_inspection(
                plan,
                world=world,
                manager=rng.choice(managers),
                team=picker.team(plan),
                created=created,
                today=today,
                casework=casework,
            )
        )
        if number % PROGRESS_EVERY == 0 or number == len(ordered):
            progress(f"  {number} of {len(ordered)} inspections")
    return made


# The whole programme -----------------------------------------------------------------------


def liaisons_by_force(cast: Cast) -> dict[str, User]:
    """Each force's liaison officer (the first, by user name), by force code."""
    codes = {org.pk: code for code, org in cast.organisations.items()}
    liaisons: dict[str, User] = {}
    for user in sorted(cast.by_role.get(Role.FORCE_LIAISON, []), key=lambda u: u.username):
        code = codes.get(user.organisation_id) if user.organisation_id else None
        if code is not None:
            liaisons.setdefault(code, user)
    return liaisons


def summarise(
    inspections: Sequence[Inspection],
    cast: Cast,
    audit_events: int,
    fieldwork: dict[str, int] | None = None,
    follow_up: dict[str, int] | None = None,
) -> dict[str, object]:
    by_type = Counter(i.programme_type for i in inspections)
    by_state = Counter(i.state for i in inspections)
    return {
        "inspections": len(inspections),
        "by_type": {t: by_type[t] for t in ProgrammeType.values if by_type[t]},
        "by_state": {s: by_state[s] for s in State.values if by_state[s]},
        "people": len(cast.users),
        "by_role": {r: len(cast.by_role.get(r, [])) for r in Role.values if cast.by_role.get(r)},
        "organisations": len(cast.organisations),
        "fieldwork": fieldwork or {},
        "follow_up": follow_up or {},
        "audit_events": audit_events,
    }


def write_reports(
    plans: Sequence[PlannedInspection],
    inspections: Sequence[Inspection],
    *,
    seed: int,
    quality: dict[str, float],
) -> dict[str, int]:
    """Each finished inspection's findings and report, and its publication if it was
    published, in the order the inspections were made (an original before its follow-up).
    Runs after the casework is finished, so the reports' tables have every agreed grade."""
    data_changed("fieldwork")
    reporting = Reporting(seed=seed, quality=quality)
    ordered = sorted(plans, key=lambda p: (p.fieldwork_start, p.programme_type, p.key))
    for plan, inspection in zip(ordered, inspections, strict=True):
        team = [(m.user, m.role) for m in inspection.team.select_related("user")]
        reporting.write(plan.key, inspection, team)
    return reporting.finish()


def follow_up_routes(
    world: World, seed: int, today: dt.date, plans: Sequence[PlannedInspection], scale: str
) -> dict[str, str]:
    """How each NCPI is followed up: the programme type of its review or re-inspection, by
    the NCPI's plan key, including those that will only be planned after `today` (at the
    national scale, the same plans carried three years on). An NCPI not there is followed
    up by light touch."""
    if scale == DemoProgramme.Scale.NATIONAL:
        plans = plan_force_inspections(world, seed, today, until=add_months(today, 36))
    return {p.follows: p.programme_type for p in plans if p.follows}


def write_follow_up(
    plans: Sequence[PlannedInspection],
    inspections: Sequence[Inspection],
    *,
    world: World,
    cast: Cast,
    seed: int,
    today: dt.date,
    scale: str,
) -> FollowUpHistory:
    """Each published inspection's follow-up history (after its report is written)."""
    history = FollowUpHistory(
        seed=seed,
        today=today,
        liaisons=liaisons_by_force(cast),
        managers=cast.by_role[Role.PROGRAMME_MANAGER],
        routes=follow_up_routes(world, seed, today, plans, scale),
        featured_force=schedule.DEMO_FORCES[0],  # the `liaison` sign-in's force
    )
    ordered = sorted(plans, key=lambda p: (p.fieldwork_start, p.programme_type, p.key))
    history.write(ordered, inspections)
    return history


def generate_programme(
    *,
    scale: str,
    seed: int = DEFAULT_SEED,
    today: dt.date,
    progress: Progress = lambda line: None,
) -> Result:
    """Generate the programme in one transaction. Raises GenerationError (having written
    nothing) if the reference data or methodologies are missing or the database holds other
    work. Callers check `selectors.demo_programme_current()` first: this does not."""
    began = time.monotonic()
    rng = random.Random(f"{seed}:{scale}")
    with transaction.atomic():
        world = load_world()
        people = cast_for(world, scale, random.Random(f"{seed}:people"))
        check_empty(people, organisation_names(world, scale))
        audit_before = AuditEvent.objects.count()
        organisations = create_organisations(world, scale)
        progress(f"  {len(organisations)} organisations")
        cast = create_people(people, organisations, scale)
        progress(f"  {len(cast.users)} people")
        if scale == DemoProgramme.Scale.DEMO:
            plans = plan_demo(world, rng, today)
        else:
            plans = plan_national(world, seed, today)
        casework = Casework(
            seed=seed,
            today=today,
            plans=plans,
            forces=world.forces,
            liaisons=liaisons_by_force(cast),
        )
        inspections = create_inspections(
            plans,
            world=world,
            cast=cast,
            rng=random.Random(f"{seed}:teams"),
            today=today,
            progress=progress,
            featured=scale == DemoProgramme.Scale.NATIONAL,
            casework=casework,
        )
        fieldwork = casework.finish()
        progress(
            f"  fieldwork: {fieldwork.get('case_audits', 0):,} case audits and "
            f"{fieldwork.get('second_markings', 0):,} second markings "
            f"({fieldwork.get('judgements', 0):,} judgements) in {casework.seconds:.1f} s"
        )
        reported = write_reports(plans, inspections, seed=seed, quality=casework.quality)
        progress(
            f"  findings and reports: {reported['findings']:,} findings, "
            f"{reported['reports']:,} reports, {reported['publications']:,} publications"
        )
        history = write_follow_up(
            plans, inspections, world=world, cast=cast, seed=seed, today=today, scale=scale
        )
        followed = history.finish()
        progress(
            f"  follow-up: {followed.get('action_plans', 0):,} action plans, "
            f"{followed.get('progress_updates', 0):,} updates, "
            f"{followed.get('comments', 0):,} comments, "
            f"{followed.get('assessments', 0):,} assessments, "
            f"{followed.get('status_changes', 0):,} status changes "
            f"({followed.get('overdue', 0):,} recommendations overdue) "
            f"in {history.seconds:.1f} s"
        )
        # The audit events this generation writes, counting the one recording it.
        written = AuditEvent.objects.count() - audit_before + 1
        summary = summarise(inspections, cast, written, fieldwork, followed)
        summary["reporting"] = reported
        programme = demo_programme_record(
            actor=ACTOR, scale=scale, seed=seed, as_at=today, summary=summary
        )
    return Result(programme=programme, seconds=time.monotonic() - began, summary=summary)
