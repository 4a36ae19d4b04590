"""Notices: stored with the change that causes them, emailed once it commits, sent once per
key, read only by their recipient; the header counts the new ones."""

from __future__ import annotations

import re
from smtplib import SMTPException

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.urls import reverse

from apps.accounts.models import Role
from apps.notifications import services
from apps.notifications.models import Notification
from apps.notifications.selectors import notifications_for, unread_count
from tests.factories import UserFactory


@pytest.fixture
def people(db):
    return {
        name: UserFactory(username=name, full_name=name.title(), role=Role.INSPECTOR)
        for name in ("ann", "ben", "cat")
    }


def _notify(recipients, **kwargs) -> list[Notification]:
    with transaction.atomic():
        return services.notify(
            recipients=recipients,
            subject=kwargs.pop("subject", "Something happened"),
            body=kwargs.pop("body", "Look at the page."),
            link=kwargs.pop("link", "/inspections/1/fieldwork/"),
            **kwargs,
        )


# Sending ------------------------------------------------------------------------------------


def test_one_notice_per_active_recipient(people):
    gone = UserFactory(username="gone", is_active=False)
    ann = people["ann"]
    created = _notify([ann, ann, None, gone, people["ben"]], urgent=True)
    assert sorted(n.recipient.username for n in created) == ["ann", "ben"]
    assert Notification.objects.count() == 2
    notice = Notification.objects.get(recipient=ann)
    assert (notice.subject, notice.body, notice.link) == (
        "Something happened",
        "Look at the page.",
        "/inspections/1/fieldwork/",
    )
    assert notice.urgent and notice.read_at is None and notice.emailed_at is None


def test_a_dedupe_key_sends_a_notice_to_a_person_once(people):
    ann, ben = people["ann"], people["ben"]
    assert len(_notify([ann], dedupe_key="disagreement:7")) == 1
    again = _notify([ann, ben], dedupe_key="disagreement:7", subject="Second time")
    assert [n.recipient for n in again] == [ben]
    assert Notification.objects.filter(recipient=ann).count() == 1
    assert Notification.objects.get(recipient=ann).subject == "Something happened"
    # Without a key, every call is a new notice.
    _notify([ann])
    _notify([ann])
    assert Notification.objects.filter(recipient=ann).count() == 3


def test_long_subjects_and_bodies_are_cut_to_fit(people):
    notice = _notify([people["ann"]], subject="s" * 300, body="b" * 3000)[0]
    notice.refresh_from_db()
    assert (len(notice.subject), len(notice.body)) == (200, 2000)


