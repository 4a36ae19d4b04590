"""Backups restore to exactly the database they were taken from, on the suite's engine.

The suite runs once on SQLite and once on PostgreSQL; these tests use whichever it is.
They commit real data (transaction=True) so that pg_dump, a separate process, sees it.
"""

from __future__ import annotations

import json
import stat
import subprocess
from io import StringIO
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from apps.core import backup, crypto
from apps.core.audit import SystemActor, audit_record, audit_snapshot
from apps.core.models import AuditEvent
from apps.inspections.models import Inspection
from tests.factories import InspectionFactory, TeamMemberFactory, UserFactory

from .conftest import query

NOTES = "Neglect concerns: two children, 4 and 7, missing school since the autumn half-term."


def make_records() -> list[Inspection]:
    """Users, inspections with encrypted notes, team members and audit events."""
    lead = UserFactory(full_name="Priya Lead")
    inspections = [
        InspectionFactory(confidential_notes=f"{NOTES} Case {n}.", title=f"Inspection {n}")
        for n in range(3)
    ]
    InspectionFactory(confidential_notes="")
    for inspection in inspections:
        TeamMemberFactory(inspection=inspection, user=lead, role="lead_inspector")
    with transaction.atomic():
        for inspection in inspections:
            audit_record(
                actor=lead,
                action=AuditEvent.Action.CREATE,
                instance=inspection,
                after=audit_snapshot(inspection),
            )
        audit_record(actor=SystemActor("tests"), action=AuditEvent.Action.SYSTEM, summary="x")
    return inspections


def back_up(path: Path) -> tuple[dict[str, Any], str]:
    out = StringIO()
    call_command("backup_database", "--output", str(path), stdout=out)
    manifest = json.loads(backup.manifest_path(path).read_text(encoding="utf-8"))
    return manifest, out.getvalue()


def restore(path: Path, *args: str) -> str:
    out = StringIO()
    try:
        call_command("restore_database", "--input", str(path), *args, stdout=out)
    except CommandError as exc:
        exc.output = out.getvalue()  # type: ignore[attr-defined]
        raise
    return out.getvalue()


def source_params() -> dict[str, Any]:
    return dict(connection.settings_dict)


