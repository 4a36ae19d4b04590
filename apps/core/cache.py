"""Caching reads under data versions.

A page may cache what it read from the database under the current version of each kind of
data it depends on ("reference", "inspections", "accounts"). Every service that writes such
data calls `data_changed(kind)`, which bumps the version once the transaction commits, so the
next read misses the cache and sees the change: nothing is served stale, by any process,
provided all processes share the cache (Redis or the file cache; see settings). The key
also carries the release (`release()`), so a deployment of new code never serves pages the
old code rendered and cached.
"""

from __future__ import annotations

import functools
import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")

KINDS = ("reference", "inspections", "accounts", "fieldwork", "findings", "publications", "themes")
# A safety net only: versions make entries obsolete long before this.
TIMEOUT = 60 * 60


def _version_key(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"Unknown kind of data: {kind}")
    return f"data-version:{kind}"


def data_version(kind: str) -> int:
    version = cache.get(_version_key(kind))
    if version is None:
        # A fresh cache (or an evicted key): start from a value no earlier entry used.
        version = time.time_ns()
        cache.add(_version_key(kind), version, None)
        version = cache.get(_version_key(kind), version)
    return int(version)


def _bump(kind: str) -> None:
    key = _version_key(kind)
    try:
        cache.incr(key)
    except ValueError:  # the key was evicted: start it again
        data_version(kind)
        cache.incr(key)


def data_changed(kind: str) -> None:
    """Call inside the writing transaction.

    The version moves on at once, so this process's next read sees its own change, and again
    when the transaction commits, so that anything another process cached in between (from
    data as it was before the commit) is never used.
    """
    _bump(kind)
    transaction.on_commit(lambda: _bump(kind))


# What renders the cached pages: a change to any of these files is a new release.
RELEASE_FOLDERS = ("apps", "inspectorate", "templates")
RELEASE_SUFFIXES = (".py", ".html", ".txt")


@functools.cache
def release() -> str:
    """The code's release, for cache keys: INSPECTORATE_RELEASE where the deployment sets
    it (say, to the commit it deployed), else a digest of the code and templates that render
    the cached pages (read once a process: some 430 files, about 40 ms), the same in
    every process of one deployment."""
    given = os.environ.get("INSPECTORATE_RELEASE", "").strip()
    if given:
        return given
    digest = hashlib.sha256()
    root = Path(settings.BASE_DIR)
    for folder in RELEASE_FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in RELEASE_SUFFIXES and path.is_file():
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def versions_token(kinds: tuple[str, ...]) -> str:
    """The release and the current versions of `kinds`, for keys of cached reads and
    template fragments."""
    found = cache.get_many([_version_key(kind) for kind in kinds])
    versions = (str(found.get(_version_key(kind)) or data_version(kind)) for kind in kinds)
    return ".".join((release(), *versions))


def cached_read(kinds: tuple[str, ...], key: str, read: Callable[[], T]) -> T:
    """`read()`, or its result cached under the current versions of `kinds`."""
    versions = versions_token(kinds)
    full_key = f"read:{key}:{versions}"
    value = cache.get(full_key)
    if value is None:
        value = read()
        cache.set(full_key, value, TIMEOUT)
    return value
