"""Pages of the thematic synthesis: the archive of imported reports. The list and each
report, paragraph by paragraph beside the statements taken from it and their themes, are for
everyone who codes; importing reports (the background worker imports them, and the
classifier then suggests themes for their statements, while the batch's page follows it) and
removing one imported by mistake are for curators (analysts and the programme manager)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from apps.core.forms import add_service_errors
from apps.inspections.models import ProgrammeType
from apps.reference.models import Force, LocalAuthority

from . import archive, archive_batches, archive_selectors, archive_services, permissions
from .models import ArchiveImportBatch, ArchiveReport, Statement


def _source_url_field() -> forms.URLField:
    return forms.URLField(
        label="Web address of the published report",
        required=False,
        assume_scheme="https",
        max_length=200,
        help_text="Where people can read it, so that quotations can be checked.",
        error_messages={
            "invalid": "Enter the web address in full, like https://example.org/report."
        },
    )


def _area_field(empty_label: str, left_empty: str = "") -> forms.ModelChoiceField:
    """A joint inspection's local authority area, in the import's and the change's forms."""
    return forms.ModelChoiceField(
        label="Local authority area",
        queryset=LocalAuthority.objects.order_by("name"),
        required=False,
        empty_label=empty_label,
        help_text="For a joint inspection (a JTAI or a JICPA): the area inspected. "
        f"{left_empty}With an area and no force, the force is the area's.",
    )


# How many files one upload may import (in the background worker, archive_batches.py): a
# larger batch belongs to `manage.py themes_import`.
MAX_FILES = 10


class _Files(forms.FileInput):
    allow_multiple_selected = True


class _FilesField(forms.FileField):
    """One file or several chosen at once: the list of them."""

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else [data]
        if len(files) < 2:
            return [super().clean(files[0] if files else None, initial)]
        cleaned, problems = [], []
        for upload in files:
            try:
                cleaned.append(super().clean(upload, initial))
            except forms.ValidationError as error:  # named, as one of several
                problems.append(f"{getattr(upload, 'name', 'A file')}: {' '.join(error.messages)}")
        if problems:
            raise forms.ValidationError(problems)
        return cleaned


class ArchiveImportForm(forms.Form):
    file = _FilesField(
        label="Report files",
        widget=_Files(attrs={"multiple": True}),
        help_text=(
            "One published report, or up to "
            f"{MAX_FILES} chosen at once: each as HTML (saved from the inspectorate's website) "
            f"or PDF, up to {archive.MAX_BYTES // 1024 // 1024} MB. A scanned PDF without a "
            "text layer cannot be read. What you give below applies to every file."
        ),
        error_messages={"required": "Choose the report's HTML or PDF file."},
    )
    force = forms.ModelChoiceField(
        label="Force inspected",
        queryset=Force.objects.defer("boundary", "boundary_map").order_by("name"),
        required=False,
        empty_label="None, or the one its title names",
        help_text=(
            "Left empty, a force's own inspection (or one of no known type) is of the force "
            "the report's title names (such as \u201cLancashire Constabulary: National child "
            "protection inspection\u201d), if it names one; else of none, as a thematic or "
            "national report covering several forces is. It can be changed after the import."
        ),
    )
    local_authority = _area_field(
        "None, or the one its title names",
        "Left empty, it is the area the report's title names, if it names one. ",
    )
    programme_type = forms.ChoiceField(
        label="Type of inspection",
        required=False,
        choices=[("", "The one the report names itself by, if any"), *ProgrammeType.choices],
        help_text=(
            "Left empty, it is the type the report's title or opening paragraphs name (such "
            "as \u201cnational child protection post-inspection review\u201d), if they name one."
        ),
    )
    published_on = forms.DateField(
        label="Date published",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=(
            "Leave it empty to take the date the report gives (such as \u201cPublished on: 14 "
            "March 2017\u201d). The report's statements are counted in its year in the analysis."
        ),
        error_messages={"invalid": "Enter the date published as a real date, like 2019-03-14."},
    )
    source_url = _source_url_field()
    title = forms.CharField(
        label="Title",
        required=False,
        max_length=archive_services.TITLE_MAX,
        help_text=(
            "Leave blank to use the report's own title (its main heading); with several "
            "files, each takes its own."
        ),
    )

    def clean_file(self) -> list[Any]:
        uploads = self.cleaned_data["file"]
        if len(uploads) > MAX_FILES:
            raise forms.ValidationError(
                f"{len(uploads)} files were chosen: import up to {MAX_FILES} at once (or many "
                "with manage.py themes_import)."
            )
        large = [
            f"{upload.name} is {upload.size / 1024 / 1024:.1f} MB"
            for upload in uploads
            if upload.size > archive.MAX_BYTES
        ]
        if large:
            raise forms.ValidationError(
                f"{'; '.join(large)}: reports larger than "
                f"{archive.MAX_BYTES // 1024 // 1024} MB cannot be imported."
            )
        return uploads

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if len(data.get("file") or []) > 1:
            for field, problem in archive_batches.ONE_REPORTS_ONLY.items():
                if data.get(field):
                    self.add_error(field, problem)
        return data


