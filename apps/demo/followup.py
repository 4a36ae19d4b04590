"""What happened to the fictional programme's recommendations after publication.

Every published inspection gets a follow-up history between its publication and "today",
as the follow-up services would have recorded it (DOMAIN.md, "After publication"):

- the force responds within days on each "immediately" recommendation;
- it sends an action plan covering the rest, mostly within the six weeks (an NCPI's by the
  day its lifecycle moved into follow-up), which the lead inspector accepts some weeks on or
  sends back once for changes; a plan for an inspection published only weeks ago has often
  not come yet, and the `liaison` sign-in's force has not yet sent the plan for its latest
  publication (the demo's walk-through sends it);
- the inspectorate chooses the follow-up on the day the lifecycle moved into follow-up (or,
  for what goes straight to closed, the day it closed): a post-inspection review or
  re-inspection where the programme has one (now or later), light touch otherwise;
- the force posts a progress update about monthly in the first year and every one to three
  months after, some with a small evidence file, submits evidence before an assessment, and
  talks to the inspectors in the comments;
- recommendations are assessed in the review or re-inspection that follows (or at the
  light-touch discussion), achieved ones are closed, the others worked on and assessed again
  later; those a re-inspection carries over are marked as carried into it when it is
  published; some causes of concern are closed by letter once all their recommendations
  are achieved;
- and plenty is left open and overdue, for the tracker and the reminder job.

Every status step is a `RecommendationStatusChange` with who took it and when, and each
finding's `status`/`status_on` is its last step. This is history, so it is written in bulk
rather than through the services (as `reporting.py` writes reports), with one audit event per
inspection; timestamps are the days things happened, not the day of generation. All the text
is invented, in the register of real police action plans and inspectorate letters, and names
no one. Each inspection's history comes from its own random stream (seed and plan key).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import models
from django.utils import timezone

from apps.accounts.models import User
from apps.core.audit import SystemActor, audit_record
from apps.core.cache import data_changed
from apps.core.models import AuditEvent
from apps.findings.models import (
    Finding,
    Kind,
    RecommendationStatus,
    RecommendationStatusChange,
    Timescale,
)
from apps.followup.files import CheckedFile, check_file
from apps.followup.models import (
    ActionPlan,
    Assessment,
    Comment,
    ConcernClosure,
    EvidenceFile,
    FollowUp,
    PlannedAction,
    ProgressUpdate,
    Route,
)
from apps.inspections.models import Inspection, ProgrammeType, State, TeamMember, TeamRole
from apps.reference.models import Force, Inspectorate

from .catalogue import stage_work
from .schedule import DAY, PlannedInspection, weekday_on_or_after, weekday_on_or_before

ACTOR = SystemActor("generate_programme")
S = RecommendationStatus
PUBLISHED = frozenset({State.PUBLISHED, State.FOLLOW_UP, State.CLOSED})
# A follow-up inspection whose fieldwork is over has assessed the recommendations.
AFTER_FIELDWORK = frozenset(
    {State.REPORTING, State.QUALITY_ASSURANCE, State.PUBLISHED, State.FOLLOW_UP, State.CLOSED}
)
# The force's update moves a recommendation on from these (as `progress_post` does).
PROGRESS_FROM = frozenset(
    {S.AWAITING_RESPONSE, S.ACTION_PLAN_RECEIVED, S.PARTLY_ACHIEVED, S.NOT_ACHIEVED}
)
# The reminder job's "force to act" statuses: open and overdue if past their due date.
FORCE_TO_ACT = frozenset(
    {S.AWAITING_RESPONSE, S.ACTION_PLAN_RECEIVED, S.BEING_PROGRESSED, *PROGRESS_FROM}
)
ROUTE_OF_FOLLOW_UP: dict[str, str] = {
    ProgrammeType.NCPI_REVIEW: Route.REVIEW,
    ProgrammeType.NCPI_REINSPECTION: Route.REINSPECTION,
}
# The liaison's force's latest publication, if this recent, has no action plan yet: the
# walk-through has the `liaison` sign-in send it.
HOLD_PLAN_WITHIN = dt.timedelta(weeks=16)
BATCH = 1000

A = Assessment.Outcome.ACHIEVED
P = Assessment.Outcome.PARTLY_ACHIEVED
N = Assessment.Outcome.NOT_ACHIEVED
# Outcome shares (achieved, partly, not) by where the assessment is made.
OUTCOMES = {
    "review": (0.55, 0.3, 0.15),
    "reinspection": (0.6, 0.3, 0.1),
    "carried": (0.0, 0.4, 0.6),  # what a re-inspection carries over had not been achieved
    "light_touch": (0.65, 0.25, 0.1),
    "actions_complete": (0.8, 0.2, 0.0),  # closed as "actions complete" in the lifecycle
    "again": (0.7, 0.25, 0.05),
    "last": (0.85, 0.15, 0.0),
}

# Text --------------------------------------------------------------------------------------

RESPONSES = (
    "The head of public protection has instructed every {stage} team, with immediate effect, "
    "that each case involving a child is reviewed by a supervisor within 24 hours. The duty "
    "inspector checks compliance every day and reports exceptions to the superintendent.",
    "Every open {stage} case has been reviewed by a detective inspector since the report was "
    "published. Cases needing further action have been reallocated, and the outcome of each "
    "review is recorded on the file.",
    "A briefing has gone to every officer and supervisor working on {stage} cases, and a daily "
    "check of new cases is in place until the permanent changes in our action plan are made.",
    "The chief officer lead for child protection has set up a gold group to oversee the "
    "response. All {stage} cases from the last three months have been re-checked and "
    "referrals made to children's social care where needed.",
)
PLAN_SUMMARIES = (
    "Our plan for each recommendation of the report, agreed by the chief officer group and "
    "the police and crime commissioner. Progress is overseen by the force's vulnerability "
    "board, which meets monthly.",
    "This plan sets out the action the force will take on each recommendation, who is "
    "accountable for it (by role), when it will be complete and how we will know it has made "
    "a difference for children.",
    "The force's response to the inspection. Each action has an accountable chief officer, "
    "and progress will be reported to the police and crime commissioner's accountability "
    "board every quarter.",
)
REVISED_SUMMARY = (
    "Revised plan following the inspectorate's review: each action now has a measure of its "
    "impact on children and a target date within the recommendation's timescale."
)
# (action, expected impact, evidence measure), in the words of a force's action plan.
PLANNED_ACTIONS = (
    (
        "Issue revised guidance to all officers and supervisors in the {stage} teams, setting the "
        "minimum standard for recording the risk to each child, and brief every team on it.",
        "In every {stage} case the risk to each child is assessed and recorded, so decisions "
        "to protect children are sound and can be checked.",
        "Monthly dip sample of 30 {stage} records by the public protection audit team; 90% "
        "meeting the standard by the target date, reported to the vulnerability board.",
    ),
    (
        "Review the demand on the {stage} teams and the resources given to them, and move "
        "posts to the teams with the longest waiting times.",
        "Children are seen and helped without delay.",
        "Time from referral to first contact, reported weekly on the performance dashboard; "
        "median under 24 hours.",
    ),
    (
        "Agree an information-sharing protocol for {stage} cases with the local safeguarding "
        "partnerships and build it into the multi-agency safeguarding hub's procedures.",
        "Partner agencies hear about children at risk the same day, so they can act together.",
        "Quarterly partnership audit of 20 shared cases: the share passed on within one "
        "working day.",
    ),
    (
        "Introduce a quarterly audit of {stage} cases by the detective chief inspector for "
        "public protection, with the findings and actions reviewed at the vulnerability board.",
        "Leaders know how well children are protected in {stage} cases and act where practice "
        "falls short.",
        "Audit results and completed actions in the force improvement log; improvement over "
        "three consecutive quarters.",
    ),
    (
        "Train all frontline officers on the voice of the child, with supervisors checking "
        "that {stage} records show the child's views and demeanour.",
        "Officers understand and record what life is like for the child, and decisions reflect it.",
        "Training completion (target 95%) and the share of audited records showing the "
        "child's views.",
    ),
    (
        "Make supervisory review of {stage} cases mandatory at set points, with a "
        "prompt in the records management system.",
        "Investigations involving children are directed and progressed consistently across "
        "the force area.",
        "Monthly report from the records management system of supervisory reviews completed "
        "on time, by district.",
    ),
)
PLAN_REVIEW_CHANGES = (
    "The plan sets out what the force will do, but several actions do not say how the force "
    "will know they have worked. Please add a measure for each and send the plan again.",
    "Some target dates fall after the recommendations are due, and two actions have no "
    "measure of impact. Please explain the dates or bring them forward, and add the measures.",
)
PLAN_ACCEPTED = (
    "",
    "Accepted. The actions and measures are clear; we will follow progress through the updates.",
    "Accepted. Please include the quarterly audit results in your progress updates.",
)
PROGRESS = (
    "The revised {stage} guidance is on the force intranet and has been briefed to {n} of "
    "{m} teams. The remaining teams will be briefed this month.",
    "This month's dip sample of {stage} records found {p}% recorded the risk to the child, "
    "up from {q}% when we started. Supervisors have had feedback on the cases that fell short.",
    "Two detective sergeant posts have moved into the {stage} teams. One has been filled; the "
    "other is being advertised.",
    "The vulnerability board reviewed progress on this recommendation this month and agreed "
    "the next steps in the action plan.",
    "Training on the voice of the child has now reached {p}% of frontline officers. Sessions "
    "for the rest are booked.",
    "Two of the local safeguarding partnerships have signed the information-sharing protocol; "
    "the third will sign it at its next meeting.",
    "The change to the records management system that prompts supervisory review went live "
    "this month. Early reports show reviews are completed on time in most districts.",
    "Progress has been slower than planned because of vacancies in the {stage} teams. We have "
    "moved the target date for this action back two months, and the chief officer lead is "
    "monitoring it.",
    "The quarterly audit of {stage} cases is complete: {p}% of the cases met the standard. "
    "The actions from the audit are in the improvement log.",
)
EVIDENCE = (
    "We submit three months of dip sample results for {stage} records, with the revised "
    "guidance and the minutes of the vulnerability board that reviewed them. We consider this "
    "recommendation achieved.",
    "Attached are the audit results for the last two quarters and the updated procedure. The "
    "improvement has been sustained, and we ask the inspectorate to assess the "
    "recommendation.",
    "We submit the performance report and the partnership audit. Together they show the "
    "change has been made and is making a difference for children.",
)
QUESTIONS = (
    "Thank you for the update. How many records did the dip sample cover, and did it include "
    "every district?",
    "Does the audit look at the quality of the risk assessment as well as whether one was "
    "recorded?",
    "When do you expect every team to have been briefed?",
    "Please send the terms of reference for the audit with your next update.",
    "How will you make sure the change lasts once the extra checks end?",
    "We would like to see the next quarter's figures before we assess this recommendation.",
    "Is the change in place in every district, or only in the pilot area?",
    "Who in the force is now accountable for this recommendation?",
    "The figures in the attached file stop some months ago. Do you have more recent ones?",
    "Have partner agencies seen a difference? It would help to have their view.",
)
THANKS = (
    "Thank you: that answers our question.",
    "Thank you. We will look at this before our next discussion with the force.",
)
ANSWERS = (
    "The sample covered 30 records from each district, chosen at random by the audit team.",
    "Yes: the audit tool scores the quality of the assessment as well as whether there is "
    "one. We will send the tool with our next update.",
    "Every team will have been briefed by the end of next month.",
    "The terms of reference are attached to our latest update.",
    "The checks are now part of supervisors' monthly performance reviews, so they will continue.",
    "Understood. We will send the next quarter's figures as soon as we have them.",
    "It went live in the pilot district first and has now been extended to every district.",
    "The detective superintendent for public protection is the accountable lead; the chief "
    "officer lead oversees progress at the vulnerability board.",
    "The latest month's figures are attached to this week's update.",
    "The safeguarding partnership's latest audit notes quicker information sharing; we will "
    "send the relevant extract.",
)
FORCE_NOTES = (
    "For information: the chief officer lead for child protection will present progress on "
    "this recommendation to the police and crime commissioner's accountability board next "
    "month.",
    "We have updated the target date in our tracker to match the revised training schedule.",
    "The new head of public protection has taken over as the accountable lead for this "
    "recommendation.",
)
REASONING: dict[str, tuple[str, ...]] = {
    A: (
        "The evidence submitted, and what we found in {where}, show that the force has done "
        "what we recommended and that it is making a difference: audit results have improved "
        "over three consecutive quarters and the records we examined met the standard.",
        "The force has made the changes in its plan and sustained them. The cases we examined "
        "in {where} showed the risk to children assessed and acted on promptly.",
    ),
    P: (
        "The force has made the changes in its plan, but the improvement is not yet consistent "
        "across the force area: some records we examined in {where} still did not show how "
        "decisions about the child were reached.",
        "Good progress in most teams, but the force's own audits show the standard is not yet "
        "met in two districts, and the measures in the plan have not been reported in full.",
    ),
    N: (
        "The force has not yet made the change we recommended. The actions in its plan are "
        "still being planned, and the records we examined in {where} showed no improvement.",
        "The evidence does not show that the recommendation has been met: the audit the plan "
        "relied on has not been carried out.",
    ),
}
PUBLIC_NOTES: dict[str, tuple[str, ...]] = {
    A: ("The force has done what we recommended.", "Achieved: the improvement has lasted."),
    P: (
        "Some progress; the improvement is not yet consistent across the force area.",
        "Partly achieved: more work is needed in some teams.",
    ),
    N: ("Not yet achieved: the work is still in progress.",),
}
CLOSE_NOTES = (
    "Closed: the force has done what we recommended and sustained the improvement.",
    "Closed after assessment as achieved.",
)
CLOSURE_SUMMARIES = (
    "Each recommendation of this cause of concern has been achieved, and the improvement has "
    "been sustained. We have written to the force to close it.",
    "We are satisfied that the force has dealt with this cause of concern: its "
    "recommendations are achieved and children receive a better response.",
)
RATIONALES: dict[str, tuple[str, ...]] = {
    Route.REVIEW: (
        "The action plan is sound and the force has made a prompt start. A post-inspection "
        "review in 12 to 14 months, re-auditing cases, will show whether the changes have "
        "made a difference for children.",
        "The plan addresses each recommendation, but the causes of concern need to be tested "
        "in the force's casework: we will return for a post-inspection review.",
    ),
    Route.REINSPECTION: (
        "The causes of concern are serious, and the force's response has not yet given us "
        "confidence that children are safe. We will re-inspect within nine months.",
        "Too many children were left at risk in the cases we examined. A full re-inspection "
        "will test whether the force's plan has changed that.",
    ),
    Route.LIGHT_TOUCH: (
        "The findings were largely positive and the plan addresses each recommendation. We "
        "will follow progress through discussions with the force's leaders.",
        "The recommendations are specific and the force is already acting on them. A "
        "light-touch follow-up with the force's leaders is proportionate.",
    ),
}
RATIONALE_JOINT = (
    "The area's written statement of action is monitored by {lead}; the police actions will "
    "be followed up with the force's leaders."
)
RATIONALE_THEMATIC = (
    "The recommendations are tracked through the national thematic report; progress will be "
    "discussed with each force's leaders."
)
RATIONALE_REVIEW = (
    "The review found progress on most recommendations. The remaining ones will be followed "
    "up with the force's leaders."
)
BRIEFING = (
    "Briefing note: the risk to children in {stage} cases\n\n"
    "Issued by the head of public protection to all officers and staff.\n\n"
    "1. From the date of this note, every {stage} record must set out the risk to each "
    "child and the action taken.\n"
    "2. Supervisors review each new case within 24 hours and record their direction.\n"
    "3. The public protection audit team samples 30 records a month and reports to the "
    "vulnerability board.\n"
)
LETTER = (
    "{inspectorate}\n\n{day:%-d %B %Y}\n\nTo the Chief Constable, {force}\n\n"
    "Inspection {reference}: closure of a cause of concern\n\n"
    "Dear Chief Constable,\n\n"
    "Our report identified a cause of concern: {headline}\n\n"
    "We have assessed each of its recommendations as achieved. {summary}\n\n"
    "We are therefore closing this cause of concern. Thank you to your officers and staff for "
    "the work this has taken.\n\n"
    "Yours sincerely,\n\nLead inspector, child protection inspections\n"
)


def _stage_text(options: Sequence[str], rng: random.Random, stage: str, **extra: object) -> str:
    return rng.choice(options).format(stage=stage, **extra)


def _outcome(rng: random.Random, table: str) -> str:
    achieved, partly, _ = OUTCOMES[table]
    roll = rng.random()
    return A if roll < achieved else P if roll < achieved + partly else N


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    """A time in the working day."""
    minutes = rng.randint(8 * 60 + 30, 17 * 60 + 30)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60)))


def _weekday(day: dt.date) -> dt.date:
    return weekday_on_or_after(day)


def _spacing(since_publication: dt.timedelta) -> tuple[int, int]:
    """Days between a force's progress updates: about monthly in the first year (as forces
    report to their own boards), up to three months in the second, less often after."""
    days = since_publication.days
    return (25, 50) if days < 365 else (28, 91) if days < 730 else (56, 119)


def _months_back(day: dt.date, count: int) -> list[str]:
    months = []
    year, month = day.year, day.month
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        months.append(f"{year}-{month:02d}")
    return list(reversed(months))


def _evidence_file(rng: random.Random, stage: str, day: dt.date, *, csv: bool) -> CheckedFile:
    """A small, valid evidence file: a dip sample's figures, or a briefing note."""
    if csv:
        lines = ["month,records_sampled,risk_recorded,supervisor_reviewed"]
        share = rng.uniform(0.55, 0.75)
        for month in _months_back(day, rng.randint(3, 6)):
            sampled = rng.randint(25, 40)
            share = min(0.98, share + rng.uniform(0.0, 0.08))
            lines.append(
                f"{month},{sampled},{round(sampled * share)},"
                f"{round(sampled * min(0.98, share + 0.05))}"
            )
        name = f"dip-sample-{stage.replace(' ', '-')[:40]}-{day:%Y-%m}.csv"
        return check_file(name, ("\n".join(lines) + "\n").encode())
    return check_file(f"briefing-note-{day:%Y-%m-%d}.txt", BRIEFING.format(stage=stage).encode())


