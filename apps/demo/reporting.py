"""Findings, reports and publications for the fictional programme.

Every inspection that has finished fieldwork gets a findings register: strengths, promising
(earlier: effective) practice, areas for improvement, causes of concern (more where its case
grades were worse) and recommendations, each tied to a stage of its methodology and to an
evidence item or two. Every inspection in reporting or later gets a drafted report; every one
that was published gets its publication, frozen as the real publication would be: its HTML
body (with the case file tables from its audits, small numbers withheld), its data, and the
public status history's first entry. Their PDFs are made the first time someone asks for one
(`reports.services.publication_pdf`), since rendering hundreds of PDFs would make the demo
slow to build and nobody reads most of them.

This is history, so it is written directly rather than through the services (which refuse
changes after publication), with one audit event per inspection. All the text is invented
from the phrases below, in the register of real reports but naming no one.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping, Sequence

from django.utils import timezone

from apps.accounts.models import User
from apps.core.audit import SystemActor, audit_record
from apps.core.cache import data_changed
from apps.core.models import AuditEvent
from apps.demo.catalogue import stage_work
from apps.findings.models import (
    EvidenceItem,
    Finding,
    Kind,
    RecommendationStatus,
    RecommendationStatusChange,
    Timescale,
)
from apps.followup.models import FollowUp
from apps.inspections.models import Inspection, ProgrammeType, State, TeamRole
from apps.reports import services as report_services
from apps.reports.content import report_content
from apps.reports.models import Language, Report, ReportSection, SectionRevision

ACTOR = SystemActor("generate_programme")
AFTER_FIELDWORK = frozenset(
    {
        State.REPORTING,
        State.QUALITY_ASSURANCE,
        State.PUBLISHED,
        State.FOLLOW_UP,
        State.CLOSED,
    }
)
PUBLISHED = frozenset({State.PUBLISHED, State.FOLLOW_UP, State.CLOSED})

# {work}: the stage's work, as it reads before "teams", "cases", "records" (stage_work).
STRENGTHS = (
    "Officers in the {work} teams understand the risks children face and act on them quickly.",
    "Supervisors review {work} work promptly and record clear directions.",
    "The force works well with partner agencies on {work} cases, sharing information at once.",
    "Staff in the {work} teams are well trained and have manageable workloads.",
    "Officers record the child's views and demeanour well in {work} cases.",
)
PROMISING = (
    "A dedicated officer in the multi-agency safeguarding hub reviews every police notification "
    "about a child within a day, an approach other forces could learn from.",
    "The force has trained call handlers to ask about children at every domestic abuse "
    "incident, and audits the calls each month.",
    "Officers use a short checklist on their mobile devices so that no child at an incident "
    "is missed, and supervisors check it on every shift.",
)
IMPROVEMENTS = (
    "The force should make sure that {work} records show how decisions about children were "
    "reached.",
    "Supervision of {work} work is not consistent across the force area.",
    "Officers do not always tell children's social care about children at risk in {work} cases.",
    "The force's performance information on {work} work does not show leaders how well "
    "children are protected.",
)
CONCERNS = (
    "Too many children wait too long for the help they need because the {work} teams cannot "
    "keep up with demand.",
    "The force does not identify the risks to children in {work} cases often enough, so some "
    "children are left at risk.",
    "Decisions in {work} cases are not recorded well enough to show that children are safe.",
)
RECOMMENDATIONS = (
    "Make sure that officers in the {work} teams assess and record the risk to every child, "
    "and that supervisors check they have.",
    "Review how the {work} teams are resourced, so that children are seen and helped without "
    "delay.",
    "Work with partner agencies to agree how information about children in {work} cases is shared.",
    "Audit {work} cases every quarter and act on what the audits find.",
)
NARRATIVES = (
    "We looked at policies, spoke to officers and staff, and audited case files. In most of the "
    "cases we examined, officers acted to protect the child, but the quality of records varied.",
    "Officers and staff were committed to protecting children. Leaders had plans in place, but "
    "these were not yet making a consistent difference to what officers did.",
    "We found that practice had improved since our last inspection, although the improvement "
    "was not consistent across the force area.",
)
EVIDENCE = (
    ("interview", "Focus group with child protection officers"),
    ("interview", "Meeting with the multi-agency safeguarding hub managers"),
    ("document", "Force child protection policy"),
    ("document", "Force performance data on referrals"),
    ("interview", "Interview with the chief officer lead for child protection"),
)


def _worded(text: str, stage: dict) -> str:
    return text.format(work=stage_work(stage["code"], stage["name"]))


class _CarryOver:
    """A re-inspection carries over some of the causes of concern and recommendations of the
    inspection it follows (those that endure, worded as before, on the same stage). Its own
    random stream decides which, so the rest of the register reads as it would without."""

    CHANCE: dict[str, float] = {Kind.CAUSE_OF_CONCERN: 0.7, Kind.RECOMMENDATION: 0.5}

    def __init__(self, inspection: Inspection, stages: set[str], rng: random.Random) -> None:
        self.rng = rng
        self.earlier: dict[str, list[Finding]] = {}
        if inspection.programme_type == ProgrammeType.NCPI_REINSPECTION and inspection.follows_id:
            for finding in Finding.objects.filter(
                inspection_id=inspection.follows_id, kind__in=list(self.CHANCE), stage__in=stages
            ).order_by("order", "id"):
                self.earlier.setdefault(finding.kind, []).append(finding)

    def take(self, kind: str) -> Finding | None:
        """An earlier finding of this kind to carry over (its stage is one of this
        inspection's), or None."""
        candidates = self.earlier.get(kind, [])
        if kind not in self.CHANCE or not candidates or self.rng.random() >= self.CHANCE[kind]:
            return None
        chosen = self.rng.choice(candidates)
        candidates.remove(chosen)
        return chosen


class Reporting:
    """Writes each finished inspection's findings and report, and its publication."""

    def __init__(self, *, seed: int, quality: Mapping[str, float]) -> None:
        self.seed = seed
        self.quality = quality
        self.counts = {"findings": 0, "reports": 0, "publications": 0}
        self.seconds = 0.0

    def write(
        self, plan_key: str, inspection: Inspection, team: Sequence[tuple[User, str]]
    ) -> None:
        if inspection.state not in AFTER_FIELDWORK:
            return
        began = time.monotonic()
        rng = random.Random(f"{self.seed}:findings:{plan_key}")
        lead = next(user for user, role in team if role == TeamRole.LEAD_INSPECTOR)
        inspectors = [user for user, role in team if role == TeamRole.INSPECTOR] or [lead]
        author = rng.choice(inspectors)
        findings = self._findings(inspection, rng, author, self.quality.get(plan_key, 0.0))
        report = self._report(inspection, rng, author)
        if inspection.state in PUBLISHED:
            self._publish(inspection, report, lead)
        audit_record(
            actor=ACTOR,
            action=AuditEvent.Action.SYSTEM,
            instance=inspection,
            summary=f"Demo findings ({findings}) and report"
            + (" published" if inspection.state in PUBLISHED else " drafted"),
        )
        self.seconds += time.monotonic() - began

    def _findings(
        self, inspection: Inspection, rng: random.Random, author: User, quality: float
    ) -> int:
        stages = inspection.methodology.stages
        if not stages:
            return 0
        evidence = [
            EvidenceItem.objects.create(
                inspection=inspection,
                source=source,
                title=title,
                gathered_on=inspection.fieldwork_start,
                created_by=author,
            )
            for source, title in rng.sample(EVIDENCE, 3)
        ]
        order = 0
        number = 0
        made: list[Finding] = []
        by_code = {stage["code"]: stage for stage in stages}
        carry = _CarryOver(
            inspection, set(by_code), random.Random(f"{self.seed}:carry:{inspection.reference}")
        )

        def add(kind: str, stage: dict, headline: str, **extra: object) -> Finding:
            nonlocal order
            order += 1
            source = carry.take(kind)
            if source is not None and source.headline in used.get(kind, ()):
                source = None  # carried over already as another's words: this one is new
            if source is not None:
                stage = by_code[source.stage]
                headline = source.headline
                extra["carried_over_from"] = source
            finding = Finding.objects.create(
                inspection=inspection,
                kind=kind,
                stage=stage["code"],
                headline=headline,
                narrative=rng.choice(NARRATIVES) if kind != Kind.RECOMMENDATION else "",
                order=order,
                created_by=author,
                updated_by=author,
                **extra,
            )
            finding.evidence.set(rng.sample(evidence, rng.randint(1, 2)))
            made.append(finding)
            used.setdefault(kind, set()).add(headline)
            return finding

        # The causes of concern and recommendations made so far, by kind: one is not made
        # twice while the list has another for its stage.
        used: dict[str, set[str]] = {}

        def fresh(kind: str, options: Sequence[str], stage: dict) -> str:
            """One of `options` for `stage`, drawn as rng.choice would draw it (so the demo's
            stream is as before), or the next of the list if that one is made already."""
            pick = rng.randrange(len(options))
            for step in range(len(options)):
                headline = _worded(options[(pick + step) % len(options)], stage)
                if headline not in used.get(kind, ()):
                    return headline
            return _worded(options[pick], stage)

        def recommend(stage: dict, cause: Finding | None = None) -> None:
            nonlocal number
            number += 1
            months = rng.choice((3, 6, 6, 12))
            immediate = rng.random() < 0.15
            add(
                Kind.RECOMMENDATION,
                stage,
                fresh(Kind.RECOMMENDATION, RECOMMENDATIONS, stage),
                number=number,
                cause_of_concern=cause,
                to_force=True,
                to_pcc=rng.random() < 0.2,
                timescale=Timescale.IMMEDIATELY if immediate else Timescale.MONTHS,
                timescale_months=None if immediate else months,
            )

        # Worse inspections (higher latent quality means worse grades) have more concerns.
        concerns = max(0, min(3, round(1 + quality * 1.5 + rng.uniform(-0.7, 0.7))))
        for stage, text in rng.sample(
            [(s, t) for s in stages for t in STRENGTHS], rng.randint(2, 4)
        ):
            add(Kind.STRENGTH, stage, _worded(text, stage))
        if rng.random() < 0.6:
            stage = rng.choice(stages)
            add(Kind.PROMISING_PRACTICE, stage, rng.choice(PROMISING))
        pairs = [(s, t) for s in stages for t in IMPROVEMENTS]
        for stage, text in rng.sample(pairs, rng.randint(2, 4)):
            add(Kind.AREA_FOR_IMPROVEMENT, stage, _worded(text, stage))
        for _ in range(concerns):
            stage = rng.choice(stages)
            cause = add(Kind.CAUSE_OF_CONCERN, stage, fresh(Kind.CAUSE_OF_CONCERN, CONCERNS, stage))
            stage = by_code.get(cause.stage, stage)  # a carried-over cause keeps its stage
            for _ in range(rng.randint(1, 2)):
                recommend(stage, cause)
        for _ in range(rng.randint(0, 2)):
            recommend(rng.choice(stages))
        self.counts["findings"] += len(made)
        return len(made)

    def _report(self, inspection: Inspection, rng: random.Random, author: User) -> Report:
        report = Report.objects.create(
            inspection=inspection, language=Language.ENGLISH, title=inspection.title
        )
        force = inspection.forces.order_by("name").first()
        name = force.name if force else "the force"
        texts = {
            "foreword": f"This report sets out what we found when we inspected how {name} "
            "protects children. We thank the officers, staff and partner agencies who helped "
            "us.",
            "summary": f"{name} has committed officers and staff, and leaders who want to "
            "protect children well. But practice is not consistent: some children still wait "
            "too long for the help they need.",
            "context": f"{name} works with the local authorities in its area, each with its own "
            "children's services, through the local safeguarding partnerships.",
            "conclusion": "The force knows where it needs to improve. It now needs to act "
            "quickly so that every child gets a consistent response.",
        }
        for order, (kind, stage, title) in enumerate(
            report_services.section_plan(inspection), start=1
        ):
            body = texts.get(kind, "")
            if kind == "stage":
                body = rng.choice(NARRATIVES)
            elif kind == "next_steps":
                body = report_services.NEXT_STEPS_TEXT
            section = ReportSection.objects.create(
                report=report,
                kind=kind,
                stage=stage,
                title=title,
                order=order,
                body=body,
                updated_by=author,
            )
            if body:
                SectionRevision.objects.create(
                    section=section, number=1, body=body, by=author, by_label=author.username
                )
        self.counts["reports"] += 1
        return report

    def _publish(self, inspection: Inspection, report: Report, lead: User) -> None:
        change = inspection.state_changes.filter(to_state=State.PUBLISHED).first()
        on = change.on if change else inspection.state_changed_on or timezone.localdate()
        report.inspection = inspection
        content = report_content(report)
        due: dict[int, str | None] = {}
        for rec in content.recommendations:
            rec.due_on = rec.due_date_on_publication(on)
            Finding.objects.filter(pk=rec.pk).update(due_on=rec.due_on)
            due[rec.pk] = rec.due_on.isoformat() if rec.due_on else None
        # Each recommendation's public history starts, and so does each cause of concern's
        # (open until closed by letter), as `reports.services.report_publish` does; the
        # finding keeps its current status; the follow-up starts with its plan's due date.
        followed = [*content.recommendations, *content.causes]
        RecommendationStatusChange.objects.bulk_create(
            RecommendationStatusChange(
                recommendation=finding,
                status=RecommendationStatus.AWAITING_RESPONSE,
                on=on,
                note="Published",
                by=None,
                by_label=str(ACTOR),
            )
            for finding in followed
        )
        Finding.objects.filter(pk__in=[f.pk for f in followed]).update(
            status=RecommendationStatus.AWAITING_RESPONSE, status_on=on
        )
        for finding in followed:
            finding.status, finding.status_on = RecommendationStatus.AWAITING_RESPONSE, on
        FollowUp.objects.create(
            inspection=inspection, published_on=on, action_plan_due_on=FollowUp.plan_due(on)
        )
        fingerprint = content.fingerprint()
        Report.objects.filter(pk=report.pk).update(
            signed_off_by=lead,
            signed_off_fingerprint=fingerprint,
            checked_fingerprint=fingerprint,
        )
        publication = report_services.publication_freeze(
            content,
            on=on,
            due=due,
            version=1,
            slug=report_services.publication_slug(inspection),
            by=None,
        )
        publication.save()
        publication.forces.set(inspection.forces.all())
        publication.local_authorities.set(inspection.local_authorities.all())
        self.counts["publications"] += 1

    def finish(self) -> dict[str, int]:
        data_changed("findings")
        data_changed("publications")
        return dict(self.counts)
