from __future__ import annotations

import base64

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import services
from .forms import SignInForm, TokenForm


def _next_url(request: HttpRequest, default: str = "inspections:staff-home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    from django.urls import reverse

    return reverse(default)


def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_next_url(request))
    form = SignInForm(request, data=request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            services.user_sign_in(request=request, user=form.get_user())
            return redirect(_next_url(request))
        services.user_sign_in_failed(username=request.POST.get("username", ""))
    return render(
        request, "accounts/sign_in.html", {"form": form, "next": request.GET.get("next", "")}
    )


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    services.user_sign_out(request=request)
    messages.success(request, "You have signed out.")
    return redirect("core:home")


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None or request.method == "GET":
        device = services.totp_device_start(user=request.user)  # type: ignore[arg-type]
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.totp_device_confirm(
            request=request, device=device, token=form.cleaned_data["token"]
        ):
            messages.success(request, "Two-factor sign-in is set up.")
            return redirect(_next_url(request))
        form.add_error(
            "token", "That code is not right. Check the time on your phone and try again"
        )
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": services.totp_qr_svg(device=device),
            "secret": base64.b32encode(device.bin_key).decode("ascii"),
            "next": request.GET.get("next", ""),
        },
    )


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.totp_verify(request=request, token=form.cleaned_data["token"]):
            return redirect(_next_url(request))
        form.add_error(
            "token", "That code is not right. Check the time on your phone and try again"
        )
    return render(
        request,
        "accounts/two_factor_verify.html",
        {"form": form, "next": request.GET.get("next", "")},
    )