@contextmanager
def _times_as_given(*model_classes: type[models.Model]) -> Iterator[None]:
    """Let bulk_create keep the timestamps given (auto_now_add would stamp them with now).
    Only for this single-threaded command: it changes the fields for the process while on."""
    fields = [
        f
        for model in model_classes
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now_add", False)
    ]
    for f in fields:
        setattr(f, "auto_now_add", False)  # noqa: B010 - mypy does not know the attribute
    try:
        yield
    finally:
        for f in fields:
            setattr(f, "auto_now_add", True)  # noqa: B010


# The history of one recommendation ---------------------------------------------------------


@dataclass
class _Who:
    user: User | None
    label: str


def _who(user: User) -> _Who:
    return _Who(user, user.get_username())


@dataclass
class _Followed:
    """A published recommendation or cause of concern and the steps written for it."""

    finding: Finding
    status: str
    on: dt.date
    rng: random.Random
    steps: list[RecommendationStatusChange] = field(default_factory=list)
    closing: tuple[dt.date, _Who, str] | None = None
    last_assessed: dt.date | None = None
    achieved: bool = False
    ended: bool = False  # closed or carried over

    def step(self, status: str, on: dt.date, note: str, who: _Who) -> dt.date:
        on = max(on, self.on)
        self.steps.append(
            RecommendationStatusChange(
                recommendation=self.finding,
                status=status,
                on=on,
                note=note[:500],
                by=who.user,
                by_label=who.label,
                recorded_at=_at(on, self.rng),
            )
        )
        self.status, self.on = status, on
        return on


