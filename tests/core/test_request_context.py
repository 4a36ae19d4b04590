"""Every request has an id, echoed in X-Request-ID and carried by every JSON log line."""

from __future__ import annotations

import copy
import io
import json
import logging
import logging.config
import re
from collections.abc import Iterator
from unittest import mock

import pytest
from django.conf import settings
from django.db import DatabaseError, connections, transaction

from apps.core.audit import audit_record
from apps.core.context import current_request
from apps.core.models import AuditEvent
from tests.factories import UserFactory

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


class LogCapture:
    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    def lines(self) -> list[dict]:
        # Every line must be a JSON object: json.loads fails the test otherwise.
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line]


@pytest.fixture
def json_logs() -> Iterator[LogCapture]:
    """A handler on the root logger with the formatter and filter of settings.LOGGING."""
    config = copy.deepcopy(settings.LOGGING)
    configurator = logging.config.DictConfigurator(config)
    formatter = configurator.configure_formatter(configurator.config["formatters"]["json"])
    context_filter = configurator.configure_filter(
        configurator.config["filters"]["request_context"]
    )
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(context_filter)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield LogCapture(stream)
    finally:
        root.removeHandler(handler)


@pytest.mark.django_db
def test_a_log_line_written_during_a_request_carries_its_request_id(client, json_logs):
    with mock.patch.object(
        connections["default"], "cursor", side_effect=DatabaseError("connection refused")
    ):
        response = client.get("/healthz")
    assert response.status_code == 503

    request_id = response["X-Request-ID"]
    assert GENERATED_ID.fullmatch(request_id)
    [line] = [x for x in json_logs.lines() if x["message"].startswith("health check")]
    assert line["request_id"] == request_id
    assert line["level"] == "ERROR"
    assert line["logger"] == "apps.core.views"
    assert line["message"] == "health check: database unavailable"
    assert line["error"] == "connection refused"
    assert "time" in line


@pytest.mark.django_db
def test_django_request_log_lines_carry_the_request_id_and_user(client, json_logs):
    """django.request logs 4xx responses after the middleware has returned."""
    user = UserFactory()
    client.force_login(user)
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="probe-404")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "probe-404"
    [line] = [x for x in json_logs.lines() if x["logger"] == "django.request"]
    assert line["message"] == "Not Found: /no-such-page/"
    assert line["request_id"] == "probe-404"
    assert line["user_id"] == user.pk


def test_log_lines_outside_a_request_have_no_request_id(json_logs):
    logging.getLogger("apps.core.tests").warning("a management command speaking")
    [line] = json_logs.lines()
    assert line["request_id"] == ""
    assert line["user_id"] is None
    assert line["message"] == "a management command speaking"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "incoming", ["3f2a9c1e-77b0-4c1e-9a55-0c1d2e3f4a5b", "lb.edge-1_abc", "a" * 64]
)
def test_a_safe_request_id_from_the_client_is_reused(client, incoming):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)
    assert response.status_code == 200
    assert response["X-Request-ID"] == incoming


@pytest.mark.django_db
@pytest.mark.parametrize(
    "incoming",
    [
        "",
        "has spaces",
        "<script>alert(1)</script>",
        "a" * 65,
        "abc\n",
        "abc\r\nSet-Cookie: session=x",
        '{"request_id": "forged"}',
        "café",
    ],
)
def test_an_unsafe_request_id_from_the_client_is_replaced(client, incoming):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)
    assert response.status_code == 200
    assert GENERATED_ID.fullmatch(response["X-Request-ID"])


@pytest.mark.django_db
def test_each_request_gets_its_own_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert first != second


@pytest.mark.django_db
def test_the_context_is_cleared_after_the_request(client):
    client.get("/healthz", HTTP_X_REQUEST_ID="finished-request")
    assert current_request.get().request_id == ""


@pytest.mark.django_db
def test_audit_events_carry_the_request_id_and_client_address(rf):
    from apps.core.middleware import RequestContextMiddleware

    user = UserFactory()

    def view(request):
        with transaction.atomic():
            audit_record(actor=user, action=AuditEvent.Action.UPDATE, summary="edited")
        from django.http import HttpResponse

        return HttpResponse("ok")

    request = rf.get("/", HTTP_X_REQUEST_ID="req-42", REMOTE_ADDR="192.0.2.10")
    response = RequestContextMiddleware(view)(request)
    assert response["X-Request-ID"] == "req-42"
    event = AuditEvent.objects.get()
    assert (event.request_id, event.ip_address) == ("req-42", "192.0.2.10")


def test_client_address_behind_trusted_proxies(settings, rf):
    from apps.core.middleware import client_address

    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="10.0.0.2")
    settings.INSPECTORATE_TRUSTED_PROXIES = 0
    assert client_address(request) == "10.0.0.2"
    settings.INSPECTORATE_TRUSTED_PROXIES = 1
    assert client_address(request) == "203.0.113.9"  # not the forged left-most entry
    request = rf.get("/", HTTP_X_FORWARDED_FOR="not-an-ip", REMOTE_ADDR="10.0.0.2")
    assert client_address(request) == "10.0.0.2"
