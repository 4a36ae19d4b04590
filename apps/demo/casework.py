"""Fieldwork for the fictional programme: each graded inspection's case list, its sample, the
case audits with their blind second marking and agreed grades, and child at risk referrals.

How it is written. The case list and the sample go through the fieldwork services
(`case_list_upload`, `sample_draw`, `case_replace`) while the inspection is in fieldwork, so
they are checked, drawn from the recorded seed (reproducibly: `draw.stratum_order`) and
audited exactly as a team's would be; only their timestamps are moved back to the days they
were made. The audits, judgements, agreed grades and referrals (hundreds of thousands of rows
at the national scale) are then written in bulk, and each inspection's are recorded by one
audit event on its sample (`services.demo_casework_record`), not one per row. Nothing sends
a notification: this is history.

What it looks like (DOMAIN.md): an NCPI audits about 60 to 90 cases (the Metropolitan Police
several hundred) from a case list of a few hundred per audit area, in four to six areas; a
post-inspection review re-audits 24 to 34 cases in three or four of the original's areas.
About one case in ten is second-marked blind; the two marks agree about four times in five
(Cohen's kappa about 0.7), and the lead inspector agrees the grade where they differ. A few
cases in a hundred show a child at risk now, referred back to the force at once. Case grades
depend on the force (a lasting effect), the inspection and the case: across the NCPIs of
2016-2023 about 30% good, a third requires improvement and a third inadequate on the common
scale; worse where a re-inspection followed, and better in the review that follows an
inspection (about 30% good before, 50% after).

Everything depends only on the seed, the plans and "today": each inspection has its own
random streams (seed and plan key), so one inspection's data does not depend on another's.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.db.models import F
from django.utils import timezone

from apps.accounts.models import User
from apps.core.audit import SystemActor
from apps.fieldwork import services as fieldwork_services
from apps.fieldwork.models import (
    NOT_APPLICABLE,
    CaseAudit,
    CaseList,
    Judgement,
    Referral,
    Resolution,
    Sample,
    SampledCase,
)
from apps.fieldwork.sample_size import allocate_quotas, sample_size
from apps.fieldwork.selectors import agreement_report
from apps.frameworks.models import MethodologyVersion
from apps.inspections.models import Inspection, ProgrammeType, State, TeamRole
from apps.reference.models import Force

from .catalogue import (
    CASE_TEAMS,
    EVIDENCE_NOTES,
    FORCE_ACTIONS,
    NOT_APPLICABLE_NOTES,
    OVERALL_NOTES,
    REFERRAL_CLOSING_NOTES,
    REFERRAL_CONCERNS,
    REPLACEMENT_REASONS,
    RESOLUTION_REASONS,
)
from .schedule import DAY, PlannedInspection, weekday_on_or_after
from .services import demo_casework_record

ACTOR = SystemActor("generate_programme")
# States in which fieldwork has finished: every case is audited and moderated.
FINISHED = frozenset(
    {State.REPORTING, State.QUALITY_ASSURANCE, State.PUBLISHED, State.FOLLOW_UP, State.CLOSED}
)

# Case list sizes: eligible cases per audit area.
NCPI_AREAS = (4, 6)
REVIEW_AREAS = (3, 4)
AREA_SIZE = (200, 450)  # before scaling by the force's child population
AREA_SIZE_LIMITS = (150, 600)
LARGE_AREA_SIZE_LIMITS = (600, 1500)
REVIEW_AREA_SIZE_LIMITS = (100, 400)
CHILDREN_TYPICAL = 250_000  # a force's population aged 0 to 17 that gets the middle size

# Sample sizes: the totals, and the calculator settings teams use to reach them.
NCPI_TOTAL = (60, 90)
REVIEW_TOTAL = (24, 34)
LARGE_TOTAL = (300, 400)
CALCULATED_SHARE = 0.65  # the rest are set by judgement, about equal per area
REPLACEMENT_CHANCE = 0.3

# Grades. Shares of each grade (best first) for an inspection of average quality, by the
# length of the scale: 3 is good / requires improvement (or adequate) / inadequate; 5 is
# outstanding / good / adequate / requires improvement / inadequate.
GRADE_SHARES: dict[int, tuple[float, ...]] = {
    3: (0.29, 0.38, 0.33),
    5: (0.05, 0.24, 0.16, 0.22, 0.33),
}
FORCE_SPREAD = 0.5  # standard deviation of a force's lasting effect (logit scale)
INSPECTION_SPREAD = 0.3
YEARLY_TREND = 0.04
BEFORE_REINSPECTION = -0.8  # an inspection serious enough to be re-inspected
REVIEW_GAIN = (1.0, 0.3)  # mean and spread: about 29% good before, 53% after
REINSPECTION_GAIN = (0.8, 0.3)
STAGE_SPREAD = 0.9
CRITERION_SPREAD = 0.7
STAGE_NOT_APPLICABLE = 0.06
CRITERION_NOT_APPLICABLE = 0.08

# Second marking: how often the second mark agrees with the audit.
OVERALL_AGREEMENT = 0.8
JUDGEMENT_AGREEMENT = 0.85
AUDIT_GRADE_AGREED = 0.6  # where the marks differ, how often the audit's grade is agreed
SECOND_MARKING_DUE_LATER = 0.5  # while fieldwork is under way
LEAD_AUDIT_WEIGHT = 0.35  # the lead audits some cases too, less than an inspector

# Evidence notes: short, and often left empty.
STAGE_NOTES = 0.5
CRITERION_NOTES = 0.15
OVERALL_NOTES_SHARE = 0.8

# Child at risk now: by the case's band on the common scale.
REFERRAL_CHANCE = {"inadequate": 0.06, "requires_improvement": 0.008, "good": 0.0}

AUDIT_MINUTES = (45, 60, 90, 120, 150, 180, 240)  # from opening an audit to submitting it
WORKING_MINUTES = (9 * 60, 17 * 60 + 30)

_REFERENCE_STYLES = (
    "{area}{year:02d}-{serial:05d}",
    "{year:02d}/{area}/{serial:05d}",
    "{area}-{serial:06d}",
)


def _cuts(length: int) -> list[float]:
    """The latent-scale cut points between grades, worst first."""
    shares = GRADE_SHARES.get(length) or tuple(1 / length for _ in range(length))
    cuts, total = [], 0.0
    for share in reversed(shares[1:]):
        total += share
        cuts.append(math.log(total / (1 - total)))
    return cuts


def _grade_index(latent: float, cuts: Sequence[float]) -> int:
    """0 is the best grade of the scale."""
    return len(cuts) - sum(1 for cut in cuts if latent > cut)


def _logistic(rng: random.Random) -> float:
    u = min(max(rng.random(), 1e-9), 1 - 1e-9)
    return math.log(u / (1 - u))


def _nearby(rng: random.Random, index: int, length: int) -> int:
    """A grade next to `index` on the scale."""
    if index == 0:
        return 1
    if index == length - 1:
        return index - 1
    return index + rng.choice((-1, 1))


def inspection_quality(plans: Sequence[PlannedInspection], seed: int) -> dict[str, float]:
    """How well each force inspection's cases go, on the logit scale (0 is average)."""
    reinspected = {
        p.follows
        for p in plans
        if p.follows and p.programme_type == ProgrammeType.NCPI_REINSPECTION
    }
    quality: dict[str, float] = {}
    for plan in sorted(plans, key=lambda p: (p.fieldwork_start, p.key)):
        if len(plan.forces) != 1 or plan.local_authorities:
            continue
        rng = random.Random(f"{seed}:quality:{plan.key}")
        if plan.follows in quality:
            mean, spread = (
                REVIEW_GAIN
                if plan.programme_type == ProgrammeType.NCPI_REVIEW
                else REINSPECTION_GAIN
            )
            quality[plan.key] = quality[plan.follows] + rng.gauss(mean, spread)
            continue
        force = random.Random(f"{seed}:force-quality:{plan.forces[0]}").gauss(0, FORCE_SPREAD)
        value = force + YEARLY_TREND * (plan.fieldwork_start.year - 2020)
        value += rng.gauss(0, INSPECTION_SPREAD)
        if plan.key in reinspected:
            value += BEFORE_REINSPECTION
        quality[plan.key] = value
    return quality


