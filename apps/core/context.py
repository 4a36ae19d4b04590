"""Who and where the current request comes from, for logs and the audit trail."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip_address: str | None = None
    user_id: int | None = None


current_request: ContextVar[RequestContext] = ContextVar(
    "current_request",
    default=RequestContext(),  # noqa: B039  (frozen, so safe to share)
)
