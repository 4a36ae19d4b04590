import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError
from django.db.models import Count, Q
from django.utils import timezone

from apps.demo.generator import DEFAULT_SEED, GenerationError, generate_programme
from apps.demo.models import DemoProgramme
from apps.demo.selectors import demo_programme_current
from apps.findings.models import Finding, Kind, RecommendationStatus
from apps.followup.models import ActionPlan, Comment, EvidenceFile, ProgressUpdate
from apps.followup.reminders import FORCE_TO_ACT


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--today '{value}' is not a date (YYYY-MM-DD)") from exc


class Command(BaseCommand):
    help = (
        "Generate a clearly fictional programme (invented staff on example.org, no children) "
        "through the services, relative to --today. Safe to run twice: if a generated "
        "programme is already there it says so and changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            choices=DemoProgramme.Scale.values,
            default=DemoProgramme.Scale.DEMO,
            help="demo: a dozen inspections at every stage; national: ten "
            "years of the programme for all 43 forces",
        )
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
        )
        parser.add_argument(
            "--today",
            type=_date,
            default=None,
            help="the day the programme is generated as at (default: today); "
            "everything generated depends only on this and the seed",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        scale, seed = options["scale"], options["seed"]
        today = options["today"] or timezone.localdate()
        if self._already_there(scale, seed):
            return
        self.stdout.write(
            f"Generating the {scale} programme as at {today:%-d %B %Y} (seed {seed})..."
        )
        try:
            result = generate_programme(
                scale=scale, seed=seed, today=today, progress=self.stdout.write
            )
        except GenerationError as exc:
            raise CommandError(str(exc)) from exc
        except IntegrityError:
            # Another run got there first (both saw an empty database).
            if self._already_there(scale, seed):
                return
            raise
        summary = result.summary
        self.stdout.write(
            self.style.SUCCESS(
                f"Generated {summary['inspections']} inspections, {summary['people']} people and "
                f"{summary['organisations']} organisations in {result.seconds:.1f} s."
            )
        )
        self.stdout.write(_table("Inspections by type", summary["by_type"]))
        self.stdout.write(_table("Inspections by stage", summary["by_state"]))
        self.stdout.write(_table("People by role", summary["by_role"]))
        if summary.get("fieldwork"):
            self.stdout.write(_table("Fieldwork", summary["fieldwork"]))
        if summary.get("follow_up"):
            self.stdout.write(_table("Follow-up", follow_up_table(today)))
        self.stdout.write(f"Audit events written: {summary['audit_events']}")
        self.stdout.write("Sign in with `python manage.py demo_sign_ins` to see who is who.")

    def _already_there(self, scale: str, seed: int) -> bool:
        existing = demo_programme_current()
        if existing is None:
            return False
        self.stdout.write(
            f"A generated programme is already there ({existing}); nothing was changed."
        )
        if existing.scale != scale or existing.seed != seed:
            self.stdout.write(
                self.style.WARNING(
                    f"It is not the one asked for ({scale}, seed {seed}): use a fresh database "
                    "for another."
                )
            )
        return True


def follow_up_table(today: dt.date) -> dict[str, int]:
    """What follow-up holds, read back from the database: the published recommendations by
    current status and how many are overdue on `today` (as the tracker counts them), the
    action plans by review, and the force's updates, the comments and the evidence files.
    Five aggregate queries, whatever the scale."""
    statuses = RecommendationStatus.values
    recs = (
        Finding.objects.filter(kind=Kind.RECOMMENDATION, inspection__follow_up_record__isnull=False)
        .exclude(status="")
        .aggregate(
            recommendations=Count("id"),
            **{f"recommendations_{s}": Count("id", filter=Q(status=s)) for s in statuses},
            recommendations_overdue=Count(
                "id", filter=Q(due_on__lt=today, status__in=FORCE_TO_ACT)
            ),
        )
    )
    plan_statuses = {
        "awaiting_review": ActionPlan.Status.SUBMITTED,
        "accepted": ActionPlan.Status.ACCEPTED,
        "changes_requested": ActionPlan.Status.CHANGES_REQUESTED,
    }
    plans = ActionPlan.objects.aggregate(
        action_plans=Count("id"),
        **{
            f"action_plans_{name}": Count("id", filter=Q(status=status))
            for name, status in plan_statuses.items()
        },
    )
    return {
        "recommendations": recs["recommendations"],
        **{f"recommendations_{s}": recs[f"recommendations_{s}"] for s in statuses},
        "recommendations_overdue": recs["recommendations_overdue"],
        "action_plans": plans["action_plans"],
        **{f"action_plans_{name}": plans[f"action_plans_{name}"] for name in plan_statuses},
        "progress_updates": ProgressUpdate.objects.count(),
        "comments": Comment.objects.count(),
        "evidence_files": EvidenceFile.objects.count(),
    }


def _table(title: str, counts: object) -> str:
    assert isinstance(counts, dict)
    width = max((len(str(k)) for k in counts), default=0)
    lines = [f"{title}:"] + [
        f"  {str(k).replace('_', ' '):<{width}}  {v:>6}" for k, v in counts.items()
    ]
    return "\n".join(lines)
