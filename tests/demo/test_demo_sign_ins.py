"""`demo_sign_ins`: what `make run` prints before serving."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from apps.accounts.models import User
from apps.demo.catalogue import DEMO_PASSWORD, SIGN_INS


def _run() -> str:
    out = StringIO()
    call_command("demo_sign_ins", stdout=out)
    return out.getvalue()


def test_without_demo_data_says_how_to_make_it(db):
    text = _run()
    assert "no demo data" in text
    assert "generate_programme --scale demo" in text
    assert DEMO_PASSWORD not in text


def test_lists_each_sign_in_with_what_it_sees(demo):
    text = _run()
    assert f"password: {DEMO_PASSWORD}" in text
    for person in SIGN_INS:
        assert f"  {person.username} " in text
    assert "Programme manager" in text and "Every inspection (13)" in text
    assert "An inspector who second-marks" in text
    assert "Force liaison, Cumbria Constabulary" in text
    assert "The force's 5 inspections from the day it is notified (not the 1 still" in text
    assert "Partner inspector, Office for Standards in Education" in text
    assert "The 1 joint inspection on whose team they are" in text
    assert "/admin/" in text


def test_each_sign_in_reaches_its_home_page(demo, client):
    for person in SIGN_INS:
        client.force_login(User.objects.get(username=person.username))
        response = client.get("/home/")
        assert response.status_code == 200, person.username
        client.logout()
