"""Backing up the database, restoring a backup, and checking that two databases hold the same rows.

A backup is two files: the dump FILE and its manifest FILE.manifest.json. Both are created
readable by their owner only: the dump holds personal data (the encrypted fields stay
encrypted, but names, e-mail addresses and the audit trail do not). Keep backups on storage
that is itself encrypted and access-controlled; the manifest's SHA-256 detects a damaged or
incomplete dump, not a deliberately forged one.

PostgreSQL: `pg_dump --format=custom --no-owner`, run inside a REPEATABLE READ transaction
whose snapshot it shares (`--snapshot`), so the manifest's row counts and digests describe
exactly the rows in the dump even while the service keeps writing. Restored with
`pg_restore --clean --if-exists --no-owner --single-transaction`: all or nothing. Connection
parameters come from settings.DATABASES and are handed to the client tools in the environment
(the password as PGPASSWORD), never on the command line. The tools are looked up on PATH, or
in settings.INSPECTORATE_PG_BIN_DIR if set; they must be of the server's major version or newer.

SQLite: the sqlite3 online backup API, both ways: from the live file into the dump (a
consistent copy, writers carry on), and from the dump into the live file (atomic for other
connections).

The manifest records the engine, when the backup was made, the applied migrations, each
table's row count and row digest (see `database_fingerprint`), and the dump's SHA-256.
Restoring checks the checksum and the engine first, refuses to overwrite a database that holds
data unless confirmed, and afterwards checks every table of the restored database against the
manifest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.utils import load_backend

from .audit import SystemActor, audit_record
from .models import AuditEvent

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "BackupError",
    "DatabaseSummary",
    "RestoreRefused",
    "RestoreReport",
    "backup_database",
    "check_backup",
    "compare_fingerprints",
    "create_backup",
    "database_fingerprint",
    "describe_database",
    "engine_of",
    "manifest_path",
    "read_manifest",
    "restore_backup",
    "restore_database",
]

MANIFEST_SUFFIX = ".manifest.json"
MANIFEST_FORMAT = "inspectorate-backup/1"
SUPPORTED_ENGINES = ("postgresql", "sqlite")

Params = Mapping[str, Any]  # one entry of settings.DATABASES
Fingerprint = dict[str, dict[str, Any]]  # table -> {"rows": int, "digest": hex}
Output = Callable[[str], Any]


class BackupError(Exception):
    """A backup or restore that cannot be done; the message tells the operator why."""


class RestoreRefused(BackupError):
    """The restore would replace data and was not confirmed."""


# -- common ------------------------------------------------------------------------------------


def engine_of(params: Params) -> str:
    """'postgresql' or 'sqlite', from a DATABASES entry's ENGINE."""
    engine = params.get("ENGINE")
    if not engine:
        raise BackupError("The database settings have no ENGINE.")
    try:
        vendor = load_backend(engine).DatabaseWrapper.vendor
    except ImproperlyConfigured as exc:
        raise BackupError(f"Backups support PostgreSQL and SQLite, not {engine}: {exc}") from exc
    if vendor not in SUPPORTED_ENGINES:
        raise BackupError(f"Backups support PostgreSQL and SQLite, not {vendor}.")
    return vendor


def manifest_path(dump: Path | str) -> Path:
    dump = Path(dump)
    return dump.with_name(dump.name + MANIFEST_SUFFIX)


