from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from apps.demo.generator import Result, generate_programme

TODAY = dt.date(2026, 3, 11)  # a Wednesday; never the real date, so nothing can depend on it
SEED = 7


@pytest.fixture
def methodologies(db) -> None:
    call_command("load_methodologies", verbosity=0)


@pytest.fixture
def programme_inputs(reference_data, methodologies) -> None:
    """What the generator needs: the real reference data and the methodologies."""


@pytest.fixture
def demo(programme_inputs) -> Result:
    return generate_programme(scale="demo", seed=SEED, today=TODAY)
