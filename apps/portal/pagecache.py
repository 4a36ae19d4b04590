"""Whole public pages, cached for visitors who are not signed in.

A page is stored in the shared cache (Redis in production) under its address and the current
data versions it depends on, so a version bump makes every older copy unreachable at once, in
every process. Each process also keeps the pages it has served most recently in its own memory,
under the same versioned keys: the data versions are still read from the shared cache on every
request (one small round trip), so a copy in memory can never outlive a change, but the page
itself (a report is about 150 KB) does not cross the network again.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from django.conf import settings
from django.core.cache import cache

from apps.core.cache import TIMEOUT, versions_token

Page = tuple[bytes, str]  # content, content type


class _Recent:
    """The most recently used pages of this process, up to `max_bytes` of content."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.pages: OrderedDict[str, Page] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> Page | None:
        with self.lock:
            page = self.pages.get(key)
            if page is not None:
                self.pages.move_to_end(key)
            return page

    def put(self, key: str, page: Page) -> None:
        if len(page[0]) > self.max_bytes:
            return
        with self.lock:
            if key in self.pages:
                return
            self.pages[key] = page
            self.size += len(page[0])
            while self.size > self.max_bytes:
                _, dropped = self.pages.popitem(last=False)
                self.size -= len(dropped[0])

    def clear(self) -> None:
        with self.lock:
            self.pages.clear()
            self.size = 0


recent = _Recent(getattr(settings, "PORTAL_PAGE_MEMORY_BYTES", 32 * 1024 * 1024))


def page_key(path: str, kinds: tuple[str, ...]) -> str:
    digest = hashlib.sha256(path.encode()).hexdigest()[:40]
    return f"portal:page:{digest}:{versions_token(kinds)}"


def page_get(key: str) -> Page | None:
    page = recent.get(key)
    if page is None:
        page = cache.get(key)
        if page is not None:
            recent.put(key, page)
    return page


def page_set(key: str, page: Page) -> None:
    cache.set(key, page, TIMEOUT)
    recent.put(key, page)