class RemoveForm(forms.Form):
    confirm = forms.BooleanField(
        label="Yes, remove the report, its statements and their themes",
        error_messages={"required": "Confirm that you want to remove the report."},
    )


@login_required
@require_safe
def archive_list(request: HttpRequest) -> HttpResponse:
    permissions.require_coder(request)
    return render(
        request,
        "themes/archive_list.html",
        {
            **archive_selectors.archive_reports(request.GET.get("page")),
            "can_curate": (curate := permissions.can_curate(request.user)),
            "batches": archive_selectors.archive_batches_recent() if curate else [],
        },
    )


def suggest_for(request: HttpRequest, statements: QuerySet[Statement]) -> str:
    """The classifier's themes for new statements (a report's, or one taken back into the
    corpus): what to tell the person."""
    said, problem = archive_batches.suggest_themes(actor=request.user, statements=statements)
    if problem:
        messages.warning(request, problem)
    return f" {said}" if said else ""


def _queue_import(
    request: HttpRequest, form: forms.Form, uploads: list[Any], data: dict[str, Any]
) -> HttpResponse | None:
    """The files, one or several, queued for the background worker (a long report, or a
    batch of them, takes longer than a web request may): the batch's page, which follows
    the import, or None with the form saying what is wrong."""
    try:
        batch = archive_batches.batch_create(
            actor=request.user,
            files=((upload.name, upload.read()) for upload in uploads),
            force=data["force"],
            local_authority=data["local_authority"],
            programme_type=data["programme_type"],
            published_on=data["published_on"],
            title=data["title"],
            source_url=data["source_url"],
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return None
    return redirect("themes:archive-batch", pk=batch.pk)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def archive_import(request: HttpRequest) -> HttpResponse:
    permissions.require_curator(request)
    posted = request.method == "POST"  # (an empty form posted is still a form posted)
    form = ArchiveImportForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        queued = _queue_import(request, form, form.cleaned_data["file"], form.cleaned_data)
        if queued is not None:
            return queued
    return render(
        request,
        "themes/archive_import.html",
        {"form": form, "max_mb": archive.MAX_BYTES // 1024 // 1024, "max_files": MAX_FILES},
        status=400 if form.errors else 200,
    )


@login_required
@require_safe
def archive_batch(request: HttpRequest, pk: int) -> HttpResponse:
    """A batch import's page: how far it has got, and when it has finished, what it did."""
    permissions.require_curator(request)
    batch = get_object_or_404(ArchiveImportBatch.objects.select_related("created_by"), pk=pk)
    return render(request, "themes/archive_batch.html", archive_selectors.archive_batch_page(batch))


@login_required
@require_POST
def archive_batch_continue(request: HttpRequest, pk: int) -> HttpResponse:
    """A batch that stopped, queued again: back to its page, which follows it."""
    permissions.require_curator(request)
    batch = get_object_or_404(ArchiveImportBatch, pk=pk)
    try:
        archive_batches.batch_continue(actor=request.user, batch=batch)
    except ValidationError as error:
        messages.warning(request, " ".join(error.messages))
    return redirect("themes:archive-batch", pk=batch.pk)


@login_required
@require_safe
def archive_batch_progress(request: HttpRequest, pk: int) -> JsonResponse:
    """How far a batch has got, as JSON: for its page to follow without reloading."""
    permissions.require_curator(request)
    batch = get_object_or_404(ArchiveImportBatch, pk=pk)
    return JsonResponse(archive_selectors.archive_batch_progress(batch))


def _report(pk: int) -> ArchiveReport:
    return get_object_or_404(
        ArchiveReport.objects.select_related("force", "local_authority").defer(
            "force__boundary", "force__boundary_map"
        ),
        pk=pk,
    )


@login_required
@require_safe
def archive_report(request: HttpRequest, pk: int) -> HttpResponse:
    permissions.require_coder(request)
    report = _report(pk)
    return render(
        request,
        "themes/archive_report.html",
        {
            "report": report,
            "programme_type": archive_selectors.programme_type_label(report.programme_type),
            "is_joint": archive.is_joint(report.programme_type, report.title),
            "can_curate": permissions.can_curate(request.user),
            **archive_selectors.archive_report_detail(report),
        },
    )


def _report_change(
    request: HttpRequest,
    report: ArchiveReport,
    form: forms.Form,
    save: Callable[[dict[str, Any]], object],
    *,
    template: str,
    saved: str,
) -> HttpResponse:
    """A curator's change to an imported report: `save` with the form's data once it is
    valid, then back to the report; else the form again, saying what is wrong (someone
    else's change since, or a field), with a 400."""
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except archive_services.StaleArchiveReport as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, saved)
            return redirect("themes:archive-report", pk=report.pk)
    return render(
        request,
        template,
        {"report": report, "form": form},
        status=400 if form.errors else 200,
    )


class DateForm(forms.Form):
    published_on = forms.DateField(
        label="Date published",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Its statements are counted in this year in the analysis and thematic reports.",
        error_messages={"invalid": "Enter the date published as a real date, like 2019-03-14."},
    )
    source_url = _source_url_field()
    seen = forms.DateField(required=False, widget=forms.HiddenInput)
    seen_source_url = forms.CharField(required=False, widget=forms.HiddenInput)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def archive_date(request: HttpRequest, pk: int) -> HttpResponse:
    permissions.require_curator(request)
    report = _report(pk)
    posted = request.method == "POST"
    form = DateForm(
        request.POST if posted else None,
        initial={
            "published_on": report.published_on,
            "source_url": report.source_url,
            "seen": report.published_on,
            "seen_source_url": report.source_url,
        },
    )
    return _report_change(
        request,
        report,
        form,
        lambda data: archive_services.archive_report_publication(
            actor=request.user,
            report=report,
            published_on=data["published_on"],
            source_url=data["source_url"],
            seen=(data["seen"], data["seen_source_url"]),
        ),
        template="themes/archive_date.html",
        saved="When and where it was published is saved.",
    )


class DetailsForm(forms.Form):
    programme_type = forms.ChoiceField(
        label="Type of inspection",
        required=False,
        choices=[("", "Not known"), *ProgrammeType.choices],
        help_text="The analysis counts its statements under this type. A joint inspection's "
        "statements are marked with whom each is about (the police, another agency, or "
        "agencies working together).",
    )
    force = forms.ModelChoiceField(
        label="Force inspected",
        queryset=Force.objects.defer("boundary", "boundary_map").order_by("name"),
        required=False,
        empty_label="None: a national or multi-force report",
    )
    local_authority = _area_field("None")
    seen_programme_type = forms.CharField(required=False, widget=forms.HiddenInput)
    seen_force = forms.IntegerField(required=False, widget=forms.HiddenInput)
    seen_local_authority = forms.IntegerField(required=False, widget=forms.HiddenInput)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def archive_details(request: HttpRequest, pk: int) -> HttpResponse:
    permissions.require_curator(request)
    report = _report(pk)
    posted = request.method == "POST"
    form = DetailsForm(
        request.POST if posted else None,
        initial={
            "programme_type": report.programme_type,
            "force": report.force_id,
            "local_authority": report.local_authority_id,
            "seen_programme_type": report.programme_type,
            "seen_force": report.force_id,
            "seen_local_authority": report.local_authority_id,
        },
    )
    return _report_change(
        request,
        report,
        form,
        lambda data: archive_services.archive_report_details(
            actor=request.user,
            report=report,
            programme_type=data["programme_type"],
            force=data["force"],
            local_authority=data["local_authority"],
            seen=(
                data["seen_programme_type"] or "",
                data["seen_force"],
                data["seen_local_authority"],
            ),
        ),
        template="themes/archive_details.html",
        saved="The type, force and area are saved; its statements follow.",
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def archive_delete(request: HttpRequest, pk: int) -> HttpResponse:
    permissions.require_curator(request)
    report = _report(pk)
    form = RemoveForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        title = report.title
        try:
            archive_services.archive_delete(actor=request.user, report=report)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Removed \u201c{title}\u201d and its statements.")
            return redirect("themes:archive")
    return render(
        request,
        "themes/archive_delete.html",
        {
            "report": report,
            "form": form,
            "chosen_by": archive_selectors.archive_chosen_by(report),
            **archive_selectors.archive_delete_counts(report),
        },
        status=400 if form.errors else 200,
    )


urlpatterns: list[URLPattern] = [
    path("themes/archive/", archive_list, name="archive"),
    path("themes/archive/import/", archive_import, name="archive-import"),
    path("themes/archive/imports/<int:pk>/", archive_batch, name="archive-batch"),
    path(
        "themes/archive/imports/<int:pk>/continue/",
        archive_batch_continue,
        name="archive-batch-continue",
    ),
    path(
        "themes/archive/imports/<int:pk>/progress/",
        archive_batch_progress,
        name="archive-batch-progress",
    ),
    path("themes/archive/<int:pk>/", archive_report, name="archive-report"),
    path("themes/archive/<int:pk>/date/", archive_date, name="archive-date"),
    path("themes/archive/<int:pk>/details/", archive_details, name="archive-details"),
    path("themes/archive/<int:pk>/remove/", archive_delete, name="archive-delete"),
]
