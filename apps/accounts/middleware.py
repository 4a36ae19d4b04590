"""Two-factor sign-in: where required, a signed-in person must confirm a TOTP code before
reaching anything but the two-factor pages and sign-out."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

EXEMPT_URL_NAMES = {
    "accounts:two-factor-setup",
    "accounts:two-factor-verify",
    "accounts:sign-out",
    "core:health",
    "core:home",
}


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if not settings.INSPECTORATE_REQUIRE_2FA:
            return None
        user = request.user
        if not user.is_authenticated or user.is_verified():  # type: ignore[attr-defined]
            return None
        match = request.resolver_match
        if match is None or match.view_name in EXEMPT_URL_NAMES:
            return None
        from django_otp import devices_for_user

        has_device = any(devices_for_user(user, confirmed=True))
        target = "accounts:two-factor-verify" if has_device else "accounts:two-factor-setup"
        return redirect(f"{reverse(target)}?next={request.get_full_path()}")
