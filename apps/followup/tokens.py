"""Forces' API keys: creating, revoking and checking them, and recording refused calls.

A key is `insp_` and 43 random URL-safe characters (256 bits). Only its SHA-256 is stored,
with its first characters (the prefix) to tell keys apart; the key itself is shown once, to
whoever created it. A key is checked by looking up the hash of what was sent, so no stored
secret is ever compared character by character. Programme managers and administrators
manage the keys of every force, a force's liaison officers those of their own force; the
force's liaisons hear of every key created or revoked for it.

Every refused API call (no key, a wrong or revoked key, or another force's recommendation)
is logged and written to the audit trail, without the key: at most its first 8 characters.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from typing import Any

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.core.audit import Actor, SystemActor, audit_record, audit_snapshot
from apps.core.models import AuditEvent
from apps.notifications.services import notify
from apps.reference.models import Force

from . import permissions
from .models import ApiToken
from .services import ApiActor, FollowUpError

KEY_PREFIX = "insp_"
PREFIX_LENGTH = 12  # "insp_" and 7 random characters: enough to tell a force's keys apart
MAX_KEY_LENGTH = 100  # anything longer is not one of our keys, and is not hashed
LOGGED_KEY_CHARACTERS = 8  # of a key that matched nothing, the most the logs keep
MAX_ACTIVE_KEYS = 10  # per force: keys nobody remembers are keys nobody revokes
LAST_USED_EVERY = dt.timedelta(minutes=1)  # at most one write per key a minute for "last used"
SYSTEM = SystemActor("api")

logger = logging.getLogger("apps.followup.api")


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_actor(token: ApiToken) -> ApiActor:
    """Who an API call acts as, in the audit trail and on what it writes:
    system:api:<force code>:<key prefix>."""
    force = token.force
    return ApiActor(
        label=f"api:{force.code or force.slug}:{token.prefix}",
        force_id=token.force_id,
        token_id=token.pk,
    )


# Reads -------------------------------------------------------------------------------------


def _signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def token_forces(user: Any) -> QuerySet[Force]:
    """The forces whose keys the person may manage."""
    if not _signed_in(user):
        return Force.objects.none()
    if user.role in (Role.PROGRAMME_MANAGER, Role.ADMINISTRATOR):
        return Force.objects.order_by("name")
    if user.role == Role.FORCE_LIAISON and user.own_force_id:
        return Force.objects.filter(pk=user.own_force_id)
    return Force.objects.none()


def tokens_visible_to(user: Any) -> QuerySet[ApiToken]:
    """The keys the person may see and revoke: the same rule as
    `permissions.can_manage_tokens_of`."""
    return (
        ApiToken.objects.filter(force__in=token_forces(user))
        .select_related("force", "created_by", "revoked_by")
        .order_by("force__name", F("revoked_at").asc(nulls_first=True), "-created_at", "-id")
    )


def token_find(key: str) -> ApiToken | None:
    """The key's record, active or revoked, or None if the key is not one of ours."""
    if not isinstance(key, str) or not key.startswith(KEY_PREFIX) or len(key) > MAX_KEY_LENGTH:
        return None
    digest = key_hash(key)
    token = ApiToken.objects.select_related("force").filter(key_hash=digest).first()
    if token is None or not hmac.compare_digest(token.key_hash, digest):
        return None
    return token


def token_authenticate(key: str) -> ApiToken | None:
    """The active key's record, or None for a key that is wrong or revoked. Notes when the
    key was last used, at most once a minute (not a write per request)."""
    token = token_find(key)
    if token is None or not token.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        # Conditional, so concurrent requests of the same minute make one write between them.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_EVERY)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token


# Writes ------------------------------------------------------------------------------------


def _keys_link() -> str:
    return reverse("followup_keys:list")


def _tell_force(actor: User, force: Force, subject: str, body: str) -> None:
    """The force's liaisons hear of every change to its keys (but not the one who made it)."""
    notify(
        recipients=User.objects.filter(
            role=Role.FORCE_LIAISON, is_active=True, organisation__force=force
        ).exclude(pk=actor.pk),
        subject=subject,
        body=body,
        link=_keys_link(),
    )