def _sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _create_private_file(path: Path) -> None:
    """Create an empty file only its owner can read (fails if it exists)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_private_json(path: Path, data: Any) -> None:
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


class _RowsDigest:
    """An order-independent digest of a table's rows: the sum, modulo 2**256, of the SHA-256
    of each row's representation.

    Two tables holding the same rows, in whatever physical order, have the same digest; a
    missing, extra, duplicated or changed row changes it. It is computed in one streaming
    pass, so it works on tables of any size. It detects accidental differences; it is not a
    defence against deliberate forgery.
    """

    _MODULUS = 2**256

    def __init__(self) -> None:
        self.rows = 0
        self._sum = 0

    def add(self, row: tuple[Any, ...]) -> None:
        encoded = repr(tuple(row)).encode("utf-8", "surrogatepass")
        self._sum = (self._sum + int.from_bytes(hashlib.sha256(encoded).digest(), "big")) % (
            self._MODULUS
        )
        self.rows += 1

    def result(self) -> dict[str, Any]:
        return {"rows": self.rows, "digest": f"{self._sum:064x}"}


def compare_fingerprints(expected: Fingerprint, actual: Fingerprint) -> list[str]:
    """The differences between two fingerprints, for people; empty when they match."""
    problems = []
    for table in sorted(set(expected) | set(actual)):
        if table not in actual:
            problems.append(f"{table}: missing")
        elif table not in expected:
            problems.append(f"{table}: not expected ({actual[table]['rows']} rows)")
        elif expected[table]["rows"] != actual[table]["rows"]:
            problems.append(
                f"{table}: {actual[table]['rows']} rows, expected {expected[table]['rows']}"
            )
        elif expected[table]["digest"] != actual[table]["digest"]:
            problems.append(f"{table}: same row count, different contents")
    return problems


@dataclass
class DatabaseSummary:
    """The tables of a database and how many rows each holds."""

    tables: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    @property
    def has_data(self) -> bool:
        return self.rows > 0


# -- SQLite ------------------------------------------------------------------------------------


def _sqlite_path(params: Params) -> str:
    name = str(params.get("NAME") or "")
    if not name or name == ":memory:" or "mode=memory" in name:
        raise BackupError("An in-memory SQLite database cannot be backed up or restored.")
    return name


def _sqlite_open(path: str | Path, *, must_exist: bool = True) -> sqlite3.Connection:
    if must_exist and not Path(path).is_file():
        raise BackupError(f"There is no SQLite database at {path}.")
    return sqlite3.connect(path, isolation_level=None, timeout=30)


def _sqlite_open_read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)


def _sqlite_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
    ).fetchall()
    return [name for (name,) in rows]


def _sqlite_fingerprint(conn: sqlite3.Connection) -> Fingerprint:
    conn.execute("BEGIN")  # one read snapshot for every table
    try:
        result: Fingerprint = {}
        for table in _sqlite_tables(conn):
            digest = _RowsDigest()
            for row in conn.execute(f"SELECT * FROM {_sqlite_quote(table)}"):  # noqa: S608
                digest.add(row)
            result[table] = digest.result()
        return result
    finally:
        conn.execute("ROLLBACK")


def _sqlite_summary(conn: sqlite3.Connection) -> DatabaseSummary:
    return DatabaseSummary(
        {
            table: conn.execute(f"SELECT COUNT(*) FROM {_sqlite_quote(table)}").fetchone()[0]  # noqa: S608
            for table in _sqlite_tables(conn)
        }
    )


def _sqlite_migrations(conn: sqlite3.Connection) -> list[str]:
    if "django_migrations" not in _sqlite_tables(conn):
        return []
    rows = conn.execute("SELECT app, name FROM django_migrations").fetchall()
    return sorted(f"{app}.{name}" for app, name in rows)


def _sqlite_dump(params: Params, dest: Path) -> dict[str, Any]:
    source_path = _sqlite_path(params)
    with closing(_sqlite_open(source_path)) as source, closing(_sqlite_open(dest)) as target:
        source.backup(target)
        # The copy inherits the live database's WAL flag; a backup must be one self-contained
        # file, so switch it to a rollback journal.
        target.execute("PRAGMA journal_mode=DELETE")
        check = target.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"The copy of {source_path} fails SQLite's integrity check: {check}")
        tables = _sqlite_fingerprint(target)
        migrations = _sqlite_migrations(target)
    return {
        "database": {"name": str(Path(source_path).resolve())},
        "dump_format": "SQLite database file (online backup API)",
        "server_version": sqlite3.sqlite_version,
        "tool": f"sqlite3 online backup API, SQLite {sqlite3.sqlite_version}",
        "tables": tables,
        "migrations": migrations,
    }


def _sqlite_restore(dump: Path, params: Params) -> None:
    target_path = _sqlite_path(params)
    if not Path(target_path).parent.is_dir():
        raise BackupError(f"The directory of {target_path} does not exist.")
    with (
        closing(_sqlite_open_read_only(dump)) as source,
        closing(_sqlite_open(target_path, must_exist=False)) as target,
    ):
        try:
            source.backup(target)
        except sqlite3.Error as exc:
            raise BackupError(
                f"Restoring into {target_path} failed, and it was left unchanged: {exc}"
            ) from exc


# -- PostgreSQL --------------------------------------------------------------------------------

# Options in DATABASES[...]["OPTIONS"] that only Django understands.
_DJANGO_ONLY_OPTIONS = frozenset(
    {
        "assume_role",
        "context",
        "cursor_factory",
        "isolation_level",
        "pool",
        "prepare_threshold",
        "server_side_binding",
    }
)
# libpq connection parameters and the environment variables that carry them to pg_dump and
# pg_restore.
_LIBPQ_ENVIRONMENT = {
    "dbname": "PGDATABASE",
    "host": "PGHOST",
    "hostaddr": "PGHOSTADDR",
    "port": "PGPORT",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "options": "PGOPTIONS",
    "application_name": "PGAPPNAME",
    "client_encoding": "PGCLIENTENCODING",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "sslmode": "PGSSLMODE",
    "sslnegotiation": "PGSSLNEGOTIATION",
    "requiressl": "PGREQUIRESSL",
    "sslcompression": "PGSSLCOMPRESSION",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcertmode": "PGSSLCERTMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcrl": "PGSSLCRL",
    "sslcrldir": "PGSSLCRLDIR",
    "sslsni": "PGSSLSNI",
    "ssl_min_protocol_version": "PGSSLMINPROTOCOLVERSION",
    "ssl_max_protocol_version": "PGSSLMAXPROTOCOLVERSION",
    "channel_binding": "PGCHANNELBINDING",
    "require_auth": "PGREQUIREAUTH",
    "gssencmode": "PGGSSENCMODE",
    "gsslib": "PGGSSLIB",
    "krbsrvname": "PGKRBSRVNAME",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "load_balance_hosts": "PGLOADBALANCEHOSTS",
}
# Parameters that tune the network connection only; the client tools can do without them.
_TRANSPORT_ONLY_OPTIONS = frozenset(
    {
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
        "fallback_application_name",
    }
)


def _pg_parameters(params: Params) -> dict[str, str]:
    """libpq connection parameters for a DATABASES entry."""
    if not params.get("NAME"):
        raise BackupError("DATABASES NAME must name the PostgreSQL database.")
    found = {"dbname": str(params["NAME"])}
    for key, setting in (("user", "USER"), ("password", "PASSWORD"), ("host", "HOST")):
        if params.get(setting):
            found[key] = str(params[setting])
    if params.get("PORT"):
        found["port"] = str(params["PORT"])
    for key, value in (params.get("OPTIONS") or {}).items():
        if key in _DJANGO_ONLY_OPTIONS or value is None:
            continue
        if key not in _LIBPQ_ENVIRONMENT and key not in _TRANSPORT_ONLY_OPTIONS:
            raise BackupError(
                f"The database option {key!r} cannot be passed safely to pg_dump and "
                "pg_restore (they take their connection settings from the environment)."
            )
        found[key] = str(value)
    return found


def _pg_environment(params: Params) -> dict[str, str]:
    """The environment for pg_dump and pg_restore: the connection settings, the password
    included, go here and never on the command line (where other users could see them)."""
    environment = dict(os.environ)
    for key, value in _pg_parameters(params).items():
        variable = _LIBPQ_ENVIRONMENT.get(key)
        if variable:
            environment[variable] = value
    return environment


def _pg_tool(name: str) -> str:
    directory = getattr(settings, "INSPECTORATE_PG_BIN_DIR", "") or None
    found = shutil.which(name, path=directory)
    if not found:
        raise BackupError(
            f"{name} was not found{f' in {directory}' if directory else ' on PATH'}: install "
            "the PostgreSQL client tools (of the server's major version or newer)."
        )
    return found


def _run(command: list[str], environment: dict[str, str], **kwargs: Any) -> str:
    """Run a PostgreSQL client tool; its error output, or a BackupError if it failed."""
    result = subprocess.run(  # noqa: S603  (a fixed tool, arguments we built, no shell)
        command,
        env=environment,
        stderr=subprocess.PIPE,
        check=False,
        **kwargs,
    )
    errors = result.stderr.decode("utf-8", "replace").strip()
    if result.returncode != 0:
        tool = Path(command[0]).name
        raise BackupError(f"{tool} failed (exit status {result.returncode}):\n{errors}")
    return errors


def _tool_version(tool: str) -> str:
    result = subprocess.run(  # noqa: S603
        [tool, "--version"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip()


@contextmanager
def _pg_snapshot(params: Params) -> Iterator[psycopg.Connection[Any]]:
    """A connection in a read-only REPEATABLE READ transaction: every query sees the same
    snapshot of the database. Times are read in UTC, so fingerprints do not depend on the
    server's or the role's time zone."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    try:
        conn = psycopg.connect(make_conninfo("", **_pg_parameters(params)), autocommit=True)
    except psycopg.Error as exc:
        raise BackupError(f"Cannot connect to the PostgreSQL database: {exc}") from exc
    try:
        conn.execute("SET TIME ZONE 'UTC'")
        # Long reads of a large database, and idling while pg_dump works from the snapshot,
        # must not be cut short by the role's timeouts.
        conn.execute("SET statement_timeout = 0")
        conn.execute("SET idle_in_transaction_session_timeout = 0")
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            yield conn
    finally:
        conn.close()


