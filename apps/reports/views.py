"""Report pages for staff: the draft and its sections, the preview, the disclosure check,
sign-off and publication. Thin: permissions from permissions.py, writes through services.py.
Draft text and what the check found are encrypted at rest; pages that show them record the
view."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.accounts.models import User
from apps.core.audit import audit_view
from apps.core.forms import add_service_errors
from apps.findings.views import staff_inspection
from apps.inspections.models import Inspection

from . import permissions, services
from .content import report_content
from .forms import DismissForm, PublishForm, SectionForm, TitleForm, WithdrawForm
from .models import DisclosureHit, Language, Publication, Report, ReportSection, SectionRevision
from .render import contents_list, render_body


def _report(inspection: Inspection, lang: str = Language.ENGLISH) -> Report:
    report = (
        Report.objects.filter(inspection=inspection, language=lang)
        .select_related("signed_off_by", "checked_by")
        .first()
    )
    if report is None:
        raise Http404("No report yet")
    report.inspection = inspection
    return report


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # every view here requires sign-in
    return request.user


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _refused(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, str(message))


def _to_report(inspection: Inspection, lang: str) -> HttpResponse:
    if lang == Language.ENGLISH:
        return redirect("reports:report", pk=inspection.pk)
    return redirect("reports:report-language", pk=inspection.pk, lang=lang)


@login_required
def report(request: HttpRequest, pk: int, lang: str = Language.ENGLISH) -> HttpResponse:
    inspection = staff_inspection(request, pk)
    can_write = permissions.can_write_report(request.user, inspection)
    existing = Report.objects.filter(inspection=inspection, language=Language.ENGLISH).first()
    if existing is None:
        if lang != Language.ENGLISH:
            raise Http404("No report yet")
        return render(
            request,
            "reports/start.html",
            {
                "inspection": inspection,
                "can_write": can_write,
                "can_start": can_write and inspection.state in permissions.DRAFTING_STATES,
            },
        )
    report = _report(inspection, lang)
    content = report_content(report)
    fingerprint = content.fingerprint()
    hits = DisclosureHit.objects.filter(report=report)
    open_hits = hits.filter(status=DisclosureHit.Status.OPEN).count()
    sign_off_refusal = permissions.sign_off_refusal(request.user, report)
    welsh_needed = services.has_welsh_force(inspection)
    return render(
        request,
        "reports/report.html",
        {
            "inspection": inspection,
            "report": report,
            "welsh": report.language == Language.WELSH,
            "welsh_needed": welsh_needed,
            "welsh_report": Report.objects.filter(
                inspection=inspection, language=Language.WELSH
            ).first()
            if welsh_needed
            else None,
            "sections": [c.section for c in content.sections],
            "content": content,
            "can_write": can_write,
            "checked": report.is_checked(fingerprint),
            "signed_off": report.is_signed_off(fingerprint),
            "open_hits": open_hits,
            "can_sign_off": sign_off_refusal is None,
            "sign_off_refusal": sign_off_refusal,
            "blockers": services.publication_blockers(report, content),
            "can_publish": permissions.can_publish(request.user, inspection),
            "publish_form": PublishForm(initial={"on": timezone.localdate()}),
            "title_form": TitleForm(initial={"title": report.title}),
            "fingerprint": fingerprint,
            "publications": Publication.objects.filter(report=report)
            .select_related("published_by")
            .order_by("-version"),
        },
    )


@login_required
@require_POST
def report_start(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = staff_inspection(request, pk)
    _require(permissions.can_write_report(request.user, inspection))
    try:
        services.report_start(actor=request.user, inspection=inspection)
    except ValidationError as error:
        _refused(request, error)
    return _to_report(inspection, Language.ENGLISH)


@login_required
@require_POST
def welsh_start(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = staff_inspection(request, pk)
    _require(permissions.can_write_report(request.user, inspection))
    try:
        services.welsh_report_start(actor=request.user, inspection=inspection)
    except ValidationError as error:
        _refused(request, error)
        return _to_report(inspection, Language.ENGLISH)
    return _to_report(inspection, Language.WELSH)


@login_required
@require_POST
def retitle(request: HttpRequest, pk: int, lang: str) -> HttpResponse:
    inspection = staff_inspection(request, pk)
    report = _report(inspection, lang)
    _require(permissions.can_write_report(request.user, inspection))
    form = TitleForm(request.POST)
    if form.is_valid():
        try:
            services.report_retitle(
                actor=request.user, report=report, title=form.cleaned_data["title"]
            )
        except ValidationError as error:
            _refused(request, error)
        else:
            messages.success(request, "The title was changed.")
    else:
        messages.error(request, "Enter the report's title.")
    return _to_report(inspection, lang)


def _section(inspection: Inspection, lang: str, section_pk: int) -> ReportSection:
    section = get_object_or_404(
        ReportSection.objects.select_related("report", "updated_by"),
        pk=section_pk,
        report__inspection=inspection,
        report__language=lang,
    )
    section.report.inspection = inspection
    return section


@login_required
def section_edit(request: HttpRequest, pk: int, lang: str, section_pk: int) -> HttpResponse:
    inspection = staff_inspection(request, pk)
    section = _section(inspection, lang, section_pk)
    can_write = permissions.can_write_report(request.user, inspection)
    form = SectionForm(
        request.POST if request.method == "POST" else None,
        initial={"title": section.title, "body": section.body, "version": section.version},
    )
    if request.method == "POST":
        _require(can_write)
        if form.is_valid():
            try:
                services.section_save(
                    actor=request.user,
                    section=section,
                    body=form.cleaned_data["body"],
                    expected_version=form.cleaned_data["version"],
                    title=form.cleaned_data["title"] or None,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            except services.SectionConflict as error:
                form.add_error("body", str(error))
            else:
                messages.success(request, f"“{section.title}” saved.")
                return _to_report(inspection, lang)
    audit_view(actor=request.user, instance=section, summary="Draft report section")
    return render(
        request,
        "reports/section.html",
        {
            "inspection": inspection,
            "section": section,
            "form": form,
            "can_write": can_write and inspection.state in permissions.DRAFTING_STATES,
            "revisions": section.revisions.select_related("by").defer("body"),
        },
    )


@login_required
def revision(
    request: HttpRequest, pk: int, lang: str, section_pk: int, number: int
) -> HttpResponse:
    inspection = staff_inspection(request, pk)
    section = _section(inspection, lang, section_pk)
    rev = get_object_or_404(
        SectionRevision.objects.select_related("by"), section=section, number=number
    )
    previous = section.revisions.filter(number__lt=number).order_by("-number").first()
    audit_view(actor=request.user, instance=rev, summary="Revision of a draft report section")
    return render(
        request,
        "reports/revision.html",
        {"inspection": inspection, "section": section, "rev": rev, "previous": previous},
    )


@login_required
def preview(request: HttpRequest, pk: int, lang: str) -> HttpResponse:
    inspection = staff_inspection(request, pk)
    report = _report(inspection, lang)
    content = report_content(report)
    audit_view(actor=request.user, instance=report, summary="Preview of the draft report")
    return render(
        request,
        "reports/preview.html",
        {
            "inspection": inspection,
            "report": report,
            "body": render_body(content),
            "contents": contents_list(content),
        },
    )


# The disclosure check -----------------------------------------------------------------------


@login_required
def disclosure(request: HttpRequest, pk: int, lang: str) -> HttpResponse:
    from apps.disclosure.engine import type_label

    inspection = staff_inspection(request, pk)
    report = _report(inspection, lang)
    hits = list(DisclosureHit.objects.filter(report=report).select_related("resolved_by"))
    for hit in hits:
        hit.type_label = (  # type: ignore[attr-defined]
            "Small number in a table" if hit.is_small_number else type_label(hit.hit_type)
        )
    content = report_content(report)
    if hits:
        audit_view(actor=request.user, instance=report, summary="Disclosure check hits")
    return render(
        request,
        "reports/disclosure.html",
        {
            "inspection": inspection,
            "report": report,
            "open": [h for h in hits if h.status == DisclosureHit.Status.OPEN],
            "resolved": [h for h in hits if h.status != DisclosureHit.Status.OPEN],
            "checked": report.is_checked(content.fingerprint()),
            "can_write": permissions.can_write_report(request.user, inspection),
            "dismiss_form": DismissForm(),
        },
    )


@login_required
@require_POST
def disclosure_run(request: HttpRequest, pk: int, lang: str) -> HttpResponse:
    inspection = staff_inspection(request, pk)
    report = _report(inspection, lang)
    _require(permissions.can_write_report(request.user, inspection))
    try:
        result = services.disclosure_run(actor=request.user, report=report)
    except ValidationError as error:
        _refused(request, error)
    else:
        if result.open:
            messages.warning(
                request,
                f"The check found {result.open} thing{'s' if result.open != 1 else ''} to "
                "resolve before publication.",
            )
        else:
            messages.success(request, "The check found nothing to resolve.")
    return redirect("reports:disclosure", pk=inspection.pk, lang=lang)


def _hit(inspection: Inspection, lang: str, hit_pk: int) -> DisclosureHit:
    hit = get_object_or_404(
        DisclosureHit.objects.select_related("report"),
        pk=hit_pk,
        report__inspection=inspection,
        report__language=lang,
    )
    hit.report.inspection = inspection
    return hit


@login_required
@require_POST
def hit_redact(request: HttpRequest, pk: int, lang: str, hit_pk: int) -> HttpResponse:
    inspection = staff_inspection(request, pk)
    hit = _hit(inspection, lang, hit_pk)
    _require(permissions.can_write_report(request.user, inspection))
    try:
        services.hit_redact(actor=request.user, hit=hit)
    except ValidationError as error:
        _refused(request, error)
    except services.SectionConflict as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Redacted: {hit.location_label}")
    return redirect("reports:disclosure", pk=inspection.pk, lang=lang)


@login_required
def hit_dismiss(request: HttpRequest, pk: int, lang: str, hit_pk: int) -> HttpResponse:
    inspection = staff_inspection(request, pk)
    hit = _hit(inspection, lang, hit_pk)
    _require(permissions.can_write_report(request.user, inspection))
    form = DismissForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.hit_dismiss(actor=request.user, hit=hit, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Dismissed: {hit.location_label}")
            return redirect("reports:disclosure", pk=inspection.pk, lang=lang)
    audit_view(actor=request.user, instance=hit, summary="Disclosure check hit")
    return render(
        request,
        "reports/dismiss.html",
        {"inspection": inspection, "hit": hit, "form": form},
    )


@login_required
@require_POST
def small_numbers_withhold(request: HttpRequest, pk: int, lang: str) -> HttpResponse:
    inspection = staff_inspection(request, pk)
    report = _report(inspection, lang)
    _require(permissions.can_write_report(request.user, inspection))
    count = services.small_numbers_withhold_all(actor=request.user, report=report)
    messages.success(request, f"Withheld {count} small number{'s' if count != 1 else ''}.")
    return redirect("reports:disclosure", pk=inspection.pk, lang=lang)


# Sign-off and publication -----------------------------------------------------------------


@login_required
@require_POST
def sign_off(request: HttpRequest, pk: int, lang: str) -> HttpResponse:
    inspection = staff_inspection(request, pk)
    report = _report(inspection, lang)
    try:
        services.report_sign_off(
            actor=_user(request), report=report, seen=request.POST.get("fingerprint") or None
        )
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, "You signed off quality assurance.")
    return _to_report(inspection, lang)


@login_required
def withdraw(request: HttpRequest, pk: int, lang: str, version: int) -> HttpResponse:
    inspection = staff_inspection(request, pk)
    report = _report(inspection, lang)
    _require(permissions.can_publish(request.user, inspection))
    publication = get_object_or_404(Publication, report=report, version=version)
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.publication_withdraw(
                actor=_user(request), publication=publication, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Version {version} was withdrawn.")
            return _to_report(inspection, lang)
    return render(
        request,
        "reports/withdraw.html",
        {"inspection": inspection, "report": report, "publication": publication, "form": form},
    )


@login_required
@require_POST
def publish(request: HttpRequest, pk: int, lang: str) -> HttpResponse:
    inspection = staff_inspection(request, pk)
    report = _report(inspection, lang)
    _require(permissions.can_publish(request.user, inspection))
    form = PublishForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, str(message))
        return _to_report(inspection, lang)
    try:
        publication = services.report_publish(
            actor=_user(request),
            report=report,
            on=form.cleaned_data["on"],
            change_note=form.cleaned_data["change_note"],
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, f"Not published: {message}")
    else:
        messages.success(
            request,
            f"Published version {publication.version}: {publication.pdf_pages} pages in the PDF.",
        )
    return _to_report(inspection, lang)
