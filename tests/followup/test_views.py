"""The follow-up pages as their users use them: forms, refusals shown on the form, the
tracker's filters and downloads, and a fixed number of queries whatever the data size."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from apps.core.models import AuditEvent
from apps.findings import services as findings_services
from apps.findings.models import Finding, Kind
from apps.findings.services import RecommendationTerms
from apps.followup import services
from apps.followup.models import ActionPlan, Assessment, FollowUp, ProgressUpdate

from .conftest import publish_as_history


@pytest.fixture
def client_for():
    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


def _plan_post(pub) -> dict[str, str]:
    data = {"summary": "Our plan"}
    for rec in services.plan_recommendations(pub.inspection):
        p = f"rec_{rec.pk}_"
        data |= {
            p + "action": "Brief every officer.",
            p + "expected_impact": "Children are heard.",
            p + "target_date": "2027-03-01",
            p + "evidence_measure": "A monthly audit.",
        }
    return data


def test_the_liaison_sends_the_action_plan_with_a_file(pub, client_for):
    client = client_for(pub.users["liaison"])
    url = reverse("followup:plan-submit", args=[pub.inspection.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "12 November 2026" in page.content.decode()  # six weeks after 1 October
    data = _plan_post(pub)
    data[f"rec_{pub.later.pk}_action"] = ""
    page = client.post(url, data)
    assert page.status_code == 200
    body = page.content.decode()
    assert "There is a problem" in body
    assert f"Recommendation {pub.later.number}: enter what the force will do." in body
    assert not ActionPlan.objects.exists()
    data = _plan_post(pub)
    data["attachments"] = io.BytesIO(b"Action plan\n1. Brief every officer.\n")
    data["attachments"].name = "plan.txt"
    page = client.post(url, data)
    plan = ActionPlan.objects.get()
    assert page.status_code == 302
    assert page.url == reverse("followup:plan", args=[pub.inspection.pk, plan.number])
    assert plan.files.get().name == "plan.txt"
    # The lead reviews it on its page.
    lead = client_for(pub.users["lead"])
    review = lead.post(page.url, {"decision": "accept", "note": "", "version": str(plan.version)})
    assert review.status_code == 302
    plan.refresh_from_db()
    assert plan.status == ActionPlan.Status.ACCEPTED


def test_a_bad_file_is_refused_on_the_form_naming_the_file(pub, client_for):
    client = client_for(pub.users["liaison"])
    upload = io.BytesIO(b"MZ\x90\x00 not a document")
    upload.name = "tool.exe"
    page = client.post(
        reverse("followup:progress", args=[pub.later.pk]),
        {"kind": "progress", "text": "See attached", "attachments": upload},
    )
    assert page.status_code == 200
    assert "tool.exe: files of this type are not accepted" in page.content.decode()
    assert not ProgressUpdate.objects.exists()


def test_the_inspector_assesses_and_the_history_shows_it(pub, client_for):
    client = client_for(pub.users["inspector"])
    url = reverse("followup:assess", args=[pub.later.pk])
    assert client.get(url).status_code == 200
    page = client.post(
        url,
        {
            "outcome": "partly_achieved",
            "reasoning": "Supervision is better in two commands of three.",
            "public_note": "Progress in two of three commands.",
            "on": timezone.localdate().isoformat(),
        },
    )
    assert page.status_code == 302
    assert Assessment.objects.get().outcome == "partly_achieved"
    detail = client.get(reverse("followup:recommendation", args=[pub.later.pk])).content.decode()
    assert "Progress in two of three commands." in detail
    assert "Supervision is better in two commands of three." in detail


def test_the_pcc_summary_has_action_impact_timing_and_evidence(pub, client_for):
    services.action_plan_submit(
        actor=pub.users["liaison"],
        inspection=pub.inspection,
        summary="",
        actions={
            rec.pk: services.PlannedActionInput(
                "Weekly supervision of every investigation.",
                "Fewer children wait for action.",
                dt.date(2027, 4, 30),
                "Supervision recorded in 95% of cases at audit.",
            )
            for rec in services.plan_recommendations(pub.inspection)
        },
    )
    body = (
        client_for(pub.users["liaison"])
        .get(reverse("followup:summary", args=[pub.later.pk]))
        .content.decode()
    )
    for text in (
        "Weekly supervision of every investigation.",
        "Fewer children wait for action.",
        "30 April 2027",
        "Supervision recorded in 95% of cases at audit.",
    ):
        assert text in body


def test_the_tracker_filters_sorts_and_downloads(pub, client_for):
    client = client_for(pub.users["analyst"])
    page = client.get(reverse("followup:tracker"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "4 recommendations match" in body
    assert "Northshire Police" in body and "Southshire Police" in body
    overdue = client.get(reverse("followup:tracker") + "?overdue=1").content.decode()
    assert "1 recommendation match" in overdue  # the "immediately" one
    assert pub.immediate.headline[:40] in overdue
    only_south = client.get(
        reverse("followup:tracker") + f"?force={pub.other.forces.get().code}"
    ).content.decode()
    assert "1 recommendation match" in only_south
    csv_response = client.get(reverse("followup:tracker-export", args=["csv"]) + "?overdue=1")
    text = csv_response.content.decode()
    assert text.splitlines()[0].startswith("Force,Inspection,Recommendation")
    assert len(text.strip().splitlines()) == 2
    xlsx = client.get(reverse("followup:tracker-export", args=["xlsx"]))
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == 5
    assert AuditEvent.objects.filter(action="export", object_type="followup.tracker").count() == 2


def test_an_unknown_filter_value_is_ignored_not_an_error(pub, client_for):
    page = client_for(pub.users["manager"]).get(
        reverse("followup:tracker") + "?status=nonsense&sort=evil&page=999"
    )
    assert page.status_code == 200


def test_export_cells_that_look_like_formulas_are_defused(pub, client_for):
    Finding.objects.filter(pk=pub.later.pk).update(headline='=HYPERLINK("http://x")')
    text = (
        client_for(pub.users["manager"])
        .get(reverse("followup:tracker-export", args=["csv"]))
        .content.decode()
    )
    assert "'=HYPERLINK" in text


def _more_recommendations(pub, n: int) -> None:
    inspection = pub.fw.other_inspection
    from apps.inspections.models import Inspection, State

    Inspection.objects.filter(pk=inspection.pk).update(state=State.FIELDWORK)
    inspection.refresh_from_db()
    FollowUp.objects.filter(inspection=inspection).delete()
    Finding.objects.filter(inspection=inspection).update(status="", status_on=None)
    for i in range(n):
        findings_services.finding_create(
            actor=pub.users["outsider"],
            inspection=inspection,
            kind=Kind.RECOMMENDATION,
            headline=f"Recommendation {i} about missing children.",
            terms=RecommendationTerms(headline=f"Recommendation {i}", timescale_months=1 + i % 6),
        )
    Finding.objects.filter(inspection=inspection).update(status="")
    from apps.findings.models import RecommendationStatusChange

    RecommendationStatusChange.objects.filter(recommendation__inspection=inspection).delete()
    publish_as_history(inspection)


def _queries(client: Client, url: str) -> int:
    client.get(url)  # warm the per-person caches (the header's unread count)
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def test_pages_make_a_fixed_number_of_queries_whatever_the_data_size(pub, client_for):
    manager = client_for(pub.users["manager"])
    liaison = client_for(pub.users["other_liaison"])
    urls = [
        (manager, reverse("followup:tracker")),
        (manager, reverse("followup:tracker") + "?overdue=1&sort=force"),
        (manager, reverse("followup:home")),
        (liaison, reverse("followup:home")),
        (manager, reverse("followup:inspection", args=[pub.other.pk])),
    ]
    before = [_queries(client, url) for client, url in urls]
    _more_recommendations(pub, 12)
    for rec in Finding.objects.filter(inspection=pub.other, kind=Kind.RECOMMENDATION)[:6]:
        services.progress_post(
            actor=pub.users["other_liaison"],
            recommendation=rec,
            text="Progress",
            files=[("a.txt", b"one\n"), ("b.txt", b"two\n")],
        )
    after = [_queries(client, url) for client, url in urls]
    assert after == before
    rec = Finding.objects.filter(inspection=pub.other, progress_updates__isnull=False).first()
    url = reverse("followup:recommendation", args=[rec.pk])
    one = _queries(liaison, url)
    services.progress_post(
        actor=pub.users["other_liaison"],
        recommendation=rec,
        text="More",
        files=[("c.txt", b"three\n")],
    )
    services.comment_post(actor=pub.users["other_liaison"], recommendation=rec, text="Hello")
    assert _queries(liaison, url) == one


def test_a_recommendation_to_two_forces_counts_once_nationally(pub, client_for):
    """A thematic inspects several forces: its recommendation is in each force's counts, and
    once in the national total."""
    pub.inspection.forces.add(pub.other.forces.get())
    from apps.followup import selectors

    counts = selectors._force_counts(dt.date(2026, 11, 26).isoformat())
    per_force = {f["name"]: f["total"] for f in counts["forces"]}
    assert per_force == {"Northshire Police": 3, "Southshire Police": 4}
    assert (
        counts["national"]["total"]
        == 4
        == Finding.objects.filter(kind=Kind.RECOMMENDATION).exclude(status="").count()
    )


def test_the_trackers_body_is_kept_until_a_status_changes(pub, client_for):
    client = client_for(pub.users["manager"])
    url = reverse("followup:tracker") + "?sort=status"
    first = client.get(url).content.decode()
    with CaptureQueriesContext(connection) as again:
        second = client.get(url).content.decode()
    # The same page (but for the sign-out form's token, which is masked afresh each time).
    assert second.split("<main")[1] == first.split("<main")[1]
    # Only the session, the user and the two-factor device: no recommendation is read.
    assert not any("findings_finding" in q["sql"] for q in again.captured_queries)
    services.progress_post(
        actor=pub.users["liaison"], recommendation=pub.later, text="Training has started."
    )
    third = client.get(url).content.decode()
    assert third != first and "Being progressed" in third
