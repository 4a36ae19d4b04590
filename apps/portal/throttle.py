"""Rate limits for the contact form, counted in the shared cache (Redis in production).

Two fixed windows: one per client address (an IPv6 client counts by its /64 network, which
one household or server usually has whole) and one ceiling for everyone together, so a flood
from many addresses cannot fill the inbox either. A client already over its own limit does
not use up the shared ceiling. Addresses are kept only as a hash, only in the cache, and only
for the window.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


@dataclass(frozen=True)
class Limit:
    scope: str
    count: int
    seconds: int


def per_client_limit() -> Limit:
    return Limit(
        "client",
        getattr(settings, "PORTAL_CONTACT_PER_CLIENT", 5),
        getattr(settings, "PORTAL_CONTACT_PER_CLIENT_SECONDS", 15 * 60),
    )


def global_limit() -> Limit:
    return Limit(
        "all",
        getattr(settings, "PORTAL_CONTACT_GLOBAL", 200),
        getattr(settings, "PORTAL_CONTACT_GLOBAL_SECONDS", 60 * 60),
    )


def client_key(address: str | None) -> str:
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    if ip.version == 6:
        network = ipaddress.ip_network(f"{ip}/64", strict=False)
        text = str(network)
    else:
        text = str(ip)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _count(limit: Limit, who: str, now: float) -> tuple[bool, int]:
    """Count one attempt in the current window; (allowed, seconds until the window ends)."""
    window = int(now // limit.seconds)
    key = f"portal:contact:{limit.scope}:{who}:{window}"
    cache.add(key, 0, limit.seconds + 60)
    try:
        attempts = cache.incr(key)
    except ValueError:  # evicted between add and incr: count it as the first
        cache.set(key, 1, limit.seconds + 60)
        attempts = 1
    retry_after = max(1, int(limit.seconds - now % limit.seconds))
    return attempts <= limit.count, retry_after


def contact_attempt(address: str | None, *, now: float | None = None) -> int | None:
    """Count one attempt to send the contact form. None if it may go ahead; otherwise the
    number of seconds to wait."""
    now = time.time() if now is None else now
    allowed, retry_after = _count(per_client_limit(), client_key(address), now)
    if not allowed:
        return retry_after
    allowed, retry_after = _count(global_limit(), "everyone", now)
    if not allowed:
        return retry_after
    return None
