"""Writing the audit trail.

Every service that changes data calls `audit_record` inside the same `transaction.atomic`
block as the change, so the change and its audit event are stored together or not at all
(`audit_record` refuses to run outside a transaction). Views of sensitive records call
`audit_view`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction

from .context import current_request
from .models import AuditEvent

ENCRYPTED_PLACEHOLDER = "(encrypted)"


@dataclass(frozen=True)
class SystemActor:
    """The actor for work no person started: a management command, a scheduled job."""

    label: str

    def __str__(self) -> str:
        return f"system:{self.label}"


Actor = Any  # a User, or a SystemActor


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def _is_encrypted(field: models.Field) -> bool:
    return bool(getattr(field, "encrypted", False))


def audit_snapshot(instance: models.Model) -> dict[str, Any]:
    """The instance's concrete field values (foreign keys as ids), for a before/after diff.

    Encrypted fields are kept as plain text here, in memory only; `audit_record` stores only
    whether they changed.
    """
    values: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        values[field.attname] = getattr(instance, field.attname)
    return values


def _diff(
    instance: models.Model | None, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> dict[str, list[Any]]:
    before = before or {}
    after = after or {}
    encrypted = set()
    if instance is not None:
        encrypted = {f.attname for f in instance._meta.concrete_fields if _is_encrypted(f)}
    changes: dict[str, list[Any]] = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if name in encrypted:
            changes[name] = [
                ENCRYPTED_PLACEHOLDER if old else "",
                ENCRYPTED_PLACEHOLDER if new else "",
            ]
        else:
            changes[name] = [_plain(old), _plain(new)]
    return changes


def actor_fields(actor: Actor) -> tuple[Any, str]:
    """The user to record as the actor (None for a SystemActor) and the label to show: what
    every record of who did something (an audit event, a lifecycle step, a revision) keeps."""
    if actor is None:
        raise ValueError("Every change needs an actor: pass a user or a SystemActor.")
    if isinstance(actor, SystemActor):
        return None, str(actor)
    if not getattr(actor, "is_authenticated", False):
        raise ValueError("An anonymous visitor cannot be the actor of a change.")
    return actor, actor.get_username()


def audit_record(
    *,
    actor: Actor,
    action: str,
    instance: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    summary: str = "",
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    changes: dict[str, list[Any]] | None = None,
) -> AuditEvent:
    """Store one audit event in the caller's transaction.

    For a create pass `after`; for an update `before` and `after`; for a delete `before`.
    """
    if not connection.in_atomic_block:
        raise RuntimeError(
            "audit_record must run inside transaction.atomic, with the change it records."
        )
    user, label = actor_fields(actor)
    if instance is not None:
        object_type = object_type or instance._meta.label_lower
        object_id = object_id or str(instance.pk)
        object_repr = object_repr or str(instance)
    if changes is None:
        changes = _diff(instance, before, after)
    context = current_request.get()
    return AuditEvent.objects.create(
        actor=user,
        actor_label=label[:200],
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:300],
        summary=summary[:500],
        changes=changes,
        request_id=context.request_id,
        ip_address=context.ip_address,
    )


def audit_view(*, actor: Actor, instance: models.Model, summary: str = "") -> AuditEvent:
    """Log that someone looked at a sensitive record."""
    with transaction.atomic():
        return audit_record(
            actor=actor, action=AuditEvent.Action.VIEW, instance=instance, summary=summary
        )
