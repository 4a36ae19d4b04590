"""Structured (JSON) logs carry the request id, so a log line can be matched to its audit
events."""

from __future__ import annotations

import logging
from typing import Any

from .context import current_request
from .middleware import current_http_request


def _signed_in_user_id(request: Any) -> int | None:
    """The id of the request's user, if authentication has already looked it up.

    Never triggers the lookup itself: a log call must not query the database (it may be
    logging that the database is down).
    """
    user = getattr(request, "_cached_user", None) if request is not None else None
    if user is not None and getattr(user, "is_authenticated", False):
        return user.pk
    return None


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = current_request.get()
        # django.request logs 4xx/5xx responses after the middleware has returned, so the
        # context is already gone; such records carry the request itself.
        request = getattr(record, "request", None) or current_http_request.get()
        if not hasattr(record, "request_id"):
            record.request_id = context.request_id or getattr(request, "request_id", "")
        if not hasattr(record, "user_id"):
            record.user_id = context.user_id or _signed_in_user_id(request)
        return True
