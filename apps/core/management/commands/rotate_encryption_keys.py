"""Re-encrypt every encrypted value under the newest key.

Run after putting a new key first in the key list (and restarting every process, so new
writes use it). Each encrypted column is read and rewritten in batches with raw SQL, so
nothing else about a row changes: no `updated_at`, no `version`, no signals. Each model is
done in one transaction: if any of its values cannot be decrypted with a configured key, the
command stops and that model is left exactly as it was.

A row rewritten by the application while the command runs is left alone (the UPDATE only
applies while the column still holds the value that was read), since the application has
already encrypted the new value under the newest key.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections, models, router, transaction

from apps.core import crypto
from apps.core.audit import SystemActor, audit_record
from apps.core.models import AuditEvent

DEFAULT_BATCH_SIZE = 500


@dataclass
class FieldCounts:
    found: int = 0  # non-empty values in the column when the command reached it
    rewritten: int = 0  # values re-encrypted under the newest key (or, on a dry run, checked)
    changed_meanwhile: int = 0  # rows the application rewrote between our read and our write


class UndecryptableValue(Exception):
    def __init__(self, model: type[models.Model], pk: Any, field: models.Field) -> None:
        self.model, self.pk, self.field = model, pk, field
        super().__init__(
            f"{model._meta.label} pk={pk} field {field.name}: no configured key decrypts it"
        )


def encrypted_fields() -> list[tuple[type[models.Model], list[models.Field]]]:
    """Every installed model with encrypted columns of its own table, and those fields."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = [f for f in model._meta.local_concrete_fields if getattr(f, "encrypted", False)]
        if fields:
            found.append((model, fields))
    return found


def _label(model: type[models.Model], field: models.Field) -> str:
    return f"{model._meta.label_lower}.{field.name}"


class Command(BaseCommand):
    help = (
        "Re-encrypt every value of every encrypted field under the newest key in "
        "INSPECTORATE_ENCRYPTION_KEYS (or the key file). Keep the old keys configured until "
        "this has finished."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"Rows read and rewritten per statement (default {DEFAULT_BATCH_SIZE}).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check that every value can be decrypted and count them; write nothing.",
        )

    def handle(self, *args: Any, batch_size: int, dry_run: bool, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            key_count = len(
                crypto.load_keys(
                    settings.INSPECTORATE_ENCRYPTION_KEYS,
                    getattr(settings, "INSPECTORATE_ENCRYPTION_KEYS_FILE", ""),
                )
            )
            crypto.key_ring()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        self.verbosity = options.get("verbosity", 1)
        targets = encrypted_fields()
        if dry_run:
            self._say("Dry run: values are decrypted and counted, nothing is written.")
        if key_count == 1:
            self._say(
                "Only one key is configured: values are re-encrypted under that same key. "
                "To rotate, put a new key first and keep the old one after it."
            )
        if not targets:
            self._say("No installed model has an encrypted field.")

        counts: dict[str, FieldCounts] = {}
        done_models: list[str] = []
        try:
            for model, fields in targets:
                model_counts = self._rotate_model(model, fields, batch_size, dry_run)
                counts.update(model_counts)
                done_models.append(model._meta.label)
        except UndecryptableValue as exc:
            where = f"{exc.model._meta.label} pk={exc.pk}, field {exc.field.name}"
            done = ""
            if done_models and not dry_run:
                done = f"; already done: {', '.join(done_models)}"
            message = (
                f"Stopped: {where}, cannot be decrypted with any configured key. Nothing was "
                f"changed for {exc.model._meta.label}{done}. Add the key that encrypted it "
                "(after the newest key) and run the command again."
            )
            if not dry_run:
                self._audit(counts, key_count, failure=message)
            raise CommandError(message) from None
        except Exception as exc:
            if done_models and not dry_run:
                # Best effort: record what was committed before the unexpected error.
                with contextlib.suppress(Exception):
                    self._audit(
                        counts,
                        key_count,
                        failure=f"Stopped by {type(exc).__name__}; already done: "
                        f"{', '.join(done_models)}.",
                    )
            raise

        total = sum(c.rewritten for c in counts.values())
        if dry_run:
            self._say(f"Dry run complete: {total} values can be re-encrypted; nothing written.")
            return
        self._audit(counts, key_count)
        self.stdout.write(
            self.style.SUCCESS(
                f"Re-encrypted {total} values in {len(counts)} fields under the newest of "
                f"{key_count} keys."
            )
        )

    def _say(self, message: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(message)

    def _rotate_model(
        self,
        model: type[models.Model],
        fields: list[models.Field],
        batch_size: int,
        dry_run: bool,
    ) -> dict[str, FieldCounts]:
        alias = router.db_for_write(model)
        connection = connections[alias]
        qn = connection.ops.quote_name
        table = qn(model._meta.db_table)
        pk_field = model._meta.pk
        assert pk_field is not None and pk_field.column is not None
        pk = qn(pk_field.column)
        results: dict[str, FieldCounts] = {}
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            for field in fields:
                label = _label(model, field)
                counts = results[label] = FieldCounts()
                assert field.column is not None  # concrete fields have a column
                column = qn(field.column)
                filled = f"{column} IS NOT NULL AND {column} <> ''"
                cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE {filled}")  # noqa: S608
                counts.found = cursor.fetchone()[0]
                self._say(f"{label}: {counts.found} values")
                last_pk: Any = None
                while True:
                    after = "" if last_pk is None else f" AND {pk} > %s"
                    params: list[Any] = [] if last_pk is None else [last_pk]
                    cursor.execute(
                        f"SELECT {pk}, {column} FROM {table} WHERE {filled}{after} "  # noqa: S608
                        f"ORDER BY {pk} LIMIT %s",
                        [*params, batch_size],
                    )
                    rows = cursor.fetchall()
                    if not rows:
                        break
                    updates = []
                    for row_pk, token in rows:
                        try:
                            updates.append((crypto.rotate(token), row_pk, token))
                        except (crypto.InvalidToken, UnicodeError, TypeError):
                            raise UndecryptableValue(model, row_pk, field) from None
                    if dry_run:
                        counts.rewritten += len(updates)
                    else:
                        cursor.executemany(
                            f"UPDATE {table} SET {column} = %s "  # noqa: S608
                            f"WHERE {pk} = %s AND {column} = %s",
                            updates,
                        )
                        written = cursor.rowcount
                        counts.rewritten += written
                        counts.changed_meanwhile += len(updates) - written
                    last_pk = rows[-1][0]
                    done = counts.rewritten + counts.changed_meanwhile
                    self._say(f"  {label}: {done}/{counts.found}")
        return results

    def _audit(self, counts: dict[str, FieldCounts], key_count: int, failure: str = "") -> None:
        changes = {}
        for label, c in counts.items():
            after = f"{c.rewritten} re-encrypted under the newest key"
            if c.changed_meanwhile:
                after += f", {c.changed_meanwhile} rewritten by the application meanwhile"
            changes[label] = [f"{c.found} encrypted values", after]
        total = sum(c.rewritten for c in counts.values())
        summary = failure or (
            f"Re-encrypted {total} values in {len(counts)} fields under the newest of "
            f"{key_count} keys."
        )
        with transaction.atomic():
            audit_record(
                actor=SystemActor("rotate_encryption_keys"),
                action=AuditEvent.Action.SYSTEM,
                summary=summary,
                changes=changes,
            )
