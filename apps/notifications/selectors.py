from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet

from .models import Notification


def notifications_for(user: Any) -> QuerySet[Notification]:
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user)


def unread_key(user_id: int) -> str:
    return f"notifications:unread:{user_id}"


def unread_count(user: Any) -> int:
    """Shown in the header of every page, so it is cached per person; every notice sent to
    them and every marking as read forgets it (services.py)."""
    count = cache.get_or_set(
        unread_key(user.pk),
        lambda: notifications_for(user).filter(read_at__isnull=True).count(),
        60 * 60,
    )
    return int(count or 0)