@dataclass
class _Context:
    """One published inspection while its history is written."""

    plan: PlannedInspection
    inspection: Inspection
    rng: random.Random
    published: dt.date
    last: dt.date  # the last day anything happens: the day before "today"
    lead: User
    assessors: list[User]
    commenters: list[User]
    force_side: list[_Who]
    force_names: str
    stage_names: dict[str, str]
    follow: tuple[PlannedInspection, Inspection] | None
    follow_lead: User | None
    follow_assessors: list[User]
    route: str = ""

    def force(self) -> _Who:
        return self.rng.choice(self.force_side)

    def stage(self, finding: Finding) -> str:
        return stage_work(finding.stage, self.stage_names.get(finding.stage, ""))

    def day(self, after: dt.date, low: int, high: int) -> dt.date:
        return _weekday(after + self.rng.randint(low, high) * DAY)


# The writer ---------------------------------------------------------------------------------


class FollowUpHistory:
    """Writes every published inspection's follow-up history, then everything in bulk."""

    def __init__(
        self,
        *,
        seed: int,
        today: dt.date,
        liaisons: Mapping[str, User],
        managers: Sequence[User],
        routes: Mapping[str, str],
        featured_force: str | None = None,
    ) -> None:
        """`liaisons`: each force's liaison officer by force code. `routes`: for each NCPI
        plan key, the programme type of the review or re-inspection that follows it (now or
        later); an NCPI not there is followed up by light touch. `featured_force`: the force
        whose latest recent publication is left waiting for its action plan."""
        self.seed, self.today = seed, today
        self.liaisons = liaisons
        self.managers = sorted(managers, key=lambda u: u.username)
        self.routes = routes
        self.featured_force = featured_force
        self.counts: Counter[str] = Counter()
        self.seconds = 0.0
        self.plans: list[ActionPlan] = []
        self.actions: list[PlannedAction] = []
        self.updates: list[ProgressUpdate] = []
        self.files: list[EvidenceFile] = []
        self.comments: list[Comment] = []
        self.assessments: list[Assessment] = []
        self.closures: list[ConcernClosure] = []
        self.followed: list[_Followed] = []
        self.follow_ups: list[FollowUp] = []

    # Loading -------------------------------------------------------------------------------

    def write(self, plans: Sequence[PlannedInspection], inspections: Sequence[Inspection]) -> None:
        """`plans` and `inspections` in the same order (as the generator made them)."""
        began = time.monotonic()
        by_key = {p.key: (p, i) for p, i in zip(plans, inspections, strict=True)}
        published = [(p, i) for p, i in by_key.values() if i.state in PUBLISHED]
        ids = [i.pk for _, i in published]
        follows = {p.follows: (p, i) for p, i in by_key.values() if p.follows}
        team: dict[int, list[TeamMember]] = defaultdict(list)
        for member in TeamMember.objects.filter(
            inspection_id__in=[i.pk for i in inspections]
        ).select_related("user"):
            team[member.inspection_id].append(member)
        force_ids: dict[int, list[int]] = defaultdict(list)
        for inspection_id, force_id in (
            Inspection.forces.through.objects.filter(inspection_id__in=ids)
            .order_by("inspection_id", "force_id")
            .values_list("inspection_id", "force_id")
        ):
            force_ids[inspection_id].append(force_id)
        forces = {
            f.pk: f
            for f in Force.objects.filter(pk__in={f for fs in force_ids.values() for f in fs})
            .only("pk", "code", "name")
            .order_by("code")
        }
        findings: dict[int, list[Finding]] = defaultdict(list)
        for finding in (
            Finding.objects.filter(
                inspection_id__in=ids, kind__in=[Kind.RECOMMENDATION, Kind.CAUSE_OF_CONCERN]
            )
            .exclude(status="")
            .order_by("inspection_id", "order", "id")
        ):
            findings[finding.inspection_id].append(finding)
        self.carried_into = dict(
            Finding.objects.filter(carried_over_from__isnull=False).values_list(
                "carried_over_from_id", "inspection_id"
            )
        )
        self.by_pk = {i.pk: (p, i) for p, i in by_key.values()}
        records = {f.inspection_id: f for f in FollowUp.objects.filter(inspection_id__in=ids)}
        self.inspectorate = (
            Inspectorate.objects.filter(code="police").values_list("name", flat=True).first()
            or "The inspectorate"
        )
        held = self._held(published, force_ids, forces)
        for plan, inspection in published:
            follow = follows.get(plan.key)
            inspection_forces = [forces[f] for f in force_ids[inspection.pk]]
            self._inspection(
                plan,
                inspection,
                team=team[inspection.pk],
                forces=inspection_forces,
                findings=findings[inspection.pk],
                record=records[inspection.pk],
                follow=follow,
                follow_team=team[follow[1].pk] if follow else [],
                hold=inspection.pk in held,
            )
        self.seconds += time.monotonic() - began

    def _held(
        self,
        published: Sequence[tuple[PlannedInspection, Inspection]],
        force_ids: Mapping[int, list[int]],
        forces: Mapping[int, Force],
    ) -> set[int]:
        """The featured force's latest publication, if recent: its plan has not come yet."""
        if not self.featured_force:
            return set()
        own = [
            (p.published_on, i.pk)
            for p, i in published
            if p.published_on
            and any(forces[f].code == self.featured_force for f in force_ids[i.pk])
        ]
        if not own:
            return set()
        on, pk = max(own)
        return {pk} if on >= self.today - HOLD_PLAN_WITHIN else set()

    # One inspection ------------------------------------------------------------------------

    def _inspection(
        self,
        plan: PlannedInspection,
        inspection: Inspection,
        *,
        team: Sequence[TeamMember],
        forces: Sequence[Force],
        findings: Sequence[Finding],
        record: FollowUp,
        follow: tuple[PlannedInspection, Inspection] | None,
        follow_team: Sequence[TeamMember],
        hold: bool,
    ) -> None:
        rng = random.Random(f"{self.seed}:followup:{plan.key}")
        published = record.published_on
        last = self.today - DAY
        lead = next(m.user for m in team if m.role == TeamRole.LEAD_INSPECTOR)
        inspectors = [m.user for m in team if m.role == TeamRole.INSPECTOR]
        follow_lead = next((m.user for m in follow_team if m.role == TeamRole.LEAD_INSPECTOR), None)
        ctx = _Context(
            plan=plan,
            inspection=inspection,
            rng=rng,
            published=published,
            last=last,
            lead=lead,
            assessors=[lead, *inspectors],
            commenters=[lead, *inspectors],
            force_side=[
                _who(self.liaisons[f.code])
                if f.code and f.code in self.liaisons
                else _Who(None, f"{f.name} (force liaison)")
                for f in forces
            ]
            or [_Who(None, "The force")],
            force_names=" and ".join(f.name for f in forces) or "the force",
            stage_names={s["code"]: s["name"] for s in inspection.methodology.stages},
            follow=follow,
            follow_lead=follow_lead,
            follow_assessors=[
                m.user
                for m in follow_team
                if m.role in (TeamRole.LEAD_INSPECTOR, TeamRole.INSPECTOR)
            ],
        )
        before = Counter(self.counts)
        followed = [
            _Followed(finding=f, status=f.status, on=f.status_on or published, rng=rng)
            for f in findings
        ]
        recs = [r for r in followed if r.finding.kind == Kind.RECOMMENDATION]
        causes = [r for r in followed if r.finding.kind == Kind.CAUSE_OF_CONCERN]
        self._route(ctx, record)
        started = self._responses(ctx, recs, hold)
        started.update(self._action_plans(ctx, recs, hold))
        for rec in recs:
            self._recommendation(ctx, rec, started.get(rec.finding.pk))
        self._causes(ctx, causes, recs)
        for rec in recs:
            if rec.closing and not rec.ended:
                day, who, note = rec.closing
                if day <= last:
                    rec.step(S.CLOSED, day, note, who)
                    rec.ended = True
        self.followed += followed
        done = self.counts - before
        audit_record(
            actor=ACTOR,
            action=AuditEvent.Action.SYSTEM,
            instance=inspection,
            summary=f"Demo follow-up history: {done['action_plans']} action plan(s), "
            f"{done['progress_updates']} updates, {done['comments']} comments, "
            f"{done['assessments']} assessments, {done['concern_closures']} causes of concern "
            "closed",
        )

    def _route(self, ctx: _Context, record: FollowUp) -> None:
        """The follow-up chosen, on the day the lifecycle moved into follow-up (or, for what
        goes straight to closed, the day it closed)."""
        plan, kind = ctx.plan, ctx.plan.programme_type
        follow_up_on = plan.step_on(State.FOLLOW_UP)
        closed_on = plan.step_on(State.CLOSED)
        if kind == ProgrammeType.NCPI:
            follow_type = ctx.follow[0].programme_type if ctx.follow else self.routes.get(plan.key)
            route = ROUTE_OF_FOLLOW_UP.get(follow_type or "", Route.LIGHT_TOUCH)
            rationale = ctx.rng.choice(RATIONALES[route])
            on = follow_up_on
        elif kind in (ProgrammeType.JTAI, ProgrammeType.JICPA):
            route, on = Route.LIGHT_TOUCH, follow_up_on
            lead = "Ofsted" if kind == ProgrammeType.JTAI else "Care Inspectorate Wales"
            rationale = RATIONALE_JOINT.format(lead=lead)
        elif kind == ProgrammeType.NCPI_REINSPECTION:
            route, on = Route.LIGHT_TOUCH, follow_up_on
            rationale = ctx.rng.choice(RATIONALES[Route.LIGHT_TOUCH])
        else:
            route, on = Route.LIGHT_TOUCH, closed_on
            rationale = RATIONALE_THEMATIC if kind == ProgrammeType.THEMATIC else RATIONALE_REVIEW
        ctx.route = route
        if on is None or on > self.today:
            ctx.route = ""
            return
        decider = ctx.lead if ctx.rng.random() < 0.75 else ctx.rng.choice(self.managers)
        record.route, record.route_rationale = route, rationale
        record.route_decided_by, record.route_decided_on = decider, on
        record.version += 1
        self.follow_ups.append(record)
        self.counts["routes_chosen"] += 1

    def _responses(
        self, ctx: _Context, recs: Sequence[_Followed], hold: bool
    ) -> dict[int, dt.date]:
        """The force's response on each "immediately" recommendation, within days."""
        started = {}
        recent = ctx.published >= self.today - dt.timedelta(days=120)
        for rec in recs:
            if rec.finding.timescale != Timescale.IMMEDIATELY:
                continue
            if (hold or recent) and ctx.rng.random() < 0.15:
                continue  # not answered yet: overdue
            day = ctx.day(ctx.published, 1, 10)
            if day > ctx.last:
                continue
            who = ctx.force()
            self._update(
                ctx,
                rec,
                day,
                ProgressUpdate.Kind.RESPONSE,
                _stage_text(RESPONSES, ctx.rng, ctx.stage(rec.finding)),
                who,
            )
            started[rec.finding.pk] = day
        return started

    def _action_plans(
        self, ctx: _Context, recs: Sequence[_Followed], hold: bool
    ) -> dict[int, dt.date]:
        """The force's action plan (and a second if the first is sent back), and the day work
        on each recommendation it covers started: the day the plan was accepted."""
        covered = [r for r in recs if r.finding.timescale != Timescale.IMMEDIATELY]
        if not covered or hold:
            return {}
        rng, plan = ctx.rng, ctx.plan
        follow_up_on = plan.step_on(State.FOLLOW_UP)
        own = plan.programme_type in (ProgrammeType.NCPI, ProgrammeType.NCPI_REINSPECTION)
        if own and follow_up_on is not None and follow_up_on <= ctx.last:
            # Received by the day the inspection moved into follow-up. (A joint inspection
            # moves when the area's written statement of action comes, later: the force's
            # own plan is due in six weeks like any other.)
            submitted = weekday_on_or_before(follow_up_on - rng.randint(0, 7) * DAY)
            submitted = max(submitted, ctx.published + 7 * DAY)
        else:
            late = rng.random() < 0.15
            low, high = (43, 75) if late else (18, 41)
            submitted = weekday_on_or_before(ctx.published + rng.randint(low, high) * DAY)
            if ctx.inspection.state == State.PUBLISHED and rng.random() < 0.5:
                return {}  # often not sent yet
        if submitted > ctx.last:
            return {}
        who = ctx.force()
        accepted_on: dt.date | None = None
        number = 0
        while submitted <= ctx.last and accepted_on is None and number < 2:
            number += 1
            reviewed = ctx.day(submitted, 10, 35)
            reviewer = ctx.lead if rng.random() < 0.8 else rng.choice(self.managers)
            status = ActionPlan.Status.SUBMITTED
            note = ""
            if reviewed <= ctx.last:
                if number == 1 and rng.random() < 0.15:
                    status, note = (
                        ActionPlan.Status.CHANGES_REQUESTED,
                        rng.choice(PLAN_REVIEW_CHANGES),
                    )
                else:
                    status, note = ActionPlan.Status.ACCEPTED, rng.choice(PLAN_ACCEPTED)
            action_plan = ActionPlan(
                inspection=ctx.inspection,
                number=number,
                summary=REVISED_SUMMARY if number > 1 else rng.choice(PLAN_SUMMARIES),
                status=status,
                submitted_by=who.user,
                submitted_by_label=who.label,
                submitted_at=_at(submitted, rng),
                review_note=note,
                reviewed_by=reviewer if status != ActionPlan.Status.SUBMITTED else None,
                reviewed_at=_at(reviewed, rng) if status != ActionPlan.Status.SUBMITTED else None,
                version=1 if status == ActionPlan.Status.SUBMITTED else 2,
            )
            self.plans.append(action_plan)
            self.counts["action_plans"] += 1
            for rec in covered:
                self._planned_action(ctx, action_plan, rec, number)
                if rec.status == S.AWAITING_RESPONSE:
                    rec.step(S.ACTION_PLAN_RECEIVED, submitted, "Action plan received", who)
            if rng.random() < 0.3:
                self._plan_file(ctx, action_plan, covered, submitted, who)
            if status == ActionPlan.Status.ACCEPTED:
                accepted_on = reviewed
                for rec in covered:
                    if rec.status == S.ACTION_PLAN_RECEIVED:
                        rec.step(
                            S.BEING_PROGRESSED, reviewed, "Action plan accepted", _who(reviewer)
                        )
            elif status == ActionPlan.Status.CHANGES_REQUESTED:
                submitted = ctx.day(reviewed, 10, 28)
            else:
                break
        if accepted_on is None:
            return {}
        return {r.finding.pk: accepted_on for r in covered}

    def _plan_file(
        self,
        ctx: _Context,
        action_plan: ActionPlan,
        covered: Sequence[_Followed],
        day: dt.date,
        who: _Who,
    ) -> None:
        """The plan as the force keeps it, a spreadsheet exported as CSV."""
        actions = self.actions[-len(covered) :]
        lines = ["recommendation,target_date,action"] + [
            f'{a.recommendation.number},{a.target_date},"{a.action}"' for a in actions
        ]
        checked = check_file(
            f"action-plan-{ctx.inspection.reference}-v{action_plan.number}.csv",
            ("\n".join(lines) + "\n").encode(),
        )
        self._store(ctx.rng, checked, action_plan, day, who)

    def _planned_action(
        self, ctx: _Context, action_plan: ActionPlan, rec: _Followed, number: int
    ) -> None:
        rng, finding = ctx.rng, rec.finding
        stage = ctx.stage(finding)
        action, impact, measure = (text.format(stage=stage) for text in rng.choice(PLANNED_ACTIONS))
        if number > 1:
            measure += " Reported to the inspectorate each quarter."
        due = finding.due_on or ctx.published + 180 * DAY
        target = max(ctx.published + 28 * DAY, due - rng.randint(0, 4) * 7 * DAY)
        self.actions.append(
            PlannedAction(
                plan=action_plan,
                recommendation=finding,
                action=action,
                expected_impact=impact,
                target_date=target,
                evidence_measure=measure,
            )
        )
        self.counts["planned_actions"] += 1

    # One recommendation --------------------------------------------------------------------

    def _recommendation(self, ctx: _Context, rec: _Followed, started: dt.date | None) -> None:
        """From the day work started: progress, evidence, assessments (up to three), until it
        is achieved, carried over, or today."""
        if started is None:
            return
        rng = ctx.rng
        cursor = started
        slot = self._first_assessment(ctx, rec)
        rounds = 0
        while slot is not None:
            assess_on, in_inspection, assessor, table = slot
            assess_on = max(assess_on, cursor + 14 * DAY)
            if assess_on > ctx.last:
                break
            if rng.random() < 0.7 and rec.status != S.EVIDENCE_SUBMITTED:
                evidence_on = weekday_on_or_before(assess_on - rng.randint(7, 28) * DAY)
                if evidence_on > cursor:
                    self._progress(ctx, rec, cursor, evidence_on)
                    self._evidence(ctx, rec, evidence_on)
                    cursor = evidence_on
            self._progress(ctx, rec, cursor, assess_on)
            outcome = _outcome(rng, table)
            self._assess(ctx, rec, assess_on, outcome, in_inspection, assessor)
            cursor = assess_on
            rounds += 1
            carried_into = self.carried_into.get(rec.finding.pk)
            if carried_into is not None and in_inspection is not None:
                self._carry(ctx, rec, carried_into)
                return
            if outcome == A:
                rec.achieved = True
                closing = self._closing_day(ctx, assess_on, in_inspection)
                if closing is not None:
                    rec.closing = (closing, _who(assessor), rng.choice(CLOSE_NOTES))
                return
            if rounds >= 3:
                break
            again = ctx.day(assess_on, 180, 365)
            who = ctx.follow_lead or ctx.lead
            slot = (again, None, who, "again" if rounds == 1 else "last")
        # Still open: work goes on, and sometimes evidence waits for the inspectorate.
        due = rec.finding.due_on
        if rounds == 0 and due is not None and due <= ctx.last - 14 * DAY and rng.random() < 0.3:
            evidence_on = max(
                cursor + 14 * DAY, weekday_on_or_before(due - rng.randint(0, 14) * DAY)
            )
            if evidence_on <= ctx.last:
                self._progress(ctx, rec, cursor, evidence_on)
                self._evidence(ctx, rec, evidence_on)
                return
        self._progress(ctx, rec, cursor, ctx.last + DAY)

    def _first_assessment(
        self, ctx: _Context, rec: _Followed
    ) -> tuple[dt.date, Inspection | None, User, str] | None:
        rng, plan, kind = ctx.rng, ctx.plan, ctx.plan.programme_type
        if ctx.route in (Route.REVIEW, Route.REINSPECTION) or (
            kind == ProgrammeType.NCPI and ctx.follow is not None
        ):
            if ctx.follow is None:
                return None  # the review or re-inspection has not been planned yet
            follow_plan, follow = ctx.follow
            if follow_plan.state_on(self.today) not in AFTER_FIELDWORK:
                return None  # not there yet
            days = (follow_plan.fieldwork_end - follow_plan.fieldwork_start).days
            day = weekday_on_or_before(follow_plan.fieldwork_start + rng.randint(0, days) * DAY)
            table = (
                "review"
                if follow_plan.programme_type == ProgrammeType.NCPI_REVIEW
                else "carried"
                if rec.finding.pk in self.carried_into
                else "reinspection"
            )
            assessor = rng.choice(ctx.follow_assessors or [ctx.follow_lead or ctx.lead])
            return max(day, follow_plan.fieldwork_start), follow, assessor, table
        closed_on = plan.step_on(State.CLOSED)
        if kind in (ProgrammeType.NCPI, ProgrammeType.NCPI_REINSPECTION) or kind in (
            ProgrammeType.JTAI,
            ProgrammeType.JICPA,
        ):
            if closed_on is None or closed_on > ctx.last:
                return None  # the light-touch discussion has not happened yet
            table = "light_touch" if kind == ProgrammeType.NCPI else "actions_complete"
            day = weekday_on_or_before(closed_on - rng.randint(0, 10) * DAY)
            return day, None, rng.choice(ctx.assessors), table
        due = rec.finding.due_on or ctx.published + 180 * DAY
        return ctx.day(due, 30, 120), None, rng.choice(ctx.assessors), "light_touch"

    def _closing_day(
        self, ctx: _Context, assessed: dt.date, in_inspection: Inspection | None
    ) -> dt.date | None:
        """When an achieved recommendation is closed: when the review or re-inspection that
        assessed it is published, or a few weeks after a light-touch assessment."""
        if in_inspection is not None and ctx.follow is not None:
            published = ctx.follow[0].published_on
            if published is None or published > ctx.last:
                return None
            return max(published, assessed)
        day = ctx.day(assessed, 7, 42)
        return day if day <= ctx.last else None

    def _carry(self, ctx: _Context, rec: _Followed, into_pk: int) -> None:
        """Carried into the re-inspection, when it is published."""
        into_plan, into = self.by_pk[into_pk]
        published = into_plan.published_on
        if published is None or published > ctx.last:
            return
        rec.step(
            S.CARRIED_OVER,
            published,
            f"Carried into {into.reference}",
            _who(ctx.rng.choice(self.managers)),
        )
        rec.ended = True

    def _progress(self, ctx: _Context, rec: _Followed, after: dt.date, before: dt.date) -> None:
        """Progress updates every one to three months (less often once it has gone on for
        two years), each perhaps with a file and a thread of comments, strictly between the
        days."""
        rng = ctx.rng
        day = ctx.day(after, *_spacing(after - ctx.published))
        while day < before - 3 * DAY and day <= ctx.last:
            who = ctx.force()
            text = _stage_text(
                PROGRESS,
                rng,
                ctx.stage(rec.finding),
                n=rng.randint(4, 9),
                m=rng.randint(10, 14),
                p=rng.randint(70, 96),
                q=rng.randint(40, 65),
            )
            update = self._update(ctx, rec, day, ProgressUpdate.Kind.PROGRESS, text, who)
            if rng.random() < 0.2:
                csv = rng.random() < 0.6
                self._file(ctx, update, day, who, csv=csv, stage=ctx.stage(rec.finding))
            following = ctx.day(day, *_spacing(day - ctx.published))
            self._comments(ctx, rec, day, min(following, before))
            day = following

    def _comments(self, ctx: _Context, rec: _Followed, after: dt.date, before: dt.date) -> None:
        """The thread after an update: the inspectors' questions (one, sometimes two) and the
        force's answers, now and then a thank-you, and sometimes a note from the force."""
        rng = ctx.rng
        day = after
        asker = _who(rng.choice(ctx.commenters))
        for chance in (0.8, 0.4):
            if rng.random() >= chance:
                break
            asked = ctx.day(day, 2, 10)
            if asked >= before or asked > ctx.last:
                break
            index = rng.randrange(len(QUESTIONS))
            self._comment(rec, asked, QUESTIONS[index], asker, False, rng)
            answered = ctx.day(asked, 1, 7)
            if rng.random() >= 0.9 or answered >= before or answered > ctx.last:
                break
            self._comment(rec, answered, ANSWERS[index], ctx.force(), True, rng)
            day = answered
        else:
            thanked = ctx.day(day, 1, 3)
            if rng.random() < 0.5 and thanked < before and thanked <= ctx.last:
                self._comment(rec, thanked, rng.choice(THANKS), asker, False, rng)
        if rng.random() < 0.25:
            noted = ctx.day(after, 1, 5)
            if noted < before and noted <= ctx.last:
                self._comment(rec, noted, rng.choice(FORCE_NOTES), ctx.force(), True, rng)

    def _comment(
        self,
        rec: _Followed,
        day: dt.date,
        text: str,
        who: _Who,
        from_force: bool,
        rng: random.Random,
    ) -> None:
        self.comments.append(
            Comment(
                recommendation=rec.finding,
                text=text,
                author=who.user,
                author_label=who.user.get_full_name() if who.user else who.label,
                from_force=from_force,
                posted_at=_at(day, rng),
            )
        )
        self.counts["comments"] += 1

    def _update(
        self, ctx: _Context, rec: _Followed, day: dt.date, kind: str, text: str, who: _Who
    ) -> ProgressUpdate:
        """A force's update and the status step it causes (as `progress_post` records)."""
        update = ProgressUpdate(
            recommendation=rec.finding,
            kind=kind,
            text=text,
            author=who.user,
            author_label=who.label,
            via_api=False,
            posted_at=_at(day, ctx.rng),
        )
        self.updates.append(update)
        self.counts["progress_updates"] += 1
        if kind == ProgressUpdate.Kind.EVIDENCE:
            if rec.status != S.EVIDENCE_SUBMITTED:
                rec.step(S.EVIDENCE_SUBMITTED, day, "Evidence submitted for assessment", who)
        elif rec.status in PROGRESS_FROM:
            note = (
                "Response received"
                if kind == ProgressUpdate.Kind.RESPONSE
                else "Progress update received"
            )
            rec.step(S.BEING_PROGRESSED, day, note, who)
        return update

    def _evidence(self, ctx: _Context, rec: _Followed, day: dt.date) -> None:
        rng, who = ctx.rng, ctx.force()
        stage = ctx.stage(rec.finding)
        update = self._update(
            ctx, rec, day, ProgressUpdate.Kind.EVIDENCE, _stage_text(EVIDENCE, rng, stage), who
        )
        self._file(ctx, update, day, who, csv=True, stage=stage)
        if rng.random() < 0.5:
            self._file(ctx, update, day, who, csv=False, stage=stage)

    def _file(
        self,
        ctx: _Context,
        owner: ProgressUpdate | ActionPlan | None,
        day: dt.date,
        who: _Who,
        *,
        csv: bool,
        stage: str,
    ) -> EvidenceFile:
        checked = _evidence_file(ctx.rng, stage, day, csv=csv)
        return self._store(ctx.rng, checked, owner, day, who)

    def _store(
        self,
        rng: random.Random,
        checked: CheckedFile,
        owner: ProgressUpdate | ActionPlan | None,
        day: dt.date,
        who: _Who,
    ) -> EvidenceFile:
        item = EvidenceFile(
            update=owner if isinstance(owner, ProgressUpdate) else None,
            plan=owner if isinstance(owner, ActionPlan) else None,
            name=checked.name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            content=checked.encrypted(),
            uploaded_by=who.user,
            uploaded_by_label=who.label,
            uploaded_at=_at(day, rng),
        )
        self.files.append(item)
        self.counts["evidence_files"] += 1
        return item

    def _assess(
        self,
        ctx: _Context,
        rec: _Followed,
        day: dt.date,
        outcome: str,
        in_inspection: Inspection | None,
        assessor: User,
    ) -> None:
        rng = ctx.rng
        where = (
            f"the {in_inspection.get_programme_type_display().lower()}"
            if in_inspection is not None
            else "the cases the force sent us"
        )
        note = rng.choice(PUBLIC_NOTES[outcome])
        day = max(day, rec.on)
        self.assessments.append(
            Assessment(
                recommendation=rec.finding,
                outcome=outcome,
                reasoning=rng.choice(REASONING[outcome]).format(where=where),
                public_note=note,
                in_inspection=in_inspection,
                assessed_by=assessor,
                assessed_on=day,
                recorded_at=_at(day, rng),
            )
        )
        self.counts["assessments"] += 1
        self.counts[f"assessed_{outcome}"] += 1
        rec.step(outcome, day, note, _who(assessor))
        rec.last_assessed = day

    # Causes of concern ---------------------------------------------------------------------

    def _causes(
        self, ctx: _Context, causes: Sequence[_Followed], recs: Sequence[_Followed]
    ) -> None:
        """Carried into a re-inspection, or closed by letter once every recommendation is
        achieved (most are), with the recommendations not yet closed."""
        rng = ctx.rng
        for cause in causes:
            into = self.carried_into.get(cause.finding.pk)
            if into is not None:
                self._carry(ctx, cause, into)
                continue
            group = [r for r in recs if r.finding.cause_of_concern_id == cause.finding.pk]
            if not group or not all(r.achieved and r.last_assessed for r in group):
                continue
            if rng.random() >= 0.85:
                continue
            latest = max(r.last_assessed for r in group if r.last_assessed)
            day = ctx.day(latest, 14, 56)
            if day > ctx.last:
                continue
            closer = ctx.lead if rng.random() < 0.7 else rng.choice(self.managers)
            summary = rng.choice(CLOSURE_SUMMARIES)
            letter = check_file(
                f"closure-letter-{ctx.inspection.reference}-{day:%Y-%m-%d}.txt",
                LETTER.format(
                    inspectorate=self.inspectorate,
                    day=day,
                    force=ctx.force_names,
                    reference=ctx.inspection.reference,
                    headline=cause.finding.headline,
                    summary=summary,
                ).encode(),
            )
            letter_file = self._store(rng, letter, None, day, _who(closer))
            self.closures.append(
                ConcernClosure(
                    cause_of_concern=cause.finding,
                    letter=letter_file,
                    summary=summary,
                    closed_on=day,
                    closed_by=closer,
                    recorded_at=_at(day, rng),
                )
            )
            self.counts["concern_closures"] += 1
            for rec in group:
                if rec.closing is None or rec.closing[0] > day:
                    rec.closing = (day, _who(closer), "Closed with its cause of concern")
            for rec in group:  # the recommendations first, as `concern_close` does
                if rec.closing and not rec.ended:
                    rec.step(S.CLOSED, rec.closing[0], rec.closing[2], rec.closing[1])
                    rec.ended = True
            cause.step(S.CLOSED, day, summary, _who(closer))
            cause.ended = True

    # Writing -------------------------------------------------------------------------------

    def finish(self) -> dict[str, int]:
        """Write it all, in bulk, and return the counts."""
        began = time.monotonic()
        with _times_as_given(
            ActionPlan,
            ProgressUpdate,
            EvidenceFile,
            Comment,
            Assessment,
            ConcernClosure,
            RecommendationStatusChange,
        ):
            ActionPlan.objects.bulk_create(self.plans, batch_size=BATCH)
            PlannedAction.objects.bulk_create(self.actions, batch_size=BATCH)
            ProgressUpdate.objects.bulk_create(self.updates, batch_size=BATCH)
            EvidenceFile.objects.bulk_create(self.files, batch_size=200)
            Comment.objects.bulk_create(self.comments, batch_size=BATCH)
            Assessment.objects.bulk_create(self.assessments, batch_size=BATCH)
            ConcernClosure.objects.bulk_create(self.closures, batch_size=BATCH)
            steps = [step for followed in self.followed for step in followed.steps]
            RecommendationStatusChange.objects.bulk_create(steps, batch_size=BATCH)
        changed = [f for f in self.followed if f.steps]
        for followed in changed:
            followed.finding.status, followed.finding.status_on = followed.status, followed.on
        Finding.objects.bulk_update(
            [f.finding for f in changed], ["status", "status_on"], batch_size=500
        )
        FollowUp.objects.bulk_update(
            self.follow_ups,
            ["route", "route_rationale", "route_decided_by", "route_decided_on", "version"],
            batch_size=500,
        )
        data_changed("findings")
        self.counts["status_changes"] = len(steps)
        recs = [f for f in self.followed if f.finding.kind == Kind.RECOMMENDATION]
        self.counts["recommendations"] = len(recs)
        self.counts["causes_of_concern"] = len(self.followed) - len(recs)
        self.counts["overdue"] = sum(
            1
            for f in recs
            if f.status in FORCE_TO_ACT and f.finding.due_on and f.finding.due_on < self.today
        )
        self.counts["closed"] = sum(1 for f in recs if f.status == S.CLOSED)
        self.counts["carried_over"] = sum(1 for f in self.followed if f.status == S.CARRIED_OVER)
        self.seconds += time.monotonic() - began
        return dict(sorted(self.counts.items()))
