from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import pytest
from django.db import connections


def _maintenance_parameters(params: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {"dbname": "postgres"}
    for key, setting in (("user", "USER"), ("password", "PASSWORD"), ("host", "HOST")):
        if params.get(setting):
            found[key] = params[setting]
    if params.get("PORT"):
        found["port"] = str(params["PORT"])
    return found


@pytest.fixture
def empty_database(django_db_setup, tmp_path) -> Iterator[dict[str, Any]]:
    """Settings (a DATABASES entry) of a new, empty database of the suite's engine.

    PostgreSQL: a database with a unique name, created on the `postgres` maintenance
    database and dropped afterwards. SQLite: a file that does not exist yet.
    """
    source = dict(connections["default"].settings_dict)
    if connections["default"].vendor != "postgresql":
        yield {**source, "NAME": str(tmp_path / "restored.sqlite3")}
        return

    import psycopg
    from psycopg import sql

    name = f"inspectorate_restore_check_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(**_maintenance_parameters(source), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
        try:
            yield {**source, "NAME": name}
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def query(params: dict[str, Any], statement: str) -> list[tuple[Any, ...]]:
    """Run one statement on the database `params` describes, outside Django; its rows."""
    if "sqlite" in params["ENGINE"]:
        with closing(sqlite3.connect(params["NAME"])) as conn:
            try:
                return conn.execute(statement).fetchall()
            finally:
                conn.rollback()
    import psycopg

    parameters = _maintenance_parameters(params) | {"dbname": params["NAME"]}
    with psycopg.connect(**parameters) as conn:
        cursor = conn.execute(statement)
        rows = cursor.fetchall() if cursor.description else []
        conn.rollback()
        return rows
