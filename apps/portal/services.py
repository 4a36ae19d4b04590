"""Writes of the public portal: storing a message from the contact form, and marking it
handled. Both leave an audit event in the same transaction."""

from __future__ import annotations

import logging
import secrets
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from apps.core.audit import SystemActor, audit_record, audit_snapshot
from apps.core.models import AuditEvent

from .models import ContactMessage
from .permissions import can_read_contact_messages

logger = logging.getLogger(__name__)

CONTACT_FORM = SystemActor("public contact form")
# No 0/O or 1/I/L: a reference read out over the phone should not be misheard.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def _new_reference() -> str:
    for _ in range(10):
        body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
        reference = f"MSG-{body[:4]}-{body[4:]}"
        if not ContactMessage.objects.filter(reference=reference).exists():
            return reference
    raise RuntimeError("Could not find an unused message reference")  # pragma: no cover


def _acknowledge(message_id: int) -> None:
    """Runs after the message is stored. A mail failure is logged, never raised: the message
    is safely stored and the sender has their reference on screen. The email never repeats
    what they wrote."""
    try:
        message = ContactMessage.objects.get(pk=message_id)
        if not message.email:
            return
        body = render_to_string(
            "portal/email/acknowledgement.txt",
            {"message": message, "site_url": settings.INSPECTORATE_SITE_URL.rstrip("/")},
        )
        send_mail(
            subject=f"We have received your message ({message.reference})",
            message=body,
            from_email=None,
            recipient_list=[message.email],
            fail_silently=False,
        )
        ContactMessage.objects.filter(pk=message_id).update(acknowledged_at=timezone.now())
    except Exception:
        logger.exception("Could not acknowledge contact message %s", message_id)


def contact_message_submit(
    *, topic: str, message: str, name: str = "", email: str = ""
) -> ContactMessage:
    """Store a message from the public (already checked by the form) and, if they gave an
    email address, acknowledge it by email once stored."""
    with transaction.atomic():
        stored = ContactMessage.objects.create(
            reference=_new_reference(),
            topic=topic,
            name=name.strip(),
            email=email.strip(),
            message=message.strip(),
        )
        audit_record(
            actor=CONTACT_FORM,
            action=AuditEvent.Action.CREATE,
            instance=stored,
            after=audit_snapshot(stored),
            summary=f"Message from the public ({stored.get_topic_display()})",
        )
        if stored.email:
            transaction.on_commit(partial(_acknowledge, stored.pk))
    return stored


def contact_message_mark_handled(
    *, actor: Any, message: ContactMessage, note: str = ""
) -> ContactMessage:
    if not can_read_contact_messages(actor):
        raise PermissionDenied
    with transaction.atomic():
        locked = ContactMessage.objects.select_for_update().get(pk=message.pk)
        if locked.handled_at is not None:
            raise ValidationError("This message is already marked as handled.")
        before = audit_snapshot(locked)
        locked.handled_at = timezone.now()
        locked.handled_by = actor
        locked.handled_note = note.strip()
        locked.save(update_fields=["handled_at", "handled_by", "handled_note"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=locked,
            before=before,
            after=audit_snapshot(locked),
            summary="Marked a message from the public as handled",
        )
    return locked
