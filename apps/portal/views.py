"""The public portal's pages. No sign-in, except for the inspectorate's inbox of messages.

Published reports do not change, and the lists and maps built from them change only when
something is published, so every public page is cached: the body of each page as HTML under
the data versions it depends on (ADR 11), and for visitors who are not signed in the whole
page, so that a report is served from the cache without touching the database (ADR 15).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from apps.core.audit import audit_view
from apps.core.cache import cached_read
from apps.core.forms import add_service_errors
from apps.core.middleware import client_address
from apps.inspections.models import ProgrammeType
from apps.reports.models import Language, Publication

from . import opendata, pagecache, selectors, services, throttle
from .forms import ContactForm, HandledForm, ReportFilterForm
from .map import COLOURS, NO_REPORT_COLOUR, Shape, national_shapes
from .models import ContactMessage
from .permissions import can_read_contact_messages

logger = logging.getLogger(__name__)

REPORT_KINDS = ("publications", "findings")
LIST_KINDS = ("publications",)
MAP_KINDS = ("reference", "publications")
THANKS_SALT = "portal.contact.thanks"
THANKS_MAX_AGE = 60 * 60

View = Callable[..., HttpResponse]


def _plain_visit(request: HttpRequest) -> bool:
    """A visitor who is not signed in and has no messages waiting: every such visitor sees the
    same page at the same address."""
    return (
        request.method == "GET"
        and not request.GET
        and not request.COOKIES.get("messages")
        and not request.user.is_authenticated
    )


def public_page(kinds: tuple[str, ...]) -> Callable[[View], View]:
    """Cache the whole page for visitors who are not signed in, under the data versions of
    `kinds` (see pagecache.py). Only for pages without forms that post (no CSRF token in the
    page) and only for addresses without a query string, so the cache holds one entry per real
    page."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not _plain_visit(request):
                return view(request, *args, **kwargs)
            key = pagecache.page_key(request.path, kinds)
            cached = pagecache.page_get(key)
            if cached is not None:
                content, content_type = cached
                return HttpResponse(content, content_type=content_type)
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.streaming:
                pagecache.page_set(key, (response.content, response["Content-Type"]))
            return response

        return wrapped

    return decorator


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < len(raw) < 6 else 1


# Reports -----------------------------------------------------------------------------------


@require_safe
@public_page(LIST_KINDS)
def report_list(request: HttpRequest) -> HttpResponse:
    facets = cached_read(LIST_KINDS, "portal-facets", selectors.report_facets)
    form = ReportFilterForm(request.GET or None, facets=facets)
    filters = form.filters()
    page = _page_number(request)
    if filters.q:  # searches are not cached: there is no end to the words people type
        result = selectors.report_list(filters=filters, page=page)
    else:
        key = hashlib.sha256(filters.key().encode()).hexdigest()[:32]
        result = cached_read(
            LIST_KINDS,
            f"portal-list:{key}:{page}",
            lambda: selectors.report_list(filters=filters, page=page),
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "portal/report_list.html",
        {
            "form": form,
            "filters": filters,
            "result": result,
            "page": result,
            "query": query.urlencode(),
        },
    )


def _report_frozen(slug: str, language: str, version: int | None) -> dict[str, Any]:
    """Everything on a report's page that changes only when something is published."""
    page = selectors.report_page(slug=slug, language=language, version=version)
    context = {"page": page}
    return {
        "id": page.publication.pk,
        "title": page.publication.title,
        "canonical": page.current_url if page.this_version.is_current else "",
        "recommendations": (page.publication.data or {}).get("recommendations") or [],
        "before": render_to_string("portal/_report_body.html", context),
        "after": render_to_string("portal/_report_after.html", context),
    }


def _report_progress(frozen: dict[str, Any]) -> str:
    """The recommendations' progress: the one part of a report's page that changes after
    publication, whenever a status is recorded."""
    lines = selectors.report_recommendations({"recommendations": frozen["recommendations"]})
    return render_to_string("portal/_report_progress.html", {"recommendations": lines})


@require_safe
@public_page(REPORT_KINDS)
def report(
    request: HttpRequest, slug: str, version: int | None = None, language: str = "en"
) -> HttpResponse:
    frozen = cached_read(
        ("publications",),
        f"portal-report:{slug}:{language}:{version or 'current'}",
        lambda: _report_frozen(slug, language, version),
    )
    progress = cached_read(
        ("findings",), f"portal-progress:{frozen['id']}", lambda: _report_progress(frozen)
    )
    return render(request, "portal/report.html", {**frozen, "progress": progress})


@require_safe
def report_pdf(
    request: HttpRequest, slug: str, version: int | None = None, language: str = "en"
) -> HttpResponse:
    found = Publication.objects.filter(slug=slug, language=language, withdrawn_at=None)
    found = found.filter(version=version) if version is not None else found.filter(is_current=True)
    publication = found.defer("search_text").first()
    if publication is None:
        raise Http404("No such report")
    from apps.reports.services import publication_pdf  # the lead's: stored, or made and stored

    content = publication_pdf(publication=publication)
    response = HttpResponse(content, content_type="application/pdf")
    suffix = "-cy" if language == Language.WELSH else ""
    response["Content-Disposition"] = (
        f'inline; filename="{slug}{suffix}-v{publication.version}.pdf"'
    )
    return response


# The map -----------------------------------------------------------------------------------


@dataclass
class MapArea:
    shape: Shape
    row: selectors.ReportRow | None
    colour: str
    label: str


