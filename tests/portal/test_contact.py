"""The contact form: stored encrypted and acknowledged; floods, oversized and script-laden
input, automated senders and forged posts refused clearly; the inbox for programme managers and
administrators only, every reading audited."""

from __future__ import annotations

import html
import re
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Role
from apps.core.models import AuditEvent
from apps.portal import throttle
from apps.portal.forms import MESSAGE_MAX
from apps.portal.models import ContactMessage

pytestmark = pytest.mark.django_db

URL = "/contact/"
GOOD = {
    "topic": "report",
    "message": "When will the follow-up of the Northshire report be published?",
    "name": "A. Reader",
    "email": "reader@example.test",
    "website": "",
}


def text(response) -> str:
    return html.unescape(response.content.decode())


def post(client: Client, **changes) -> object:
    return client.post(URL, {**GOOD, **changes})


def test_the_form_signposts_a_child_in_danger(client) -> None:
    page = text(client.get(URL))
    assert "This form is not for reporting a child in danger" in page
    assert "999" in page and "0800 1111" in page and "Childline" in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert "<div hidden>" in page and 'name="website"' in page  # the hidden field


def test_a_message_is_stored_encrypted_and_acknowledged(
    client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client)
    assert response.status_code == 302
    message = ContactMessage.objects.get()
    assert message.message == GOOD["message"]
    assert message.email == GOOD["email"] and message.name == GOOD["name"]
    assert re.fullmatch(r"MSG-[2-9A-Z]{4}-[2-9A-Z]{4}", message.reference)
    with connection.cursor() as cursor:
        cursor.execute("SELECT message, email, name FROM portal_contactmessage")
        stored = cursor.fetchone()
    assert all(
        GOOD[key] not in value
        for key, value in zip(("message", "email", "name"), stored, strict=True)
    )
    # Thanks, with the reference.
    thanks = text(client.get(response["Location"]))
    assert "Message sent" in thanks and message.reference in thanks
    # The acknowledgement: the reference, never what they wrote.
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [GOOD["email"]]
    assert message.reference in email.subject and message.reference in email.body
    assert GOOD["message"] not in email.body
    assert "999" in email.body and "0800 1111" in email.body
    message.refresh_from_db()
    assert message.acknowledged_at is not None
    # Audited as the contact form's, with the text recorded only as changed.
    event = AuditEvent.objects.get(object_type="portal.contactmessage", action="create")
    assert event.actor_label == "system:public contact form"
    assert event.changes["message"] == ["", "(encrypted)"]


def test_without_an_email_address_nothing_is_sent(
    client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, email="", name="")
    assert response.status_code == 302
    assert ContactMessage.objects.count() == 1
    assert mail.outbox == []