_PG_TABLES = """
SELECT n.nspname, c.relname
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
ORDER BY 1, 2
"""


def _pg_tables(conn: psycopg.Connection[Any]) -> list[tuple[str, str, str]]:
    """(schema, table, name in fingerprints): tables of the public schema by their own name."""
    return [
        (schema, table, table if schema == "public" else f"{schema}.{table}")
        for schema, table in conn.execute(_PG_TABLES).fetchall()
    ]


def _pg_fingerprint(conn: psycopg.Connection[Any]) -> Fingerprint:
    from psycopg import sql

    result: Fingerprint = {}
    for schema, table, key in _pg_tables(conn):
        digest = _RowsDigest()
        with conn.cursor(name=f"fingerprint_{uuid.uuid4().hex}") as cursor:
            cursor.itersize = 2000
            cursor.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(schema, table)))
            for row in cursor:
                digest.add(row)
        result[key] = digest.result()
    return result


def _pg_summary(conn: psycopg.Connection[Any]) -> DatabaseSummary:
    from psycopg import sql

    tables = {}
    for schema, table, key in _pg_tables(conn):
        query = sql.SQL("SELECT COUNT(*) FROM {}").format(sql.Identifier(schema, table))
        tables[key] = conn.execute(query).fetchone()[0]  # type: ignore[index]
    return DatabaseSummary(tables)


