"""Browser tests: the real site, served by gunicorn on a database of its own with the
reference data and the demo programme, driven by Debian's Chromium through Playwright, with
axe-core checking every page type against WCAG 2.2 A and AA.

The server's database is separate from pytest-django's (the server is another process), and
is built once per test worker: a fresh SQLite file or PostgreSQL database named after the
worker, following the engine of DATABASE_URL.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
DEMO_PASSWORD = "demo-password-2026"
DEMO_TODAY = "2026-11-26"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
# The environment of this worker's test server (its DATABASE_URL above all), once it runs.
SERVER_ENV: dict[str, str] = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_database(worker: str) -> str:
    url = os.environ.get("DATABASE_URL", "sqlite:///var/test-root.sqlite3")
    if url.startswith("sqlite"):
        # Named after the suite's own database too, so two suites run at once (say from two
        # checkouts' DATABASE_URLs) never delete each other's server database.
        stem = Path(url.removeprefix("sqlite:///")).stem
        path = ROOT / "var" / f"browser-{stem}-{worker}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    base, _, _ = url.rpartition("/")
    name = f"inspectorate_browser_{worker}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def live_site(worker_id: str) -> Iterator[str]:
    database_url = _server_database(worker_id)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "inspectorate.settings.test",
        "PYTHONUNBUFFERED": "1",
    }
    SERVER_ENV.clear()
    SERVER_ENV.update(env)
    manage = [sys.executable, str(ROOT / "manage.py")]
    for command in (
        ["migrate", "--noinput", "-v0"],
        ["load_reference", "-v0"],
        ["load_methodologies", "-v0"],
        ["generate_programme", "--scale", "demo", "--today", DEMO_TODAY],
        ["themes_code"],
    ):
        subprocess.run(manage + command, env=env, cwd=ROOT, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "inspectorate.wsgi_dev:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
            "--timeout",
            "60",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310
                if json.load(response)["status"] == "ok":
                    break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(
                "The test server did not start: "
                + (server.stderr.read().decode() if server.stderr else "")
            )
        time.sleep(0.3)
    try:
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One Chromium per test module. Playwright's sync API runs an event loop in this thread
    while it is open, and Django refuses database work in a thread with a running loop; so
    it must close before the worker goes on to other modules' (database) tests."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium package.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


# How long an action (a click and the navigation it starts) may take: generous, because the
# suite runs two workers on two cores and a page under that load can take seconds.
PAGE_TIMEOUT_MS = 30_000


# A click that follows a link or submits a form returns before the next page has loaded, and
# what reads the page straight after (count(), inner_text(), url) does not wait: it can read
# the page the click left. Tests that forgot to wait failed now and then under load. So every
# plain click of a link to another http(s) page, or of a submit button, waits here until the
# next document has replaced the current one and loaded. Other clicks are left as they are:
# checkboxes, <summary>, links within the page, links marked `download`, links opening
# elsewhere, clicks with modifier keys or another mouse button, and trial clicks. A test that
# clicks a link to a file served for download must mark the link `download` (or expect it).
_NAVIGATES = """el => {
  const link = el.closest('a[href]');
  if (link) {
    const target = link.getAttribute('target');
    if (link.hasAttribute('download') || (target && target !== '_self')) return false;
    const to = new URL(link.getAttribute('href'), document.baseURI);
    if (to.protocol !== 'http:' && to.protocol !== 'https:') return false;
    const here = new URL(document.URL);
    to.hash = ''; here.hash = '';
    return to.href !== here.href || !link.getAttribute('href').includes('#');
  }
  const button = el.closest('button, input[type=submit], input[type=image]');
  return !!(button && button.form && !button.disabled
    && (button.type === 'submit' || button.type === 'image')
    && (!button.form.getAttribute('target') || button.form.getAttribute('target') === '_self'));
}"""
_NOT_A_PLAIN_CLICK = ("modifiers", "button", "trial", "click_count")


def _install_click_that_waits_for_the_next_page() -> None:
    from playwright.sync_api import Error, Locator

    if getattr(Locator.click, "waits_for_the_next_page", False):
        return
    click = Locator.click

    def click_then_wait(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if args or any(kwargs.get(k) for k in _NOT_A_PLAIN_CLICK):
            return click(self, *args, **kwargs)
        if not self.evaluate(_NAVIGATES, timeout=kwargs.get("timeout")):
            return click(self, *args, **kwargs)
        page = self.page
        page.evaluate("() => { window.__appLeaving = true; }")
        click(self, *args, **kwargs)
        try:
            # The marker lives in this document only: it is gone once the next one has come.
            page.wait_for_function(
                "() => window.__appLeaving !== true", timeout=kwargs.get("timeout")
            )
            page.wait_for_load_state("load", timeout=kwargs.get("timeout"))
        except Error as error:
            raise AssertionError(
                f"Clicking {self} did not lead to another page (still at {page.url}): "
                f"{error.message.splitlines()[0]}"
            ) from error
        return None

    click_then_wait.waits_for_the_next_page = True  # type: ignore[attr-defined]
    Locator.click = click_then_wait  # type: ignore[method-assign]


_install_click_that_waits_for_the_next_page()


@pytest.fixture
def page(browser, live_site):
    context = browser.new_context(base_url=live_site)
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    yield page
    context.close()


@pytest.fixture
def person(browser, live_site) -> Iterator[object]:
    """person("lead") -> a page in a browser context of its own, signed in as `lead`."""
    from .test_fieldwork import People

    people = People(browser, live_site)
    yield people
    people.close_all()


def server_manage(*args: str) -> str:
    """Run a management command against the test server's database; its standard output."""
    assert SERVER_ENV, "the live_site fixture has not started the server"
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=SERVER_ENV,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def sign_in(page, username: str) -> None:
    page.goto("/sign-in/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "/sign-in/" not in page.url, f"{username} could not sign in"


def axe_violations(page) -> list[dict]:
    # A click that navigates returns once the new document has committed, which can be
    # before it has a <head>: wait for the page to load before injecting axe-core.
    page.wait_for_load_state("load")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        AXE_TAGS,
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    assert violations == [], f"axe violations on {page.url}: {json.dumps(violations, indent=1)}"
