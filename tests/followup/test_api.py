"""The forces' REST API: scoped to the key's force, refusals logged and audited, updates
through the same service and file checks as the site, and its OpenAPI document."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.audit import SystemActor
from apps.core.models import AuditEvent
from apps.findings.models import RecommendationStatus
from apps.followup import services, tokens
from apps.followup.files import decrypt
from apps.followup.models import EvidenceFile, ProgressUpdate

from .api_fixtures import API, ApiClient, Keys, make_keys

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.followup.api_urls")]


@pytest.fixture(name="keys")
def keys_fixture(pub) -> Keys:
    return make_keys(pub)


@pytest.fixture(name="api_north")
def api_north_fixture(keys) -> ApiClient:
    return ApiClient(keys.north_key)


S = RecommendationStatus
TXT = b"Audit of 40 cases: officers recorded the child's views in 38.\n"
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n%%EOF\n"


def _file(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def _refusals() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN_FAILED).order_by("id"))


# Reading ----------------------------------------------------------------------------------


def test_the_list_is_the_keys_own_forces_published_recommendations(pub, api_north):
    response = api_north.get("/recommendations")
    assert response.status_code == 200
    body = response.json()
    ids = {item["id"] for item in body["items"]}
    # Its three recommendations; not the cause of concern, not Southshire's recommendation.
    assert ids == {pub.concern_rec.pk, pub.immediate.pk, pub.later.pk}
    assert body["count"] == 3
    later = next(i for i in body["items"] if i["id"] == pub.later.pk)
    assert later["inspection"] == pub.inspection.reference
    assert later["text"] == "Improve the supervision of child protection investigations."
    assert later["addressees"] == ["the force", "the police and crime commissioner"]
    assert later["timescale"] == "Within 6 months of publication"
    assert later["due_on"] == "2027-04-01"
    assert later["status"] == "awaiting_response"
    assert later["status_label"] == "Awaiting response"
    assert later["status_on"] == "2026-10-01"
    concern_rec = next(i for i in body["items"] if i["id"] == pub.concern_rec.pk)
    assert concern_rec["cause_of_concern"] == pub.cause.headline


def test_the_list_filters_and_pages(pub, api_north):
    with transaction.atomic():
        services.status_record(
            actor=SystemActor("tests"),
            recommendation=pub.later,
            status=S.BEING_PROGRESSED,
            on=dt.date(2026, 11, 2),
        )
    progressed = api_north.get("/recommendations", {"status": "being_progressed"}).json()
    assert [i["id"] for i in progressed["items"]] == [pub.later.pk]
    assert api_north.get("/recommendations", {"inspection": pub.other.reference}).json() == {
        "count": 0,
        "limit": 50,
        "offset": 0,
        "items": [],
    }
    by_reference = api_north.get("/recommendations", {"inspection": pub.inspection.reference})
    assert by_reference.json()["count"] == 3
    # The "immediately" recommendation was due on publication and still awaits a response.
    overdue = api_north.get("/recommendations", {"overdue": "true"}).json()["items"]
    assert pub.immediate.pk in {i["id"] for i in overdue}
    assert all(i["overdue"] for i in overdue)
    not_overdue = api_north.get("/recommendations", {"overdue": "false"}).json()["items"]
    assert not any(i["overdue"] for i in not_overdue)
    assert len(overdue) + len(not_overdue) == 3
    first = api_north.get("/recommendations", {"limit": 2}).json()
    second = api_north.get("/recommendations", {"limit": 2, "offset": 2}).json()
    assert first["count"] == second["count"] == 3
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    assert {i["id"] for i in first["items"]} | {i["id"] for i in second["items"]} == {
        pub.concern_rec.pk,
        pub.immediate.pk,
        pub.later.pk,
    }


def test_bad_filters_are_refused_naming_the_parameter(pub, api_north):
    response = api_north.get("/recommendations", {"status": "finished"})
    assert response.status_code == 422
    assert "status" in response.json()["errors"]
    response = api_north.get("/recommendations", {"limit": 500})
    assert response.status_code == 422
    assert "limit" in response.json()["errors"]


def test_one_recommendation_with_history_plan_and_updates_and_the_read_is_audited(
    pub, keys, api_north
):
    plan_actions = {
        rec.pk: services.PlannedActionInput(
            action="Brief every response officer.",
            expected_impact="Children's views shape decisions.",
            target_date=dt.date(2027, 3, 1),
            evidence_measure="A monthly audit of 40 incidents.",
        )
        for rec in services.plan_recommendations(pub.inspection)
    }
    services.action_plan_submit(
        actor=pub.users["liaison"], inspection=pub.inspection, summary="Plan", actions=plan_actions
    )
    services.progress_post(
        actor=pub.users["liaison"],
        recommendation=pub.later,
        text="Training has started.",
        files=[("audit.txt", TXT)],
    )
    services.comment_post(actor=pub.users["liaison"], recommendation=pub.later, text="A note")
    with CaptureQueriesContext(connection) as queries:
        response = api_north.get(f"/recommendations/{pub.later.pk}")
    assert response.status_code == 200
    # What the API does not return it does not read (or decrypt): comments, assessments.
    read = " ".join(q["sql"] for q in queries.captured_queries)
    assert "followup_comment" not in read and "followup_assessment" not in read
    body = response.json()
    assert body["id"] == pub.later.pk
    assert [(h["status"], h["note"]) for h in body["history"]] == [
        ("awaiting_response", "Published"),
        ("action_plan_received", "Action plan received"),
        ("being_progressed", "Progress update received"),
    ]
    assert body["history"][0]["on"] == "2026-10-01"
    assert body["history"][0]["label"] == "Awaiting response"
    assert body["planned_action"] == {
        "plan_number": 1,
        "plan_status": "Submitted, awaiting review",
        "action": "Brief every response officer.",
        "expected_impact": "Children's views shape decisions.",
        "target_date": "2027-03-01",
        "evidence_measure": "A monthly audit of 40 incidents.",
    }
    (update,) = body["updates"]
    assert update["kind"] == "progress"
    assert update["text"] == "Training has started."
    assert update["author_label"] == "liaison"
    assert update["via_api"] is False
    assert update["files"] == [
        {
            "name": "audit.txt",
            "size": len(TXT),
            "content_type": "text/plain",
            "sha256": hashlib.sha256(TXT).hexdigest(),
        }
    ]
    assert '"content"' not in response.content.decode()  # only content_type
    view = AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEW, object_id=str(pub.later.pk)
    ).get()
    assert view.actor_label == f"system:api:{keys.north_force.code}:{keys.north.prefix}"
    assert "read through the API" in view.summary


def test_me_names_the_keys_force(keys, api_north):
    body = api_north.get("/me").json()
    assert body["force"]["name"] == "Northshire Police"
    assert body["key"]["name"] == "Northshire tracker"
    assert body["key"]["prefix"] == keys.north.prefix


# Refusals ---------------------------------------------------------------------------------


def test_another_forces_recommendation_is_404_like_a_missing_one_and_logged(
    pub, keys, api_north, caplog
):
    caplog.set_level(logging.WARNING, logger="apps.followup.api")
    missing = api_north.get("/recommendations/987654")
    other = api_north.get(f"/recommendations/{pub.other_rec.pk}")
    assert missing.status_code == other.status_code == 404
    assert missing.content == other.content
    posted = api_north.post(f"/recommendations/{pub.other_rec.pk}/updates", {"text": "Done."})
    assert posted.status_code == 404
    assert posted.content == missing.content
    assert not ProgressUpdate.objects.exists()
    # A cause of concern of its own force is not a recommendation of the API either.
    assert api_north.get(f"/recommendations/{pub.cause.pk}").status_code == 404
    refusals = _refusals()
    assert len(refusals) == 4
    wrong = [e for e in refusals if "wrong force" in e.summary]
    assert len(wrong) == 2
    assert all(e.object_id == str(pub.other_rec.pk) for e in wrong)
    assert all(e.actor_label.startswith("system:api:") for e in wrong)
    assert keys.north.prefix in wrong[0].summary
    assert "does not exist" in refusals[0].summary
    assert any("wrong force" in r.getMessage() for r in caplog.records)
    assert not AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEW, object_id=str(pub.other_rec.pk)
    ).exists()


def test_a_revoked_key_is_refused_and_logged(pub, keys, caplog):
    caplog.set_level(logging.WARNING, logger="apps.followup.api")
    tokens.token_revoke(actor=pub.users["manager"], token=keys.north)
    response = ApiClient(keys.north_key).get("/recommendations")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "missing, wrong or revoked" in response.json()["detail"]
    (refusal,) = _refusals()
    assert refusal.actor_label == "system:api"
    assert "revoked key" in refusal.summary and keys.north.prefix in refusal.summary
    assert refusal.object_type == "followup.apitoken"
    assert refusal.object_id == str(keys.north.pk)
    assert keys.north_key not in refusal.summary
    assert any("revoked key" in r.getMessage() for r in caplog.records)


def test_a_wrong_missing_or_malformed_key_is_refused_and_logged_without_the_key(keys, caplog):
    caplog.set_level(logging.WARNING, logger="apps.followup.api")
    wrong = keys.north_key[:-4] + "abcd"
    assert ApiClient(wrong).get("/recommendations").status_code == 401
    assert ApiClient(None).get("/recommendations").status_code == 401
    basic = Client().get(f"{API}/me", headers={"Authorization": f"Basic {keys.north_key}"})
    assert basic.status_code == 401
    assert ApiClient("not-one-of-ours").get("/me").status_code == 401
    summaries = [e.summary for e in _refusals()]
    assert len(summaries) == 4
    assert f"unknown key {wrong[:8]}…" in summaries[0]
    assert "no API key" in summaries[1]
    assert "not 'Bearer <key>'" in summaries[2]
    assert "unknown key not-one-…" in summaries[3]
    for text in [*summaries, *(r.getMessage() for r in caplog.records)]:
        assert wrong[:9] not in text and keys.north_key[:9] not in text
    assert all(e.actor_label == "system:api" for e in _refusals())


def test_a_signed_in_session_is_not_a_key(pub, keys):
    client = Client()
    client.force_login(pub.users["manager"])
    assert client.get(f"{API}/recommendations").status_code == 401


# Posting ----------------------------------------------------------------------------------


def test_posting_an_update_moves_the_status_and_stores_the_file_encrypted(pub, keys):
    # Bearer keys, not cookies: no CSRF token is needed, even with the checks enforced.
    client = ApiClient(keys.north_key, enforce_csrf_checks=True)
    response = client.post(
        f"/recommendations/{pub.later.pk}/updates",
        {
            "text": "Every response officer has been briefed.",
            "kind": "progress",
            "files": [_file("briefing.pdf", PDF), _file("audit.txt", TXT)],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "being_progressed"
    assert body["status_label"] == "Being progressed"
    assert body["update"]["via_api"] is True
    assert [f["name"] for f in body["update"]["files"]] == ["briefing.pdf", "audit.txt"]
    update = ProgressUpdate.objects.get()
    label = f"system:api:{keys.north_force.code}:{keys.north.prefix}"
    assert update.via_api and update.author_label == label and update.author is None
    pdf = EvidenceFile.objects.get(name="briefing.pdf")
    assert bytes(pdf.content) != PDF and PDF not in bytes(pdf.content)
    assert decrypt(pdf.content) == PDF
    assert pdf.sha256 == hashlib.sha256(PDF).hexdigest()
    pub.later.refresh_from_db()
    assert pub.later.status == S.BEING_PROGRESSED
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.CREATE, object_type="followup.progressupdate", actor_label=label
    ).exists()
    keys.north.refresh_from_db()
    assert keys.north.last_used_at is not None


def test_a_response_and_evidence(pub, api_north):
    response = api_north.post(
        f"/recommendations/{pub.immediate.pk}/updates",
        {"text": "All open investigations were reviewed by 10 October.", "kind": "response"},
    )
    assert response.status_code == 201
    assert response.json()["status"] == "being_progressed"
    evidence = api_north.post(
        f"/recommendations/{pub.immediate.pk}/updates",
        {"text": "The review's report.", "kind": "evidence", "files": [_file("review.pdf", PDF)]},
    )
    assert evidence.status_code == 201
    assert evidence.json()["status"] == "evidence_submitted"


def test_the_services_refusals_name_the_field(pub, api_north):
    response = api_north.post(
        f"/recommendations/{pub.later.pk}/updates", {"text": "Done.", "kind": "response"}
    )
    assert response.status_code == 422
    assert (
        'A response is for an "immediately" recommendation' in response.json()["errors"]["kind"][0]
    )
    empty = api_north.post(f"/recommendations/{pub.later.pk}/updates", {"text": "  "})
    assert empty.status_code == 422
    assert empty.json()["errors"] == {"text": ["Enter the update."]}
    bad_kind = api_north.post(
        f"/recommendations/{pub.later.pk}/updates", {"text": "Done.", "kind": "gossip"}
    )
    assert bad_kind.status_code == 422
    assert "kind" in bad_kind.json()["errors"]
    assert not ProgressUpdate.objects.exists()


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("setup.exe", b"MZ\x90\x00", "files of this type are not accepted"),
        ("report.pdf", b"<html>not a pdf</html>", "it is not a complete PDF file"),
        ("plan.docx", b"just some text, not a zip", "it is not a readable DOCX file"),
    ],
)
def test_a_bad_file_is_refused_naming_it_and_nothing_is_stored(pub, api_north, name, data, reason):
    response = api_north.post(
        f"/recommendations/{pub.later.pk}/updates",
        {"text": "Evidence.", "files": [_file("fine.txt", TXT), _file(name, data)]},
    )
    assert response.status_code == 422
    (message,) = response.json()["errors"]["files"]
    assert message.startswith(f"{name}: ") and reason in message
    assert not ProgressUpdate.objects.exists() and not EvidenceFile.objects.exists()
    pub.later.refresh_from_db()
    assert pub.later.status == S.AWAITING_RESPONSE


def test_an_oversize_file_is_refused_naming_it(pub, api_north):
    with override_settings(FOLLOWUP_MAX_FILE_BYTES=1_048_576):
        response = api_north.post(
            f"/recommendations/{pub.later.pk}/updates",
            {"text": "Evidence.", "files": [_file("big.txt", b"a" * 1_200_000)]},
        )
    assert response.status_code == 422
    (message,) = response.json()["errors"]["files"]
    assert message.startswith("big.txt: the file is 1.1 MB; the most is 1 MB")
    assert not EvidenceFile.objects.exists()


def test_a_request_over_the_size_limit_is_refused_before_it_is_read(pub, api_north):
    with override_settings(FOLLOWUP_API_MAX_REQUEST_BYTES=10_000):
        response = api_north.post(
            f"/recommendations/{pub.later.pk}/updates",
            {"text": "Evidence.", "files": [_file("big.txt", b"a" * 20_000)]},
        )
    assert response.status_code == 413
    assert "the most is" in response.json()["detail"]
    assert not ProgressUpdate.objects.exists()


@pytest.mark.parametrize("status", [S.CLOSED, S.CARRIED_OVER])
def test_a_closed_recommendation_takes_no_update(pub, api_north, status):
    with transaction.atomic():
        services.status_record(
            actor=SystemActor("tests"),
            recommendation=pub.later,
            status=status,
            on=timezone.localdate(),
        )
    response = api_north.post(f"/recommendations/{pub.later.pk}/updates", {"text": "More work."})
    assert response.status_code == 409
    assert "takes no more updates" in response.json()["detail"]
    assert not ProgressUpdate.objects.exists()
    # It is still listed, with its status, for the force's records.
    listed = api_north.get(f"/recommendations/{pub.later.pk}").json()
    assert listed["status"] == status


# The description --------------------------------------------------------------------------


def test_the_openapi_document_is_served_and_no_docs_page_loads_from_a_cdn():
    response = Client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert set(schema["paths"]) == {
        "/api/v1/me",
        "/api/v1/recommendations",
        "/api/v1/recommendations/{recommendation_id}",
        "/api/v1/recommendations/{recommendation_id}/updates",
    }
    assert schema["components"]["securitySchemes"] == {
        "ForceKey": {"type": "http", "scheme": "bearer"}
    }
    post = schema["paths"]["/api/v1/recommendations/{recommendation_id}/updates"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert Client().get(f"{API}/docs").status_code == 404
    assert "cdn" not in response.content.decode().lower()