@pytest.mark.django_db(transaction=True)
def test_a_backup_restored_into_an_empty_database_has_every_row(tmp_path, empty_database):
    inspections = make_records()
    before = backup.database_fingerprint(source_params())
    dump = tmp_path / "inspectorate.dump"

    manifest, output = back_up(dump)

    # The manifest describes the dump.
    assert manifest["engine"] == connection.vendor
    assert manifest["format"] == "inspectorate-backup/1"
    assert manifest["dump_sha256"] == backup._sha256(dump)[0]
    assert manifest["dump_bytes"] == dump.stat().st_size
    assert manifest["tables"] == before
    assert manifest["tables"]["inspections_inspection"]["rows"] == 4
    assert manifest["tables"]["core_auditevent"]["rows"] == 4
    assert manifest["total_rows"] == sum(t["rows"] for t in before.values())
    assert "core.0002_audit_append_only_triggers" in manifest["migrations"]
    assert manifest["created_at"].endswith("+00:00")
    for path in (dump, backup.manifest_path(dump)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600  # personal data: owner only
    assert f"Wrote {dump}" in output
    assert not list(tmp_path.glob(".*partial"))
    # The backup is audited (in the live database, after the dump).
    event = AuditEvent.objects.get(actor_label="system:backup_database")
    assert event.action == AuditEvent.Action.SYSTEM
    assert str(dump) in event.summary

    report = backup.restore_backup(dump, empty_database)

    restored = backup.database_fingerprint(empty_database)
    assert backup.compare_fingerprints(before, restored) == []
    assert restored == before
    for table, counts in before.items():
        assert restored[table]["rows"] == counts["rows"], table
    assert (report.tables, report.rows, report.extra_tables) == (
        len(before),
        sum(t["rows"] for t in before.values()),
        [],
    )

    # The notes are still cipher text in the restored database, and still decrypt.
    rows = dict(
        query(empty_database, "SELECT reference, confidential_notes FROM inspections_inspection")
    )
    for n, inspection in enumerate(inspections):
        assert "Neglect" not in rows[inspection.reference]
        assert crypto.decrypt(rows[inspection.reference]) == f"{NOTES} Case {n}."

    # The append-only trigger came back with the table.
    with pytest.raises(Exception, match="append-only"):
        query(empty_database, "UPDATE core_auditevent SET summary = 'rewritten'")


@pytest.mark.django_db(transaction=True)
def test_restore_over_live_data_needs_confirmation_then_brings_the_backup_back(tmp_path):
    kept = make_records()
    dump = tmp_path / "before-the-incident.dump"
    back_up(dump)
    later = InspectionFactory(reference="AFTER-BACKUP", confidential_notes="added later")
    kept[0].title = "Edited after the backup"
    kept[0].save()

    with pytest.raises(CommandError, match="Refusing to restore") as refusal:
        restore(dump)
    plan = refusal.value.output  # type: ignore[attr-defined]
    assert "Restore plan:" in plan
    assert f"backup: {dump}" in plan and "checksum verified" in plan
    assert "target:" in plan and "which holds" in plan
    assert "action:" in plan
    assert "audit events included, will be replaced" in plan
    assert "--yes" in str(refusal.value)
    assert Inspection.objects.filter(pk=later.pk).exists()  # nothing was touched

    output = restore(dump, "--yes")

    assert "every table matches" in output
    assert not Inspection.objects.filter(reference="AFTER-BACKUP").exists()
    assert Inspection.objects.get(pk=kept[0].pk).title == "Inspection 0"
    assert Inspection.objects.get(pk=kept[1].pk).confidential_notes == f"{NOTES} Case 1."
    events = AuditEvent.objects.filter(actor_label__startswith="system:")
    # The backup's own event was written after the dump, like everything the restore replaces.
    assert not events.filter(actor_label="system:backup_database").exists()
    assert events.filter(actor_label="system:tests").count() == 1
    restored_event = events.get(actor_label="system:restore_database")
    assert str(dump) in restored_event.summary
    # New rows still get fresh ids after the restore (sequences came back too).
    assert InspectionFactory().pk > max(i.pk for i in kept)


@pytest.mark.django_db(transaction=True)
def test_a_write_during_the_backup_does_not_split_the_dump_from_its_manifest(
    tmp_path, empty_database
):
    """The service keeps writing while a backup runs: the dump and the manifest must still
    describe the same moment (PostgreSQL: pg_dump shares the manifest's snapshot)."""
    make_records()
    count = Inspection.objects.count()
    name = "_pg_migrations" if connection.vendor == "postgresql" else "_sqlite_migrations"
    real = getattr(backup, name)

    def write_meanwhile(conn):
        InspectionFactory(reference="WRITTEN-DURING-BACKUP")  # committed, another connection
        return real(conn)

    dump = tmp_path / "x.dump"
    with mock.patch.object(backup, name, side_effect=write_meanwhile):
        manifest, _ = back_up(dump)

    assert Inspection.objects.filter(reference="WRITTEN-DURING-BACKUP").exists()
    assert manifest["tables"]["inspections_inspection"]["rows"] == count
    backup.restore_backup(dump, empty_database)  # checks every table against the manifest
    assert query(empty_database, "SELECT COUNT(*) FROM inspections_inspection") == [(count,)]


@pytest.mark.django_db(transaction=True)
def test_restore_into_an_empty_database_needs_no_confirmation(tmp_path, empty_database):
    make_records()
    dump = tmp_path / "x.dump"
    back_up(dump)
    backup.restore_backup(dump, empty_database)
    # Now it holds data: a second restore must be confirmed.
    with pytest.raises(backup.RestoreRefused, match="refusing to replace them"):
        backup.restore_backup(dump, empty_database)
    report = backup.restore_backup(dump, empty_database, replace_existing_data=True)
    assert report.extra_tables == []


@pytest.mark.django_db(transaction=True)
def test_a_damaged_dump_is_refused(tmp_path):
    make_records()
    dump = tmp_path / "x.dump"
    back_up(dump)
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    count = Inspection.objects.count()

    with pytest.raises(CommandError, match="does not match the checksum in its manifest"):
        restore(dump, "--yes")
    assert Inspection.objects.count() == count


@pytest.mark.django_db(transaction=True)
def test_a_truncated_dump_is_refused(tmp_path):
    make_records()
    dump = tmp_path / "x.dump"
    back_up(dump)
    dump.write_bytes(dump.read_bytes()[:1024])
    with pytest.raises(CommandError, match="damaged, incomplete"):
        restore(dump, "--yes")


@pytest.mark.django_db(transaction=True)
def test_a_backup_of_the_other_engine_is_refused(tmp_path):
    make_records()
    dump = tmp_path / "x.dump"
    back_up(dump)
    manifest_file = backup.manifest_path(dump)
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    other = "sqlite" if connection.vendor == "postgresql" else "postgresql"
    manifest["engine"] = other
    manifest_file.write_text(json.dumps(manifest), encoding="utf-8")

    with pytest.raises(CommandError, match=f"is a backup of a {other} database"):
        restore(dump, "--yes")


@pytest.mark.django_db(transaction=True)
def test_a_dump_without_its_manifest_is_refused(tmp_path):
    make_records()
    dump = tmp_path / "x.dump"
    back_up(dump)
    backup.manifest_path(dump).unlink()
    with pytest.raises(CommandError, match=r"manifest .* is missing"):
        restore(dump, "--yes")
    backup.manifest_path(dump).write_text('{"format": "something else"}', encoding="utf-8")
    with pytest.raises(CommandError, match="is not a backup manifest"):
        restore(dump, "--yes")


def test_a_missing_backup_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="There is no backup file"):
        call_command("restore_database", "--input", str(tmp_path / "absent.dump"))


