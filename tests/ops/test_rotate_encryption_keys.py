"""rotate_encryption_keys moves every encrypted value onto the newest key, touching nothing else."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from apps.core import crypto
from apps.core.management.commands.rotate_encryption_keys import encrypted_fields
from apps.core.models import AuditEvent
from apps.inspections.models import Inspection
from tests.factories import InspectionFactory

pytestmark = pytest.mark.django_db

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
KEY_C = Fernet.generate_key().decode()
NOTES = "Strategy meeting minutes: sibling group of three, one on a child protection plan."


def use_keys(settings, *keys: str) -> None:
    settings.INSPECTORATE_ENCRYPTION_KEYS = list(keys)
    settings.INSPECTORATE_ENCRYPTION_KEYS_FILE = ""
    crypto.reset_key_ring()


def raw_notes(pk: int) -> str:
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {qn('confidential_notes')} FROM {qn(Inspection._meta.db_table)} "  # noqa: S608
            f"WHERE {qn('id')} = %s",
            [pk],
        )
        return cursor.fetchone()[0]


def rotate(*args: str) -> str:
    out = StringIO()
    call_command("rotate_encryption_keys", *args, stdout=out)
    return out.getvalue()


def test_values_move_to_the_newest_key_and_nothing_else_changes(settings):
    use_keys(settings, KEY_A)
    inspections = [InspectionFactory(confidential_notes=f"{NOTES} #{n}") for n in range(5)]
    empty = InspectionFactory(confidential_notes="")
    before = {
        i.pk: (
            raw_notes(i.pk),
            *Inspection.objects.values_list("updated_at", "version").get(pk=i.pk),
        )
        for i in [*inspections, empty]
    }

    use_keys(settings, KEY_B, KEY_A)
    output = rotate("--batch-size", "2")

    assert "inspections.inspection.confidential_notes: 5 values" in output
    assert "inspections.inspection.confidential_notes: 2/5" in output  # progress, per batch
    assert "inspections.inspection.confidential_notes: 5/5" in output
    fields = sum(len(f) for _, f in encrypted_fields())  # every encrypted column is visited
    assert f"Re-encrypted 5 values in {fields} fields under the newest of 2 keys." in output

    use_keys(settings, KEY_B)  # the old key is gone: every value must still read
    for n, inspection in enumerate(inspections):
        stored = raw_notes(inspection.pk)
        old_raw, updated_at, version = before[inspection.pk]
        assert stored != old_raw
        assert "Strategy meeting" not in stored
        assert Fernet(KEY_B.encode()).decrypt(stored.encode()).decode() == f"{NOTES} #{n}"
        with pytest.raises(crypto.InvalidToken):
            Fernet(KEY_A.encode()).decrypt(stored.encode())
        fresh = Inspection.objects.get(pk=inspection.pk)
        assert fresh.confidential_notes == f"{NOTES} #{n}"
        assert (fresh.updated_at, fresh.version) == (updated_at, version)
    assert raw_notes(empty.pk) == ""

    event = AuditEvent.objects.get(actor_label="system:rotate_encryption_keys")
    assert event.action == AuditEvent.Action.SYSTEM
    assert event.actor is None
    assert event.changes["inspections.inspection.confidential_notes"] == [
        "5 encrypted values",
        "5 re-encrypted under the newest key",
    ]
    others = {k: v for k, v in event.changes.items() if not k.startswith("inspections.")}
    assert all(
        v == ["0 encrypted values", "0 re-encrypted under the newest key"] for v in others.values()
    )
    assert "Strategy meeting" not in repr(event.changes) + event.summary


def test_values_already_on_the_newest_key_are_rewritten_harmlessly(settings):
    use_keys(settings, KEY_B, KEY_A)
    inspection = InspectionFactory(confidential_notes=NOTES)
    output = rotate()
    assert "Re-encrypted 1 values" in output
    use_keys(settings, KEY_B)
    assert Inspection.objects.get(pk=inspection.pk).confidential_notes == NOTES


def test_a_value_no_key_can_decrypt_stops_the_command_and_changes_nothing(settings):
    use_keys(settings, KEY_A)
    readable = InspectionFactory(confidential_notes=NOTES)
    use_keys(settings, KEY_C)
    lost = InspectionFactory(confidential_notes="encrypted under a key nobody kept")
    assert lost.pk > readable.pk  # so the readable row's batch is rewritten before the failure
    readable_raw, lost_raw = raw_notes(readable.pk), raw_notes(lost.pk)

    use_keys(settings, KEY_B, KEY_A)
    with pytest.raises(CommandError) as failure:
        rotate("--batch-size", "1")

    message = str(failure.value)
    assert f"inspections.Inspection pk={lost.pk}, field confidential_notes" in message
    assert "cannot be decrypted with any configured key" in message
    assert "Nothing was changed for inspections.Inspection" in message
    assert (raw_notes(readable.pk), raw_notes(lost.pk)) == (readable_raw, lost_raw)
    event = AuditEvent.objects.get(actor_label="system:rotate_encryption_keys")
    assert event.summary.startswith("Stopped: inspections.Inspection")


def test_plain_text_left_in_an_encrypted_column_is_reported(settings):
    use_keys(settings, KEY_A)
    inspection = InspectionFactory()
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {qn(Inspection._meta.db_table)} SET {qn('confidential_notes')} = %s "  # noqa: S608
            f"WHERE {qn('id')} = %s",
            ["legacy plain text — née Smith", inspection.pk],
        )
    with pytest.raises(CommandError, match=f"pk={inspection.pk}, field confidential_notes"):
        rotate()


def test_a_dry_run_checks_and_counts_but_writes_nothing(settings):
    use_keys(settings, KEY_A)
    inspections = InspectionFactory.create_batch(3, confidential_notes=NOTES)
    raws = [raw_notes(i.pk) for i in inspections]
    use_keys(settings, KEY_B, KEY_A)

    output = rotate("--dry-run")

    assert "Dry run complete: 3 values can be re-encrypted; nothing written." in output
    assert [raw_notes(i.pk) for i in inspections] == raws
    assert not AuditEvent.objects.filter(actor_label="system:rotate_encryption_keys").exists()


def test_a_dry_run_finds_undecryptable_values(settings):
    use_keys(settings, KEY_C)
    lost = InspectionFactory(confidential_notes=NOTES)
    use_keys(settings, KEY_B, KEY_A)
    with pytest.raises(CommandError, match=f"pk={lost.pk}, field confidential_notes"):
        rotate("--dry-run")


def test_a_batch_size_below_one_is_refused():
    with pytest.raises(CommandError, match="--batch-size"):
        rotate("--batch-size", "0")


def test_without_keys_the_command_explains(settings):
    use_keys(settings)
    with pytest.raises(CommandError, match="No encryption key"):
        rotate()


def test_the_key_file_setting_is_used(settings, tmp_path):
    use_keys(settings, KEY_A)
    inspection = InspectionFactory(confidential_notes=NOTES)
    key_file = tmp_path / "inspectorate-keys"
    key_file.write_text(f"# rotated 2026-11\n{KEY_B}\n# previous\n{KEY_A}\n", encoding="utf-8")
    settings.INSPECTORATE_ENCRYPTION_KEYS = []
    settings.INSPECTORATE_ENCRYPTION_KEYS_FILE = str(key_file)
    crypto.reset_key_ring()

    rotate()

    stored = raw_notes(inspection.pk)
    assert Fernet(KEY_B.encode()).decrypt(stored.encode()).decode() == NOTES