def _abbreviation(area: str) -> str:
    return "".join(word[0] for word in area.split("_")).upper()


def _at(day: dt.date, minutes: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60)))


def _working_days(first: dt.date, last: dt.date) -> list[dt.date]:
    days = []
    day = first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += DAY
    return days


@dataclass
class _Mark:
    """One audit to write: its grades and notes, and when it was worked on."""

    case_id: int
    kind: str
    auditor: User
    status: str
    overall: int | None  # index into the scale; None: not graded yet
    overall_notes: str
    judgements: list[tuple[str, str, int | None, str]]  # stage, criterion, index (None: n/a)
    created_at: dt.datetime
    updated_at: dt.datetime
    submitted_at: dt.datetime | None = None
    minutes: int = 0
    version: int = 1


@dataclass
class _Inspection:
    """What one inspection's casework needs while it is being written."""

    plan: PlannedInspection
    inspection: Inspection
    methodology: MethodologyVersion
    rng: random.Random
    lead: User
    inspectors: list[User]
    scale: list[str]
    cuts: list[float]
    limit: dt.datetime
    days: list[dt.date]
    marks: list[_Mark] = field(default_factory=list)
    # The rows with the time each was made (bulk_create stamps them with now).
    resolutions: list[tuple[Resolution, dt.datetime]] = field(default_factory=list)
    referrals: list[tuple[Referral, dt.datetime]] = field(default_factory=list)
    final: dict[int, str] = field(default_factory=dict)  # sampled case id -> final grade