def _map_body() -> dict[str, Any]:
    shapes = national_shapes()
    latest = selectors.latest_by_force()
    shown: dict[str, str] = {}
    areas = []
    for shape in shapes.shapes:
        row = latest.get(shape.slug)
        if row is not None:
            colour = COLOURS.get(row.programme_type, NO_REPORT_COLOUR)
            shown[row.programme_type] = row.programme_type_label
            label = (
                f"{shape.name}: latest report {row.programme_type_label}, {row.published_on.year}"
            )
        else:
            colour, label = NO_REPORT_COLOUR, f"{shape.name}: no published report yet"
        areas.append(MapArea(shape=shape, row=row, colour=colour, label=label))
    by_name = sorted(areas, key=lambda a: a.shape.name)
    legend = [
        {"label": label, "colour": COLOURS[code]}
        for code, label in ProgrammeType.choices
        if code in shown
    ]
    legend.append({"label": "No published report yet", "colour": NO_REPORT_COLOUR})
    on_map = {shape.slug for shape in shapes.shapes}
    body = render_to_string(
        "portal/_map_body.html",
        {
            "shapes": shapes,
            "areas": areas,
            "legend": legend,
            "others": [(slug, row) for slug, row in latest.items() if slug not in on_map],
            "countries": [
                (name, [a for a in by_name if a.shape.country == code])
                for code, name in (("england", "England"), ("wales", "Wales"))
            ],
        },
    )
    return {"title": "Map of the latest inspections", "body": body}


@require_safe
@public_page(MAP_KINDS)
def national_map(request: HttpRequest) -> HttpResponse:
    content = cached_read(MAP_KINDS, "portal-map", _map_body)
    return render(request, "portal/map.html", content)


# Open data ---------------------------------------------------------------------------------


@require_safe
def open_data(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/open_data.html",
        {
            "datasets": list(opendata.DATASETS.values()),
            "licence": opendata.LICENCE,
            "licence_url": opendata.LICENCE_URL,
            "separator": opendata.LIST_SEPARATOR,
        },
    )


CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


@require_safe
def open_data_download(request: HttpRequest, dataset: str, fmt: str) -> HttpResponse:
    found = opendata.DATASETS.get(dataset)
    if found is None or fmt not in opendata.FORMATS:
        raise Http404("No such download")
    content = cached_read(
        found.kinds, f"portal-open-data:{dataset}:{fmt}", lambda: opendata.render(found, fmt)
    )
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{found.filename(fmt)}"'
    return response


# Accessibility -----------------------------------------------------------------------------


@require_safe
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/accessibility.html")


# Contact -----------------------------------------------------------------------------------


def _rate_limited(request: HttpRequest, retry_after: int) -> HttpResponse:
    minutes = max(1, -(-retry_after // 60))
    response = render(request, "portal/contact_limited.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        retry_after = throttle.contact_attempt(client_address(request))
        if retry_after is not None:
            logger.warning("contact form: rate limit reached")
            return _rate_limited(request, retry_after)
        form = ContactForm(request.POST)
        if form.is_spam:
            # Answered as if sent, so the sender learns nothing; nothing is stored.
            logger.warning("contact form: hidden field filled in; message discarded")
            return redirect("portal:contact-thanks")
        if form.is_valid():
            data = form.cleaned_data
            stored = services.contact_message_submit(
                topic=data["topic"], message=data["message"], name=data["name"], email=data["email"]
            )
            token = signing.dumps(stored.reference, salt=THANKS_SALT)
            return redirect(f"{reverse('portal:contact-thanks')}?m={token}")
    else:
        form = ContactForm()
    return render(request, "portal/contact.html", {"form": form})


@require_safe
def contact_thanks(request: HttpRequest) -> HttpResponse:
    reference = ""
    token = request.GET.get("m", "")
    if token:
        try:
            reference = signing.loads(token, salt=THANKS_SALT, max_age=THANKS_MAX_AGE)
        except signing.BadSignature:
            reference = ""
    return render(request, "portal/contact_thanks.html", {"reference": reference})


# The inspectorate's inbox ------------------------------------------------------------------

MESSAGE_FILTERS = {"open": "To handle", "handled": "Handled", "all": "All messages"}


def _require_inbox(request: HttpRequest) -> None:
    if not can_read_contact_messages(request.user):
        raise PermissionDenied


@login_required
@require_safe
def message_list(request: HttpRequest) -> HttpResponse:
    _require_inbox(request)
    show = request.GET.get("show", "open")
    if show not in MESSAGE_FILTERS:
        show = "open"
    found = ContactMessage.objects.only(
        "id", "reference", "topic", "received_at", "acknowledged_at", "handled_at"
    )
    if show == "open":
        found = found.filter(handled_at__isnull=True)
    elif show == "handled":
        found = found.filter(handled_at__isnull=False)
    page = Paginator(found, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/message_list.html",
        {
            "page": page,
            "show": show,
            "filters": MESSAGE_FILTERS,
            "query": f"show={show}",
        },
    )


def _message_page(
    request: HttpRequest, pk: int, form: HandledForm, status: int = 200
) -> HttpResponse:
    # The reading and its audit event commit together: no record, no reading.
    with transaction.atomic():
        message = get_object_or_404(ContactMessage.objects.select_related("handled_by"), pk=pk)
        audit_view(actor=request.user, instance=message, summary="Read a message from the public")
    return render(
        request, "portal/message_detail.html", {"message": message, "form": form}, status=status
    )


@login_required
@require_safe
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_inbox(request)
    return _message_page(request, pk, HandledForm())


@login_required
@require_POST
def message_handled(request: HttpRequest, pk: int) -> HttpResponse:
    _require_inbox(request)
    message = get_object_or_404(ContactMessage, pk=pk)
    form = HandledForm(request.POST)
    if form.is_valid():
        try:
            services.contact_message_mark_handled(
                actor=request.user, message=message, note=form.cleaned_data["note"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Message {message.reference} is marked as handled.")
            return redirect("portal:message-list")
    return _message_page(request, pk, form, status=400)
