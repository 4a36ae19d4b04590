#!/usr/bin/env python
"""Load benchmark: the staff home and a force page under concurrent signed-in clients.

Run from anywhere with the project's Python:

    .venv/bin/python bench/run_bench.py [--scale national|demo]
        [--database-url postgres://postgres@127.0.0.1:5432/inspectorate_bench]
        [--clients 20] [--seconds 30]

What it does (see docs/benchmarks.md):
1. Drops and re-creates the benchmark database (its name must contain "bench"), migrates
   it, loads the reference data and methodologies and generates the chosen scale (timed).
   It does the same with the other scale in a companion database "<name>_<other scale>".
2. Counts the SQL queries of each page in-process (Django's test client and
   CaptureQueriesContext, the same users) at demo and at national scale, flagging any page
   whose count differs between them.
3. Starts gunicorn with the production settings on 127.0.0.1 and a free port, signs in
   programme managers and lead inspectors (stdlib urllib and http.cookiejar, with the
   sign-in form's CSRF token), then runs the clients (threads) against /home/ and
   /forces/<slug>/ round-robin for the given time, recording every request's latency.
4. Prints markdown tables and writes the figures as JSON to bench/results/.

Every request goes to 127.0.0.1 only, and the loops are bounded in time and in count.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.cookiejar
import json
import math
import os
import platform
import re
import secrets
import socket
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

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
SETTINGS = "inspectorate.settings.production"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/inspectorate_bench"
PASSWORD = "demo-password-2026"  # noqa: S105 - the documented demo password (apps/demo)
TARGET_P95_MS = 150.0
HOST = "127.0.0.1"
REQUEST_TIMEOUT = 10.0
MAX_REQUESTS_PER_CLIENT = 20_000
FORCE_PAGES = 3  # force pages in the rotation: the forces with the most inspections
TIMED_REQUESTS = 15  # per page, one at a time in-process: the page's own cost, no contention
SCALES = ("demo", "national")
KEY_FILE = RESULTS / "bench-encryption-key"  # for --reuse-database only; benchmark data only


# Databases ---------------------------------------------------------------------------------


def _database_name(url: str) -> str:
    parsed = urllib.parse.urlparse(url)
    return Path(parsed.path).name if parsed.scheme.startswith("sqlite") else parsed.path.lstrip("/")


def _sqlite_file(url: str) -> Path:
    """The file of a sqlite:/// URL as django-environ reads it: relative to the project
    after the third slash, absolute with a fourth."""
    path = urllib.parse.urlparse(url).path[1:]
    return Path(path) if path.startswith("/") else ROOT / path


def companion_url(url: str, scale: str) -> str:
    """The same database URL with "_<scale>" after the database's name."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme.startswith("sqlite"):
        path = Path(parsed.path)
        new_path = str(path.with_name(f"{path.stem}_{scale}{path.suffix}"))
    else:
        new_path = f"/{parsed.path.lstrip('/')}_{scale}"
    query = f"?{parsed.query}" if parsed.query else ""
    return f"{parsed.scheme}://{parsed.netloc}{new_path}{query}"


def recreate_database(url: str) -> None:
    """Drop and create the database. Refuses any database whose name lacks "bench"."""
    name = _database_name(url)
    if "bench" not in name:
        raise SystemExit(
            f"Refusing to drop '{name}': a benchmark database's name contains 'bench'."
        )
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme.startswith("sqlite"):
        path = _sqlite_file(url)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg
    from psycopg import sql

    # The same server and credentials, connected to the maintenance database.
    maintenance = urllib.parse.urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# One Redis database per scale, so the two benchmark databases never share cached reads.
CACHE_URLS = {
    "national": os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/15"),
    "demo": os.environ.get("BENCH_DEMO_CACHE_URL", "redis://127.0.0.1:6379/14"),
}


def flush_cache(url: str) -> None:
    """Start from an empty cache: entries from an earlier run's database must not be reused."""
    import redis

    redis.Redis.from_url(url).flushdb()


def server_env(url: str, encryption_key: str, secret_key: str, scale: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "DATABASE_URL": url,
            "DJANGO_SECRET_KEY": secret_key,
            "INSPECTORATE_ENCRYPTION_KEYS": encryption_key,
            "SECURE_SSL_REDIRECT": "false",
            "DJANGO_ALLOWED_HOSTS": HOST,
            "INSPECTORATE_REQUIRE_2FA": "false",
            "DJANGO_DEBUG": "false",
            # The benchmark signs in with the right password; this only keeps a mistake in the
            # benchmark from locking its users out for the cool-off time.
            "AXES_FAILURE_LIMIT": "1000",
            # Production shares a Redis cache between workers (sessions, cached reads).
            "CACHE_URL": CACHE_URLS[scale],
        }
    )
    if urllib.parse.urlparse(url).scheme.startswith("sqlite"):
        env["INSPECTORATE_ALLOW_SQLITE"] = "true"
    return env


