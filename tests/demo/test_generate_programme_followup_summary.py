"""`generate_programme` prints a follow-up table: what the database holds after generation,
counted with a fixed number of aggregate queries, and equal to counting it row by row."""

from __future__ import annotations

from collections import Counter
from io import StringIO

from django.core.management import call_command

from apps.demo.management.commands.generate_programme import follow_up_table
from apps.demo.models import DemoProgramme
from apps.findings.models import Finding, Kind, RecommendationStatus
from apps.followup.models import ActionPlan, Comment, EvidenceFile, FollowUp, ProgressUpdate

from .conftest import SEED, TODAY

S = RecommendationStatus
# Open with the next move the force's: overdue once past the due date (as the tracker says).
FORCE_TO_ACT = {
    S.AWAITING_RESPONSE,
    S.ACTION_PLAN_RECEIVED,
    S.BEING_PROGRESSED,
    S.PARTLY_ACHIEVED,
    S.NOT_ACHIEVED,
}


def _printed_table(output: str, title: str) -> dict[str, int]:
    """The rows of one printed table: its label (as printed) and number."""
    lines = output.splitlines()
    start = lines.index(f"{title}:") + 1
    rows: dict[str, int] = {}
    for line in lines[start:]:
        if not line.startswith("  "):
            break
        label, number = line.strip().rsplit(maxsplit=1)
        rows[" ".join(label.split())] = int(number)
    return rows


def _counted_row_by_row() -> dict[str, int]:
    """The same numbers, from the rows themselves rather than aggregates."""
    followed = set(FollowUp.objects.values_list("inspection_id", flat=True))
    recs = [
        (status, due_on)
        for status, due_on, inspection_id in Finding.objects.filter(
            kind=Kind.RECOMMENDATION
        ).values_list("status", "due_on", "inspection_id")
        if status and inspection_id in followed
    ]
    by_status = Counter(status for status, _ in recs)
    plans = Counter(ActionPlan.objects.values_list("status", flat=True))
    counted = {"recommendations": len(recs)}
    counted |= {f"recommendations {s.value.replace('_', ' ')}": by_status[s.value] for s in S}
    counted["recommendations overdue"] = sum(
        1 for status, due_on in recs if status in FORCE_TO_ACT and due_on and due_on < TODAY
    )
    counted |= {
        "action plans": sum(plans.values()),
        "action plans awaiting review": plans[ActionPlan.Status.SUBMITTED],
        "action plans accepted": plans[ActionPlan.Status.ACCEPTED],
        "action plans changes requested": plans[ActionPlan.Status.CHANGES_REQUESTED],
        "progress updates": len(ProgressUpdate.objects.values_list("pk", flat=True)),
        "comments": len(Comment.objects.values_list("pk", flat=True)),
        "evidence files": len(EvidenceFile.objects.values_list("pk", flat=True)),
    }
    return counted


def test_the_follow_up_table_counts_what_is_in_the_database(
    programme_inputs, django_assert_num_queries
):
    out = StringIO()
    call_command("generate_programme", "--today", str(TODAY), "--seed", str(SEED), stdout=out)
    printed = _printed_table(out.getvalue(), "Follow-up")

    counted = _counted_row_by_row()
    assert printed == counted
    assert list(printed) == list(counted)  # and in that order

    # The statuses add up to the total, and the demo has something in each part.
    assert (
        printed["recommendations"]
        == sum(n for label, n in printed.items() if label.startswith("recommendations "))
        - printed["recommendations overdue"]
    )
    assert printed["recommendations overdue"] >= 1
    assert printed["action plans"] >= 1
    assert printed["progress updates"] and printed["comments"] and printed["evidence files"]
    # ... and agrees with what the generator counted as it wrote.
    written = DemoProgramme.objects.get().summary["follow_up"]
    assert printed["recommendations overdue"] == written["overdue"]
    assert printed["action plans"] == written["action_plans"]
    assert printed["progress updates"] == written["progress_updates"]
    assert printed["comments"] == written["comments"]
    assert printed["evidence files"] == written["evidence_files"]

    # A fixed number of queries: two aggregates and three counts.
    with django_assert_num_queries(5):
        table = follow_up_table(TODAY)
    assert {label.replace("_", " "): n for label, n in table.items()} == printed
