"""Pages of the thematic synthesis beyond coding: the overview, the classifier's versions, the
analysis with its evidence, and draft thematic reports (HTML and PDF)."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from apps.core.audit import audit_record
from apps.core.cache import cached_read
from apps.core.exports import table_response
from apps.core.forms import add_service_errors
from apps.core.models import AuditEvent

from . import permissions, selectors, services, suggestion_runs, synthesis
from .forms import ScopeForm, ThematicReportForm
from .models import ClassifierVersion, SuggestionRun, ThematicReport
from .navigation import back_link

CACHED_ON = ("themes", "findings", "publications", "inspections", "reference")
# What synthesis.Figure.from_query reads, and the page.
EXPORT_FORMATS = ("csv", "xlsx")
FIGURE_PARAMETERS = (
    "theme",
    "also",
    "facet",
    "value",
    "kind",
    "status",
    "checked",
    "report",
    synthesis.SHOW,
    "page",
)


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    permissions.require_coder(request)
    return render(
        request,
        "themes/home.html",
        {**selectors.overview(), "can_curate": permissions.can_curate(request.user)},
    )


@login_required
@require_safe
def model_versions(request: HttpRequest) -> HttpResponse:
    permissions.require_coder(request)
    versions = list(
        ClassifierVersion.objects.select_related("codebook")
        .defer("model")
        .order_by("-trained_at", "-id")[:50]
    )
    can_curate = permissions.can_curate(request.user)
    return render(
        request,
        "themes/model.html",
        {
            "versions": versions,
            "can_curate": can_curate,
            "out_of_date": selectors.suggestions_out_of_date() if can_curate else None,
            "latest_run": selectors.suggestion_run_latest() if can_curate else None,
        },
    )


@login_required
@require_POST
def suggest_again(request: HttpRequest) -> HttpResponse:
    """A curator has the classifier (retrained first if people's decisions changed) suggest
    themes again for every statement no person has coded: queued for the background worker,
    as retraining can take longer than a web request may; to its page, which follows it.
    Asked again while a run waits or runs: that run's page."""
    permissions.require_curator(request)
    run, queued = suggestion_runs.run_request(actor=request.user)
    if not queued:
        messages.info(
            request,
            "Themes are already being suggested again, asked for by "
            f"{run.created_by.full_name or run.created_by.username}: this is how far it has "
            "got.",
        )
    return redirect("themes:suggestion-run", pk=run.pk)


@login_required
@require_safe
def suggestion_run(request: HttpRequest, pk: int) -> HttpResponse:
    """A run of "Suggest themes again": how far it has got, and then what it did."""
    permissions.require_curator(request)
    run = get_object_or_404(SuggestionRun.objects.select_related("created_by"), pk=pk)
    return render(request, "themes/suggestion_run.html", selectors.suggestion_run_page(run))


@login_required
@require_safe
def suggestion_run_progress(request: HttpRequest, pk: int) -> JsonResponse:
    """How far a run has got, as JSON: for its page to follow without reloading."""
    permissions.require_curator(request)
    run = get_object_or_404(SuggestionRun, pk=pk)
    return JsonResponse(selectors.suggestion_run_progress(run))


def _scope(request: HttpRequest) -> tuple[synthesis.Scope | None, str]:
    try:
        return synthesis.Scope.from_query(request.GET), ""
    except synthesis.ScopeError as error:
        return None, str(error)


def _analysis_asked(request: HttpRequest) -> tuple[ScopeForm, synthesis.Scope | None, str, str]:
    """The analysis's scope form, the scope (None if it cannot be read), the facet and, for
    a scope that cannot be read, what is wrong."""
    form = ScopeForm(request.GET or None)
    scope, problem = _scope(request)
    if scope is not None and request.GET and not form.is_valid():
        scope = None
    facet = request.GET.get("by", "year")
    return form, scope, facet if facet in synthesis.FACETS else "year", problem


def _analysis_refused(request: HttpRequest, form: ScopeForm, problem: str) -> HttpResponse:
    return render(
        request,
        "themes/analysis.html",
        {"form": form, "problem": problem or "Check the scope.", "body": ""},
        status=400,
    )


@login_required
@require_safe
def analysis(request: HttpRequest) -> HttpResponse:
    permissions.require_coder(request)
    form, scope, facet, problem = _analysis_asked(request)
    if scope is None:
        return _analysis_refused(request, form, problem)

    def body() -> str:
        return render_to_string(
            "themes/_analysis_body.html",
            synthesis.analysis_context(synthesis.corpus(scope), facet=facet),
        )

    # Keyed on the scope as read (not the raw query, which could hold anything).
    asked = hashlib.sha256(f"{scope.query()}|{facet}".encode()).hexdigest()[:32]
    html = cached_read(CACHED_ON, f"themes-analysis:{asked}", body)
    # Reports chosen by the link followed (a thematic report's): kept when the scope is
    # changed, and said, with the way back to every report.
    every = request.GET.copy()
    for name in ("inspection", "archive"):
        every.pop(name, None)
    return render(
        request,
        "themes/analysis.html",
        {
            "form": form,
            "body": mark_safe(html),  # noqa: S308
            "scope": scope,
            "chosen": len(scope.inspections) + len(scope.archive_reports),
            "every_report": f"{request.path}?{every.urlencode()}",
        },
    )


def _evidence_refused(
    request: HttpRequest, problem: str | synthesis.ScopeError, back: tuple[str, str]
) -> HttpResponse:
    """The evidence page, refusing what was asked and saying why; for a theme split since
    the link was made, with links to the same figure for each of its parts."""
    parts: list[tuple[str, str]] = []
    if isinstance(problem, synthesis.ThemeSplit):
        for key, name in problem.parts:
            query = request.GET.copy()
            query[problem.parameter] = key
            parts.append((name, f"{request.path}?{query.urlencode()}"))
    return render(
        request,
        "themes/evidence.html",
        {"problem": str(problem), "parts": parts, "back": back},
        status=400,
    )


def _to_moved_theme(request: HttpRequest, moved: synthesis.ThemeMoved, path: str) -> HttpResponse:
    """The same address, asking for the theme that a link's theme has become."""
    query = request.GET.copy()
    query[moved.parameter] = moved.now
    return redirect(f"{path}?{query.urlencode()}")


@login_required
@require_safe
def evidence(request: HttpRequest) -> HttpResponse:
    """The statements behind one figure of the analysis or of a thematic report: the body
    kept, per figure and page, until the codes, the findings or the reports change (reading
    the corpus takes most of a second at 50,000 statements)."""
    permissions.require_coder(request)
    scope, problem = _scope(request)
    asked_scope = scope.query() if scope is not None else ""
    analysis_url = reverse("themes:analysis") + (f"?{asked_scope}" if asked_scope else "")
    back = back_link(request, analysis_url, "Back to the analysis")
    if scope is None:
        return _evidence_refused(request, problem, back)

    def body() -> str:
        data = synthesis.corpus(scope)
        asked = synthesis.Figure.from_query(request.GET, data)  # ScopeError: not cached
        template, context = synthesis.evidence_context(
            data, asked, show=request.GET.get(synthesis.SHOW, ""), page=request.GET.get("page")
        )
        return render_to_string(template, context)

    # Keyed on the scope as read and the figure's own parameters as the page reads them:
    # every kind (a figure may ask for several), else the last value, so other parameters,
    # or a parameter given twice, never make a new entry or share another page's.
    figure = urlencode(
        [
            (name, v)
            for name in FIGURE_PARAMETERS
            for v in (
                sorted(request.GET.getlist(name)) if name == "kind" else [request.GET.get(name)]
            )
            if v is not None
        ]
    )
    asked = hashlib.sha256(f"{scope.query()}|{figure}".encode()).hexdigest()[:32]
    try:
        html = cached_read(CACHED_ON, f"themes-evidence:{asked}", body)
    except synthesis.ThemeMoved as moved:
        messages.info(
            request,
            f"This link asked for the theme \u201c{moved.was}\u201d, which has become "
            f"\u201c{moved.becomes}\u201d in a codebook revision. These are the statements "
            "coded to it now, so their number can differ from the figure that linked here.",
        )
        return _to_moved_theme(request, moved, reverse("themes:evidence"))
    except synthesis.ScopeError as error:
        return _evidence_refused(request, error, back)
    return render(
        request,
        "themes/evidence.html",
        {
            "scope": scope,
            "body": mark_safe(html),  # noqa: S308
            "back": back,
            "reports": request.GET.get(synthesis.SHOW) == synthesis.SHOW_REPORTS,
        },
    )


def _download(
    request: HttpRequest,
    rows: list[list[Any]],
    fmt: str,
    *,
    what: tuple[str, str, str],
    summary: str,
) -> HttpResponse:
    """`rows` as a CSV or XLSX download, recorded in the audit trail. `what`: the audit's
    object type and description, and the sheet's name (the file's: theme-<sheet>)."""
    object_type, described, sheet = what
    with transaction.atomic():
        audit_record(
            actor=request.user,
            action=AuditEvent.Action.EXPORT,
            object_type=object_type,
            object_repr=described,
            summary=summary,
        )
    return table_response(rows, fmt=fmt, filename=f"theme-{sheet.lower()}", sheet=sheet)


def _known_format(fmt: str) -> None:
    if fmt not in EXPORT_FORMATS:
        raise Http404(f"No download as {fmt!r}: CSV or XLSX.")


@login_required
@require_GET  # not HEAD: a download is recorded in the audit trail as made
def evidence_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """Every statement behind one figure (not one page of them), as CSV or XLSX: the text,
    where it comes from, its themes and whether a person checked them."""
    permissions.require_coder(request)
    _known_format(fmt)
    scope, problem = _scope(request)
    back = back_link(request, reverse("themes:analysis"), "Back to the analysis")
    try:
        if scope is None:
            raise synthesis.ScopeError(problem)
        data = synthesis.corpus(scope)
        asked = synthesis.Figure.from_query(request.GET, data)
    except synthesis.ThemeMoved as moved:  # an older link: the theme it has become
        return _to_moved_theme(request, moved, request.path)
    except synthesis.ScopeError as error:
        return _evidence_refused(request, str(error), back)
    rows = synthesis.statements_table(
        data, asked.rows(data), request.build_absolute_uri("/").rstrip("/")
    )
    return _download(
        request,
        rows,
        fmt,
        what=("themes.statement", "Statements behind a figure", "Statements"),
        summary=f"{len(rows) - 1} statements as {fmt.upper()}: "
        f"{asked.describe(data)} ({scope.describe()})",
    )


@login_required
@require_GET  # not HEAD: a download is recorded in the audit trail as made
def analysis_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The analysis's prevalence figures, over the scope and by the facet asked for, as CSV
    or XLSX."""
    permissions.require_coder(request)
    _known_format(fmt)
    form, scope, facet, problem = _analysis_asked(request)
    if scope is None:
        return _analysis_refused(request, form, problem)
    rows = synthesis.figures_table(synthesis.corpus(scope), facet)
    return _download(
        request,
        rows,
        fmt,
        what=("themes.analysis", "Analysis of the themes", "Figures"),
        summary=f"Prevalence by {synthesis.FACETS[facet].lower()} as {fmt.upper()} "
        f"({scope.describe()})",
    )


@login_required
@require_safe
def report_list(request: HttpRequest) -> HttpResponse:
    permissions.require_coder(request)
    reports = ThematicReport.objects.select_related("updated_by").order_by("-updated_at")
    return render(
        request,
        "themes/reports.html",
        {"reports": list(reports), "can_curate": permissions.can_curate(request.user)},
    )


def _report_form(request: HttpRequest, report: ThematicReport | None) -> HttpResponse:
    permissions.require_curator(request)
    initial: dict[str, Any] = {
        "year_from": timezone.localdate().year - 4,
        "year_to": timezone.localdate().year,
    }
    if report is not None:
        initial = {
            "title": report.title,
            "year_from": report.year_from,
            "year_to": report.year_to,
            "programme_types": report.programme_types,
            "inspections": list(report.inspections.all()),
            "archive_reports": list(report.archive_reports.all()),
            "introduction": report.introduction,
            "police_only": report.police_only,
            "seen_version": report.version,
        }
    form = ThematicReportForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.thematic_report_save(
                actor=request.user,
                report=report,
                title=data["title"],
                year_from=data["year_from"],
                year_to=data["year_to"],
                programme_types=data["programme_types"],
                inspections=list(data["inspections"]),
                archive_reports=list(data["archive_reports"]),
                introduction=data["introduction"],
                police_only=data["police_only"],
                seen_version=data.get("seen_version"),
            )
        except services.StaleReport as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Thematic report saved.")
            return redirect("themes:report", pk=saved.pk)
    return render(request, "themes/report_form.html", {"form": form, "report": report})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def report_new(request: HttpRequest) -> HttpResponse:
    return _report_form(request, None)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def report_edit(request: HttpRequest, pk: int) -> HttpResponse:
    permissions.require_curator(request)
    return _report_form(request, get_object_or_404(ThematicReport, pk=pk))


def _report_body(
    request: HttpRequest, report: ThematicReport, *, for_pdf: bool
) -> tuple[str, list[dict[str, str]]]:
    """The report's body as HTML, and its contents list; kept until the codes, the findings
    or the report change. In the PDF, links are absolute, to this site."""
    scope = synthesis.Scope.of_report(report)
    base = request.build_absolute_uri("/")[:-1] if for_pdf else ""

    def body() -> tuple[str, list[dict[str, str]]]:
        context = synthesis.report_context(synthesis.corpus(scope))
        html = render_to_string(
            "themes/_report_body.html",
            {"report": report, "base": base, "for_pdf": for_pdf, **context},
        )
        return html, context["contents"]

    key = f"themes-report:{report.pk}:{report.version}:{for_pdf}:{base}"
    return cached_read(CACHED_ON, key, body)


@login_required
@require_safe
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    permissions.require_coder(request)
    report = get_object_or_404(ThematicReport.objects.select_related("updated_by"), pk=pk)
    return render(
        request,
        "themes/report.html",
        {
            "report": report,
            "body": mark_safe(_report_body(request, report, for_pdf=False)[0]),  # noqa: S308
            "can_curate": permissions.can_curate(request.user),
            # Chosen reports its figures now leave out (a date or type changed since it was
            # saved): said, so nothing drops out unnoticed.
            "left_out": services.scope_problems(
                report.year_from,
                report.year_to,
                report.programme_types,
                list(report.inspections.all()),
                list(report.archive_reports.all()),
            ),
        },
    )


@login_required
@require_GET  # a download, audited: not rendered for a HEAD (a link checker, a prefetch)
def report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    permissions.require_coder(request)
    report = get_object_or_404(ThematicReport, pk=pk)
    html, contents = _report_body(request, report, for_pdf=True)
    data = synthesis.report_pdf(report, html, contents, timezone.localdate())
    with transaction.atomic():
        audit_record(
            actor=request.user,
            action=AuditEvent.Action.EXPORT,
            instance=report,
            summary=f"Thematic report PDF, version {report.version}",
        )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="thematic-report-{report.pk}.pdf"'
    return response


urlpatterns: list[URLPattern] = [
    path("themes/", home, name="home"),
    path("themes/model/", model_versions, name="model"),
    path("themes/model/suggest-again/", suggest_again, name="suggest-again"),
    path("themes/model/suggest-again/<int:pk>/", suggestion_run, name="suggestion-run"),
    path(
        "themes/model/suggest-again/<int:pk>/progress/",
        suggestion_run_progress,
        name="suggestion-run-progress",
    ),
    path("themes/analysis/", analysis, name="analysis"),
    path("themes/analysis/evidence/", evidence, name="evidence"),
    path(
        "themes/analysis/evidence/statements.<str:fmt>",
        evidence_export,
        name="evidence-export",
    ),
    path("themes/analysis/figures.<str:fmt>", analysis_export, name="analysis-export"),
    path("themes/reports/", report_list, name="reports"),
    path("themes/reports/new/", report_new, name="report-new"),
    path("themes/reports/<int:pk>/", report_detail, name="report"),
    path("themes/reports/<int:pk>/edit/", report_edit, name="report-edit"),
    path("themes/reports/<int:pk>/report.pdf", report_pdf, name="report-pdf"),
]
