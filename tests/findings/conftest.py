"""The findings tests use the fieldwork fixture: a Northshire NCPI in fieldwork with its team,
another force's inspection, and a user of every role."""

from tests.fieldwork.conftest import Fieldwork, fw  # noqa: F401
