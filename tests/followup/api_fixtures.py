"""For the API and API key tests: a key for each of the two forces of the `pub` fixture
(tests/followup/conftest.py), and a client that sends a key. Each test module makes its own
fixtures from these (`@pytest.fixture(name="keys")`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.test import Client

from apps.followup import tokens
from apps.followup.models import ApiToken
from apps.reference.models import Force

API = "/api/v1"


@dataclass
class Keys:
    north: ApiToken
    north_key: str
    south: ApiToken
    south_key: str

    @property
    def north_force(self) -> Force:
        return self.north.force


def make_keys(pub) -> Keys:
    north_force = pub.inspection.forces.get()
    south_force = pub.other.forces.get()
    north, north_key = tokens.token_create(
        actor=pub.users["liaison"], force=north_force, name="Northshire tracker"
    )
    south, south_key = tokens.token_create(
        actor=pub.users["other_liaison"], force=south_force, name="Southshire tracker"
    )
    return Keys(north, north_key, south, south_key)


class ApiClient:
    """A test client that sends `Authorization: Bearer <key>`."""

    def __init__(self, key: str | None, **kwargs: Any) -> None:
        self.client = Client(**kwargs)
        self.key = key

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"} if self.key else {}

    def get(self, path: str, data: dict[str, Any] | None = None):
        return self.client.get(API + path, data or {}, headers=self._headers())

    def post(self, path: str, data: dict[str, Any]):
        return self.client.post(API + path, data, headers=self._headers())