def manage(env: dict[str, str], *arguments: str, fail: bool = True) -> str:
    completed = subprocess.run(
        [PYTHON, "manage.py", *arguments],
        cwd=ROOT,
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        if not fail:
            raise RuntimeError(completed.stdout + completed.stderr)
        sys.stderr.write(completed.stdout + completed.stderr)
        raise SystemExit(f"manage.py {' '.join(arguments)} failed")
    return completed.stdout


def collect_static(env: dict[str, str]) -> None:
    """Collect the static files for the manifest storage the production settings use."""
    manage(env, "collectstatic", "--noinput", "-v0")


def build_database(
    url: str, env: dict[str, str], scale: str, seed: int, today: str
) -> dict[str, Any]:
    """A fresh database with the scale generated; returns how long generation took."""
    print(f"- {_database_name(url)}: re-creating, migrating, loading reference data")
    recreate_database(url)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_reference", "-v0")
    manage(env, "load_methodologies", "-v0")
    print(f"- {_database_name(url)}: generating the {scale} scale")
    began = time.monotonic()
    output = manage(
        env, "generate_programme", "--scale", scale, "--seed", str(seed), "--today", today
    )
    seconds = time.monotonic() - began
    summary = [line for line in output.splitlines() if line.startswith("Generated")]
    print(
        f"  {summary[0] if summary else output.strip().splitlines()[-1]} (command: {seconds:.1f} s)"
    )
    return {"seconds": round(seconds, 1), "output": output}


# In-process measurements (run in a subprocess, with that database's environment) -----------


def internal(mode: str, slugs: list[str]) -> None:
    """Print JSON: the users and forces to use, or the queries each page runs."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from apps.accounts.models import Role, User
    from apps.reference.models import Force

    if mode == "users":
        from apps.demo.selectors import demo_programme_current

        programme = demo_programme_current()
        people = User.objects.filter(
            is_active=True, role__in=[Role.PROGRAMME_MANAGER, Role.LEAD_INSPECTOR]
        ).order_by("username")
        usable = [u for u in people if u.has_usable_password()]
        forces = Force.objects.annotate(n=Count("inspections")).order_by("-n", "slug")
        print(
            json.dumps(
                {
                    "scale": programme.scale if programme else None,
                    "managers": [u.username for u in usable if u.role == Role.PROGRAMME_MANAGER],
                    "leads": [u.username for u in usable if u.role == Role.LEAD_INSPECTOR],
                    "forces": [{"slug": f.slug, "inspections": f.n} for f in forces[:FORCE_PAGES]],
                }
            )
        )
        return
    counts: dict[str, dict[str, Any]] = {}
    for username in ("manager", "lead"):
        client = Client(HTTP_HOST=HOST)
        client.force_login(User.objects.get(username=username))
        for path in ["/home/", *(f"/forces/{slug}/" for slug in slugs)]:
            client.get(path)  # the first request fills per-process caches
            cache.clear()  # counted on the uncached path, where an N+1 would show
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path)
            # Counted now: the next request's request_started signal clears the query log.
            query_count = len(queries)
            with CaptureQueriesContext(connection) as warm:
                client.get(path)
            warm_count = len(warm)
            timings = []
            for _ in range(TIMED_REQUESTS):
                began = time.perf_counter()
                client.get(path)
                timings.append((time.perf_counter() - began) * 1000)
            counts[f"{path} as {username}"] = {
                "queries": query_count,
                "queries_cached": warm_count,
                "status": response.status_code,
                "ms_alone": round(percentile(timings, 0.5), 1),
            }
    print(json.dumps(counts))


def run_internal(env: dict[str, str], mode: str, slugs: Sequence[str] = ()) -> Any:
    completed = subprocess.run(
        [PYTHON, __file__, "--internal", mode, "--slugs", ",".join(slugs)],
        cwd=ROOT,
        # An empty cache of its own: queries are counted on the uncached path, where an N+1
        # would show.
        env=env | {"CACHE_URL": "locmemcache://"},
        check=False,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout + completed.stderr)
        raise SystemExit(f"measuring {mode} failed")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# The server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start_gunicorn(
    env: dict[str, str], port: int, args: argparse.Namespace, log_path: Path
) -> subprocess.Popen[bytes]:
    command = [
        GUNICORN,
        "inspectorate.wsgi:application",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--threads",
        str(args.threads),
        "--timeout",
        "60",
        "--log-level",
        "warning",
    ]
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited: see {log_path}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit(f"gunicorn did not answer /healthz within a minute: see {log_path}")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# The clients -------------------------------------------------------------------------------


class LoopbackCookiePolicy(http.cookiejar.DefaultCookiePolicy):
    """The production settings mark the session and CSRF cookies Secure. The benchmark talks
    plain HTTP to 127.0.0.1 (no TLS proxy in front), so it sends them there anyway."""

    def return_ok_secure(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return True


def _only_loopback(url: str) -> str:
    if urllib.parse.urlparse(url).hostname != HOST:
        raise ValueError(f"The benchmark only talks to {HOST}, not {url}")
    return url


def signed_in_opener(base: str, username: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar(policy=LoopbackCookiePolicy())
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    sign_in = _only_loopback(f"{base}/sign-in/")
    with opener.open(sign_in, timeout=30) as response:
        page = response.read().decode()
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not found:
        raise SystemExit("No CSRF token on the sign-in page")
    data = urllib.parse.urlencode(
        {
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": found.group(1),
        }
    ).encode()
    request = urllib.request.Request(sign_in, data=data, headers={"Referer": sign_in})  # noqa: S310
    with opener.open(request, timeout=30) as response:
        response.read()
        if not response.geturl().endswith("/home/"):
            raise SystemExit(
                f"Signing in as {username} did not reach /home/ (ended at {response.geturl()})"
            )
    return opener


@dataclass
class Sample:
    page: str
    seconds: float
    ok: bool
    status: int


@dataclass
class BenchClient:
    number: int
    username: str
    opener: urllib.request.OpenerDirector
    samples: list[Sample] = field(default_factory=list)

    def run(
        self, base: str, pages: list[tuple[str, str]], until: float, limit: int, record: bool = True
    ) -> None:
        position = self.number  # clients start at different places in the rotation
        for _ in range(limit):
            if time.monotonic() >= until:
                break
            label, path = pages[position % len(pages)]
            position += 1
            url = _only_loopback(base + path)
            began = time.perf_counter()
            status, ok = 0, False
            try:
                with self.opener.open(url, timeout=REQUEST_TIMEOUT) as response:
                    response.read()
                    status = response.status
                    ok = status == 200 and response.geturl().endswith(path)
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError:
                status = 0
            if record:
                self.samples.append(Sample(label, time.perf_counter() - began, ok, status))


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot, from /proc/stat."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by a process and its children (gunicorn's workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            after_name = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        own = stat.parent.name == str(pid)
        if own or after_name[1] == str(pid):  # field 4 is the parent's pid
            total += (int(after_name[11]) + int(after_name[12])) / ticks  # utime + stime
    return total


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")


def summarise(samples: list[Sample], seconds: float) -> dict[str, Any]:
    times = [s.seconds * 1000 for s in samples]
    errors = [s for s in samples if not s.ok]
    return {
        "requests": len(samples),
        "errors": len(errors),
        "error_statuses": sorted({s.status for s in errors}),
        "p50_ms": round(percentile(times, 0.50), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "p99_ms": round(percentile(times, 0.99), 1),
        "max_ms": round(max(times), 1) if times else None,
        "throughput_rps": round(len(samples) / seconds, 1) if seconds else None,
    }


def load_test(
    base: str,
    users: list[str],
    pages: list[tuple[str, str]],
    args: argparse.Namespace,
    server_pid: int,
) -> dict[str, Any]:
    print(f"- signing in {args.clients} clients as {', '.join(sorted(set(users)))}")
    clients = [
        BenchClient(n, users[n % len(users)], signed_in_opener(base, users[n % len(users)]))
        for n in range(args.clients)
    ]

    def run_all(seconds: float, record: bool) -> float:
        until = time.monotonic() + seconds
        threads = [
            threading.Thread(
                target=c.run, args=(base, pages, until, MAX_REQUESTS_PER_CLIENT, record)
            )
            for c in clients
        ]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + REQUEST_TIMEOUT + 5)
        return time.monotonic() - began

    if args.warmup:
        print(f"- warming up for {args.warmup} s")
        run_all(args.warmup, record=False)
    print(f"- {args.clients} clients for {args.seconds} s")
    # The clients, the server and the database share the machine (and anything else running
    # on it): record who used how much CPU, to read the figures by.
    cpu_before, machine_before = time.process_time(), _cpu_ticks()
    server_before = _tree_cpu_seconds(server_pid)
    elapsed = run_all(args.seconds, record=True)
    client_cpu = time.process_time() - cpu_before
    server_cpu = _tree_cpu_seconds(server_pid) - server_before
    machine_after = _cpu_ticks()
    ticks = machine_after[1] - machine_before[1]
    machine_busy = (machine_after[0] - machine_before[0]) / ticks if ticks else None
    samples = [s for c in clients for s in c.samples]
    by_page: dict[str, Any] = {}
    for label in dict.fromkeys(label for label, _ in pages):
        by_page[label] = summarise([s for s in samples if s.page == label], elapsed)
    return {
        "seconds": round(elapsed, 1),
        "pages": by_page,
        "all": summarise(samples, elapsed),
        "users": sorted(set(users)),
        "client_cpu_seconds": round(client_cpu, 1),
        "gunicorn_cpu_seconds": round(server_cpu, 1),
        "machine_cpu_busy": round(machine_busy, 2) if machine_busy is not None else None,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def client_users(managers: list[str], leads: list[str], clients: int) -> list[str]:
    """Who each client signs in as: every fourth a programme manager, the others lead
    inspectors, as many different people as there are."""
    leads = leads or managers
    managers = managers or leads
    return [
        managers[(n // 4) % len(managers)] if n % 4 == 0 else leads[(n - n // 4 - 1) % len(leads)]
        for n in range(clients)
    ]


# Reporting ---------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        model = found.group(1).strip() if found else ""
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def code_version() -> dict[str, Any]:
    """The commit measured, and whether the working tree had changes on top of it."""

    def git(*arguments: str) -> str:
        completed = subprocess.run(
            ["git", *arguments], cwd=ROOT, check=False, capture_output=True, text=True
        )
        # rstrip, not strip: "git status --porcelain" lines start with a space.
        return completed.stdout.rstrip() if completed.returncode == 0 else ""

    changed = [line[3:] for line in git("status", "--porcelain").splitlines() if line]
    return {"commit": git("rev-parse", "HEAD"), "uncommitted_changes": changed}


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Load: {result['config']['clients']} clients, {result['load']['seconds']} s, "
        f"{result['config']['scale']} scale, {result['config']['database']}, gunicorn "
        f"{result['config']['workers']} x {result['config']['worker_class']}"
        + (
            f" ({result['config']['threads']} threads)"
            if result["config"]["worker_class"] == "gthread"
            else ""
        ),
        "",
        "| page | requests | errors | p50 ms | p95 ms | p99 ms | req/s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    rows = {**result["load"]["pages"], "all": result["load"]["all"]}
    for label, row in rows.items():
        path = result["paths"].get(label, "")
        lines.append(
            f"| {label} {path} | {row['requests']} | {row['errors']} | {row['p50_ms']} "
            f"| {row['p95_ms']} | {row['p99_ms']} | {row['throughput_rps']} |"
        )
    lines += [
        "",
        "| page (user) | queries, demo | queries, national | same | ms alone, demo "
        "| ms alone, national |",
        "|---|---:|---:|---|---:|---:|",
    ]
    for page, row in result["queries"].items():
        same = "yes" if row["same"] else "**no**"
        lines.append(
            f"| {page} | {row['demo']} | {row['national']} | {same} "
            f"| {row['ms_alone']['demo']} | {row['ms_alone']['national']} |"
        )
    target = result["target"]
    load = result["load"]
    lines += [
        "",
        f"CPU in the {load['seconds']} s run ({result['machine']['cpus']} CPUs): machine "
        f"{load['machine_cpu_busy']:.0%} busy; gunicorn {load['gunicorn_cpu_seconds']} s, "
        f"the benchmark's clients {load['client_cpu_seconds']} s (the rest: PostgreSQL and "
        "anything else running).",
    ]
    lines += [
        "",
        f"Target p95 < {TARGET_P95_MS:.0f} ms on every page: "
        f"{'met' if target['p95_met'] else 'NOT met'}; same queries at both scales: "
        f"{'yes' if target['queries_same'] else 'NO'}; errors: {target['errors']}.",
    ]
    return "\n".join(lines)


def encryption_key(*, reuse: bool, key_file: Path = KEY_FILE) -> str:
    """A new key for new benchmark databases, kept (in the git-ignored results folder) so a
    later --reuse-database run can read their encrypted planning notes. Each benchmark script
    keeps its own key file (bench/fieldwork_bench.py has another)."""
    from cryptography.fernet import Fernet

    RESULTS.mkdir(parents=True, exist_ok=True)
    if reuse and key_file.exists():
        return key_file.read_text().strip()
    if reuse:
        raise SystemExit(
            f"--reuse-database needs the key of the run that built the "
            f"databases ({key_file.relative_to(ROOT)}); run without it."
        )
    key = Fernet.generate_key().decode()
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    return key


# Main --------------------------------------------------------------------------------------


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=SCALES, default="national")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds, not recorded")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--today",
        default=dt.date.today().isoformat(),
        help="the day the programme is generated as at",
    )
    parser.add_argument(
        "--reuse-database",
        action="store_true",
        help="keep the databases the previous run built (and its key)",
    )
    parser.add_argument("--internal", choices=("users", "queries"), help=argparse.SUPPRESS)
    parser.add_argument("--slugs", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 200 or not 0 < args.seconds <= 600:
        parser.error("--clients must be 1-200 and --seconds 1-600")
    if urllib.parse.urlparse(args.database_url).hostname not in (None, "", HOST, "localhost"):
        parser.error("The benchmark database must be local (127.0.0.1)")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.internal:
        internal(args.internal, [s for s in args.slugs.split(",") if s])
        return
    key = encryption_key(reuse=args.reuse_database)
    secret = secrets.token_urlsafe(50)
    other = "demo" if args.scale == "national" else "national"
    urls = {args.scale: args.database_url, other: companion_url(args.database_url, other)}
    envs = {scale: server_env(url, key, secret, scale) for scale, url in urls.items()}
    for url in CACHE_URLS.values():
        flush_cache(url)
    generation: dict[str, Any] = {}
    if not args.reuse_database:
        for scale in (args.scale, other):
            generation[scale] = build_database(
                urls[scale], envs[scale], scale, args.seed, args.today
            )
    collect_static(envs[args.scale])

    chosen = run_internal(envs[args.scale], "users")
    if args.reuse_database:
        for scale in SCALES:
            found = run_internal(envs[scale], "users")["scale"]
            if found != scale:
                raise SystemExit(
                    f"{_database_name(urls[scale])} holds the {found} scale, not "
                    f"{scale}: run without --reuse-database."
                )
    slugs = [f["slug"] for f in chosen["forces"]]
    print(f"- counting queries per page at both scales (forces {', '.join(slugs)})")
    per_scale = {scale: run_internal(envs[scale], "queries", slugs) for scale in SCALES}
    queries = {
        page: {
            "demo": per_scale["demo"][page]["queries"],
            "national": per_scale["national"][page]["queries"],
            "same": per_scale["demo"][page]["queries"] == per_scale["national"][page]["queries"],
            "status": {s: per_scale[s][page]["status"] for s in SCALES},
            "ms_alone": {s: per_scale[s][page]["ms_alone"] for s in SCALES},
        }
        for page in per_scale[args.scale]
    }

    users = client_users(chosen["managers"], chosen["leads"], args.clients)
    pages: list[tuple[str, str]] = []
    for slug in slugs:
        pages += [("home", "/home/"), ("force", f"/forces/{slug}/")]
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    port = free_port()
    log_path = RESULTS / f"gunicorn-{stamp}.log"
    print(
        f"- starting gunicorn ({args.workers} x {args.worker_class}, {args.threads} "
        f"thread(s)) on {HOST}:{port}"
    )
    server = start_gunicorn(envs[args.scale], port, args, log_path)
    try:
        load = load_test(f"http://{HOST}:{port}", users, pages, args, server.pid)
    finally:
        stop(server)

    parsed = urllib.parse.urlparse(args.database_url)
    result = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": machine(),
        "code": code_version(),
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
            "database": f"{parsed.scheme.split('+')[0]} {_database_name(args.database_url)}",
        },
        "generation": {s: {"seconds": g["seconds"]} for s, g in generation.items()},
        "forces": chosen["forces"],
        "paths": {"home": "/home/", "force": "/forces/<" + "|".join(slugs) + ">/"},
        "load": load,
        "queries": queries,
    }
    result["target"] = {
        "p95_ms": TARGET_P95_MS,
        "p95_met": all(row["p95_ms"] < TARGET_P95_MS for row in load["pages"].values()),
        "queries_same": all(row["same"] for row in queries.values()),
        "errors": load["all"]["errors"],
    }
    out = RESULTS / f"bench-{stamp}-{args.scale}-{parsed.scheme.split('+')[0]}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print()
    print(markdown(result))
    print(f"\nWritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
