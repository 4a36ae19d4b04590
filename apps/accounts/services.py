"""Writes about people and organisations: every one audited."""

from __future__ import annotations

from typing import Any

import segno
from django.contrib.auth import login, logout
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.core.audit import Actor, SystemActor, audit_record, audit_snapshot
from apps.core.cache import data_changed
from apps.core.models import AuditEvent

from .models import Organisation, User


def organisation_create(*, actor: Actor, **fields: Any) -> Organisation:
    with transaction.atomic():
        organisation = Organisation(**fields)
        organisation.full_clean()
        organisation.save()
        data_changed("accounts")
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            instance=organisation,
            after=audit_snapshot(organisation),
        )
    return organisation


def user_create(*, actor: Actor, password: str | None, **fields: Any) -> User:
    with transaction.atomic():
        user = User(**fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean()
        user.save()
        data_changed("accounts")
        after = audit_snapshot(user)
        after.pop("password", None)
        audit_record(actor=actor, action=AuditEvent.Action.CREATE, instance=user, after=after)
    return user


def user_sign_in(*, request: HttpRequest, user: User) -> None:
    with transaction.atomic():
        login(request, user)
        audit_record(
            actor=user, action=AuditEvent.Action.SIGN_IN, instance=user, summary="Signed in"
        )


def user_sign_in_failed(*, username: str) -> None:
    with transaction.atomic():
        audit_record(
            actor=SystemActor("sign-in"),
            action=AuditEvent.Action.SIGN_IN_FAILED,
            object_type="accounts.user",
            object_repr=username[:150],
            summary="Failed sign-in attempt",
        )


def user_sign_out(*, request: HttpRequest) -> None:
    user = request.user
    with transaction.atomic():
        if user.is_authenticated:
            audit_record(
                actor=user, action=AuditEvent.Action.SIGN_OUT, instance=user, summary="Signed out"
            )
        logout(request)


def totp_device_start(*, user: User) -> TOTPDevice:
    """An unconfirmed authenticator for the user to scan; replaces any earlier unconfirmed one."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def totp_qr_svg(*, device: TOTPDevice) -> str:
    return segno.make(device.config_url, error="m").svg_inline(
        scale=5, title="Authenticator app QR code"
    )


def totp_device_confirm(*, request: HttpRequest, device: TOTPDevice, token: str) -> bool:
    if not device.verify_token(token):
        return False
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        otp_login(request, device)
        audit_record(
            actor=request.user,
            action=AuditEvent.Action.CREATE,
            instance=device,
            object_repr=f"Authenticator app for {request.user}",
            summary="Set up two-factor sign-in",
        )
    return True


def totp_verify(*, request: HttpRequest, token: str) -> bool:
    for device in TOTPDevice.objects.filter(user=request.user, confirmed=True):
        if device.verify_token(token):
            otp_login(request, device)
            return True
    return False
