#!/usr/bin/env python
"""Fieldwork benchmark: results pages, the national grade distribution, sampling from a
100,000-row case list and autosaving case audit drafts.

Run from anywhere with the project's Python:

    .venv/bin/python bench/fieldwork_bench.py [--scale national|demo]
        [--database-url postgres://postgres@127.0.0.1:5432/inspectorate_bench_fw]
        [--clients 20] [--seconds 30] [--repetitions 5] [--rebuild] [--skip STEP ...]

It reuses the machinery of bench/run_bench.py (databases, gunicorn with the production
settings, signing in through the real form, the load loop, percentiles, machine details).
What it does (see docs/benchmarks.md, "Fieldwork"):

1. Databases. `inspectorate_bench_fw` (national scale) and `inspectorate_bench_fw_demo` (demo
   scale): reused if an earlier run of this script built them from the same generator,
   migrations and data files (a fingerprint kept in bench/results/), else re-created,
   migrated, loaded and generated with `generate_programme` (timed). Then it checks for
   fieldwork data (case lists, samples, case audits, judgements) and says plainly if there
   is none: the generator may not create it.
2. Query counts, in-process (Django test client, cache emptied first): the results,
   agreement and sample pages of the inspection with the most case audits, and
   /fieldwork/national/, at both scales (and, at national scale, of the inspection with the
   fewest audits too); the slowest queries of the uncached national-scale requests, with
   EXPLAIN ANALYZE.
3. Load: gunicorn with the production settings and Redis (database 13), programme managers
   (and analysts, where they can sign in) signed in through the form, 20 clients for 30 s
   alternating between the results pages of the three inspections with the most audits and
   /fieldwork/national/. Skipped, saying so, when there is no fieldwork data.
4. Sampling, in-process, in `inspectorate_bench_fw_work` (a fresh copy of the measured
   scale's database, so that database is never written to): a 100,000-row case list CSV
   (pseudonymous references, six audit areas of ncpi-2016); per repetition a new NCPI in
   fieldwork, created through the services, then `intake.read_case_list` alone, then
   `services.case_list_upload` (parse, check, store) and `services.sample_draw` (80 cases),
   timed separately and together; the same list as XLSX once.
5. Draft saves: in the same copy, an NCPI in fieldwork with a lead and one inspector per
   client, each with a draft audit (all through the services); gunicorn as above; each client
   signs in as its audit's auditor, reads the CSRF token and version from the audit page,
   then POSTs to the autosave endpoint with the version the previous save returned, for
   30 s (20 clients), then one client alone for 30 s.
6. Prints markdown tables and writes everything as JSON to bench/results/ (git-ignored).

Every request goes to 127.0.0.1 only, and every loop is bounded in time and in count. No
timing here is a test: the figures are reported, not asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import io
import json
import logging
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run_bench as rb  # the shared benchmark machinery, next to this file

ROOT = rb.ROOT
RESULTS = rb.RESULTS
HOST = rb.HOST
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/inspectorate_bench_fw"
# Not 14 or 15: run_bench.py uses those.
CACHE_URL = os.environ.get("BENCH_FW_CACHE_URL", "redis://127.0.0.1:6379/13")
KEY_FILE = RESULTS / "fw-bench-encryption-key"  # benchmark data only
STATE_FILE = RESULTS / "fw-bench-databases.json"
SCALES = ("demo", "national")
STEPS = ("queries", "load", "sampling", "xlsx", "drafts")

TARGET_PAGE_P95_MS = 150.0
TARGET_SAMPLING_S = 3.0
TARGET_SAVE_P95_MS = 50.0
RESULTS_PAGES = 3  # results pages in the load rotation: the inspections with the most audits
TIMED_REQUESTS = 10  # per page, one at a time in-process
EXPLAINED_QUERIES = 3  # per page: the slowest of the uncached request
MAX_SAVES_PER_CLIENT = 50_000
METHODOLOGY = "ncpi-2016"
# Six of the methodology's eight audit areas, with the share of a force's list each takes.
CASE_LIST_AREAS = (
    ("domestic_abuse", 0.38, "DA-{year}-{n:07d}"),
    ("missing_children", 0.22, "MFH/{yy}/{n:06d}"),
    ("child_sexual_exploitation", 0.08, "CSE.{year}.{n:06d}"),
    ("online_child_abuse", 0.10, "OCA-{n:08d}"),
    ("police_protection_powers", 0.07, "PPO{yy}{n:06d}"),
    ("children_in_custody", 0.15, "CUST/{year}/{n:06d}"),
)
# About 80 cases, more where the list is longer.
QUOTAS = {
    "domestic_abuse": 20,
    "missing_children": 15,
    "child_sexual_exploitation": 12,
    "online_child_abuse": 11,
    "police_protection_powers": 10,
    "children_in_custody": 12,
}
TEAMS = (
    "PPU North",
    "PPU South",
    "PPU East",
    "PPU West",
    "MASH",
    "Child Abuse Investigation Unit",
    "Missing Persons Unit",
    "Exploitation Hub",
    "Online Child Abuse Team",
    "Custody Central",
    "Custody North",
    "Response Team A",
    "Response Team B",
    "Neighbourhood Policing",
    "Domestic Abuse Unit",
    "Public Protection Hub",
)
NOTES = (
    "The officer identified the child at the first contact and recorded their views. "
    "Risk was assessed promptly and a referral made to children's social care the same day. "
    "Supervision is recorded but does not set out the rationale for the decisions taken. "
)


# Databases ---------------------------------------------------------------------------------


def scale_urls(url: str) -> dict[str, str]:
    """national: the URL given; demo and work: companions ("_demo", "_work")."""
    return {
        "national": url,
        "demo": rb.companion_url(url, "demo"),
        "work": rb.companion_url(url, "work"),
    }


def _maintenance(url: str) -> str:
    parsed = urllib.parse.urlparse(url)
    return urllib.parse.urlunparse(parsed._replace(path="/postgres"))


def database_exists(url: str) -> bool:
    import psycopg

    with psycopg.connect(_maintenance(url), autocommit=True) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (rb._database_name(url),)
        ).fetchone()
    return found is not None


def copy_database(source: str, target: str) -> float:
    """Re-create `target` as a copy of `source` (PostgreSQL's template copy); seconds taken.
    Nothing may be connected to `source` meanwhile."""
    import psycopg
    from psycopg import sql

    name = rb._database_name(target)
    if "bench_fw" not in name:
        raise SystemExit(f"Refusing to drop '{name}': not a fieldwork benchmark database.")
    began = time.monotonic()
    with psycopg.connect(_maintenance(target), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        create = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(rb._database_name(source))
        )
        for attempt in range(10):
            try:
                connection.execute(create)
                break
            except psycopg.errors.ObjectInUse:  # autovacuum may be working on the source
                if attempt == 9:
                    raise
                time.sleep(2)
    return time.monotonic() - began


def fingerprint(seed: int, today: str) -> str:
    """What a generated database depends on: the generator, the migrations, the data files,
    the seed and the day. A database built from another is rebuilt, not reused."""
    digest = hashlib.sha256(f"{seed}|{today}".encode())
    files = sorted(
        [*ROOT.glob("apps/demo/**/*.py"), *ROOT.glob("apps/*/migrations/*.py")]
        + [p for p in ROOT.glob("data/**/*") if p.is_file()]
    )
    for path in files:
        if "__pycache__" in path.parts:
            continue
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def prepare_databases(
    args: argparse.Namespace, urls: dict[str, str], envs: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """Reuse or build the demo and national databases; returns what was done."""
    state = json.loads(STATE_FILE.read_text()) if STATE_FILE.exists() else {}
    wanted = fingerprint(args.seed, args.today)
    done: dict[str, Any] = {}
    for scale in SCALES:
        name = rb._database_name(urls[scale])
        known = state.get(name, {})
        reusable = (
            not args.rebuild
            and (known.get("fingerprint") == wanted or args.reuse_database)
            and known.get("key_sha256") == _key_sha(envs[scale])
            and database_exists(urls[scale])
        )
        if reusable:
            stale = known.get("fingerprint") != wanted
            print(
                f"- {name}: reusing ({scale} scale, built {known.get('built')})"
                + (" although the generator, migrations or data changed since" if stale else "")
            )
            done[scale] = {"reused": True, "stale": stale, **known}
            analyse(urls[scale])
            continue
        why = "--rebuild" if args.rebuild else "no database built from this code and key"
        print(f"- {name}: building ({why})")
        built = rb.build_database(urls[scale], envs[scale], scale, args.seed, args.today)
        state[name] = {
            "fingerprint": wanted,
            "key_sha256": _key_sha(envs[scale]),
            "scale": scale,
            "built": dt.datetime.now().isoformat(timespec="seconds"),
            "generation_seconds": built["seconds"],
            "generator_output": built["output"][-3000:],
        }
        STATE_FILE.write_text(json.dumps(state, indent=2) + "\n")
        done[scale] = {"reused": False, **state[name]}
        analyse(urls[scale])
    return done


def analyse(url: str) -> None:
    """ANALYZE the database. The generator writes everything in one transaction just before
    the benchmark, when autovacuum has not yet gathered the planner's statistics; without
    them it misjudges row counts (16 rows estimated for 13,410) and picks nested loops and
    sequential scans that a database in service, analysed by autovacuum, would not."""
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as c:
        c.execute("ANALYZE")


def _key_sha(env: dict[str, str]) -> str:
    return hashlib.sha256(env["INSPECTORATE_ENCRYPTION_KEYS"].encode()).hexdigest()[:16]


# In-process measurements (a subprocess per database, with that database's environment) ------


def run_internal(
    env: dict[str, str], mode: str, spec: dict[str, Any], *, locmem: bool = False
) -> Any:
    """Run `mode` in a subprocess: its progress goes to stderr, its result (JSON) is the last
    line of stdout."""
    completed = subprocess.run(
        [rb.PYTHON, __file__, "--internal", mode, "--spec", json.dumps(spec)],
        cwd=ROOT,
        env=env | ({"CACHE_URL": "locmemcache://"} if locmem else {}),
        check=False,
        stdout=subprocess.PIPE,
        text=True,
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout)
        raise SystemExit(f"measuring {mode} failed")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _log(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def internal_info(spec: dict[str, Any]) -> dict[str, Any]:
    """What the database holds: the scale, fieldwork data, who can sign in, which inspections
    have the most and the fewest case audits."""
    from django.db.models import Count

    from apps.accounts.models import Role, User
    from apps.demo.selectors import demo_programme_current
    from apps.fieldwork.models import (
        CaseAudit,
        CaseList,
        EligibleCase,
        Judgement,
        Referral,
        Resolution,
        Sample,
        SampledCase,
    )
    from apps.inspections.models import Inspection, ProgrammeType, TeamMember, TeamRole

    programme = demo_programme_current()
    counts = {
        "case_lists": CaseList.objects.count(),
        "eligible_cases": EligibleCase.objects.count(),
        "samples": Sample.objects.count(),
        "sampled_cases": SampledCase.objects.count(),
        "graded_cases": SampledCase.objects.exclude(comparable_grade="").count(),
        "case_audits": CaseAudit.objects.count(),
        "case_audits_submitted": CaseAudit.objects.filter(
            status=CaseAudit.Status.SUBMITTED
        ).count(),
        "second_markings": CaseAudit.objects.filter(kind=CaseAudit.Kind.SECOND).count(),
        "judgements": Judgement.objects.count(),
        "resolutions": Resolution.objects.count(),
        "referrals": Referral.objects.count(),
        "inspections": Inspection.objects.count(),
    }
    with_audits = (
        Inspection.objects.annotate(n=Count("case_audits"))
        .filter(n__gt=0)
        .order_by("-n", "pk")
        .values_list("pk", "reference", "n")
    )
    ranked = list(with_audits)

    def lead_of(pk: int) -> str | None:
        return (
            TeamMember.objects.filter(inspection_id=pk, role=TeamRole.LEAD_INSPECTOR)
            .values_list("user__username", flat=True)
            .first()
        )

    def described(pk: int, reference: str, n: int) -> dict[str, Any]:
        return {
            "pk": pk,
            "reference": reference,
            "audits": n,
            "sample": Sample.objects.filter(inspection_id=pk).exists(),
            "lead": lead_of(pk),
        }

    top = [described(*row) for row in ranked[:RESULTS_PAGES]]
    smallest = described(*ranked[-1]) if len(ranked) > 1 else None
    if not top:
        # No fieldwork data: the latest NCPI still has a (empty) results page.
        fallback = (
            Inspection.objects.filter(programme_type=ProgrammeType.NCPI)
            .select_related("methodology")
            .order_by("-fieldwork_start", "-pk")
        )
        for inspection in fallback:
            if inspection.methodology.grade_scale:
                top = [described(inspection.pk, inspection.reference, 0)]
                break
    people = User.objects.filter(
        is_active=True, role__in=[Role.PROGRAMME_MANAGER, Role.ANALYST]
    ).order_by("role", "username")
    usable = [u for u in people if u.has_usable_password()]
    return {
        "scale": programme.scale if programme else None,
        "counts": counts,
        "inspections_with_audits": len(ranked),
        "top": top,
        "smallest": smallest,
        "managers": [u.username for u in people if u.role == Role.PROGRAMME_MANAGER],
        "viewers": [u.username for u in usable],
    }


def internal_queries(spec: dict[str, Any]) -> dict[str, Any]:
    """Per page: queries on the uncached path and with the cache warm, time alone with the
    cache emptied before each request and with it warm; optionally the slowest queries of the
    uncached request with EXPLAIN ANALYZE."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from apps.accounts.models import User

    # A page that is not there (no sample drawn) is reported by its status, not logged.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    measured: dict[str, Any] = {}
    for page in spec["pages"]:
        client = Client(HTTP_HOST=HOST)
        client.force_login(User.objects.get(username=page["username"]))
        path = page["path"]
        client.get(path)  # fills per-process caches (templates, methodology definitions)
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        captured = list(queries.captured_queries)
        with CaptureQueriesContext(connection) as warm:
            client.get(path)
        warm_count = len(warm)
        uncached, cached = [], []
        for _ in range(TIMED_REQUESTS):
            cache.clear()
            began = time.perf_counter()
            client.get(path)
            uncached.append((time.perf_counter() - began) * 1000)
        for _ in range(TIMED_REQUESTS):
            began = time.perf_counter()
            client.get(path)
            cached.append((time.perf_counter() - began) * 1000)
        slowest = sorted(captured, key=lambda q: -float(q["time"]))[:5]
        entry: dict[str, Any] = {
            "path": path,
            "user": page["username"],
            "status": response.status_code,
            "bytes": len(response.content),
            "queries": len(captured),
            "queries_cached": warm_count,
            "sql_ms_uncached": round(sum(float(q["time"]) for q in captured) * 1000, 1),
            "ms_alone_uncached": round(statistics.median(uncached), 1),
            "ms_alone_cached": round(statistics.median(cached), 1),
            "slowest": [
                {"ms": round(float(q["time"]) * 1000, 2), "sql": q["sql"][:600]} for q in slowest
            ],
            # Every statement, shortened: to see which differ between two runs.
            "statements": [re.sub(r"\s+", " ", q["sql"])[:160] for q in captured],
        }
        if spec.get("explain"):
            entry["explain"] = []
            selects = [q for q in slowest if q["sql"].lstrip().upper().startswith("SELECT")]
            for query in selects[:EXPLAINED_QUERIES]:
                with connection.cursor() as cursor:
                    try:
                        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                        plan = [row[0] for row in cursor.fetchall()]
                    except Exception as error:  # a query Django logged with its own quoting
                        plan = [f"(could not EXPLAIN: {error})"]
                entry["explain"].append({"sql": query["sql"][:600], "plan": plan})
        measured[page["label"]] = entry
        _log(f"{page['label']}: {len(captured)} queries, {entry['ms_alone_uncached']} ms")
    return measured


def make_case_list(rows: int, today: dt.date, seed: int) -> list[tuple[Any, ...]]:
    """A fictional force's case list: (reference, area name, opened, closed or None, team).
    Pseudonymous references in the styles of six source systems, opened in the last year."""
    rng = random.Random(seed)
    from apps.frameworks.models import MethodologyVersion

    methodology = MethodologyVersion.objects.get(code=METHODOLOGY)
    names = {a["code"]: a["name"] for a in methodology.audit_areas}
    out: list[tuple[Any, ...]] = []
    for code, share, pattern in CASE_LIST_AREAS:
        count = round(rows * share) if code != CASE_LIST_AREAS[-1][0] else rows - len(out)
        numbers = rng.sample(range(1, 10**6), count)
        for n in numbers:
            opened = today - dt.timedelta(days=rng.randint(1, 365))
            closed = None
            if rng.random() < 0.6:
                closed = opened + dt.timedelta(days=rng.randint(0, 120))
                closed = closed if closed <= today else None
            reference = pattern.format(year=opened.year, yy=opened.year % 100, n=n)
            out.append((reference, names[code], opened, closed, rng.choice(TEAMS)))
    rng.shuffle(out)
    return out


def case_list_csv(rows: list[tuple[Any, ...]]) -> bytes:
    buffer = io.StringIO()
    buffer.write("case_reference,audit_area,date_opened,date_closed,team\r\n")
    for reference, area, opened, closed, team in rows:
        closed_text = f"{closed:%d/%m/%Y}" if closed else ""
        buffer.write(f"{reference},{area},{opened:%d/%m/%Y},{closed_text},{team}\r\n")
    return buffer.getvalue().encode("utf-8")


def case_list_xlsx(rows: list[tuple[Any, ...]]) -> bytes:
    """The same list as Excel would save it: real dates in the date columns."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Cases")
    sheet.append(["case_reference", "audit_area", "date_opened", "date_closed", "team"])
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


class _Fixtures:
    """Users and inspections in fieldwork, created through the services as people would."""

    def __init__(self, today: dt.date) -> None:
        from apps.accounts.models import Role, User
        from apps.core.audit import SystemActor
        from apps.frameworks.models import MethodologyVersion
        from apps.reference.models import Force

        self.today = today
        self.system = SystemActor("fieldwork benchmark")
        manager = (
            User.objects.filter(role=Role.PROGRAMME_MANAGER, is_active=True)
            .order_by("username")
            .first()
        )
        if manager is None:
            raise SystemExit("The database has no programme manager to plan inspections with.")
        self.manager = manager
        self.methodology = MethodologyVersion.objects.get(code=METHODOLOGY)
        self.forces = list(Force.objects.order_by("slug"))
        self.made = 0

    def user(self, username: str, role: str) -> Any:
        from apps.accounts.models import User
        from apps.accounts.services import user_create

        existing = User.objects.filter(username=username).first()
        if existing is not None:
            return existing
        return user_create(
            actor=self.system,
            password=rb.PASSWORD,
            username=username,
            email=f"{username}@bench.example.org",
            full_name=username.replace("-", " ").title(),
            role=role,
            organisation=self.manager.organisation,
        )

    def inspection(self, title: str, lead: Any, inspectors: Sequence[Any] = ()) -> Any:
        from apps.inspections import services as inspection_services
        from apps.inspections.models import Inspection, ProgrammeType, TeamRole

        force = self.forces[self.made % len(self.forces)]
        self.made += 1
        day = dt.timedelta(days=1)
        inspection = inspection_services.inspection_create(
            actor=self.system,
            title=title,
            programme_type=ProgrammeType.NCPI,
            methodology=self.methodology,
            forces=[force],
            fieldwork_start=self.today - 7 * day,
            fieldwork_end=self.today + 14 * day,
            planned_on=self.today - 90 * day,
        )
        team = [(lead, TeamRole.LEAD_INSPECTOR)] + [(u, TeamRole.INSPECTOR) for u in inspectors]
        for user, role in team:
            inspection_services.team_member_add(
                actor=self.system, inspection=inspection, user=user, role=role
            )
        for target, on in (("notified", 35), ("fieldwork", 7)):
            inspection_services.inspection_transition(
                actor=self.manager,
                inspection=inspection,
                target=target,
                on=self.today - on * day,
                today=self.today,
            )
        return Inspection.objects.select_related("methodology").get(pk=inspection.pk)


def internal_sampling(spec: dict[str, Any]) -> dict[str, Any]:
    """Time parsing, uploading (parse, check, store) and drawing, on fresh inspections."""
    import cProfile
    import pstats

    from django.conf import settings

    from apps.accounts.models import Role
    from apps.fieldwork import intake, services
    from apps.fieldwork.models import EligibleCase, SampledCase

    today = dt.date.fromisoformat(spec["today"])
    fixtures = _Fixtures(today)
    lead = fixtures.user("fw-bench-sampling-lead", Role.LEAD_INSPECTOR)
    # Fieldwork needs an inspector besides the lead.
    inspector = fixtures.user("fw-bench-sampling-inspector", Role.INSPECTOR)
    began = time.perf_counter()
    rows = make_case_list(spec["rows"], today, spec["seed"])
    csv_bytes = case_list_csv(rows)
    _log(f"case list: {len(rows):,} rows, {len(csv_bytes) / 1e6:.1f} MB CSV")
    (RESULTS / f"fw-case-list-{len(rows)}.csv").write_bytes(csv_bytes)
    generated = time.perf_counter() - began
    areas = {a["code"]: a["name"] for a in fixtures.methodology.audit_areas}

    def parse(filename: str, content: bytes) -> float:
        intake._parse_date_text.cache_clear()  # each measurement starts cold
        began = time.perf_counter()
        parsed = intake.read_case_list(
            filename=filename,
            content=content,
            audit_areas=areas,
            today=today,
            max_rows=settings.FIELDWORK_MAX_ROWS,
        )
        seconds = time.perf_counter() - began
        assert len(parsed) == len(rows), len(parsed)
        return seconds

    def upload_and_draw(filename: str, content: bytes, number: int, draw: bool = True) -> dict:
        inspection = fixtures.inspection(
            f"Fieldwork benchmark sampling {number}", lead, [inspector]
        )
        parse_s = parse(filename, content)
        intake._parse_date_text.cache_clear()
        machine_before = rb._cpu_ticks()
        cpu = time.process_time()
        began = time.perf_counter()
        case_list = services.case_list_upload(
            actor=lead, inspection=inspection, filename=filename, content=content, today=today
        )
        upload_s = time.perf_counter() - began
        upload_cpu = time.process_time() - cpu
        machine_after = rb._cpu_ticks()
        assert case_list.row_count == len(rows)
        ticks = machine_after[1] - machine_before[1]
        result = {
            "inspection": inspection.reference,
            "parse_s": round(parse_s, 3),
            "upload_s": round(upload_s, 3),
            # This process's CPU in the upload: the rest of the time is waiting, for
            # PostgreSQL or for a CPU.
            "upload_cpu_s": round(upload_cpu, 3),
            "machine_cpu_busy": (
                round((machine_after[0] - machine_before[0]) / ticks, 2) if ticks else None
            ),
        }
        if draw:
            began = time.perf_counter()
            sample = services.sample_draw(
                actor=lead,
                inspection=inspection,
                request=services.DrawRequest(
                    quotas=QUOTAS, rationale="Benchmark: 80 cases over six areas."
                ),
            )
            result["draw_s"] = round(time.perf_counter() - began, 3)
            result["drawn"] = SampledCase.objects.filter(sample=sample).count()
            result["together_s"] = round(upload_s + result["draw_s"], 3)
        return result

    csv_runs = []
    for number in range(spec["repetitions"]):
        run = upload_and_draw("cases.csv", csv_bytes, number + 1)
        csv_runs.append(run)
        _log(
            f"CSV {number + 1}/{spec['repetitions']}: parse {run['parse_s']} s, upload "
            f"{run['upload_s']} s, draw {run['draw_s']} s ({run['drawn']} cases)"
        )
    result: dict[str, Any] = {
        "rows": len(rows),
        "csv_bytes": len(csv_bytes),
        "areas": {
            code: sum(1 for r in rows if r[1] == areas[code]) for code, _, _ in CASE_LIST_AREAS
        },
        "quotas": QUOTAS,
        "generating_the_file_s": round(generated, 1),
        "csv": csv_runs,
    }
    # Where an upload's time goes: one more with its SQL timed (the statements' round trips,
    # as Django sees them), and one more profiled (the profiler slows Python down).
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    inspection = fixtures.inspection("Fieldwork benchmark sampling, SQL timed", lead, [inspector])
    intake._parse_date_text.cache_clear()
    began = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        services.case_list_upload(
            actor=lead, inspection=inspection, filename="cases.csv", content=csv_bytes, today=today
        )
    wall = time.perf_counter() - began
    timed = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))
    result["csv_upload_sql"] = {
        "wall_s": round(wall, 3),
        "sql_s": round(sum(float(q["time"]) for q in timed), 3),
        "statements": len(timed),
        "slowest": [
            {"s": float(q["time"]), "sql": q["sql"][:200]} for q in timed[:EXPLAINED_QUERIES]
        ],
    }
    _log(
        f"CSV upload with SQL timed: {wall:.2f} s, of which {result['csv_upload_sql']['sql_s']} s "
        f"in {len(timed)} statements"
    )
    # A force sends a corrected list before the draw: the same areas, so every case of the
    # first list is replaced.
    intake._parse_date_text.cache_clear()
    began = time.perf_counter()
    services.case_list_upload(
        actor=lead, inspection=inspection, filename="cases.csv", content=csv_bytes, today=today
    )
    result["csv_reupload_s"] = round(time.perf_counter() - began, 3)
    _log(f"CSV upload again, replacing the first list: {result['csv_reupload_s']} s")
    inspection = fixtures.inspection("Fieldwork benchmark sampling, profiled", lead, [inspector])
    profiler = cProfile.Profile()
    intake._parse_date_text.cache_clear()
    profiler.enable()
    services.case_list_upload(
        actor=lead, inspection=inspection, filename="cases.csv", content=csv_bytes, today=today
    )
    services.sample_draw(
        actor=lead,
        inspection=inspection,
        request=services.DrawRequest(quotas=QUOTAS, rationale="Benchmark, profiled."),
    )
    profiler.disable()
    result["csv_profile"] = _profile_top(pstats.Stats(profiler))
    if spec.get("xlsx"):
        began = time.perf_counter()
        xlsx_bytes = case_list_xlsx(rows)
        _log(
            f"XLSX: {len(xlsx_bytes) / 1e6:.1f} MB, written in {time.perf_counter() - began:.1f} s"
        )
        (RESULTS / f"fw-case-list-{len(rows)}.xlsx").write_bytes(xlsx_bytes)
        run = upload_and_draw("cases.xlsx", xlsx_bytes, 0)
        run["bytes"] = len(xlsx_bytes)
        result["xlsx"] = run
        _log(f"XLSX: parse {run['parse_s']} s, upload {run['upload_s']} s, draw {run['draw_s']} s")
    result["eligible_cases_after"] = EligibleCase.objects.count()
    return result


def _profile_top(stats: Any, limit: int = 14) -> list[dict[str, Any]]:
    """The functions taking the most time including what they call, project code first."""
    rows = []
    for (filename, line, name), (_, calls, own, cumulative, _) in stats.stats.items():
        rows.append(
            {
                "function": f"{Path(filename).name}:{line}({name})",
                "calls": calls,
                "own_s": round(own, 3),
                "cumulative_s": round(cumulative, 3),
                "project": str(ROOT / "apps") in filename,
            }
        )
    rows.sort(key=lambda r: -r["cumulative_s"])
    project = [r for r in rows if r["project"]][:limit]
    by_own = sorted(rows, key=lambda r: -r["own_s"])[:limit]
    return [{"view": "cumulative, project code", **r} for r in project] + [
        {"view": "own time, any code", **r} for r in by_own
    ]


def internal_drafts(spec: dict[str, Any]) -> dict[str, Any]:
    """An NCPI in fieldwork with a lead and `clients` + 1 inspectors, each with one draft
    audit; the last one's saves are measured in-process here (queries and time alone)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from apps.accounts.models import Role
    from apps.fieldwork import services
    from apps.fieldwork.models import SampledCase

    today = dt.date.fromisoformat(spec["today"])
    clients = spec["clients"]
    fixtures = _Fixtures(today)
    _log(f"creating {clients + 2} users (Argon2 hashes the password of each)")
    lead = fixtures.user("fw-bench-draft-lead", Role.LEAD_INSPECTOR)
    inspectors = [
        fixtures.user(f"fw-bench-inspector-{n:02d}", Role.INSPECTOR) for n in range(clients + 1)
    ]
    inspection = fixtures.inspection("Fieldwork benchmark draft audits", lead, inspectors)
    per_area = max(40, clients * 2)
    rows = make_case_list(per_area * len(CASE_LIST_AREAS), today, spec["seed"])
    services.case_list_upload(
        actor=lead,
        inspection=inspection,
        filename="cases.csv",
        content=case_list_csv(rows),
        today=today,
    )
    each = -(-(clients + 1) // len(CASE_LIST_AREAS)) + 1
    sample = services.sample_draw(
        actor=lead,
        inspection=inspection,
        request=services.DrawRequest(
            quotas={code: each for code, _, _ in CASE_LIST_AREAS},
            rationale="Benchmark: one case per inspector.",
        ),
    )
    # Interleave the areas, so the clients' audits have different stages and criteria.
    cases = sorted(
        SampledCase.objects.filter(sample=sample).select_related("inspection__methodology"),
        key=lambda c: (c.position, c.audit_area),
    )
    audits = []
    for inspector, case in zip(inspectors, cases, strict=False):
        audit = services.audit_start(actor=inspector, case=case, kind="primary")
        fields = [
            name
            for name, f in services.audit_fields(audit).items()
            if f.part == "notes" and f.criterion
        ]
        audits.append(
            {
                "username": inspector.username,
                "audit": audit.pk,
                "area": case.audit_area,
                "path": f"/inspections/{inspection.pk}/fieldwork/audits/{audit.pk}/",
                "fields": fields,
            }
        )
    # The extra inspector's audit, saved in-process: the cost of a save alone.
    extra = audits.pop()
    client = Client(HTTP_HOST=HOST)
    client.force_login(inspectors[-1])
    url = extra["path"] + "save/"
    version = 1
    timings = []
    captured: list[dict[str, Any]] = []
    for n in range(40):
        body = {"version": version, "values": {extra["fields"][n % len(extra["fields"])]: NOTES}}
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            response = client.post(url, data=json.dumps(body), content_type="application/json")
            timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.content
        version = response.json()["version"]
        captured = list(queries.captured_queries)
    in_process = {
        "saves": len(timings),
        "ms_median": round(statistics.median(timings[5:]), 1),
        "ms_max": round(max(timings[5:]), 1),
        "queries": len(captured),
        "sql_ms": round(sum(float(q["time"]) for q in captured) * 1000, 2),
        "query_list": [
            {"ms": round(float(q["time"]) * 1000, 2), "sql": q["sql"][:300]} for q in captured
        ],
    }
    _log(
        f"one save alone, in-process: {in_process['ms_median']} ms median, "
        f"{in_process['queries']} queries"
    )
    return {
        "inspection": inspection.pk,
        "reference": inspection.reference,
        "audits": audits,
        "in_process": in_process,
    }


# Draft-saving clients ----------------------------------------------------------------------


@dataclass
class DraftClient:
    """A signed-in inspector autosaving their own draft audit, as audit-autosave.js does."""

    number: int
    username: str
    path: str  # the audit page
    fields: list[str]
    opener: urllib.request.OpenerDirector
    pause: float = 0.0  # seconds between a save's answer and the next save
    csrf: str = ""
    version: int = 0
    saves: int = 0
    samples: list[rb.Sample] = field(default_factory=list)

    def open_page(self, base: str) -> None:
        """Read the CSRF token and the version from the audit form, like the browser does."""
        with self.opener.open(rb._only_loopback(base + self.path), timeout=30) as response:
            page = response.read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        version = re.search(r'name="version" value="(\d+)"', page)
        if not (token and version and "data-autosave-url" in page):
            raise SystemExit(f"{self.username}: the audit page {self.path} is not editable")
        self.csrf, self.version = token.group(1), int(version.group(1))

    def save(self, base: str) -> tuple[bool, int]:
        field_name = self.fields[(self.saves // 10) % len(self.fields)]
        # The notes grow as the inspector types, then the next criterion starts.
        text = (NOTES * 4)[: 40 + 60 * (self.saves % 10)]
        self.saves += 1
        body = json.dumps({"version": self.version, "values": {field_name: text}}).encode()
        url = rb._only_loopback(base + self.path + "save/")
        request = urllib.request.Request(  # noqa: S310 - 127.0.0.1 only (checked above)
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-CSRFToken": self.csrf,
                "Referer": base + self.path,
            },
        )
        try:
            with self.opener.open(request, timeout=rb.REQUEST_TIMEOUT) as response:
                payload = json.loads(response.read())
                ok = response.status == 200 and payload.get("version") == self.version + 1
                self.version = int(payload.get("version", self.version))
                return ok, response.status
        except urllib.error.HTTPError as error:
            # A conflict says the current version: carry on from it.
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                self.version = int(json.loads(error.read()).get("version", self.version))
            return False, error.code
        except (OSError, ValueError):
            return False, 0

    def run(self, base: str, until: float, record: bool) -> None:
        for _ in range(MAX_SAVES_PER_CLIENT):
            if time.monotonic() >= until:
                break
            began = time.perf_counter()
            ok, status = self.save(base)
            if record:
                self.samples.append(rb.Sample("save", time.perf_counter() - began, ok, status))
            if self.pause:
                time.sleep(max(0.0, min(self.pause, until - time.monotonic())))


def draft_load(
    base: str,
    clients: list[DraftClient],
    seconds: float,
    warmup: float,
    server_pid: int,
    pause: float = 0.0,
) -> dict[str, Any]:
    def run_all(duration: float, record: bool) -> float:
        until = time.monotonic() + duration
        threads = [threading.Thread(target=c.run, args=(base, until, record)) for c in clients]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=duration + rb.REQUEST_TIMEOUT + 5)
        return time.monotonic() - began

    for client in clients:
        client.samples = []
        client.pause = pause
    if warmup:
        run_all(warmup, record=False)
    cpu_before, machine_before = time.process_time(), rb._cpu_ticks()
    server_before = rb._tree_cpu_seconds(server_pid)
    elapsed = run_all(seconds, record=True)
    client_cpu = time.process_time() - cpu_before
    server_cpu = rb._tree_cpu_seconds(server_pid) - server_before
    machine_after = rb._cpu_ticks()
    ticks = machine_after[1] - machine_before[1]
    samples = [s for c in clients for s in c.samples]
    return {
        "clients": len(clients),
        "pause_s": pause,
        "seconds": round(elapsed, 1),
        "saves": rb.summarise(samples, elapsed),
        "client_cpu_seconds": round(client_cpu, 1),
        "gunicorn_cpu_seconds": round(server_cpu, 1),
        "machine_cpu_busy": (
            round((machine_after[0] - machine_before[0]) / ticks, 2) if ticks else None
        ),
    }


# The steps ---------------------------------------------------------------------------------


def query_pages(info: dict[str, Any], scale: str) -> list[dict[str, Any]]:
    """The pages to count, each with a user who may see it."""
    manager = info["managers"][0]
    pages = []
    chosen = [("", info["top"][0])] if info["top"] else []
    if scale == "national" and info["smallest"]:
        chosen.append((" (fewest audits)", info["smallest"]))
    for suffix, inspection in chosen:
        base = f"/inspections/{inspection['pk']}/fieldwork/"
        pages += [
            {"label": f"results{suffix}", "path": base + "results/", "username": manager},
            {"label": f"agreement{suffix}", "path": base + "agreement/", "username": manager},
        ]
        if inspection["lead"]:
            pages.append(
                {
                    "label": f"sample{suffix}",
                    "path": base + "sample/",
                    "username": inspection["lead"],
                }
            )
    pages.append({"label": "national", "path": "/fieldwork/national/", "username": manager})
    return pages


def describe_data(scale: str, info: dict[str, Any]) -> str:
    c = info["counts"]
    if not c["case_audits"]:
        return (
            f"NO FIELDWORK DATA in the {scale} database: {c['case_lists']} case lists, "
            f"{c['samples']} samples, 0 case audits, {c['judgements']} judgements. "
            "generate_programme does not (yet) create fieldwork data; the page figures below "
            "are for empty results pages and do not test the target."
        )
    return (
        f"{scale}: {c['case_audits']:,} case audits ({c['case_audits_submitted']:,} submitted, "
        f"{c['second_markings']:,} second markings), {c['judgements']:,} judgements, "
        f"{c['sampled_cases']:,} sampled cases ({c['graded_cases']:,} graded) in "
        f"{c['samples']} samples, {c['eligible_cases']:,} eligible cases; "
        f"{info['inspections_with_audits']} inspections with audits"
    )


def step_queries(envs: dict[str, dict[str, str]], infos: dict[str, Any]) -> dict[str, Any]:
    per_scale = {}
    for scale in SCALES:
        pages = query_pages(infos[scale], scale)
        print(f"- counting queries at {scale} scale ({len(pages)} pages)")
        per_scale[scale] = run_internal(
            envs[scale], "queries", {"pages": pages, "explain": scale == "national"}, locmem=True
        )
    return per_scale


def step_load(
    args: argparse.Namespace, env: dict[str, str], info: dict[str, Any], stamp: str
) -> dict[str, Any]:
    pages: list[tuple[str, str]] = []
    for inspection in info["top"]:
        pages += [
            ("results", f"/inspections/{inspection['pk']}/fieldwork/results/"),
            ("national", "/fieldwork/national/"),
        ]
    users = [info["viewers"][n % len(info["viewers"])] for n in range(args.clients)]
    rb.flush_cache(CACHE_URL)
    port = rb.free_port()
    log_path = RESULTS / f"fw-gunicorn-pages-{stamp}.log"
    print(f"- starting gunicorn ({args.workers} x {args.worker_class}) on {HOST}:{port}")
    server = rb.start_gunicorn(env, port, args, log_path)
    try:
        load = rb.load_test(f"http://{HOST}:{port}", users, pages, args, server.pid)
    finally:
        rb.stop(server)
    load["paths"] = {
        "results": [p for label, p in pages if label == "results"],
        "national": "/fieldwork/national/",
    }
    load["inspections"] = info["top"]
    return load


def step_drafts(args: argparse.Namespace, env: dict[str, str], stamp: str) -> dict[str, Any]:
    print(f"- draft saves: an NCPI in fieldwork with {args.clients} inspectors' draft audits")
    setup = run_internal(
        env, "drafts", {"clients": args.clients, "today": args.today, "seed": args.seed}
    )
    rb.flush_cache(CACHE_URL)
    port = rb.free_port()
    base = f"http://{HOST}:{port}"
    log_path = RESULTS / f"fw-gunicorn-drafts-{stamp}.log"
    print(f"- starting gunicorn ({args.workers} x {args.worker_class}) on {HOST}:{port}")
    server = rb.start_gunicorn(env, port, args, log_path)
    try:
        print(f"- signing in {len(setup['audits'])} inspectors, each opening their audit")
        clients = []
        for n, audit in enumerate(setup["audits"]):
            client = DraftClient(
                n,
                audit["username"],
                audit["path"],
                audit["fields"],
                rb.signed_in_opener(base, audit["username"]),
            )
            client.open_page(base)
            clients.append(client)
        print(f"- {len(clients)} clients saving back to back for {args.seconds} s")
        many = draft_load(base, clients, args.seconds, args.warmup, server.pid)
        print(f"- 1 client saving back to back for {args.seconds} s")
        one = draft_load(base, clients[:1], args.seconds, args.warmup, server.pid)
        paced = None
        if args.save_pause:
            print(
                f"- {len(clients)} clients, each pausing {args.save_pause} s after a save, "
                f"for {args.seconds} s"
            )
            paced = draft_load(
                base, clients, args.seconds, args.warmup, server.pid, pause=args.save_pause
            )
    finally:
        rb.stop(server)
    return {
        "inspection": setup["reference"],
        "concurrent": many,
        "single": one,
        "paced": paced,
        "in_process": setup["in_process"],
    }


# Reporting ---------------------------------------------------------------------------------


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:,.1f}"


def markdown(result: dict[str, Any]) -> str:
    lines: list[str] = []
    config = result["config"]
    lines.append(f"Fieldwork benchmark, {config['scale']} scale, {result['when']}")
    lines.append("")
    for note in result["data"].values():
        lines.append(f"- {note}")
    queries = result.get("queries")
    if queries:
        labels = list(dict.fromkeys([*queries["national"], *queries["demo"]]))
        lines += [
            "",
            "| page | queries, demo | queries, national | same | status (demo, national) "
            "| ms alone uncached, national | ms alone cached, national | SQL ms, national |",
            "|---|---:|---:|---|---|---:|---:|---:|",
        ]
        for label in labels:
            demo = queries["demo"].get(label.replace(" (fewest audits)", ""), {})
            national = queries["national"].get(label, {})
            same = demo.get("queries") == national.get("queries")
            lines.append(
                f"| {label} | {demo.get('queries', '-')} | {national.get('queries', '-')} "
                f"| {'yes' if same else '**no**'} | {demo.get('status', '-')}, "
                f"{national.get('status', '-')} | {_ms(national.get('ms_alone_uncached'))} "
                f"| {_ms(national.get('ms_alone_cached'))} "
                f"| {_ms(national.get('sql_ms_uncached'))} |"
            )
    load = result.get("load")
    if load and "pages" in load:
        lines += [
            "",
            f"Load: {config['clients']} clients, {load['seconds']} s, gunicorn "
            f"{config['workers']} x {config['worker_class']}",
            "",
            "| page | requests | errors | p50 ms | p95 ms | p99 ms | req/s |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for label, row in {**load["pages"], "all": load["all"]}.items():
            lines.append(
                f"| {label} | {row['requests']:,} | {row['errors']} | {row['p50_ms']} "
                f"| {row['p95_ms']} | {row['p99_ms']} | {row['throughput_rps']} |"
            )
        lines.append(
            f"\nCPU: machine {load['machine_cpu_busy']:.0%} busy, gunicorn "
            f"{load['gunicorn_cpu_seconds']} s, clients {load['client_cpu_seconds']} s."
        )
    elif load:
        lines += ["", f"Load: {load['skipped']}"]
    sampling = result.get("sampling")
    if sampling:
        lines += [
            "",
            f"Sampling: {sampling['rows']:,}-row case list ({sampling['csv_bytes'] / 1e6:.1f} MB "
            f"CSV), {sum(QUOTAS.values())} cases drawn, {len(sampling['csv'])} repetitions",
            "",
            "| step | median s | max s | runs |",
            "|---|---:|---:|---|",
        ]
        for key, label in (
            ("parse_s", "parse and check only (intake.read_case_list)"),
            ("upload_s", "case_list_upload (parse, check, store)"),
            ("draw_s", "sample_draw"),
            ("together_s", "upload + draw"),
        ):
            values = [run[key] for run in sampling["csv"]]
            lines.append(
                f"| {label} | {statistics.median(values):.2f} | {max(values):.2f} "
                f"| {', '.join(f'{v:.2f}' for v in values)} |"
            )
        upload_cpu = [run["upload_cpu_s"] for run in sampling["csv"]]
        busy = [run["machine_cpu_busy"] or 0 for run in sampling["csv"]]
        sql = sampling["csv_upload_sql"]
        lines += [
            "",
            f"CPU of the Python process in case_list_upload: median "
            f"{statistics.median(upload_cpu):.2f} s; machine busy {min(busy):.0%}-{max(busy):.0%} "
            f"(load average before the step {sampling['load_average_before']}). One more "
            f"upload with its SQL timed: {sql['wall_s']:.2f} s, of which {sql['sql_s']:.2f} s "
            f"waiting for {sql['statements']} statements (slowest "
            f"{sql['slowest'][0]['s']:.2f} s: {sql['slowest'][0]['sql'][:60]}...).",
        ]
        if "csv_reupload_s" in sampling:
            lines.append(
                f"\nUploading the same list again before the draw (replacing all "
                f"{sampling['rows']:,} cases): {sampling['csv_reupload_s']:.2f} s."
            )
        xlsx = sampling.get("xlsx")
        if xlsx:
            lines += [
                "",
                f"XLSX, once ({xlsx['bytes'] / 1e6:.1f} MB): parse and check "
                f"{xlsx['parse_s']:.2f} s, upload {xlsx['upload_s']:.2f} s, "
                f"draw {xlsx['draw_s']:.2f} s, upload + draw {xlsx['together_s']:.2f} s",
            ]
    drafts = result.get("drafts")
    if drafts:
        lines += [
            "",
            "Draft saves (POST .../audits/<pk>/save/, each client its own audit):",
            "",
            "| clients | saves | errors | p50 ms | p95 ms | p99 ms | saves/s | machine busy |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for run in (drafts["concurrent"], drafts["single"], drafts.get("paced")):
            if not run:
                continue
            row = run["saves"]
            paced = f", {run['pause_s']} s pause" if run.get("pause_s") else ""
            lines.append(
                f"| {run['clients']}{paced} | {row['requests']:,} | {row['errors']} "
                f"| {row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} | {row['throughput_rps']} "
                f"| {run['machine_cpu_busy']:.0%} |"
            )
        alone = drafts["in_process"]
        lines.append(
            f"\nOne save in-process: {alone['ms_median']} ms median, {alone['queries']} queries "
            f"({alone['sql_ms']} ms of SQL)."
        )
    lines += ["", "Targets:"]
    for name, verdict in result["targets"].items():
        lines.append(f"- {name}: {verdict}")
    return "\n".join(lines)


def verdicts(result: dict[str, Any]) -> dict[str, str]:
    targets: dict[str, str] = {}
    load = result.get("load")
    has_data = result["has_fieldwork_data"]
    if load and "pages" in load:
        for label in ("results", "national"):
            row = load["pages"][label]
            met = row["p95_ms"] < TARGET_PAGE_P95_MS and row["errors"] == 0
            extra = "" if has_data else " (NO FIELDWORK DATA: not a test of the target)"
            targets[f"{label} page p95 < {TARGET_PAGE_P95_MS:.0f} ms"] = (
                f"{'met' if met else 'NOT met'}: p95 {row['p95_ms']} ms, "
                f"{row['errors']} errors{extra}"
            )
    elif load:
        targets["results and national pages"] = f"not measured: {load['skipped']}"
    queries = result.get("queries")
    if queries:
        differ = []
        for label, row in queries["national"].items():
            demo = queries["demo"].get(label.replace(" (fewest audits)", ""), {})
            if row.get("queries") != demo.get("queries"):
                differ.append(f"{label} {demo.get('queries')} -> {row.get('queries')}")
        targets["same queries at demo and national scale"] = (
            "yes" if not differ else f"NO: {'; '.join(differ)} (compare the statements in the JSON)"
        )
    sampling = result.get("sampling")
    if sampling:
        together = [run["together_s"] for run in sampling["csv"]]
        met = max(together) < TARGET_SAMPLING_S
        targets[f"CSV upload + draw < {TARGET_SAMPLING_S:.0f} s"] = (
            f"{'met' if met else 'NOT met'}: median {statistics.median(together):.2f} s, "
            f"max {max(together):.2f} s"
        )
        if sampling.get("xlsx"):
            xlsx = sampling["xlsx"]["together_s"]
            targets[f"XLSX upload + draw < {TARGET_SAMPLING_S:.0f} s"] = (
                f"{'met' if xlsx < TARGET_SAMPLING_S else 'NOT met'}: {xlsx:.2f} s (once)"
            )
    drafts = result.get("drafts")
    if drafts:
        row = drafts["concurrent"]["saves"]
        met = row["p95_ms"] < TARGET_SAVE_P95_MS and row["errors"] == 0
        clients = drafts["concurrent"]["clients"]
        targets[f"draft save p95 < {TARGET_SAVE_P95_MS:.0f} ms ({clients} clients)"] = (
            f"{'met' if met else 'NOT met'}: p95 {row['p95_ms']} ms, {row['errors']} errors"
        )
        single = drafts["single"]["saves"]
        targets[f"draft save p95 < {TARGET_SAVE_P95_MS:.0f} ms (1 client)"] = (
            f"{'met' if single['p95_ms'] < TARGET_SAVE_P95_MS else 'NOT met'}: "
            f"p95 {single['p95_ms']} ms"
        )
        if drafts.get("paced"):
            paced = drafts["paced"]
            row = paced["saves"]
            met = row["p95_ms"] < TARGET_SAVE_P95_MS and row["errors"] == 0
            targets[
                f"draft save p95 < {TARGET_SAVE_P95_MS:.0f} ms ({paced['clients']} clients, "
                f"{paced['pause_s']} s pause, not the target's definition)"
            ] = f"{'met' if met else 'NOT met'}: p95 {row['p95_ms']} ms"

    return targets


# Main --------------------------------------------------------------------------------------


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=SCALES, default="national")
    parser.add_argument(
        "--database-url",
        default=DEFAULT_URL,
        help="the national database; the demo one and the work copy are named after it",
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds, not recorded")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--today", default=dt.date.today().isoformat())
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the case list")
    parser.add_argument("--repetitions", type=int, default=5, help="of upload and draw")
    parser.add_argument(
        "--save-pause",
        type=float,
        default=0.8,
        help="a third draft run with this pause after each save (the page's autosave waits "
        "0.8 s after typing stops); 0 leaves it out",
    )
    parser.add_argument(
        "--reuse-database",
        action="store_true",
        help="reuse the databases an earlier run built even if the generator, migrations or "
        "data files changed since (the run says so)",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="re-create the databases even if reusable"
    )
    parser.add_argument("--skip", nargs="*", choices=STEPS, default=[], help="steps to leave out")
    parser.add_argument(
        "--load-without-data",
        action="store_true",
        help="run the page load even if the database has no fieldwork data",
    )
    parser.add_argument(
        "--internal", choices=("info", "queries", "sampling", "drafts"), help=argparse.SUPPRESS
    )
    parser.add_argument("--spec", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 200 or not 0 < args.seconds <= 600:
        parser.error("--clients must be 1-200 and --seconds 1-600")
    if not 1 <= args.repetitions <= 50 or not 100 <= args.rows <= 200_000:
        parser.error("--repetitions must be 1-50 and --rows 100-200,000")
    parsed = urllib.parse.urlparse(args.database_url)
    if not parsed.scheme.startswith("postgres"):
        parser.error("The fieldwork benchmark runs on PostgreSQL")
    if parsed.hostname not in (HOST, "localhost"):
        parser.error("The benchmark database must be local (127.0.0.1)")
    if not rb._database_name(args.database_url).startswith("inspectorate_bench_fw"):
        parser.error("The database's name must start with inspectorate_bench_fw")
    return args


INTERNAL = {
    "info": internal_info,
    "queries": internal_queries,
    "sampling": internal_sampling,
    "drafts": internal_drafts,
}


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.internal:
        _setup_django()
        print(json.dumps(INTERNAL[args.internal](json.loads(args.spec))))
        return
    began = time.monotonic()
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    key = rb.encryption_key(reuse=KEY_FILE.exists(), key_file=KEY_FILE)
    secret = secrets.token_urlsafe(50)
    urls = scale_urls(args.database_url)
    envs = {
        name: rb.server_env(url, key, secret, "national") | {"CACHE_URL": CACHE_URL}
        for name, url in urls.items()
    }
    rb.flush_cache(CACHE_URL)
    databases = prepare_databases(args, urls, envs)
    rb.collect_static(envs[args.scale])

    infos = {scale: run_internal(envs[scale], "info", {}, locmem=True) for scale in SCALES}
    for scale in SCALES:
        if infos[scale]["scale"] != scale:
            raise SystemExit(
                f"{rb._database_name(urls[scale])} holds the {infos[scale]['scale']} scale, "
                f"not {scale}: run with --rebuild."
            )
    data = {scale: describe_data(scale, infos[scale]) for scale in SCALES}
    for note in data.values():
        print(f"- {note}")
    has_data = bool(infos[args.scale]["counts"]["case_audits"])

    result: dict[str, Any] = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": rb.machine(),
        "code": rb.code_version(),
        "config": {
            "scale": args.scale,
            "clients": args.clients,
            "seconds": args.seconds,
            "warmup": args.warmup,
            "workers": args.workers,
            "worker_class": args.worker_class,
            "threads": args.threads,
            "seed": args.seed,
            "today": args.today,
            "rows": args.rows,
            "repetitions": args.repetitions,
            "databases": {k: rb._database_name(u) for k, u in urls.items()},
            "cache": CACHE_URL,
        },
        "databases": {
            s: {k: v for k, v in d.items() if k != "generator_output"} for s, d in databases.items()
        },
        "generator_output": {s: d.get("generator_output", "") for s, d in databases.items()},
        "data": data,
        "infos": infos,
        "has_fieldwork_data": has_data,
    }

    if "queries" not in args.skip:
        result["queries"] = step_queries(envs, infos)
    if "load" not in args.skip:
        if has_data or args.load_without_data:
            if not infos[args.scale]["viewers"]:
                raise SystemExit("No programme manager or analyst can sign in to load the pages.")
            result["load"] = step_load(args, envs[args.scale], infos[args.scale], stamp)
        else:
            result["load"] = {
                "skipped": f"the {args.scale} database has no case audits (fieldwork data "
                "missing); --load-without-data runs it anyway"
            }
            print(f"- load test skipped: {result['load']['skipped']}")

    if {"sampling", "drafts"} - set(args.skip):
        source, work = rb._database_name(urls[args.scale]), rb._database_name(urls["work"])
        print(f"- copying {source} to {work}")
        copied = copy_database(urls[args.scale], urls["work"])
        result["work_copy_seconds"] = round(copied, 1)
        rb.flush_cache(CACHE_URL)
        if "sampling" not in args.skip:
            print(
                f"- sampling: {args.rows:,}-row case list, {args.repetitions} repetitions"
                + (", then XLSX once" if "xlsx" not in args.skip else "")
            )
            load_before = [round(x, 2) for x in os.getloadavg()]
            result["sampling"] = run_internal(
                envs["work"],
                "sampling",
                {
                    "rows": args.rows,
                    "repetitions": args.repetitions,
                    "today": args.today,
                    "seed": args.seed,
                    "xlsx": "xlsx" not in args.skip,
                },
            )
            result["sampling"]["load_average_before"] = load_before
        if "drafts" not in args.skip:
            result["drafts"] = step_drafts(args, envs["work"], stamp)

    result["targets"] = verdicts(result)
    result["total_seconds"] = round(time.monotonic() - began, 1)
    out = RESULTS / f"fw-bench-{stamp}-{args.scale}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print()
    print(markdown(result))
    print(f"\nWritten to {out.relative_to(ROOT)} ({result['total_seconds']} s in all)")


if __name__ == "__main__":
    main()