def token_create(*, actor: User, force: Force, name: str) -> tuple[ApiToken, str]:
    """A new key for the force. Returns the record and the key itself: show it once, it
    cannot be read again."""
    name = (name or "").strip()
    if not name:
        raise FollowUpError({"name": "Enter a name that says what will use the key."})
    if len(name) > 100:
        raise FollowUpError({"name": "The name must be 100 characters or fewer."})
    if not permissions.can_manage_tokens_of(actor, force.pk):
        raise FollowUpError(
            "Only the programme manager, an administrator or the force's own liaison officers "
            "manage a force's API keys."
        )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        force = Force.objects.select_for_update().get(pk=force.pk)  # one count at a time
        if ApiToken.objects.filter(force=force, revoked_at__isnull=True).count() >= (
            MAX_ACTIVE_KEYS
        ):
            raise FollowUpError(
                f"{force.name} has {MAX_ACTIVE_KEYS} keys in use, the most allowed: revoke one "
                "that is no longer used first."
            )
        token = ApiToken.objects.create(
            force=force,
            name=name,
            prefix=key[:PREFIX_LENGTH],
            key_hash=key_hash(key),
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            instance=token,
            changes={
                "force": [None, force.name],
                "name": [None, name],
                "prefix": [None, token.prefix],
            },
            summary=f"API key {token.prefix}… ({name}) created for {force.name}",
        )
        _tell_force(
            actor,
            force,
            subject=f"A new API key for {force.name}",
            body=f"{actor.get_full_name() or actor.get_username()} created the API key "
            f"“{name}” ({token.prefix}…) for {force.name}. If you did not expect it, revoke it.",
        )
    return token, key


def token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    """Revoke the key: every call with it is refused from now on. Cannot be undone."""
    with transaction.atomic():
        current = ApiToken.objects.select_for_update().select_related("force").get(pk=token.pk)
        if not permissions.can_manage_tokens_of(actor, current.force_id):
            raise FollowUpError(
                "Only the programme manager, an administrator or the force's own liaison "
                "officers manage a force's API keys."
            )
        if current.revoked_at is not None:
            raise FollowUpError(
                f"The key {current.prefix}… was revoked already, on "
                f"{timezone.localtime(current.revoked_at):%-d %B %Y}."
            )
        before = audit_snapshot(current)
        current.revoked_at = timezone.now()
        current.revoked_by = actor
        current.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=current,
            before=before,
            after=audit_snapshot(current),
            summary=f"API key {current.prefix}… ({current.name}) of {current.force.name} revoked",
        )
        _tell_force(
            actor,
            current.force,
            subject=f"An API key of {current.force.name} was revoked",
            body=f"{actor.get_full_name() or actor.get_username()} revoked the API key "
            f"“{current.name}” ({current.prefix}…) of {current.force.name}. Anything still "
            "using it is refused from now on.",
        )
    return current


# Refused calls -----------------------------------------------------------------------------


def _printable(text: str, limit: int) -> str:
    """Caller-supplied text made safe for a log line or the audit trail."""
    return "".join(c if c.isprintable() else "?" for c in text[:limit])


def key_hint(key: str) -> str:
    return _printable(key, LOGGED_KEY_CHARACTERS) + "…" if key else ""


def api_call_refused(
    *, reason: str, key: str = "", token: ApiToken | None = None, method: str, path: str
) -> None:
    """Log and audit an API call refused for its key. `reason` is "missing", "malformed",
    "unknown" or "revoked"; the key itself is never kept (at most its first characters)."""
    call = f"{method} {_printable(path, 200)}"
    if token is not None:
        what = f"revoked key {token.prefix}… ({token.name}) of {token.force.name}"
    elif reason == "missing":
        what = "no API key"
    elif reason == "malformed":
        what = "an Authorization header that is not 'Bearer <key>'"
    else:
        what = f"an unknown key {key_hint(key)}" if key else "an empty key"
    summary = f"API call refused, {what}: {call}"
    logger.warning(
        summary,
        extra={
            "event": "api_refused",
            "reason": reason,
            "key_hint": key_hint(key),
            "token_id": token.pk if token else None,
        },
    )
    with transaction.atomic():
        audit_record(
            actor=SYSTEM,
            action=AuditEvent.Action.SIGN_IN_FAILED,
            instance=token,
            object_type="" if token else "followup.apitoken",
            summary=summary,
        )


def api_wrong_force(
    *, token: ApiToken, actor: Actor, what: str, object_id: str, method: str, path: str
) -> None:
    """Log and audit a call for something that is not the key's force's to see (another
    force's recommendation, an unpublished one, or one that does not exist): the caller got
    404, exactly as for a missing one."""
    summary = (
        f"API call refused, {what} (key {token.prefix}… of {token.force.name}): "
        f"{method} {_printable(path, 200)}"
    )
    logger.warning(
        summary,
        extra={"event": "api_wrong_force", "token_id": token.pk, "object_id": object_id},
    )
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditEvent.Action.SIGN_IN_FAILED,
            object_type="findings.finding",
            object_id=object_id[:64],
            summary=summary,
        )
