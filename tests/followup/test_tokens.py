"""Forces' API keys: shown once and stored only as a hash, checked without a write per call,
revocable, and managed only by programme managers, administrators and the force's own
liaisons; and their pages."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.followup import tokens
from apps.followup.models import ApiToken
from apps.followup.services import FollowUpError
from apps.notifications.models import Notification

from .api_fixtures import Keys, make_keys

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.followup.api_urls")]


@pytest.fixture(name="keys")
def keys_fixture(pub) -> Keys:
    return make_keys(pub)


@pytest.fixture
def north(pub):
    return pub.inspection.forces.get()


@pytest.fixture
def south(pub):
    return pub.other.forces.get()


# The services -----------------------------------------------------------------------------


def test_a_key_is_returned_once_and_only_its_hash_is_stored(pub, north):
    token, key = tokens.token_create(actor=pub.users["liaison"], force=north, name=" Tracker ")
    assert key.startswith("insp_") and len(key) == 5 + 43
    assert token.name == "Tracker"
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[:12]
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert key not in {str(v) for v in stored.values()}
    event = AuditEvent.objects.get(action=AuditEvent.Action.CREATE, object_type="followup.apitoken")
    assert event.actor == pub.users["liaison"]
    assert "Tracker" in event.summary and north.name in event.summary
    assert key not in f"{event.summary} {event.changes} {event.object_repr}"
    assert token.key_hash not in str(event.changes)
    # Two keys never share a value.
    _, other = tokens.token_create(actor=pub.users["liaison"], force=north, name="Another")
    assert other != key


def test_the_force_hears_of_a_key_made_for_it_by_the_inspectorate(pub, north):
    tokens.token_create(actor=pub.users["manager"], force=north, name="Set up for the force")
    notice = Notification.objects.get(recipient=pub.users["liaison"])
    assert "new API key" in notice.subject
    assert notice.link == reverse("followup_keys:list")
    assert not Notification.objects.filter(recipient=pub.users["other_liaison"]).exists()


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        ("manager", True),
        ("admin", True),
        ("liaison", True),
        ("other_liaison", False),
        ("lead", False),
        ("inspector", False),
        ("analyst", False),
        ("partner", False),
    ],
)
def test_who_may_create_a_forces_key(pub, north, user, allowed):
    if allowed:
        token, _ = tokens.token_create(actor=pub.users[user], force=north, name="Tracker")
        assert token.force == north
    else:
        with pytest.raises(FollowUpError, match="manage a force's API keys"):
            tokens.token_create(actor=pub.users[user], force=north, name="Tracker")
        assert not ApiToken.objects.exists()


def test_a_key_needs_a_name_and_a_force_has_at_most_ten_in_use(pub, north):
    with pytest.raises(FollowUpError) as refused:
        tokens.token_create(actor=pub.users["liaison"], force=north, name="  ")
    assert refused.value.message_dict == {"name": ["Enter a name that says what will use the key."]}
    made = [
        tokens.token_create(actor=pub.users["liaison"], force=north, name=f"Key {n}")[0]
        for n in range(tokens.MAX_ACTIVE_KEYS)
    ]
    with pytest.raises(FollowUpError, match="10 keys in use"):
        tokens.token_create(actor=pub.users["liaison"], force=north, name="One too many")
    tokens.token_revoke(actor=pub.users["liaison"], token=made[0])
    tokens.token_create(actor=pub.users["liaison"], force=north, name="In its place")


def test_authentication_finds_the_active_key_and_notes_its_use_once_a_minute(keys):
    token = tokens.token_authenticate(keys.north_key)
    assert token == keys.north and token.force.name == "Northshire Police"
    first_use = ApiToken.objects.get(pk=keys.north.pk).last_used_at
    assert first_use is not None
    with CaptureQueriesContext(connection) as queries:
        assert tokens.token_authenticate(keys.north_key) == keys.north
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert ApiToken.objects.get(pk=keys.north.pk).last_used_at == first_use
    ApiToken.objects.filter(pk=keys.north.pk).update(
        last_used_at=timezone.now() - dt.timedelta(minutes=2)
    )
    tokens.token_authenticate(keys.north_key)
    assert ApiToken.objects.get(pk=keys.north.pk).last_used_at > first_use


def test_a_wrong_or_revoked_key_does_not_authenticate(pub, keys):
    assert tokens.token_authenticate(keys.north_key + "x") is None
    assert tokens.token_authenticate(keys.north_key[:-1]) is None
    with CaptureQueriesContext(connection) as queries:
        assert tokens.token_authenticate("Bearer something") is None
        assert tokens.token_authenticate("insp_" + "a" * 200) is None
    assert not queries.captured_queries  # not even looked up
    tokens.token_revoke(actor=pub.users["liaison"], token=keys.north)
    assert tokens.token_authenticate(keys.north_key) is None
    assert tokens.token_find(keys.north_key) == keys.north  # known, but revoked
    assert tokens.token_authenticate(keys.south_key) == keys.south


def test_revoking_is_audited_told_to_the_force_and_done_once(pub, keys):
    with pytest.raises(FollowUpError, match="manage a force's API keys"):
        tokens.token_revoke(actor=pub.users["other_liaison"], token=keys.north)
    with pytest.raises(FollowUpError):
        tokens.token_revoke(actor=pub.users["inspector"], token=keys.north)
    revoked = tokens.token_revoke(actor=pub.users["manager"], token=keys.north)
    assert revoked.revoked_at is not None and revoked.revoked_by == pub.users["manager"]
    event = AuditEvent.objects.get(
        action=AuditEvent.Action.UPDATE, object_type="followup.apitoken", object_id=keys.north.pk
    )
    assert "revoked" in event.summary and set(event.changes) == {"revoked_at", "revoked_by_id"}
    assert Notification.objects.filter(
        recipient=pub.users["liaison"], subject__contains="revoked"
    ).exists()
    with pytest.raises(FollowUpError, match="revoked already"):
        tokens.token_revoke(actor=pub.users["manager"], token=keys.north)


def test_who_sees_which_keys(pub, keys):
    users = pub.users
    assert set(tokens.tokens_visible_to(users["liaison"])) == {keys.north}
    assert set(tokens.tokens_visible_to(users["other_liaison"])) == {keys.south}
    assert set(tokens.tokens_visible_to(users["manager"])) == {keys.north, keys.south}
    assert set(tokens.tokens_visible_to(users["admin"])) == {keys.north, keys.south}
    for name in ("lead", "inspector", "analyst", "partner"):
        assert not tokens.tokens_visible_to(users[name]).exists()
    from django.contrib.auth.models import AnonymousUser

    assert not tokens.tokens_visible_to(AnonymousUser()).exists()


# The pages --------------------------------------------------------------------------------


def _client(client, user):
    client.force_login(user)
    return client


def test_signing_in_is_needed(client, keys):
    for url in (
        reverse("followup_keys:list"),
        reverse("followup_keys:create"),
        reverse("followup_keys:revoke", args=[keys.north.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:sign-in"))


@pytest.mark.parametrize("user", ["lead", "inspector", "analyst", "partner"])
def test_people_who_manage_no_keys_are_refused(client, pub, keys, user):
    _client(client, pub.users[user])
    assert client.get(reverse("followup_keys:list")).status_code == 403
    assert client.post(reverse("followup_keys:create"), {"name": "Mine"}).status_code == 403
    revoke = reverse("followup_keys:revoke", args=[keys.north.pk])
    assert client.post(revoke).status_code == 403
    assert ApiToken.objects.count() == 2 and not ApiToken.objects.exclude(revoked_at=None).exists()


def test_a_liaison_sees_only_their_forces_keys(client, pub, keys):
    _client(client, pub.users["liaison"])
    page = client.get(reverse("followup_keys:list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "API keys of Northshire Police" in html
    assert "Northshire tracker" in html and keys.north.prefix in html
    assert "Southshire" not in html
    assert 'name="force"' not in html  # their own force only: nothing to choose


def test_a_programme_manager_sees_every_force_and_filters(client, pub, keys, south):
    _client(client, pub.users["manager"])
    html = client.get(reverse("followup_keys:list")).content.decode()
    assert "Northshire tracker" in html and "Southshire tracker" in html
    html = client.get(reverse("followup_keys:list"), {"force": south.slug}).content.decode()
    assert "Southshire tracker" in html and "Northshire tracker" not in html


def test_the_key_is_shown_once_and_never_cached(client, pub):
    _client(client, pub.users["liaison"])
    response = client.post(reverse("followup_keys:create"), {"name": "Performance tracker"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get()
    html = response.content.decode()
    key = html.split('id="api-key" type="text" value="')[1].split('"')[0]
    assert key.startswith(token.prefix)
    assert hashlib.sha256(key.encode()).hexdigest() == token.key_hash
    assert token.force == pub.users["liaison"].organisation.force
    # Never again: not on the list, not in the session.
    assert key not in client.get(reverse("followup_keys:list")).content.decode()
    assert key not in str(dict(client.session))
    assert client.get(reverse("followup_keys:create")).status_code == 302


def test_the_create_form_shows_what_is_wrong(client, pub, north):
    _client(client, pub.users["liaison"])
    response = client.post(reverse("followup_keys:create"), {"name": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html and "Enter a name that says what will use the key." in html
    _client(client, pub.users["manager"])
    response = client.post(reverse("followup_keys:create"), {"name": "For the force"})
    assert "Choose the force." in response.content.decode()
    assert not ApiToken.objects.exists()
    response = client.post(
        reverse("followup_keys:create"), {"name": "For the force", "force": str(north.pk)}
    )
    assert response.status_code == 200
    assert ApiToken.objects.get().force == north


def test_a_liaison_cannot_see_or_revoke_another_forces_key(client, pub, keys):
    _client(client, pub.users["liaison"])
    url = reverse("followup_keys:revoke", args=[keys.south.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    keys.south.refresh_from_db()
    assert keys.south.is_active


def test_revoking_asks_first_and_then_revokes(client, pub, keys):
    _client(client, pub.users["liaison"])
    url = reverse("followup_keys:revoke", args=[keys.north.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Revoke the key “Northshire tracker”?" in page.content.decode()
    keys.north.refresh_from_db()
    assert keys.north.is_active  # a GET changes nothing
    response = client.post(url)
    assert response.status_code == 302 and response.url == reverse("followup_keys:list")
    keys.north.refresh_from_db()
    assert not keys.north.is_active and keys.north.revoked_by == pub.users["liaison"]
    listed = client.get(reverse("followup_keys:list")).content.decode()
    assert "Revoked the key" in listed and "Revoked</strong>" in listed
    again = client.post(url)
    assert again.status_code == 200 and "revoked already" in again.content.decode()


def test_keys_in_use_are_listed_before_revoked_ones(pub, keys, north):
    tokens.token_revoke(actor=pub.users["liaison"], token=keys.north)
    newer, _ = tokens.token_create(actor=pub.users["liaison"], force=north, name="Replacement")
    assert list(tokens.tokens_visible_to(pub.users["manager"])) == [newer, keys.north, keys.south]
