"""A finding's narrative is draft text until publication: stored encrypted (ADR 4), never
written into the audit trail, and the migration that encrypted the earlier plain values can
be reversed."""

from __future__ import annotations

import importlib
import json

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from apps.core.models import AuditEvent
from apps.findings import services
from apps.findings.models import Finding, Kind
from tests.fieldwork.test_services import _raw

pytestmark = pytest.mark.django_db

NARRATIVE = "In one case a girl of 14 waited nine days for a strategy discussion."


def _strength(fw) -> Finding:
    return services.finding_create(
        actor=fw.users["inspector"],
        inspection=fw.inspection,
        kind=Kind.STRENGTH,
        stage="initial_contact",
        headline="Call handlers identify children at risk well.",
        narrative=NARRATIVE,
    )


def test_the_narrative_is_stored_encrypted_and_kept_out_of_the_audit_trail(fw):
    finding = _strength(fw)
    stored = _raw(Finding, "narrative", finding.pk)
    assert "strategy discussion" not in stored and stored.startswith("gAAAA")  # a Fernet token
    assert Finding.objects.get(pk=finding.pk).narrative == NARRATIVE
    services.finding_update(
        actor=fw.users["inspector"],
        finding=finding,
        expected_version=finding.version,
        narrative=NARRATIVE + " Again.",
    )
    events = AuditEvent.objects.filter(object_type="findings.finding", object_id=str(finding.pk))
    trail = " ".join(json.dumps(e.changes) + e.summary for e in events)
    assert "strategy discussion" not in trail
    # The change is recorded, not its words.
    update = events.get(action=AuditEvent.Action.UPDATE)
    assert update.changes["narrative"] == ["(encrypted)", "(encrypted)"]


def test_the_migration_encrypts_plain_narratives_and_decrypts_them_back(fw):
    finding = _strength(fw)
    table = connection.ops.quote_name(Finding._meta.db_table)
    with connection.cursor() as cursor:  # as the column held it before the migration
        cursor.execute(f"UPDATE {table} SET narrative = %s WHERE id = %s", [NARRATIVE, finding.pk])  # noqa: S608
    migration = importlib.import_module("apps.findings.migrations.0004_finding_narrative_encrypted")
    # The models as they were before the column was declared encrypted.
    before = MigrationLoader(connection).project_state(("findings", "0003_status_from_history"))
    migration.encrypt(before.apps, None)
    assert _raw(Finding, "narrative", finding.pk).startswith("gAAAA")
    assert Finding.objects.get(pk=finding.pk).narrative == NARRATIVE
    migration.decrypt(before.apps, None)
    assert _raw(Finding, "narrative", finding.pk) == NARRATIVE
