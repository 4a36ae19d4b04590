from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from pytest_django import DjangoDbBlocker

REFERENCE_DIR = Path(settings.BASE_DIR) / "data" / "reference"


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A copy of data/reference to corrupt or change."""
    target = tmp_path / "reference"
    shutil.copytree(REFERENCE_DIR, target)
    return target


@pytest.fixture(scope="module")
def loaded_reference(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[None]:
    """The real reference data, loaded once for a whole test module inside a transaction that
    is rolled back when the module ends. Each test (marked django_db) runs in a savepoint
    inside it, so tests still cannot see each other's changes."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("load_reference", verbosity=0)
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
