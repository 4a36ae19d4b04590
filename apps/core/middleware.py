"""Give every request an id, and make it (with the client address) available to logs and the
audit trail."""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .context import RequestContext, current_request

# An id a client or proxy sent is kept only when it cannot smuggle anything into a header or a
# log line: letters, digits, '.', '_' and '-', at most 64 characters (the audit column's size).
# Matched with fullmatch: '$' would also accept a trailing newline.
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

# The request being handled, so the log filter can name the signed-in user (see
# core.logging). Internal: everything else uses current_request.
current_http_request: ContextVar[HttpRequest | None] = ContextVar(
    "current_http_request", default=None
)


def is_safe_request_id(value: str) -> bool:
    return _SAFE_ID.fullmatch(value) is not None


def client_address(request: HttpRequest) -> str | None:
    """The client's address. Behind N trusted proxies (INSPECTORATE_TRUSTED_PROXIES=N) it is
    the Nth address from the right of X-Forwarded-For, the one our own proxy saw; a client
    cannot forge it by sending the header itself, because our proxy appends to it."""
    proxies = getattr(settings, "INSPECTORATE_TRUSTED_PROXIES", 0)
    if proxies > 0:
        forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= proxies:
            candidate = forwarded[-proxies]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    return request.META.get("REMOTE_ADDR")


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if is_safe_request_id(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = current_request.set(
            RequestContext(request_id=request_id, ip_address=client_address(request))
        )
        request_token = current_http_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            current_http_request.reset(request_token)
            current_request.reset(token)
        response["X-Request-ID"] = request_id
        return response