@pytest.mark.django_db
def test_a_restore_cannot_run_inside_a_transaction(tmp_path):
    with pytest.raises(backup.BackupError, match="inside a transaction"):
        backup.restore_database(tmp_path / "x.dump", confirmed=True)


@pytest.mark.django_db(transaction=True)
def test_an_existing_backup_is_not_overwritten_unless_asked(tmp_path):
    make_records()
    dump = tmp_path / "x.dump"
    first, _ = back_up(dump)
    with pytest.raises(CommandError, match="already exists"):
        back_up(dump)
    assert json.loads(backup.manifest_path(dump).read_text(encoding="utf-8")) == first
    InspectionFactory()
    call_command("backup_database", "--output", str(dump), "--overwrite", stdout=StringIO())
    second = json.loads(backup.manifest_path(dump).read_text(encoding="utf-8"))
    assert second["tables"]["inspections_inspection"]["rows"] == (
        first["tables"]["inspections_inspection"]["rows"] + 1
    )


@pytest.mark.django_db(transaction=True)
def test_the_fingerprint_notices_a_changed_row():
    inspections = make_records()
    before = backup.database_fingerprint(source_params())
    Inspection.objects.filter(pk=inspections[0].pk).update(title="Changed")
    after = backup.database_fingerprint(source_params())
    assert backup.compare_fingerprints(before, after) == [
        "inspections_inspection: same row count, different contents"
    ]
    InspectionFactory()
    assert backup.compare_fingerprints(before, backup.database_fingerprint(source_params()))[
        0
    ].startswith("inspections_inspection: 5 rows, expected 4")


# -- how the PostgreSQL tools are run (no database needed) ----------------------------------

PG_PARAMS = {
    "ENGINE": "django.db.backends.postgresql",
    "NAME": "inspectorate",
    "USER": "inspectorate_app",
    "PASSWORD": "correct horse battery staple",
    "HOST": "db.internal",
    "PORT": 5432,
    "OPTIONS": {"sslmode": "verify-full", "keepalives_idle": 30, "server_side_binding": False},
}


def test_the_password_goes_to_pg_restore_in_the_environment_never_on_the_command_line(tmp_path):
    dump = tmp_path / "x.dump"
    dump.write_bytes(b"PGDMP")
    calls = []

    def fake_run(command, **kwargs):
        calls.append((command, kwargs["env"]))
        return subprocess.CompletedProcess(command, 0, b"", b"")

    with (
        mock.patch.object(backup, "_pg_tool", side_effect=lambda name: f"/usr/bin/{name}"),
        mock.patch.object(backup.subprocess, "run", side_effect=fake_run),
    ):
        backup._pg_restore(dump, PG_PARAMS)

    [(command, environment)] = calls
    assert not any("correct horse" in argument for argument in command)
    assert command[:6] == [
        "/usr/bin/pg_restore",
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--no-password",
    ]
    assert "--dbname=dbname=inspectorate" in command
    assert environment["PGPASSWORD"] == "correct horse battery staple"
    assert (environment["PGHOST"], environment["PGPORT"], environment["PGUSER"]) == (
        "db.internal",
        "5432",
        "inspectorate_app",
    )
    assert environment["PGSSLMODE"] == "verify-full"


def test_a_connection_option_the_tools_cannot_take_is_refused():
    params = {**PG_PARAMS, "OPTIONS": {"sslpassword": "secret"}}
    with pytest.raises(backup.BackupError, match="'sslpassword' cannot be passed safely"):
        backup._pg_environment(params)


def test_a_failing_tool_reports_its_error():
    with pytest.raises(backup.BackupError, match=r"false failed \(exit status 1\)"):
        backup._run(["false"], {"PATH": "/usr/bin:/bin"}, stdout=subprocess.DEVNULL)


def test_other_engines_are_refused():
    with pytest.raises(backup.BackupError, match="support PostgreSQL and SQLite"):
        backup.engine_of({"ENGINE": "django.db.backends.mysql"})


def test_an_in_memory_sqlite_database_is_refused(tmp_path):
    params = {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    with pytest.raises(backup.BackupError, match="in-memory"):
        backup.create_backup(tmp_path / "x.dump", params)
