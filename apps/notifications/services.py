"""Sending notices. Call inside the transaction of the change that causes them: the
notice is stored with the change, and the email goes once the transaction commits."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from .models import Notification
from .selectors import unread_key

logger = logging.getLogger(__name__)
DEDUPE_KEY_LENGTH = Notification._meta.get_field("dedupe_key").max_length or 200


def _email(notification_id: int) -> None:
    """Runs after the change committed: a mail failure is logged, never raised, so the person
    who made the change is not shown an error for something that was saved (the notice stays
    in the app with `emailed_at` empty)."""
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    recipient = notification.recipient
    if not recipient.email:
        return
    link = f"{settings.INSPECTORATE_SITE_URL.rstrip('/')}{notification.link}"
    try:
        send_mail(
            subject=("URGENT: " if notification.urgent else "") + notification.subject,
            message=f"{notification.body}\n\n{link}\n",
            from_email=None,
            recipient_list=[recipient.email],
            fail_silently=False,
        )
    except Exception:
        logger.exception("Could not email notice %s to user %s", notification_id, recipient.pk)
        return
    Notification.objects.filter(pk=notification_id).update(emailed_at=timezone.now())


def _forget_unread(user_id: int) -> None:
    """Now, so the sender's own next page is right, and again after commit, so a count
    another process cached in between (before this notice was visible) is not kept."""
    cache.delete(unread_key(user_id))
    transaction.on_commit(partial(cache.delete, unread_key(user_id)))


def notify(
    *,
    recipients: Iterable[Any],
    subject: str,
    body: str,
    link: str = "",
    urgent: bool = False,
    dedupe_key: str = "",
) -> list[Notification]:
    """Store a notice for each recipient and email it after commit. With a dedupe_key, a
    person who already had that notice gets nothing new."""
    if len(dedupe_key) > DEDUPE_KEY_LENGTH:  # a long key stands for itself by its digest
        dedupe_key = "sha256:" + hashlib.sha256(dedupe_key.encode()).hexdigest()
    created = []
    for recipient in {r.pk: r for r in recipients if r is not None and r.is_active}.values():
        if (
            dedupe_key
            and Notification.objects.filter(recipient=recipient, dedupe_key=dedupe_key).exists()
        ):
            continue
        notification = Notification.objects.create(
            recipient=recipient,
            subject=subject[:200],
            body=body[:2000],
            link=link,
            urgent=urgent,
            dedupe_key=dedupe_key,
        )
        created.append(notification)
        _forget_unread(recipient.pk)
        transaction.on_commit(partial(_email, notification.pk))
    return created


def mark_read(*, user: Any, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the person's own notices read (all unread ones if no ids are given)."""
    notices = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        notices = notices.filter(pk__in=list(notification_ids))
    count = notices.update(read_at=timezone.now())
    cache.delete(unread_key(user.pk))
    return count
