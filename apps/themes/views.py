"""Pages of the thematic synthesis: the review queue and one statement's coding."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_safe

from apps.core.forms import add_service_errors

from . import permissions, selectors, services
from .codebook import CodebookError
from .forms import DecideForm


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
    confidence = {c.theme.key: c.confidence for c in detail["codes"] if c.status == "suggested"}
    themes = list(codebook.themes.all()) if codebook else []
    choices = [
        (
            t.key,
            t.name + (f" (suggested, {confidence[t.key]:.0%} sure)" if t.key in confidence else ""),
        )
        for t in themes
    ]
    current = [c.theme.key for c in detail["codes"] if c.status in ("suggested", "confirmed")]
    # Opening it to code it: theirs in the queue for a while, unless someone else has it open.
    held = services.statement_claim(user=request.user, statement=item)
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
            following = selectors.next_in_queue(item, request.user)
            if following is not None:
                return redirect("themes:statement", pk=following.pk)
            return redirect("themes:review")
    return render(
        request,
        "themes/statement.html",
        {"statement": item, "form": form, "themes": themes, "held": held, **detail},
    )
