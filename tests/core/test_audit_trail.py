"""The audit trail is append-only, and written in the same transaction as the change."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, IntegrityError, connection, transaction

from apps.core.audit import SystemActor, audit_record, audit_snapshot
from apps.core.models import AuditEvent, AuditTrailIsAppendOnly
from apps.inspections.models import Inspection
from tests.factories import InspectionFactory, UserFactory

TABLE = AuditEvent._meta.db_table


def record(summary: str = "something happened") -> AuditEvent:
    with transaction.atomic():
        return audit_record(
            actor=SystemActor("tests"), action=AuditEvent.Action.SYSTEM, summary=summary
        )


def stored_summaries() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT summary FROM {TABLE} ORDER BY id")  # noqa: S608
        return [summary for (summary,) in cursor.fetchall()]


@pytest.mark.django_db
class TestTheModelRefusesChanges:
    def test_saving_an_existing_event(self):
        event = record("original")
        event.summary = "rewritten"
        with pytest.raises(AuditTrailIsAppendOnly):
            event.save()
        with pytest.raises(AuditTrailIsAppendOnly):
            event.save(update_fields=["summary"])
        assert stored_summaries() == ["original"]

    def test_deleting_an_event(self):
        event = record()
        with pytest.raises(AuditTrailIsAppendOnly):
            event.delete()
        assert AuditEvent.objects.filter(pk=event.pk).exists()

    def test_queryset_update_and_delete(self):
        record("original")
        with pytest.raises(AuditTrailIsAppendOnly):
            AuditEvent.objects.update(summary="rewritten")
        with pytest.raises(AuditTrailIsAppendOnly):
            AuditEvent.objects.filter(action=AuditEvent.Action.SYSTEM).update(summary="x")
        with pytest.raises(AuditTrailIsAppendOnly):
            AuditEvent.objects.all().delete()
        with pytest.raises(AuditTrailIsAppendOnly):
            AuditEvent.objects.filter(summary="original").delete()
        assert stored_summaries() == ["original"]


@pytest.mark.django_db
class TestTheDatabaseRefusesChanges:
    """Past the ORM, the triggers of migration core.0002 hold."""

    def test_a_raw_update_is_refused(self):
        record("original")
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(f"UPDATE {TABLE} SET summary = 'rewritten'")  # noqa: S608
        assert stored_summaries() == ["original"]

    def test_a_raw_delete(self):
        """PostgreSQL (production) refuses it. SQLite allows it by design, because Django's
        test runner empties tables with DELETE there (ADR 0003); the ORM still refuses."""
        record("original")
        if connection.vendor == "postgresql":
            with (
                pytest.raises(DatabaseError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608
            assert stored_summaries() == ["original"]
        else:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608
            assert stored_summaries() == []


@pytest.mark.django_db(transaction=True)
def test_audit_record_refuses_to_run_outside_a_transaction():
    assert not connection.in_atomic_block
    with pytest.raises(RuntimeError, match=r"inside transaction\.atomic"):
        audit_record(actor=SystemActor("tests"), action=AuditEvent.Action.SYSTEM)
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("actor", [None, AnonymousUser()], ids=["none", "anonymous"])
def test_audit_record_needs_a_known_actor(actor):
    with pytest.raises(ValueError, match="actor"), transaction.atomic():
        audit_record(actor=actor, action=AuditEvent.Action.UPDATE, summary="who did this?")
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_a_signed_in_user_and_a_system_actor_are_recorded():
    user = UserFactory()
    with transaction.atomic():
        by_user = audit_record(actor=user, action=AuditEvent.Action.UPDATE, summary="edit")
        by_system = audit_record(actor=SystemActor("nightly"), action=AuditEvent.Action.SYSTEM)
    assert (by_user.actor, by_user.actor_label) == (user, user.username)
    assert (by_system.actor, by_system.actor_label) == (None, "system:nightly")


@pytest.mark.django_db(transaction=True)
def test_a_failed_change_leaves_neither_the_change_nor_its_event():
    """Real commits and rollbacks: the change and its event are stored together or not at all."""
    user = UserFactory()
    inspection = InspectionFactory(title="Before")
    other = InspectionFactory()
    events_before = AuditEvent.objects.count()

    with pytest.raises(IntegrityError), transaction.atomic():
        before = audit_snapshot(inspection)
        inspection.title = "After"
        inspection.confidential_notes = "secret"
        inspection.save()
        audit_record(
            actor=user,
            action=AuditEvent.Action.UPDATE,
            instance=inspection,
            before=before,
            after=audit_snapshot(inspection),
        )
        # The change goes on and fails: the reference is unique.
        inspection.reference = other.reference
        inspection.save()

    stored = Inspection.objects.get(pk=inspection.pk)
    assert (stored.title, stored.confidential_notes) == ("Before", "")
    assert AuditEvent.objects.count() == events_before


def test_audit_export_cells_cannot_run_as_spreadsheet_formulas():
    from apps.core.views import spreadsheet_safe

    assert spreadsheet_safe('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert spreadsheet_safe("-1+2") == "'-1+2"
    assert spreadsheet_safe("Cumbria") == "Cumbria"
    assert spreadsheet_safe({"title": ["a", "b"]}) == '{"title": ["a", "b"]}'
    assert spreadsheet_safe(7) == 7


def test_the_audit_search_dates_render_in_the_format_a_date_input_reads():
    """A date input reads only YYYY-MM-DD: a date given as the form's initial value (not
    typed) is shown in that format, whatever the locale's."""
    import datetime as dt

    from django.utils import translation

    from apps.core.forms import AuditSearchForm

    with translation.override("en-gb"):
        form = AuditSearchForm(initial={"date_from": dt.date(2026, 11, 1)}, object_types=[])
        assert 'value="2026-11-01"' in str(form["date_from"])
