from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .audit import audit_record
from .forms import AuditSearchForm
from .models import AuditEvent
from .selectors import AuditFilter, audit_events_search, audit_object_types

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


def about_data(request: HttpRequest) -> HttpResponse:
    return render(request, "core/about_data.html")


@never_cache
@require_safe
def health(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness: the database answers and no migration is pending."""
    checks: dict[str, str] = {}
    status = 200
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        checks["migrations"] = "ok" if not pending else f"{len(pending)} pending"
        if pending:
            status = 503
    except DatabaseError as exc:
        logger.error("health check: database unavailable", extra={"error": str(exc)})
        checks["database"] = "unavailable"
        status = 503
    return JsonResponse(
        {"status": "ok" if status == 200 else "unavailable", "checks": checks}, status=status
    )


def _audit_filter(request: HttpRequest) -> tuple[AuditSearchForm, AuditFilter]:
    form = AuditSearchForm(request.GET or None, object_types=audit_object_types())
    if form.is_bound and form.is_valid():
        return form, AuditFilter(**form.cleaned_data)
    return form, AuditFilter()


@login_required
@permission_required("core.view_auditevent", raise_exception=True)
def audit_list(request: HttpRequest) -> HttpResponse:
    form, filters = _audit_filter(request)
    events = audit_events_search(filters=filters)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "core/audit_list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A CSV cell that a spreadsheet will show as text, never run as a formula (a user name or
    an object's name could start with '=')."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


EXPORT_COLUMNS = [
    "id",
    "at",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "summary",
    "changes",
    "request_id",
    "ip_address",
]


@login_required
@permission_required("core.view_auditevent", raise_exception=True)
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    _form, filters = _audit_filter(request)
    events = audit_events_search(filters=filters)
    with transaction.atomic():
        audit_record(
            actor=request.user,
            action=AuditEvent.Action.EXPORT,
            object_type="core.auditevent",
            summary=f"Exported the audit trail ({events.count()} events) with filters "
            f"{request.GET.urlencode() or 'none'}",
        )
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow(EXPORT_COLUMNS)
        for event in events.values_list(*EXPORT_COLUMNS).iterator(chunk_size=2000):
            yield writer.writerow([spreadsheet_safe(v) for v in event])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
    return response


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)
