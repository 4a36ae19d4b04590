"""Many rows stored fast: PostgreSQL's COPY, or one prepared INSERT run for every row
elsewhere (SQLite). For rows already validated, where model instances would cost seconds of
Python (100,000 case-list rows; 80,000 theme suggestions)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connections, models, router


def insert_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    """Insert `rows` (tuples in the order of `columns`, database column names) into
    `model`'s table. No signals, no defaults: every column not given must allow NULL or have
    a database default."""
    # Read everything first: while a COPY runs, its connection can do nothing else, so a
    # generator that queries the database would wait for itself.
    rows = list(rows)
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:  # psycopg formats each row in C
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                # Identifiers from the model, quoted; every value is a parameter.
                f"INSERT INTO {table} ({names}) VALUES ({placeholders})",  # noqa: S608
                rows,
            )
