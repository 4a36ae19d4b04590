"""Pages of the thematic synthesis: the review queue and one statement's coding."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from apps.core.forms import add_service_errors

from . import archive_services, permissions, selectors, services, synthesis
from .codebook import CodebookError
from .forms import DecideForm, ReadingForm
from .models import Statement
from .navigation import back_link, return_to
from .views_archive import suggest_for


@login_required
@require_safe
def review(request: HttpRequest) -> HttpResponse:
    permissions.require_coder(request)
    return render(
        request,
        "themes/review.html",
        selectors.review_queue(request.GET.get("page"), user=request.user),
    )


def _coding(
    request: HttpRequest, item: Statement, detail: dict[str, Any], *, bound: bool
) -> tuple[DecideForm, list[Any]]:
    """The form to code the statement's themes (`bound` to the POST), its current themes
    ticked, each suggested one with how sure the classifier is; and the codebook's themes."""
    try:
        codebook = services.current_codebook()
    except CodebookError:
        codebook = None
    suggested = [c for c in detail["codes"] if c.status == "suggested"]
    # A codebook split's placeholder (no classifier, no person): a part to choose, not ticked.
    parts = {c.theme.key for c in suggested if c.is_split_placeholder}
    confidence = {c.theme.key: c.confidence for c in suggested if c.theme.key not in parts}
    themes = list(codebook.themes.all()) if codebook else []
    choices = [
        (
            t.key,
            t.name
            + (f" (suggested, {confidence[t.key]:.0%} sure)" if t.key in confidence else "")
            + (" (a part of a theme you had chosen, since split: tick it if it fits)")
            * (t.key in parts),
        )
        for t in themes
    ]
    current = [
        c.theme.key
        for c in detail["codes"]
        if c.status == "confirmed" or (c.status == "suggested" and c.theme.key not in parts)
    ]
    form = DecideForm(
        request.POST if bound else None,
        choices=choices,
        codebook_number=codebook.number if codebook else None,
        initial={
            "themes": current,
            "seen_version": services.codes_version(item),
            "seen_codebook": codebook.number if codebook else None,
        },
    )
    return form, themes


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def statement(request: HttpRequest, pk: int) -> HttpResponse:
    permissions.require_coder(request)
    item = get_object_or_404(
        selectors.coding_corpus(set_aside=True).select_related(
            "inspection", "paragraph", "corrected_by", "repeat_of", "finding__cause_of_concern"
        ),
        pk=pk,
    )
    detail = selectors.statement_detail(item)
    # Opened from the review queue to code it: theirs there for a while, unless someone else
    # has it open. Opened from elsewhere (a report's quotation, the evidence): only read.
    if (
        request.method == "GET"
        and request.GET.get("queue")
        and not detail["decided"]
        and not item.set_aside
    ):
        held = services.statement_claim(user=request.user, statement=item)
    else:
        held = selectors.claim_held(item, request.user)
    form, themes = _coding(request, item, detail, bound=request.method == "POST")
    if request.method == "POST" and form.is_valid():
        try:
            services.codes_decide(
                actor=request.user,
                statement=item,
                themes=form.cleaned_data["themes"],
                seen_version=form.cleaned_data["seen_version"],
            )
        except services.StaleCodes as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Themes saved.")
            # Opened from the evidence, a report or discovery: back there. From the queue:
            # its next statement.
            back_to = return_to(request)
            if back_to is not None:
                return redirect(back_to)
            following = selectors.next_in_queue(item, request.user)
            if following is not None:
                return redirect(reverse("themes:statement", args=[following.pk]) + "?queue=1")
            return redirect("themes:review")
    return _statement_page(request, item, detail, form=form, themes=themes, held=held)


def _statement_page(
    request: HttpRequest,
    item: Statement,
    detail: dict[str, Any],
    *,
    form: DecideForm,
    themes: list[Any],
    held: Any,
    reading: ReadingForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """A statement's page: its text and where it comes from, its themes to code, and for a
    curator, an imported statement's reading to correct."""
    if reading is None and item.archive_report_id and permissions.can_curate(request.user):
        reading = ReadingForm(statement=item)
    # The statements of its report that repeat its point (set aside, so that it counts once).
    repeats = (
        list(item.repeated_by.select_related("paragraph").order_by("pk"))
        if item.archive_report_id
        else []
    )
    return render(
        request,
        "themes/statement.html",
        {
            "statement": item,
            "form": form,
            "reading": reading,
            "themes": themes,
            "held": held,
            "repeats": repeats,
            "in_its_report": selectors.in_its_report(item),
            "back": back_link(request, reverse("themes:review"), "Back to the review queue"),
            # Where a finding can be read: its place in the published report.
            "published_at": synthesis.source_links([item]).get(item.pk)
            if item.finding_id
            else None,
            **detail,
        },
        status=status,
    )


@login_required
@require_POST
def statement_reading(request: HttpRequest, pk: int) -> HttpResponse:
    """A curator corrects how an imported statement was read: its kind, stage or agency, or
    sets it aside as not a statement (or takes it back)."""
    permissions.require_curator(request)
    item = get_object_or_404(
        selectors.coding_corpus(set_aside=True)
        .filter(source=Statement.Source.ARCHIVE)
        .select_related("inspection", "paragraph", "corrected_by", "repeat_of"),
        pk=pk,
    )
    reading = ReadingForm(request.POST, statement=item)
    page = reverse("themes:statement", args=[item.pk])
    back = request.POST.get("back", "")
    if reading.is_valid():
        data = reading.cleaned_data
        try:
            corrected = archive_services.statement_correct(
                actor=request.user,
                statement=item,
                kind=data["kind"],
                stage=data["stage"],
                agency=data["agency"],
                set_aside=data["set_aside"],
                seen_version=data["seen_version"],
            )
        except archive_services.StaleStatement as error:
            messages.error(request, str(error))
            return redirect(page)
        except ValidationError as error:
            add_service_errors(reading, error)
        else:
            taken_back = item.set_aside and not corrected.set_aside
            messages.success(
                request,
                "Set aside: it counts in no figure and is not in the review queue."
                if corrected.set_aside and not item.set_aside
                else "Taken back: it counts again."
                if taken_back
                else "Correction saved."
                if corrected.version != item.version
                else "Nothing to change: it was already read that way.",
            )
            repeats = corrected.repeated_by.count()
            if corrected.set_aside and not item.set_aside and repeats:
                messages.info(
                    request,
                    f"The report makes this point again in {repeats} other "
                    f"statement{'s' if repeats != 1 else ''}, set aside as "
                    f"{'repeats' if repeats != 1 else 'a repeat'} of it: "
                    f"{'they stay' if repeats != 1 else 'it stays'} set aside. If the point "
                    "should count, take one back on its page.",
                )
            if taken_back and not corrected.codes.exists():
                # A repeat was set aside at import, before themes were suggested.
                note = suggest_for(request, Statement.objects.filter(pk=corrected.pk))
                if note:
                    messages.info(request, note.strip())
            return redirect(page + (f"?{urlencode({'back': back})}" if back else ""))
    detail = selectors.statement_detail(item)
    form, themes = _coding(request, item, detail, bound=False)  # the reading was posted
    held = selectors.claim_held(item, request.user)
    return _statement_page(
        request, item, detail, form=form, themes=themes, held=held, reading=reading, status=400
    )
