"""A ModelAdmin base whose saves and deletes are audited in the same transaction."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction

from .audit import audit_record, audit_snapshot
from .cache import data_changed
from .models import AuditEvent


class AuditedModelAdmin(admin.ModelAdmin):
    """The one way the admin writes: each save or delete and its audit event in one
    transaction, and the cached reads of `data_kind` made obsolete."""

    audit_exclude: tuple[str, ...] = ()
    data_kind = "accounts"  # which cached reads a change here makes obsolete

    def _snapshot(self, obj: Any) -> dict[str, Any]:
        values = audit_snapshot(obj)
        for name in self.audit_exclude:
            values.pop(name, None)
        return values

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        with transaction.atomic():
            before = None
            if change and obj.pk:
                stored = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
                before = self._snapshot(stored)
            super().save_model(request, obj, form, change)
            data_changed(self.data_kind)
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.UPDATE if change else AuditEvent.Action.CREATE,
                instance=obj,
                before=before,
                after=self._snapshot(obj),
                summary="Changed in the admin" if change else "Added in the admin",
            )

    def _record_delete(self, request: Any, obj: Any) -> None:
        data_changed(self.data_kind)
        audit_record(
            actor=request.user,
            action=AuditEvent.Action.DELETE,
            instance=obj,
            before=self._snapshot(obj),
            summary="Deleted in the admin",
        )

    def delete_model(self, request: Any, obj: Any) -> None:
        with transaction.atomic():
            self._record_delete(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        with transaction.atomic():
            for obj in queryset:
                self._record_delete(request, obj)
            super().delete_queryset(request, queryset)
