"""Pages of the thematic synthesis: the review queue and one statement's coding."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from apps.core.forms import add_service_errors

from . import permissions, selectors, services, synthesis
from .codebook import CodebookError
from .forms import DecideForm
from .navigation import back_link, return_to


@login_required
@require_safe
def review(request: HttpRequest) -> HttpResponse:
    permissions.require_coder(request)
    return render(
        request,
        "themes/review.html",
        selectors.review_queue(request.GET.get("page"), user=request.user),
    )


@login_required
def statement(request: HttpRequest, pk: int) -> HttpResponse:
    permissions.require_coder(request)
    item = get_object_or_404(
        selectors.coding_corpus().select_related("inspection", "paragraph"), pk=pk
    )
    try:
        codebook = services.current_codebook()
    except CodebookError:
        codebook = None
    detail = selectors.statement_detail(item)
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
    # Opened from the review queue to code it: theirs there for a while, unless someone else
    # has it open. Opened from elsewhere (a report's quotation, the evidence): only read.
    if request.method == "GET" and request.GET.get("queue") and not detail["decided"]:
        held = services.statement_claim(user=request.user, statement=item)
    else:
        held = selectors.claim_held(item, request.user)
    form = DecideForm(
        request.POST or None,
        choices=choices,
        initial={"themes": current, "seen_version": services.codes_version(item)},
    )
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
    return render(
        request,
        "themes/statement.html",
        {
            "statement": item,
            "form": form,
            "themes": themes,
            "held": held,
            "back": back_link(request, reverse("themes:review"), "Back to the review queue"),
            # Where a finding can be read: its place in the published report.
            "published_at": synthesis.source_links([item]).get(item.pk)
            if item.finding_id
            else None,
            **detail,
        },
    )
