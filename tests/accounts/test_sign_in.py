from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import check_password, make_password
from django.test import override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import Role
from apps.core.models import AuditEvent
from inspectorate.settings import base
from tests.factories import UserFactory

PASSWORD = "a-long-test-password"


@pytest.fixture
def person(db):
    return UserFactory(username="pat", role=Role.INSPECTOR)


def sign_in(client, username="pat", password=PASSWORD):
    return client.post(
        reverse("accounts:sign-in"),
        {"username": username, "password": password},
        REMOTE_ADDR="10.9.8.7",
    )


def test_passwords_are_hashed_with_argon2():
    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    with override_settings(PASSWORD_HASHERS=base.PASSWORD_HASHERS):
        encoded = make_password("correct horse battery staple")
        assert encoded.startswith("argon2$argon2id$")
        assert check_password("correct horse battery staple", encoded)


def test_sign_in_and_out_are_audited(client, person):
    response = sign_in(client)
    assert response.status_code == 302
    assert response.url == reverse("inspections:staff-home")
    assert AuditEvent.objects.filter(action="sign_in", actor=person).count() == 1
    assert client.get(reverse("accounts:sign-out")).status_code == 405  # POST only
    response = client.post(reverse("accounts:sign-out"))
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="sign_out", actor=person).count() == 1
    assert client.get(reverse("inspections:staff-home")).status_code == 302


def test_failed_sign_in_shows_error_and_is_audited(client, person):
    response = sign_in(client, password="wrong password")
    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "Enter a correct user name and password" in page
    event = AuditEvent.objects.get(action="sign_in_failed")
    assert event.object_repr == "pat"
    assert "wrong password" not in str(event.changes) + event.summary


def test_next_url_must_be_on_this_site(client, person):
    response = client.post(
        reverse("accounts:sign-in") + "?next=https://evil.example/",
        {"username": "pat", "password": PASSWORD},
    )
    assert response.url == reverse("inspections:staff-home")


def test_repeated_failures_lock_the_account_out(client, person):
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        sign_in(client, password="wrong password")
    response = sign_in(client)  # even the right password is refused now
    assert response.status_code == 429
    assert "Too many attempts to sign in" in response.content.decode()
    assert "_auth_user_id" not in client.session


@override_settings(INSPECTORATE_REQUIRE_2FA=True)
def test_two_factor_is_enforced_when_required(client, person):
    sign_in(client)
    response = client.get(reverse("inspections:staff-home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:two-factor-setup"))
    # Public pages stay reachable.
    assert client.get(reverse("core:home")).status_code == 200

    page = client.get(reverse("accounts:two-factor-setup"))
    assert "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=person, confirmed=False)
    right = f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = client.post(reverse("accounts:two-factor-setup"), {"token": wrong})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    device.refresh_from_db()
    device.throttle_reset()  # django-otp slows down guessing after a failure
    token = f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"
    response = client.post(reverse("accounts:two-factor-setup"), {"token": token})
    assert response.status_code == 302
    assert client.get(reverse("inspections:staff-home")).status_code == 200
    assert TOTPDevice.objects.get(user=person).confirmed

    # Next sign-in asks for a code from the confirmed device.
    client.post(reverse("accounts:sign-out"))
    sign_in(client)
    response = client.get(reverse("inspections:staff-home"))
    assert response.url.startswith(reverse("accounts:two-factor-verify"))
    response = client.post(reverse("accounts:two-factor-verify"), {"token": "12ab56"})
    assert "The code is 6 digits" in response.content.decode()
    device.refresh_from_db()
    device.last_t = -1
    device.save()
    token = f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"
    response = client.post(reverse("accounts:two-factor-verify"), {"token": token})
    assert response.status_code == 302
    assert client.get(reverse("inspections:staff-home")).status_code == 200


def test_two_factor_optional_in_the_demo(client, person):
    sign_in(client)
    assert client.get(reverse("inspections:staff-home")).status_code == 200


def test_production_settings_require_two_factor(tmp_path):
    import subprocess
    import sys

    from apps.core.crypto import generate_key

    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "inspectorate.settings.production",
        "DJANGO_SECRET_KEY": "x" * 60,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused",
        "INSPECTORATE_ENCRYPTION_KEYS": generate_key(),
    }
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.INSPECTORATE_REQUIRE_2FA)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        cwd=django_settings.BASE_DIR,
        check=True,
    )
    assert result.stdout.strip() == "True"
