"""EncryptedTextField: the database only ever holds cipher text."""

from __future__ import annotations

import pytest
from django.core.exceptions import FieldError
from django.db import connection, transaction

from apps.core import crypto
from apps.core.audit import ENCRYPTED_PLACEHOLDER, SystemActor, audit_record, audit_snapshot
from apps.core.models import AuditEvent
from apps.inspections.models import Inspection
from tests.factories import InspectionFactory, UserFactory

pytestmark = pytest.mark.django_db

SECRET = "Child A (aged 9) disclosed abuse to the school nurse on 3 March; referral 24-0117."


def raw_notes(pk: int) -> str:
    """The column as stored, read past the ORM."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {qn('confidential_notes')} FROM {qn(Inspection._meta.db_table)} "  # noqa: S608
            f"WHERE {qn('id')} = %s",
            [pk],
        )
        return cursor.fetchone()[0]


def test_the_column_holds_cipher_text_and_python_sees_plain_text():
    inspection = InspectionFactory(confidential_notes=SECRET)
    stored = raw_notes(inspection.pk)
    assert SECRET not in stored
    assert "Child A" not in stored
    assert crypto.decrypt(stored) == SECRET
    assert Inspection.objects.get(pk=inspection.pk).confidential_notes == SECRET
    assert (
        Inspection.objects.values_list("confidential_notes", flat=True).get(pk=inspection.pk)
        == SECRET
    )


def test_every_way_of_writing_encrypts():
    one, two, three = InspectionFactory.create_batch(3)

    one.confidential_notes = SECRET + " (save)"
    one.save()
    Inspection.objects.filter(pk=two.pk).update(confidential_notes=SECRET + " (update)")
    three.confidential_notes = SECRET + " (bulk_update)"
    Inspection.objects.bulk_update([three], ["confidential_notes"])

    for inspection, how in ((one, "save"), (two, "update"), (three, "bulk_update")):
        stored = raw_notes(inspection.pk)
        assert "Child A" not in stored
        assert crypto.decrypt(stored) == f"{SECRET} ({how})"


def test_the_same_text_encrypts_differently_each_time():
    a = InspectionFactory(confidential_notes=SECRET)
    b = InspectionFactory(confidential_notes=SECRET)
    assert raw_notes(a.pk) != raw_notes(b.pk)  # no equality leak between rows


def test_an_empty_value_stays_empty():
    inspection = InspectionFactory(confidential_notes="")
    assert raw_notes(inspection.pk) == ""
    assert Inspection.objects.get(pk=inspection.pk).confidential_notes == ""


def test_non_ascii_text_round_trips():
    text = "Ŵyn — notes in Welsh and emoji 🙂"
    inspection = InspectionFactory(confidential_notes=text)
    assert Inspection.objects.get(pk=inspection.pk).confidential_notes == text
    assert "Ŵyn" not in raw_notes(inspection.pk)


@pytest.mark.parametrize("lookup", ["icontains", "contains", "exact", "startswith", "gt", "in"])
def test_lookups_on_cipher_text_are_refused(lookup):
    InspectionFactory(confidential_notes=SECRET)
    value = ["x"] if lookup == "in" else "Child"
    with pytest.raises(FieldError, match="Unsupported lookup"):
        list(Inspection.objects.filter(**{f"confidential_notes__{lookup}": value}))


def test_field_refuses_the_lookup_itself():
    field = Inspection._meta.get_field("confidential_notes")
    assert field.get_lookup("icontains") is None
    assert field.get_lookup("isnull") is not None


def test_the_audit_trail_records_that_notes_changed_never_what_they_say():
    actor = UserFactory()
    inspection = InspectionFactory(confidential_notes="")
    before = audit_snapshot(inspection)
    inspection.confidential_notes = SECRET
    inspection.title = "Renamed inspection"
    with transaction.atomic():
        inspection.save()
        event = audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=inspection,
            before=before,
            after=audit_snapshot(inspection),
        )
    event.refresh_from_db()
    assert event.changes["confidential_notes"] == ["", ENCRYPTED_PLACEHOLDER]
    assert event.changes["title"][1] == "Renamed inspection"

    before = audit_snapshot(inspection)
    inspection.confidential_notes = SECRET + " Updated after the strategy meeting."
    with transaction.atomic():
        inspection.save()
        second = audit_record(
            actor=SystemActor("test"),
            action=AuditEvent.Action.UPDATE,
            instance=inspection,
            before=before,
            after=audit_snapshot(inspection),
        )
    second.refresh_from_db()
    assert second.changes["confidential_notes"] == [ENCRYPTED_PLACEHOLDER, ENCRYPTED_PLACEHOLDER]

    # Nowhere in the stored audit rows, read past the ORM, does the text appear.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {AuditEvent._meta.db_table}")  # noqa: S608
        stored = repr(cursor.fetchall())
    assert "Child A" not in stored
    assert "strategy meeting" not in stored
