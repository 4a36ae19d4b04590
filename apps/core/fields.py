"""Model fields that keep sensitive free text encrypted at rest."""

from __future__ import annotations

from typing import Any

from django.db import models

from . import crypto


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token; Python code sees plain text.

    The database never holds the plain text, so the column cannot be searched or ordered
    on. Empty strings stay empty (there is nothing to protect and it keeps forms simple).
    The audit trail records that such a field changed, never its value (see core.audit).
    """

    description = "Text encrypted at rest"
    encrypted = True

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def to_python(self, value: Any) -> Any:
        return value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))

    def get_lookup(self, lookup_name: str):
        if lookup_name not in {"isnull"}:
            return None  # no lookups on cipher text: they would silently match nothing
        return super().get_lookup(lookup_name)
