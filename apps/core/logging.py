"""Structured (JSON) logs carry the request id, so a log line can be matched to its audit
events."""

from __future__ import annotations

import logging

from .context import current_request


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = current_request.get()
        record.request_id = getattr(record, "request_id", context.request_id)
        record.user_id = getattr(record, "user_id", context.user_id)
        return True