def test_a_mail_failure_never_fails_the_request(client, django_capture_on_commit_callbacks) -> None:
    with (
        mock.patch("apps.portal.services.send_mail", side_effect=OSError("mail server down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = post(client)
    assert response.status_code == 302
    message = ContactMessage.objects.get()
    assert message.acknowledged_at is None


def test_thanks_page_shows_only_a_reference_we_signed(client) -> None:
    page = text(client.get("/contact/thanks/?m=MSG-FAKE-FAKE"))
    assert "Message sent" in page and "MSG-FAKE-FAKE" not in page
    assert client.get("/contact/thanks/").status_code == 200


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({"message": ""}, "message", "Enter your message"),
        ({"topic": ""}, "topic", "Select what your message is about"),
        ({"topic": "nonsense"}, "topic", "Select a valid choice"),
        (
            {"message": "x" * (MESSAGE_MAX + 1)},
            "message",
            "Your message must be 5,000 characters or fewer (it has 5,001)",
        ),
        ({"name": "n" * 101}, "name", "Your name must be 100 characters or fewer"),
        ({"email": "not-an-address"}, "email", "Enter an email address in the correct format"),
        (
            {"email": "a" * 300 + "@example.test"},
            "email",
            "Your email address must be 254 characters or fewer",
        ),
        (
            {"message": "Hello <script>alert(1)</script>"},
            "message",
            "Your message must not contain HTML, code or script",
        ),
        ({"message": "Click <a href='x'>here</a>"}, "message", "must not contain HTML"),
        ({"message": "see javascript:alert(1)"}, "message", "must not contain HTML"),
        ({"message": '<img src=x onerror="alert(1)">'}, "message", "must not contain HTML"),
        (
            {"message": "http://a.test http://b.test http://c.test"},
            "message",
            "Your message must contain no more than 2 web addresses (it has 3)",
        ),
        ({"name": "<b>Bold</b>"}, "name", "Your name must not contain HTML"),
        ({"name": "www.spam.test"}, "name", "Your name must not contain web addresses"),
        ({"message": "Hello\x00there"}, "message", "Null characters are not allowed"),
        ({"message": "Bell\x07"}, "message", "must not contain control characters"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(client, changes, field, error) -> None:
    response = post(client, **changes)
    assert response.status_code == 200
    page = text(response)
    assert "There is a problem" in page
    assert error in page
    assert f'href="#id_{field}' in page  # the error summary links to the field
    assert ContactMessage.objects.count() == 0
    assert "<title>Error: Contact us" in page


def test_plain_text_with_angle_brackets_and_two_links_is_fine(client) -> None:
    response = post(
        client,
        message="Children aged < 5 and > 2 were seen. See https://a.test/x and www.b.test.",
    )
    assert response.status_code == 302
    assert ContactMessage.objects.count() == 1


def test_the_hidden_field_discards_the_message_quietly(client) -> None:
    response = post(client, website="http://spam.test")
    assert response.status_code == 302
    assert response["Location"] == "/contact/thanks/"
    assert ContactMessage.objects.count() == 0
    assert mail.outbox == []


def test_a_post_without_the_csrf_token_is_refused(db) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(URL, GOOD)
    assert response.status_code == 403
    assert ContactMessage.objects.count() == 0


def test_a_flood_from_one_address_is_stopped(client, settings) -> None:
    settings.PORTAL_CONTACT_PER_CLIENT = 3
    for n in range(3):
        assert post(client, message=f"Message {n}").status_code == 302
    response = post(client, message="One too many")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    page = text(response)
    assert "Too many messages sent" in page and "Your message has not been sent" in page
    assert "999" in page
    for _ in range(5):
        assert post(client).status_code == 429
    assert ContactMessage.objects.count() == 3
    # Bad posts count too: a flood of nonsense is a flood.
    other = Client(REMOTE_ADDR="192.0.2.77")
    for _ in range(3):
        assert other.post(URL, {"message": ""}).status_code == 200
    assert other.post(URL, GOOD).status_code == 429
    # Another address is not held up by the first.
    assert Client(REMOTE_ADDR="192.0.2.8").post(URL, GOOD).status_code == 302


def test_the_global_ceiling_holds_across_addresses(client, settings) -> None:
    settings.PORTAL_CONTACT_GLOBAL = 4
    statuses = [
        Client(REMOTE_ADDR=f"198.51.100.{n}").post(URL, GOOD).status_code for n in range(1, 8)
    ]
    assert statuses == [302] * 4 + [429] * 3
    assert ContactMessage.objects.count() == 4


def test_ipv6_clients_count_by_network() -> None:
    a = throttle.client_key("2001:db8:1:2:aaaa::1")
    b = throttle.client_key("2001:db8:1:2:bbbb::9")
    c = throttle.client_key("2001:db8:1:3::1")
    assert a == b != c
    assert throttle.client_key(None) == throttle.client_key("not an address") == "unknown"
    assert "192.0.2.1" not in throttle.client_key("192.0.2.1")  # only a hash is kept


def test_windows_end(settings) -> None:
    settings.PORTAL_CONTACT_PER_CLIENT = 1
    settings.PORTAL_CONTACT_PER_CLIENT_SECONDS = 60
    start = 60 * 16_667  # a window starts here
    assert throttle.contact_attempt("192.0.2.1", now=start + 10.0) is None
    assert throttle.contact_attempt("192.0.2.1", now=start + 20.0) == 40
    assert throttle.contact_attempt("192.0.2.1", now=start + 61.0) is None  # the next window


# The inbox ---------------------------------------------------------------------------------


@pytest.fixture
def message(client) -> ContactMessage:
    post(client, message="A child in my street is often alone at night.")
    return ContactMessage.objects.get()


ALLOWED = {Role.PROGRAMME_MANAGER, Role.ADMINISTRATOR}


@pytest.mark.parametrize("role", list(Role))
def test_inbox_is_for_programme_managers_and_administrators(client, staff, message, role) -> None:
    client.force_login(staff[role])
    urls = [
        reverse("portal:message-list"),
        reverse("portal:message-detail", args=[message.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == (200 if role in ALLOWED else 403), (url, role)
    response = client.post(reverse("portal:message-handled", args=[message.pk]), {"note": ""})
    assert response.status_code == (302 if role in ALLOWED else 403)
    message.refresh_from_db()
    assert message.is_handled == (role in ALLOWED)
    views = AuditEvent.objects.filter(action="view", object_type="portal.contactmessage")
    assert views.count() == (1 if role in ALLOWED else 0)


def test_inbox_sends_visitors_to_sign_in(client, message) -> None:
    for url in (
        reverse("portal:message-list"),
        reverse("portal:message-detail", args=[message.pk]),
        reverse("portal:message-handled", args=[message.pk]),
    ):
        response = client.get(url) if "handled" not in url else client.post(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/sign-in/")


def test_reading_and_handling_a_message(client, staff, message) -> None:
    manager = staff["programme_manager"]
    client.force_login(manager)
    listing = text(client.get(reverse("portal:message-list")))
    assert message.reference in listing
    assert "often alone" not in listing  # the list shows no text
    page = text(client.get(reverse("portal:message-detail", args=[message.pk])))
    assert "A child in my street is often alone at night." in page
    assert "reader@example.test" in page
    event = AuditEvent.objects.get(action="view", object_type="portal.contactmessage")
    assert event.actor == manager and event.object_id == str(message.pk)
    response = client.post(
        reverse("portal:message-handled", args=[message.pk]), {"note": "Passed to the lead"}
    )
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.handled_by == manager and message.handled_note == "Passed to the lead"
    assert AuditEvent.objects.filter(action="update", object_id=str(message.pk)).count() == 1
    row = f'data-message="{message.reference}"'
    assert row not in text(client.get(reverse("portal:message-list")))
    assert row in text(client.get(reverse("portal:message-list") + "?show=handled"))
    # Twice is refused clearly, and nothing changes.
    response = client.post(reverse("portal:message-handled", args=[message.pk]), {"note": "x"})
    assert response.status_code == 400
    assert "already marked as handled" in text(response)
    message.refresh_from_db()
    assert message.handled_note == "Passed to the lead"


def test_unknown_message_is_not_found(client, staff) -> None:
    client.force_login(staff["administrator"])
    assert client.get(reverse("portal:message-detail", args=[999999])).status_code == 404
    assert AuditEvent.objects.filter(action="view").count() == 0


def test_navigation_shows_the_inbox_only_to_those_who_may_read_it(client, staff) -> None:
    client.force_login(staff["administrator"])
    assert "Public messages" in text(client.get("/reports/"))
    client.force_login(staff["inspector"])
    assert "Public messages" not in text(client.get("/reports/"))
