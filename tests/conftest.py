from __future__ import annotations

import pytest
from django.core.management import call_command

from apps.core import crypto


@pytest.fixture(autouse=True)
def _fresh_key_ring(settings):
    """Each test starts with the key ring of its own settings."""
    crypto.reset_key_ring()
    yield
    crypto.reset_key_ring()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Cached reads never leak from one test into another."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def reference_data(db):
    """The real reference data (forces, areas, inspectorates, context figures)."""
    call_command("load_reference", verbosity=0)
