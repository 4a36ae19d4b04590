from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_POST

from apps.core.audit import audit_view
from apps.core.cache import versions_token
from apps.core.forms import add_service_errors
from apps.followup.permissions import can_read_follow_up

from . import lifecycle, permissions, selectors, services
from .forms import (
    InspectionCreateForm,
    InspectionFilterForm,
    InspectionPlanForm,
    TeamMemberForm,
    TransitionForm,
)
from .models import FOLLOW_UP_TYPES, Inspection, ProgrammeType, TeamMember


def _visible_or_404(request: HttpRequest, pk: int) -> Inspection:
    """Not found, whether it does not exist or the person may not see it: a force must not
    learn of an inspection still being planned from a 403."""
    inspection = selectors.inspection_detail(user=request.user, pk=pk)
    if inspection is None:
        raise Http404("No such inspection")
    return inspection


@login_required
def staff_home(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    kinds = ("inspections", "accounts")
    # The page's body is cached as HTML under the data versions; `home` is only read when
    # the fragment is not in the cache.
    home = SimpleLazyObject(lambda: selectors.staff_home(user=request.user, today=today))
    fragment_key = f"{request.user.pk}:{today.isoformat()}:{versions_token(kinds)}"
    return render(
        request, "inspections/staff_home.html", {"home": home, "fragment_key": fragment_key}
    )


@login_required
def inspection_list(request: HttpRequest) -> HttpResponse:
    form = InspectionFilterForm(request.GET or None)
    filters = selectors.InspectionFilter()
    if form.is_bound and form.is_valid():
        filters = selectors.InspectionFilter(**form.cleaned_data)
    page = Paginator(selectors.inspection_list(user=request.user, filters=filters), 25).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "inspections/inspection_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "can_create": permissions.can_create_inspection(request.user),
        },
    )


@login_required
def inspection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = _visible_or_404(request, pk)
    steps = lifecycle.allowed_transitions(inspection=inspection, user=request.user)
    form = TransitionForm(steps=steps, initial={"on": timezone.localdate()}) if steps else None
    return _render_detail(request, inspection, form)


def _render_detail(
    request: HttpRequest,
    inspection: Inspection,
    transition_form: TransitionForm | None,
    status: int = 200,
) -> HttpResponse:
    """The inspection's page, whether shown plainly or again with a refused step's errors;
    showing the confidential notes is audited either way."""
    show_notes = permissions.can_read_confidential_notes(request.user, inspection)
    if show_notes and inspection.confidential_notes:
        audit_view(
            actor=request.user,
            instance=inspection,
            summary="Viewed the confidential planning notes",
        )
    return render(
        request,
        "inspections/inspection_detail.html",
        {
            "inspection": inspection,
            "show_notes": show_notes,
            "can_manage": permissions.can_manage_inspection(request.user, inspection),
            "transition_form": transition_form,
            "follow_up_visible": can_read_follow_up(request.user, inspection),
        },
        status=status,
    )


def _follow_up_initial(request: HttpRequest) -> dict[str, Any]:
    """Planning a review or re-inspection from a follow-up page: `?follows=<pk>` fills in the
    inspection it follows, its force and the type (a `programme_type` of a follow-up)."""
    followed = (
        permissions.inspections_visible_to(request.user).filter(pk=request.GET["follows"]).first()
        if request.GET.get("follows", "").isdigit()
        else None
    )
    if followed is None:
        return {}
    wanted = request.GET.get("programme_type", "")
    kind = ProgrammeType(wanted if wanted in FOLLOW_UP_TYPES else ProgrammeType.NCPI_REVIEW)
    return {
        "follows": followed.pk,
        "forces": list(followed.forces.values_list("pk", flat=True)),
        "programme_type": kind.value,
        "methodology": followed.methodology_id,
        "title": f"{kind.label}: {followed.title}"[:200],
    }


@login_required
def inspection_create(request: HttpRequest) -> HttpResponse:
    if not permissions.can_create_inspection(request.user):
        raise PermissionDenied
    form = InspectionCreateForm(request.POST or None, initial=_follow_up_initial(request))
    if request.method == "POST" and form.is_valid():
        try:
            inspection = services.inspection_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{inspection.reference} planned.")
            return redirect("inspections:inspection-detail", pk=inspection.pk)
    return render(request, "inspections/inspection_create.html", {"form": form})


@login_required
def inspection_plan(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = _visible_or_404(request, pk)
    if not permissions.can_manage_inspection(request.user, inspection):
        raise PermissionDenied
    initial = {name: getattr(inspection, name) for name in services.PLAN_FIELDS}
    initial["version"] = inspection.version
    form = InspectionPlanForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        expected = data.pop("version")
        changes = {k: v for k, v in data.items() if v != initial.get(k)}
        try:
            services.inspection_update(
                actor=request.user, inspection=inspection, expected_version=expected, **changes
            )
        except services.ConcurrentEditError as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "The plan has been saved.")
            return redirect("inspections:inspection-detail", pk=inspection.pk)
    return render(
        request, "inspections/inspection_plan.html", {"form": form, "inspection": inspection}
    )


@login_required
@require_POST
def inspection_transition(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = _visible_or_404(request, pk)
    steps = lifecycle.allowed_transitions(inspection=inspection, user=request.user)
    if not steps:
        raise PermissionDenied
    form = TransitionForm(request.POST, steps=steps)
    if form.is_valid():
        try:
            change = services.inspection_transition(
                actor=request.user,
                inspection=inspection,
                target=form.cleaned_data["target"],
                on=form.cleaned_data["on"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(
                request,
                f"{inspection.reference} is now at {change.get_to_state_display().lower()}.",
            )
            return redirect("inspections:inspection-detail", pk=inspection.pk)
    return _render_detail(request, inspection, form, status=400)


@login_required
def team_manage(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = _visible_or_404(request, pk)
    if not permissions.can_manage_inspection(request.user, inspection):
        raise PermissionDenied
    form = TeamMemberForm(request.POST or None, inspection=inspection)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.team_member_add(
                actor=request.user, inspection=inspection, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{member.user} added to the team.")
            return redirect("inspections:team", pk=inspection.pk)
    return render(request, "inspections/team.html", {"form": form, "inspection": inspection})


@login_required
@require_POST
def team_member_remove(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    inspection = _visible_or_404(request, pk)
    if not permissions.can_manage_inspection(request.user, inspection):
        raise PermissionDenied
    member = get_object_or_404(TeamMember, pk=member_pk, inspection=inspection)
    services.team_member_remove(actor=request.user, member=member)
    messages.success(request, f"{member.user} removed from the team.")
    return redirect("inspections:team", pk=inspection.pk)
