"""/healthz: what load balancers and monitoring ask."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import DatabaseError, connections

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_healthy(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok"},
    }
    assert "no-cache" in response["Cache-Control"]  # never served from a cache


def test_head_requests_from_load_balancers_are_answered(client):
    assert client.head("/healthz").status_code == 200


def test_writes_are_not_allowed(client):
    assert client.post("/healthz").status_code == 405


def test_unavailable_when_the_database_is_down(client):
    with mock.patch.object(
        connections["default"], "cursor", side_effect=DatabaseError("could not connect")
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "unavailable"}}
    assert "could not connect" not in response.content.decode()  # no internals to the public


def test_unavailable_while_a_migration_is_pending(client):
    plan = [(mock.sentinel.migration, False)]
    with mock.patch("apps.core.views.MigrationExecutor.migration_plan", return_value=plan):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "migrations": "1 pending"},
    }


def test_answers_even_for_a_user_who_has_not_completed_two_factor_sign_in(client, settings):
    settings.INSPECTORATE_REQUIRE_2FA = True
    client.force_login(UserFactory())
    assert client.get("/audit/").status_code == 302  # everything else waits for the code
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