def test_the_email_goes_once_the_change_commits(
    people, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.INSPECTORATE_SITE_URL = "https://inspect.example/"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _notify([people["ann"], people["ben"]], subject="Child at risk", urgent=True)
    assert mailoutbox == []  # nothing is sent from inside the transaction
    assert len(callbacks) == 4  # per recipient: the email, and forgetting their cached count
    for callback in callbacks:
        callback()
    assert sorted(m.to for m in mailoutbox) == [["ann@example.test"], ["ben@example.test"]]
    message = mailoutbox[0]
    assert message.subject == "URGENT: Child at risk"
    assert message.body == "Look at the page.\n\nhttps://inspect.example/inspections/1/fieldwork/\n"
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


def test_a_routine_notice_is_not_marked_urgent(
    people, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _notify([people["ann"]], subject="Referral acknowledged")
    assert [m.subject for m in mailoutbox] == ["Referral acknowledged"]


def test_a_person_without_an_email_address_gets_the_notice_only(
    people, mailoutbox, django_capture_on_commit_callbacks
):
    ann = people["ann"]
    ann.email = ""
    ann.save()
    with django_capture_on_commit_callbacks(execute=True):
        _notify([ann])
    assert mailoutbox == []
    assert Notification.objects.get(recipient=ann).emailed_at is None


def test_a_mail_failure_is_logged_not_raised(
    people, mailoutbox, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    def refuse(**kwargs):
        raise SMTPException("relay down")

    monkeypatch.setattr(services, "send_mail", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        _notify([people["ann"]])
    notice = Notification.objects.get(recipient=people["ann"])
    assert notice.emailed_at is None
    assert any("Could not email notice" in r.getMessage() for r in caplog.records)


# Reading ------------------------------------------------------------------------------------


def test_mark_read_touches_only_the_persons_own_notices(people):
    ann, ben = people["ann"], people["ben"]
    first, second, third = (_notify([ann], subject=f"N{i}")[0] for i in range(3))
    bens = _notify([ben])[0]
    assert services.mark_read(user=ann, notification_ids=[first.pk, bens.pk]) == 1
    assert unread_count(ann) == 2
    assert unread_count(ben) == 1
    assert services.mark_read(user=ann) == 2
    assert unread_count(ann) == 0
    assert services.mark_read(user=ann) == 0  # already read: the time stays
    assert Notification.objects.get(pk=bens.pk).read_at is None
    assert {n.pk for n in notifications_for(ann)} == {first.pk, second.pk, third.pk}


def test_an_anonymous_visitor_has_no_notices(people):
    _notify([people["ann"]])
    assert not notifications_for(AnonymousUser()).exists()
    assert unread_count(AnonymousUser()) == 0


def _page(client, url: str = "") -> str:
    return client.get(url or reverse("notifications:list")).content.decode()


def test_the_list_shows_the_persons_own_notices_newest_first(client, people):
    ann = people["ann"]
    _notify([ann], subject="Older notice")
    _notify([ann], subject="Newer urgent notice", urgent=True)
    _notify([people["ben"]], subject="For Ben only")
    client.force_login(ann)
    page = _page(client)
    assert page.index("Newer urgent notice") < page.index("Older notice")
    assert "For Ben only" not in page
    assert page.count('<strong class="govuk-tag">New</strong>') == 2
    assert page.count("govuk-tag--red") == 1
    assert 'href="/inspections/1/fieldwork/"' in page


def test_marking_read_through_the_page(client, people):
    ann = people["ann"]
    mine = [_notify([ann], subject=f"Notice {i}")[0] for i in range(3)]
    bens = _notify([people["ben"]])[0]
    client.force_login(ann)
    assert "Notices (3 new)" in _page(client)

    response = client.post(reverse("notifications:read"), {"id": [str(mine[0].pk), "x"]})
    assert response.status_code == 302
    assert response.url == reverse("notifications:list")
    page = _page(client)
    assert "1 notice marked as read." in page
    assert "Notices (2 new)" in page
    assert Notification.objects.get(pk=mine[0].pk).read_at is not None

    # Another person's notice cannot be marked through this page.
    client.post(reverse("notifications:read"), {"id": [str(bens.pk)]})
    assert Notification.objects.get(pk=bens.pk).read_at is None
    assert unread_count(ann) == 2  # an id of nobody's own: nothing marked

    client.post(reverse("notifications:read"))
    page = _page(client)
    assert "2 notices marked as read." in page
    assert re.search(r">\s*Notices\s*<", page)
    assert "new)" not in page


def test_marking_read_needs_a_post(client, people):
    client.force_login(people["ann"])
    assert client.get(reverse("notifications:read")).status_code == 405


@pytest.mark.parametrize("url", ["notifications:list", "notifications:read"])
def test_an_anonymous_visitor_is_sent_to_sign_in(client, db, url):
    for method in (client.get, client.post):
        response = method(reverse(url))
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:sign-in"))


def test_the_list_is_paginated(client, people):
    ann = people["ann"]
    for i in range(51):
        _notify([ann], subject=f"Notice number {i:02d}")
    client.force_login(ann)
    first = _page(client)
    assert "Notice number 50" in first and "Notice number 00" not in first
    second = _page(client, reverse("notifications:list") + "?page=2")
    assert "Notice number 00" in second and "Notice number 50" not in second


def test_the_unread_count_is_cached_and_forgotten_when_it_changes(
    people, django_assert_num_queries, django_capture_on_commit_callbacks
):
    ann = people["ann"]
    assert unread_count(ann) == 0
    with django_assert_num_queries(0):
        assert unread_count(ann) == 0  # from the cache
    with django_capture_on_commit_callbacks(execute=True):
        _notify([ann], subject="New")
    assert unread_count(ann) == 1
    services.mark_read(user=ann)
    assert unread_count(ann) == 0