class Casework:
    """Writes the fieldwork of the programme's inspections as the generator creates them:
    `prepare` once an inspection is in fieldwork (the case list and the sample), `audit` once
    its steps up to today are taken (the audits), and `finish` at the end."""

    def __init__(
        self,
        *,
        seed: int,
        today: dt.date,
        plans: Sequence[PlannedInspection],
        forces: Mapping[str, Force],
        liaisons: Mapping[str, User],
    ) -> None:
        self.seed, self.today = seed, today
        self.forces, self.liaisons = forces, liaisons
        self.quality = inspection_quality(plans, seed)
        self.samples: dict[str, Sample] = {}
        self.areas: dict[str, list[str]] = {}  # plan key -> the audit areas sampled
        self.totals: Counter[str] = Counter()
        self.seconds = 0.0
        # Written at the end, a few queries for the whole programme.
        self._durations: dict[int, list[int]] = defaultdict(list)  # minutes -> audit ids
        self._finals: dict[tuple[str, str], list[int]] = defaultdict(list)

    # The case list and the sample, through the services --------------------------------

    def prepare(
        self, plan: PlannedInspection, inspection: Inspection, team: Sequence[tuple[User, str]]
    ) -> Sample | None:
        """Upload the force's case list and draw the sample, as the team would have before
        going on site. Call while the inspection is in fieldwork."""
        methodology = inspection.methodology
        if not plan.casework or not methodology.grade_scale or len(plan.forces) != 1:
            return None
        began = time.monotonic()
        rng = random.Random(f"{self.seed}:case-list:{plan.key}")
        force = self.forces[plan.forces[0]]
        lead = _lead(team)
        notified = plan.step_on(State.NOTIFIED) or plan.fieldwork_start - 21 * DAY
        last_day = max(notified, plan.fieldwork_start - 3 * DAY)
        uploaded_on = min(weekday_on_or_after(notified + rng.randint(3, 12) * DAY), last_day)
        drawn_on = min(weekday_on_or_after(uploaded_on + rng.randint(1, 4) * DAY), last_day)
        drawn_on = max(drawn_on, uploaded_on)

        areas = self._choose_areas(plan, methodology, rng)
        large = plan.programme_type != ProgrammeType.NCPI_REVIEW and self._large(force)
        sizes = {area: self._area_size(plan, force, large, rng) for area in areas}
        content = self._case_list(rng, force, sizes, uploaded_on)
        liaison = self.liaisons.get(plan.forces[0])
        uploader = liaison if liaison is not None and rng.random() < 0.8 else lead
        case_list = fieldwork_services.case_list_upload(
            actor=uploader,
            inspection=inspection,
            filename=f"{force.slug}-cases-{uploaded_on:%Y%m%d}.csv",
            content=content,
            today=uploaded_on,
        )
        quotas, calculation, rationale = self._quotas(plan, sizes, large, rng)
        sample = fieldwork_services.sample_draw(
            actor=lead,
            inspection=inspection,
            request=fieldwork_services.DrawRequest(
                quotas=quotas,
                rationale=rationale,
                seed=f"{rng.getrandbits(64):016x}",
                calculation=calculation,
            ),
        )
        replaced = 0
        if rng.random() < REPLACEMENT_CHANCE:
            cases = list(
                SampledCase.objects.filter(sample=sample).order_by("audit_area", "position")
            )
            for case in rng.sample(cases, rng.randint(1, 2)):
                fieldwork_services.case_replace(
                    actor=lead, case=case, reason=rng.choice(REPLACEMENT_REASONS)
                )
                replaced += 1
        uploaded_at = _at(uploaded_on, rng.randint(*WORKING_MINUTES))
        CaseList.objects.filter(pk=case_list.pk).update(uploaded_at=uploaded_at)
        drawn_at = _at(drawn_on, rng.randint(*WORKING_MINUTES))
        if drawn_at <= uploaded_at:
            drawn_at = uploaded_at + dt.timedelta(minutes=rng.randint(30, 120))
        Sample.objects.filter(pk=sample.pk).update(drawn_at=drawn_at)
        self.samples[plan.key] = sample
        self.areas[plan.key] = sorted(quotas)
        self.totals["case_lists"] += 1
        self.totals["eligible_cases"] += case_list.row_count
        self.totals["samples"] += 1
        self.totals["sampled_cases"] += sum(quotas.values()) + replaced
        self.totals["replaced"] += replaced
        self.seconds += time.monotonic() - began
        return sample

    def _choose_areas(
        self, plan: PlannedInspection, methodology: MethodologyVersion, rng: random.Random
    ) -> list[str]:
        codes = [a["code"] for a in methodology.audit_areas]
        if plan.programme_type == ProgrammeType.NCPI_REVIEW:
            # A review re-audits some of the areas the inspection it follows audited.
            earlier = [a for a in self.areas.get(plan.follows or "", []) if a in codes]
            wanted = rng.randint(*REVIEW_AREAS)
            chosen = rng.sample(earlier, min(wanted, len(earlier)))
            rest = [c for c in codes if c not in chosen]
            chosen += rng.sample(rest, max(0, min(wanted, len(codes)) - len(chosen)))
        else:
            chosen = rng.sample(codes, min(len(codes), rng.randint(*NCPI_AREAS)))
        return [c for c in codes if c in chosen]

    @staticmethod
    def _large(force: Force) -> bool:
        return (force.population_0_17 or 0) > 1_000_000

    def _area_size(
        self, plan: PlannedInspection, force: Force, large: bool, rng: random.Random
    ) -> int:
        children = force.population_0_17 or CHILDREN_TYPICAL
        size = rng.uniform(*AREA_SIZE) * math.sqrt(children / CHILDREN_TYPICAL)
        if plan.programme_type == ProgrammeType.NCPI_REVIEW:
            low, high = REVIEW_AREA_SIZE_LIMITS
            size *= 0.6
        else:
            low, high = LARGE_AREA_SIZE_LIMITS if large else AREA_SIZE_LIMITS
        return int(min(high, max(low, size)))

    def _case_list(
        self, rng: random.Random, force: Force, sizes: Mapping[str, int], uploaded_on: dt.date
    ) -> bytes:
        """The force's case list as a CSV file: pseudonymous references only."""
        style = _REFERENCE_STYLES[random.Random(f"{self.seed}:style:{force.code}").randrange(3)]
        rows = []
        for area, size in sizes.items():
            abbreviation = _abbreviation(area)
            for serial in rng.sample(range(1, 100_000), size):
                opened = uploaded_on - rng.randint(14, 330) * DAY
                closed = opened + rng.randint(3, 150) * DAY
                reference = style.format(area=abbreviation, year=opened.year % 100, serial=serial)
                rows.append(
                    (
                        opened,
                        reference,
                        area,
                        f"{closed:%d/%m/%Y}" if closed < uploaded_on and rng.random() < 0.6 else "",
                        rng.choice(CASE_TEAMS),
                    )
                )
        rows.sort()
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["case_reference", "audit_area", "date_opened", "date_closed", "team"])
        for opened_on, reference, area, closed_on, team in rows:
            writer.writerow([reference, area, f"{opened_on:%d/%m/%Y}", closed_on, team])
        return out.getvalue().encode()

    def _quotas(
        self, plan: PlannedInspection, sizes: Mapping[str, int], large: bool, rng: random.Random
    ) -> tuple[dict[str, int], dict[str, object], str]:
        """Quotas per area, the calculation behind them (if any) and the rationale."""
        review = plan.programme_type == ProgrammeType.NCPI_REVIEW
        low, high = LARGE_TOTAL if large else REVIEW_TOTAL if review else NCPI_TOTAL
        minimum = 5 if review else 8
        population = sum(sizes.values())
        settings = [(0.95, 5)] if large else []
        if not large:
            for confidence in (0.9, 0.95):
                for margin in range(8, 20):
                    required = sample_size(
                        population=population, margin=margin / 100, confidence=confidence
                    ).required
                    if low <= required <= high:
                        settings.append((confidence, margin))
        if settings and (large or rng.random() < CALCULATED_SHARE):
            confidence, margin = rng.choice(settings)
            result = sample_size(population=population, margin=margin / 100, confidence=confidence)
            quotas = allocate_quotas(result.required, sizes, minimum=minimum)
            calculation: dict[str, object] = {
                "proportion": 50.0,
                "margin": float(margin),
                "confidence": confidence,
                "minimum": minimum,
                "population": population,
                "required": result.required,
            }
            rationale = (
                f"{result.required} cases estimate the share handled well to within "
                f"{margin} percentage points at {confidence:.0%} confidence; shared in "
                f"proportion to the case list, at least {minimum} per area."
            )
            return quotas, calculation, rationale
        total = rng.randint(low, high)
        each, extra = divmod(total, len(sizes))
        more = set(rng.sample(sorted(sizes), extra))
        quotas = {area: min(size, each + (area in more)) for area, size in sizes.items()}
        what = "re-audited in the areas of the original findings" if review else "audited"
        rationale = (
            f"{total} cases {what}, about the same number in each area so that each can be "
            "reported on."
        )
        return quotas, {}, rationale

    # The audits, in bulk ---------------------------------------------------------------

    def audit(
        self, plan: PlannedInspection, inspection: Inspection, team: Sequence[tuple[User, str]]
    ) -> None:
        """The audits of a sampled inspection: all of them once fieldwork has finished, the
        part done by today while it is under way."""
        sample = self.samples.get(plan.key)
        if sample is None or inspection.state not in FINISHED | {State.FIELDWORK}:
            return
        began = time.monotonic()
        methodology = inspection.methodology
        scale = list(methodology.grade_scale)
        limit = _at(self.today, 0)
        days = [
            d for d in _working_days(plan.fieldwork_start, plan.fieldwork_end) if d < self.today
        ]
        work = _Inspection(
            plan=plan,
            inspection=inspection,
            methodology=methodology,
            rng=random.Random(f"{self.seed}:audits:{plan.key}"),
            lead=_lead(team),
            inspectors=[user for user, role in team if role == TeamRole.INSPECTOR],
            scale=scale,
            cuts=_cuts(len(scale)),
            limit=limit,
            days=days,
        )
        cases = list(
            SampledCase.objects.filter(sample=sample, status=SampledCase.Status.IN_SAMPLE)
            .order_by("audit_area", "position")
            .values_list("id", "reference", "audit_area", "for_moderation")
        )
        finished = inspection.state in FINISHED
        if finished:
            for case in cases:
                self._case(work, case, primary_done=True, finished=True)
        elif days:
            # Under way: the share of the working days gone, less a little, is submitted;
            # a few more are drafts; half the second markings due are in.
            all_days = _working_days(plan.fieldwork_start, plan.fieldwork_end)
            order = list(cases)
            work.rng.shuffle(order)
            done = int(len(order) * len(days) / len(all_days) * work.rng.uniform(0.75, 0.95))
            drafts = min(len(order) - done, work.rng.randint(2, 3 + len(work.inspectors)))
            for case in order[:done]:
                self._case(work, case, primary_done=True, finished=False)
            for case in order[done : done + drafts]:
                self._case(work, case, primary_done=False, finished=False)
        if work.marks:
            self._write(work, sample)
        self.seconds += time.monotonic() - began

    def _auditors(self, work: _Inspection, moderated: bool) -> tuple[User, User | None]:
        """Who audits a case, and who second-marks it blind (an inspector, not the lead,
        not the auditor)."""
        rng, inspectors = work.rng, work.inspectors
        if not inspectors:
            return work.lead, None
        if moderated and len(inspectors) == 1:
            return work.lead, inspectors[0]
        pool = [*inspectors, work.lead]
        weights = [1.0] * len(inspectors) + [LEAD_AUDIT_WEIGHT]
        primary = rng.choices(pool, weights)[0]
        if not moderated:
            return primary, None
        return primary, rng.choice([i for i in inspectors if i != primary])

    def _when(self, work: _Inspection, day: dt.date) -> tuple[dt.datetime, int]:
        minutes = work.rng.choice(AUDIT_MINUTES)
        start, end = WORKING_MINUTES
        at = _at(day, work.rng.randint(start + minutes, end + 60))
        return min(at, work.limit - dt.timedelta(minutes=1)), minutes

    def _case(
        self,
        work: _Inspection,
        case: tuple[int, str, str, bool],
        *,
        primary_done: bool,
        finished: bool,
    ) -> None:
        case_id, _, area, moderated = case
        rng, cuts, scale = work.rng, work.cuts, work.scale
        auditor, second_marker = self._auditors(work, moderated)
        latent = self.quality.get(work.plan.key, 0.0) + _logistic(rng)
        overall = _grade_index(latent, cuts)
        stages = work.methodology.stages_for_area(area)
        judgements: list[tuple[str, str, int | None, str]] = []
        for number, stage in enumerate(stages):
            not_applicable = number > 0 and rng.random() < STAGE_NOT_APPLICABLE
            stage_latent = latent + rng.gauss(0, STAGE_SPREAD)
            grade = None if not_applicable else _grade_index(stage_latent, cuts)
            judgements.append((stage["code"], "", grade, self._note(work, grade, STAGE_NOTES)))
            for criterion in stage.get("criteria", []):
                if not_applicable or rng.random() < CRITERION_NOT_APPLICABLE:
                    index = None
                else:
                    index = _grade_index(stage_latent + rng.gauss(0, CRITERION_SPREAD), cuts)
                note = self._note(work, index, CRITERION_NOTES)
                judgements.append((stage["code"], criterion["code"], index, note))
        day = rng.choice(work.days)
        submitted_at, minutes = self._when(work, day)
        band = self._band(work, overall)
        notes = rng.choice(OVERALL_NOTES[band]) if rng.random() < OVERALL_NOTES_SHARE else ""
        if primary_done:
            primary = _Mark(
                case_id=case_id,
                kind=CaseAudit.Kind.PRIMARY,
                auditor=auditor,
                status=CaseAudit.Status.SUBMITTED,
                overall=overall,
                overall_notes=notes,
                judgements=judgements,
                created_at=submitted_at - dt.timedelta(minutes=minutes),
                updated_at=submitted_at,
                submitted_at=submitted_at,
                minutes=minutes,
                version=rng.randint(3, 15),
            )
        else:
            # A draft: the first stages done, the overall grade not given yet.
            cut_at = rng.randint(1, max(1, len(stages) - 1))
            stage_codes = {s["code"] for s in stages[:cut_at]}
            updated_at = min(
                _at(work.days[-1], rng.randint(*WORKING_MINUTES)),
                work.limit - dt.timedelta(minutes=1),
            )
            primary = _Mark(
                case_id=case_id,
                kind=CaseAudit.Kind.PRIMARY,
                auditor=auditor,
                status=CaseAudit.Status.DRAFT,
                overall=None,
                overall_notes="",
                judgements=[j for j in judgements if j[0] in stage_codes],
                created_at=updated_at - dt.timedelta(minutes=rng.choice(AUDIT_MINUTES)),
                updated_at=updated_at,
                version=rng.randint(2, 8),
            )
        work.marks.append(primary)
        if primary_done and not moderated:
            # A case selected for second marking gets its grade once both marks are in.
            work.final[case_id] = work.scale[overall]
        self._referral(work, case, primary, band)
        if not primary_done or second_marker is None:
            return
        # Blind second marking follows within a few working days.
        second_on = timezone.localdate(primary.updated_at) + rng.randint(0, 3) * DAY
        second_at = _at(weekday_on_or_after(second_on), rng.randint(*WORKING_MINUTES))
        if second_at <= primary.updated_at:
            second_at = primary.updated_at + dt.timedelta(minutes=rng.randint(20, 90))
        last = work.limit - dt.timedelta(minutes=1)
        if finished:
            second_at = max(min(second_at, last), primary.updated_at)
        elif second_at >= work.limit or rng.random() < SECOND_MARKING_DUE_LATER:
            if rng.random() < 0.4:
                # Under way: a second marking started, the overall grade not given yet.
                if second_at >= work.limit:  # started on the last day so far
                    second_at = _at(work.days[-1], rng.randint(*WORKING_MINUTES))
                draft_at = max(second_at, primary.updated_at + dt.timedelta(minutes=5))
                if draft_at >= work.limit:
                    return
                graded = rng.randint(0, len(judgements))
                work.marks.append(
                    _Mark(
                        case_id=case_id,
                        kind=CaseAudit.Kind.SECOND,
                        auditor=second_marker,
                        status=CaseAudit.Status.DRAFT,
                        overall=None,
                        overall_notes="",
                        judgements=self._second_judgements(work, judgements[:graded]),
                        created_at=max(
                            draft_at - dt.timedelta(minutes=rng.choice(AUDIT_MINUTES)),
                            primary.updated_at,
                        ),
                        updated_at=draft_at,
                        version=rng.randint(2, 8),
                    )
                )
            return
        second_overall = (
            overall if rng.random() < OVERALL_AGREEMENT else _nearby(rng, overall, len(scale))
        )
        minutes = rng.choice(AUDIT_MINUTES)
        work.marks.append(
            _Mark(
                case_id=case_id,
                kind=CaseAudit.Kind.SECOND,
                auditor=second_marker,
                status=CaseAudit.Status.SUBMITTED,
                overall=second_overall,
                overall_notes=(
                    rng.choice(OVERALL_NOTES[self._band(work, second_overall)])
                    if rng.random() < OVERALL_NOTES_SHARE
                    else ""
                ),
                judgements=self._second_judgements(work, judgements),
                created_at=second_at - dt.timedelta(minutes=minutes),
                updated_at=second_at,
                submitted_at=second_at,
                minutes=minutes,
                version=rng.randint(3, 15),
            )
        )
        work.final[case_id] = scale[overall]
        if second_overall == overall:
            return
        resolved_at = _at(
            weekday_on_or_after(second_at.date() + rng.randint(1, 5) * DAY),
            rng.randint(*WORKING_MINUTES),
        )
        if finished:
            resolved_at = max(min(resolved_at, last), second_at)
        elif resolved_at >= work.limit:
            return  # not agreed yet: the lead inspector has it to do
        agreed = overall if rng.random() < AUDIT_GRADE_AGREED else second_overall
        resolution = Resolution(
            sampled_case_id=case_id,
            agreed_grade=scale[agreed],
            reason=rng.choice(RESOLUTION_REASONS),
            resolved_by=work.lead,
        )
        work.resolutions.append((resolution, resolved_at))
        work.final[case_id] = scale[agreed]

    def _second_judgements(
        self, work: _Inspection, judgements: Sequence[tuple[str, str, int | None, str]]
    ) -> list[tuple[str, str, int | None, str]]:
        """The blind second marking's judgements: mostly the same grades, some next to them."""
        rng, length = work.rng, len(work.scale)
        marked = []
        for stage_code, criterion, index, _ in judgements:
            if index is not None and rng.random() >= JUDGEMENT_AGREEMENT:
                index = _nearby(rng, index, length)
            note = self._note(work, index, CRITERION_NOTES if criterion else STAGE_NOTES)
            marked.append((stage_code, criterion, index, note))
        return marked

    def _band(self, work: _Inspection, index: int) -> str:
        return work.methodology.comparable(work.scale[index]) or "requires_improvement"

    def _note(self, work: _Inspection, index: int | None, share: float) -> str:
        rng = work.rng
        if rng.random() >= share:
            return ""
        if index is None:
            return rng.choice(NOT_APPLICABLE_NOTES)
        return rng.choice(EVIDENCE_NOTES[self._band(work, index)])

    def _referral(
        self, work: _Inspection, case: tuple[int, str, str, bool], audit: _Mark, band: str
    ) -> None:
        """Now and then the auditor finds the child at risk now, and refers the case back."""
        rng = work.rng
        if rng.random() >= REFERRAL_CHANCE.get(band, 0.0):
            return
        case_id, reference, _, _ = case
        liaison = self.liaisons.get(work.plan.forces[0])
        force_side = liaison or work.lead  # without a liaison the lead records the force's reply
        raised_at = audit.created_at + dt.timedelta(minutes=rng.randint(15, 40))
        referral = Referral(
            inspection=work.inspection,
            sampled_case_id=case_id,
            reference=reference,
            concern=rng.choice(REFERRAL_CONCERNS),
            raised_by=audit.auditor,
        )
        acknowledged = raised_at + dt.timedelta(minutes=rng.randint(30, 300))
        actioned = acknowledged + dt.timedelta(days=rng.randint(1, 3), minutes=rng.randint(0, 240))
        closed = actioned + dt.timedelta(days=rng.randint(2, 10))
        if acknowledged < work.limit:
            referral.status = Referral.Status.ACKNOWLEDGED
            referral.acknowledged_at, referral.acknowledged_by = acknowledged, force_side
        if actioned < work.limit:
            referral.status = Referral.Status.ACTIONED
            referral.actioned_at, referral.actioned_by = actioned, force_side
            referral.force_action = rng.choice(FORCE_ACTIONS)
        if closed < work.limit:
            referral.status = Referral.Status.CLOSED
            referral.closed_at, referral.closed_by = closed, work.lead
            referral.closing_note = rng.choice(REFERRAL_CLOSING_NOTES)
        work.referrals.append((referral, raised_at))

    def _write(self, work: _Inspection, sample: Sample) -> None:
        inspection, scale = work.inspection, work.scale
        audits = [
            CaseAudit(
                sampled_case_id=mark.case_id,
                inspection=inspection,
                kind=mark.kind,
                auditor=mark.auditor,
                status=mark.status,
                overall_grade=scale[mark.overall] if mark.overall is not None else "",
                overall_notes=mark.overall_notes,
                version=mark.version,
                updated_by=mark.auditor,
                submitted_at=mark.submitted_at,
            )
            for mark in work.marks
        ]
        CaseAudit.objects.bulk_create(audits, batch_size=1000)
        judgements = []
        for audit, mark in zip(audits, work.marks, strict=True):
            if mark.submitted_at is not None:
                self._durations[mark.minutes].append(audit.pk)
            else:
                # Drafts are few: their times are set one by one.
                CaseAudit.objects.filter(pk=audit.pk).update(
                    created_at=mark.created_at, updated_at=mark.updated_at
                )
            judgements += [
                Judgement(
                    audit_id=audit.pk,
                    stage=stage,
                    criterion=criterion,
                    grade=scale[index] if index is not None else NOT_APPLICABLE,
                    notes=notes,
                )
                for stage, criterion, index, notes in mark.judgements
            ]
        Judgement.objects.bulk_create(judgements, batch_size=2000)
        # bulk_create stamps them with the time now; then they get the time they were made.
        resolutions = [resolution for resolution, _ in work.resolutions]
        Resolution.objects.bulk_create(resolutions, batch_size=1000)
        for resolution, at in work.resolutions:
            resolution.resolved_at = at
        Resolution.objects.bulk_update(resolutions, ["resolved_at"], batch_size=1000)
        referrals = [referral for referral, _ in work.referrals]
        Referral.objects.bulk_create(referrals, batch_size=1000)
        for referral, at in work.referrals:
            referral.raised_at = at
        Referral.objects.bulk_update(referrals, ["raised_at"], batch_size=1000)
        for case_id, grade in work.final.items():
            comparable = work.methodology.comparable(grade) or ""
            self._finals[(grade, comparable)].append(case_id)
        pairs = sum(1 for m in work.marks if m.kind == CaseAudit.Kind.SECOND)
        if pairs:
            # The flags the lead inspector was sent as second markings came in.
            flags = sorted(agreement_report(inspection).flags)
            Sample.objects.filter(pk=sample.pk).update(flagged=flags)
        counts = {
            "case_audits": sum(1 for m in work.marks if m.kind == CaseAudit.Kind.PRIMARY),
            "second_markings": pairs,
            "drafts": sum(1 for m in work.marks if m.status == CaseAudit.Status.DRAFT),
            "judgements": len(judgements),
            "resolutions": len(work.resolutions),
            "referrals": len(work.referrals),
        }
        demo_casework_record(actor=ACTOR, sample=sample, counts=counts)
        self.totals.update(counts)

    def finish(self) -> dict[str, int]:
        """Write what is left (audit times, final grades) and return the totals."""
        began = time.monotonic()
        for minutes, ids in self._durations.items():
            for chunk in _chunks(ids):
                CaseAudit.objects.filter(pk__in=chunk).update(
                    updated_at=F("submitted_at"),
                    created_at=F("submitted_at") - dt.timedelta(minutes=minutes),
                )
        for (grade, comparable), ids in self._finals.items():
            for chunk in _chunks(ids):
                SampledCase.objects.filter(pk__in=chunk).update(
                    final_grade=grade, comparable_grade=comparable
                )
        self._durations.clear()
        self._finals.clear()
        self.seconds += time.monotonic() - began
        return dict(sorted(self.totals.items()))


def _lead(team: Sequence[tuple[User, str]]) -> User:
    return next(user for user, role in team if role == TeamRole.LEAD_INSPECTOR)


def _chunks(ids: Sequence[int], size: int = 2000) -> list[Sequence[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