def _pg_migrations(conn: psycopg.Connection[Any]) -> list[str]:
    exists = conn.execute("SELECT to_regclass('django_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return []
    rows = conn.execute("SELECT app, name FROM django_migrations").fetchall()
    return sorted(f"{app}.{name}" for app, name in rows)


def _pg_dump(params: Params, dest: Path) -> dict[str, Any]:
    pg_dump = _pg_tool("pg_dump")
    pg_restore = _pg_tool("pg_restore")
    environment = _pg_environment(params)
    with _pg_snapshot(params) as conn:
        row = conn.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
        snapshot, server_version = row.fetchone()  # type: ignore[misc]
        # Describe the snapshot first, then dump the very same snapshot: the manifest's
        # counts and digests are exactly the rows in the dump.
        tables = _pg_fingerprint(conn)
        migrations = _pg_migrations(conn)
        with dest.open("wb") as fh:
            _run(
                [
                    pg_dump,
                    "--format=custom",
                    "--no-owner",
                    "--no-password",
                    f"--snapshot={snapshot}",
                ],
                environment,
                stdout=fh,
            )
            fh.flush()
            os.fsync(fh.fileno())
    # Prove the archive can be read back (its table of contents is at the end of the file).
    _run([pg_restore, "--list", str(dest)], environment, stdout=subprocess.DEVNULL)
    return {
        "database": {
            "name": str(params.get("NAME")),
            "host": str(params.get("HOST") or ""),
            "port": str(params.get("PORT") or ""),
        },
        "dump_format": "pg_dump custom format (--format=custom --no-owner)",
        "server_version": server_version,
        "tool": _tool_version(pg_dump),
        "tables": tables,
        "migrations": migrations,
    }


def _pg_restore(dump: Path, params: Params) -> None:
    from psycopg.conninfo import make_conninfo

    pg_restore = _pg_tool("pg_restore")
    database = make_conninfo(dbname=str(params["NAME"]))  # the rest comes from the environment
    try:
        _run(
            [
                pg_restore,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--no-password",
                f"--dbname={database}",
                str(dump),
            ],
            _pg_environment(params),
            stdout=subprocess.PIPE,
        )
    except BackupError as exc:
        raise BackupError(
            f"{exc}\nThe restore ran in one transaction, so the database was left unchanged."
        ) from exc


# -- the operations ------------------------------------------------------------------------------


def database_fingerprint(connection_params: Params) -> Fingerprint:
    """Every table of a database with its row count and a digest of its rows.

    `connection_params` is a DATABASES entry (e.g. `connections["default"].settings_dict`, or
    a copy with another NAME). Two databases with equal fingerprints hold the same rows in
    the same tables; use `compare_fingerprints` to list the differences. On PostgreSQL all
    tables are read in one snapshot; tables outside the public schema are named
    "schema.table".
    """
    if engine_of(connection_params) == "postgresql":
        with _pg_snapshot(connection_params) as conn:
            return _pg_fingerprint(conn)
    with closing(_sqlite_open(_sqlite_path(connection_params))) as conn:
        return _sqlite_fingerprint(conn)


def describe_database(connection_params: Params) -> DatabaseSummary:
    """The database's tables and row counts (none for a database that does not exist yet)."""
    if engine_of(connection_params) == "postgresql":
        with _pg_snapshot(connection_params) as conn:
            return _pg_summary(conn)
    path = _sqlite_path(connection_params)
    if not Path(path).is_file():
        return DatabaseSummary()
    with closing(_sqlite_open(path)) as conn:
        return _sqlite_summary(conn)


def create_backup(output: Path | str, params: Params, *, overwrite: bool = False) -> dict[str, Any]:
    """Write a backup of the database to `output` and its manifest beside it; the manifest.

    The dump is written under a temporary name and renamed into place once complete, then
    the manifest is written: a manifest always describes a complete dump.
    """
    engine = engine_of(params)
    output = Path(output).absolute()
    manifest_file = manifest_path(output)
    if not output.parent.is_dir():
        raise BackupError(f"The directory {output.parent} does not exist.")
    if not overwrite:
        for path in (output, manifest_file):
            if path.exists():
                raise BackupError(f"{path} already exists: choose another name or overwrite it.")
    partial = output.with_name(f".{output.name}.{uuid.uuid4().hex}.partial")
    _create_private_file(partial)
    try:
        details = (
            _pg_dump(params, partial) if engine == "postgresql" else _sqlite_dump(params, partial)
        )
        _fsync(partial)
        checksum, size = _sha256(partial)
        manifest = {
            "format": MANIFEST_FORMAT,
            "engine": engine,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "dump_file": output.name,
            "dump_bytes": size,
            "dump_sha256": checksum,
            "total_rows": sum(t["rows"] for t in details["tables"].values()),
            **details,
        }
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _write_private_json(manifest_file, manifest)
    _fsync(output.parent)
    return manifest


def read_manifest(dump: Path | str) -> dict[str, Any]:
    dump = Path(dump)
    path = manifest_path(dump)
    if not dump.is_file():
        raise BackupError(f"There is no backup file at {dump}.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(
            f"The manifest {path} is missing. A backup is not restored without it: it holds "
            "the checksum that shows the dump is complete and undamaged."
        ) from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"Cannot read the manifest {path}: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise BackupError(f"{path} is not a backup manifest of this service ({MANIFEST_FORMAT}).")
    return manifest


def check_backup(dump: Path | str, *, engine: str) -> dict[str, Any]:
    """The backup's manifest, once the dump matches its checksum and suits the engine."""
    dump = Path(dump)
    manifest = read_manifest(dump)
    if manifest.get("engine") != engine:
        raise BackupError(
            f"{dump} is a backup of a {manifest.get('engine')} database and this database is "
            f"{engine}: refusing to restore it here."
        )
    checksum, _size = _sha256(dump)
    if checksum != manifest.get("dump_sha256"):
        raise BackupError(
            f"{dump} does not match the checksum in its manifest (its SHA-256 is {checksum}, "
            f"the manifest says {manifest.get('dump_sha256')}): the file is damaged, incomplete "
            "or not the one the manifest describes. Refusing to restore it."
        )
    return manifest


@dataclass
class RestoreReport:
    tables: int
    rows: int
    extra_tables: list[str]


def restore_backup(
    dump: Path | str,
    params: Params,
    *,
    replace_existing_data: bool = False,
    manifest: dict[str, Any] | None = None,
) -> RestoreReport:
    """Restore a backup into the database `params` describes, then check every table.

    Refuses (RestoreRefused) if the database holds any row, unless `replace_existing_data`.
    `manifest` is for callers that have already run `check_backup`.
    """
    dump = Path(dump)
    engine = engine_of(params)
    if manifest is None:
        manifest = check_backup(dump, engine=engine)
    target = describe_database(params)
    if target.has_data and not replace_existing_data:
        raise RestoreRefused(
            f"The target database holds {target.rows} rows in {len(target.tables)} tables: "
            "refusing to replace them without confirmation."
        )
    if engine == "postgresql":
        _pg_restore(dump, params)
    else:
        _sqlite_restore(dump, params)
    # Cached reads and page fragments describe the data as it was before: drop them all.
    cache.clear()
    expected: Fingerprint = manifest["tables"]
    restored = database_fingerprint(params)
    extra = sorted(set(restored) - set(expected))
    problems = compare_fingerprints(expected, {t: restored[t] for t in restored if t in expected})
    if problems:
        raise BackupError(
            "The restored database does not match the backup's manifest:\n  "
            + "\n  ".join(problems)
        )
    return RestoreReport(tables=len(expected), rows=manifest["total_rows"], extra_tables=extra)


def _describe_target(params: Params) -> str:
    if engine_of(params) == "postgresql":
        host = params.get("HOST") or "the local socket"
        port = f":{params['PORT']}" if params.get("PORT") else ""
        return f'PostgreSQL database "{params.get("NAME")}" on {host}{port}'
    return f"SQLite database {Path(_sqlite_path(params)).resolve()}"


def _migration_notes(manifest: dict[str, Any]) -> list[str]:
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = {f"{app}.{name}" for app, name in loader.disk_migrations}
    in_backup = set(manifest.get("migrations") or [])
    notes = []
    unknown = sorted(in_backup - known)
    if unknown:
        notes.append(
            f"Warning: the backup has {len(unknown)} migrations this version of the service "
            f"does not know ({', '.join(unknown[:3])}{', ...' if len(unknown) > 3 else ''}): it "
            "was made by a newer version."
        )
    missing = sorted(known - in_backup)
    if missing:
        notes.append(
            f"After restoring, run `manage.py migrate`: {len(missing)} migrations of this "
            "version are not applied in the backup."
        )
    return notes


def _audit_system_event(label: str, summary: str) -> None:
    with transaction.atomic():
        audit_record(
            actor=SystemActor(label), action=AuditEvent.Action.SYSTEM, summary=summary[:500]
        )


def backup_database(
    output: Path | str, *, overwrite: bool = False, out: Output | None = None
) -> dict[str, Any]:
    """Back up the service's database (settings.DATABASES["default"]) and audit it."""
    say = out or (lambda _message: None)
    params = connections[DEFAULT_DB_ALIAS].settings_dict
    output = Path(output).absolute()
    say(f"Backing up the {_describe_target(params)} to {output}")
    manifest = create_backup(output, params, overwrite=overwrite)
    say(
        f"Wrote {output} ({manifest['dump_bytes']} bytes, SHA-256 {manifest['dump_sha256']}) "
        f"and {manifest_path(output).name}: {len(manifest['tables'])} tables, "
        f"{manifest['total_rows']} rows."
    )
    _audit_system_event(
        "backup_database",
        f"Backed up the database to {output} ({len(manifest['tables'])} tables, "
        f"{manifest['total_rows']} rows, SHA-256 {manifest['dump_sha256']}).",
    )
    return manifest


def restore_database(
    dump: Path | str, *, confirmed: bool = False, out: Output | None = None
) -> RestoreReport:
    """Restore a backup over the service's database, and audit it.

    Prints the plan first. Refuses (RestoreRefused) when the database holds data and
    `confirmed` is false. Stop the service first: a restore replaces every table.
    """
    say = out or (lambda _message: None)
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.in_atomic_block:
        raise BackupError("A restore cannot run inside a transaction.")
    params = dict(connection.settings_dict)
    engine = engine_of(params)
    dump = Path(dump).absolute()
    manifest = check_backup(dump, engine=engine)
    target = describe_database(params)
    if engine == "postgresql":
        action = (
            "drop every table, sequence and function in the backup and recreate it with its "
            "rows, in one transaction (pg_restore --clean --if-exists --no-owner "
            "--single-transaction)"
        )
    else:
        action = "replace the whole database with the backup (SQLite online backup API)"
    say("Restore plan:")
    say(
        f"  backup: {dump}, a {engine} backup made {manifest['created_at']}, "
        f"{len(manifest['tables'])} tables, {manifest['total_rows']} rows; checksum verified"
    )
    say(
        f"  target: {_describe_target(params)}, which holds {target.rows} rows in "
        f"{len(target.tables)} tables"
    )
    say(f"  action: {action}; then check every table against the manifest")
    say(
        "  Everything written since the backup was made, audit events included, will be "
        "replaced by the backup's contents."
    )
    for note in _migration_notes(manifest):
        say(f"  {note}")
    if target.has_data and not confirmed:
        raise RestoreRefused(
            f"Refusing to restore: the target database holds {target.rows} rows, which the "
            "restore would replace. Stop the service, take a backup of it if it may be needed, "
            "and run again with --yes to confirm."
        )
    connection.close()  # nothing of ours may hold the tables the restore replaces
    try:
        report = restore_backup(dump, params, replace_existing_data=True, manifest=manifest)
    finally:
        connection.close()
    if report.extra_tables:
        say(
            "  Note: tables not in the backup were left as they were: "
            + ", ".join(report.extra_tables)
        )
    _audit_system_event(
        "restore_database",
        f"Restored the database from {dump} (made {manifest['created_at']}, SHA-256 "
        f"{manifest['dump_sha256']}): {report.tables} tables, {report.rows} rows, checked "
        "against the manifest.",
    )
    say(f"Restored {report.tables} tables and {report.rows} rows; every table matches.")
    return report
