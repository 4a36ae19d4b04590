"""Pages of follow-up. Thin: permissions from permissions.py, reads from selectors.py, writes
through services.py. Every page that shows a force's updates, comments or files records the
view in the audit trail; a person who may not see an inspection's follow-up gets 404 (they
are not told it exists), one who may see but not act gets 403."""

from __future__ import annotations

import hashlib
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST, require_safe

from apps.accounts.models import User
from apps.core.audit import audit_record, audit_view
from apps.core.cache import cached_read
from apps.core.exports import table_response
from apps.core.forms import add_service_errors
from apps.core.models import AuditEvent
from apps.findings.models import Finding, Kind
from apps.inspections.models import Inspection

from . import permissions, selectors, services, tokens
from .files import decrypt
from .forms import (
    FILE_HINT,
    ActionPlanForm,
    AssessmentForm,
    CloseForm,
    CommentForm,
    ConcernCloseForm,
    PlanReviewForm,
    ProgressForm,
    RouteForm,
    TrackerForm,
    read_files,
)
from .models import ActionPlan, ConcernClosure, EvidenceFile, FollowUp


def _user(request: HttpRequest) -> User:
    """The signed-in person (every view here requires sign-in)."""
    return cast(User, request.user)


def _inspection(request: HttpRequest, pk: int) -> Inspection:
    inspection = (
        permissions.inspections_in_follow_up_visible_to(request.user)
        .select_related("lead_inspectorate", "methodology")
        .filter(pk=pk)
        .first()
    )
    if inspection is None:
        raise Http404("No such inspection in follow-up")
    return inspection


def _recommendation(request: HttpRequest, pk: int) -> Finding:
    rec = (
        permissions.recommendations_visible_to(request.user)
        .select_related(
            "inspection__lead_inspectorate", "cause_of_concern", "carried_over_from__inspection"
        )
        .filter(pk=pk)
        .exclude(status="")
        .first()
    )
    if rec is None:
        raise Http404("No such recommendation")
    return rec


def _roles(request: HttpRequest, inspection: Inspection) -> dict[str, bool]:
    user = request.user
    return {
        "is_force": permissions.is_force_of(user, inspection),
        "can_manage": permissions.can_manage_follow_up(user, inspection),
        "can_choose_route": permissions.can_choose_route(user, inspection),
        "can_assess": permissions.can_assess(user, inspection),
    }


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The inspections in follow-up the person can see: a force's own, or every one."""
    visible = permissions.inspections_in_follow_up_visible_to(request.user)
    if not (request.user.is_inspectorate_staff or request.user.own_force_id):  # type: ignore[union-attr]
        raise PermissionDenied
    return render(
        request,
        "followup/home.html",
        {
            "inspections": selectors.inspections_in_follow_up(visible),
            "can_use_tracker": permissions.can_use_tracker(request.user),
            "api_keys_url": (
                reverse("followup_keys:list") if tokens.token_forces(request.user).exists() else ""
            ),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_safe
def inspection(request: HttpRequest, pk: int) -> HttpResponse:
    item = _inspection(request, pk)
    audit_view(actor=request.user, instance=item, summary=f"Follow-up of {item.reference}")
    return render(
        request,
        "followup/inspection.html",
        {"inspection": item, **selectors.inspection_follow_up(item), **_roles(request, item)},
    )


# The force's side ----------------------------------------------------------------------


@login_required
def plan_submit(request: HttpRequest, pk: int) -> HttpResponse:
    item = _inspection(request, pk)
    if not permissions.is_force_of(request.user, item):
        raise PermissionDenied
    recs = services.plan_recommendations(item)
    form = ActionPlanForm(request.POST or None, request.FILES or None, recommendations=recs)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.action_plan_submit(
                actor=request.user,
                inspection=item,
                summary=form.cleaned_data["summary"],
                actions=form.actions(),
                files=read_files(form.cleaned_data["attachments"]),
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Action plan {plan.number} sent to the inspectorate.")
            return redirect("followup:plan", pk=item.pk, number=plan.number)
    follow_up = FollowUp.objects.get(inspection=item)
    return render(
        request,
        "followup/plan_form.html",
        {
            "inspection": item,
            "form": form,
            "follow_up": follow_up,
            "today": timezone.localdate(),
            "file_hint": FILE_HINT,
        },
    )


@login_required
def plan(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    item = _inspection(request, pk)
    current = get_object_or_404(
        ActionPlan.objects.select_related("reviewed_by"), inspection=item, number=number
    )
    roles = _roles(request, item)
    form = None
    if roles["can_manage"] and current.status == ActionPlan.Status.SUBMITTED:
        form = PlanReviewForm(request.POST or None, initial={"version": current.version})
        if request.method == "POST" and form.is_valid():
            try:
                services.action_plan_review(
                    actor=_user(request),
                    plan=current,
                    accept=form.cleaned_data["decision"] == "accept",
                    note=form.cleaned_data["note"],
                    version=form.cleaned_data["version"],
                )
            except services.ConcurrentFollowUpEdit as error:
                form.add_error(None, str(error))
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Action plan {current.number} reviewed.")
                return redirect("followup:plan", pk=item.pk, number=current.number)
    elif request.method == "POST":
        raise PermissionDenied
    audit_view(
        actor=request.user,
        instance=current,
        summary=f"Action plan {current.number} of {item.reference}",
    )
    return render(
        request,
        "followup/plan.html",
        {
            "inspection": item,
            "plan": current,
            "actions": current.actions.select_related("recommendation").order_by(
                "recommendation__number"
            ),
            "files": current.files.defer("content"),
            "form": form,
            **roles,
        },
    )


@login_required
@require_safe
def recommendation(request: HttpRequest, pk: int) -> HttpResponse:
    rec = _recommendation(request, pk)
    roles = _roles(request, rec.inspection)
    detail = selectors.recommendation_detail(rec)
    is_open = detail["is_open"]
    context: dict[str, Any] = {"rec": rec, "inspection": rec.inspection, **detail, **roles}
    if is_open and rec.kind == Kind.RECOMMENDATION and roles["is_force"]:
        context["progress_form"] = ProgressForm(recommendation=rec)
    if is_open and (roles["is_force"] or roles["can_assess"]):
        context["comment_form"] = CommentForm()
    audit_view(
        actor=request.user,
        instance=rec,
        summary=f"Follow-up of {services.rec_label(rec).lower()} of {rec.inspection.reference}",
    )
    return render(request, "followup/recommendation.html", context)


def _add_errors(form: Any, error: ValidationError, files_field: str = "attachments") -> None:
    """A service's refusal on the form; its "files" errors belong to the form's file field."""
    if hasattr(error, "error_dict") and "files" in error.error_dict:
        messages_by_field = error.message_dict
        form.add_error(files_field, messages_by_field.pop("files"))
        if messages_by_field:
            add_service_errors(form, ValidationError(messages_by_field))
        return
    add_service_errors(form, error)


def _form_context(
    rec: Finding, form: Any, heading: str, button: str, *, multipart: bool = False, **extra: Any
) -> dict[str, Any]:
    return {
        "rec": rec,
        "inspection": rec.inspection,
        "form": form,
        "heading": heading,
        "button": button,
        "multipart": multipart,
        "back_url": reverse("followup:recommendation", args=[rec.pk]),
        **extra,
    }


def _rec_post(request: HttpRequest, pk: int) -> tuple[Finding, dict[str, bool]]:
    rec = _recommendation(request, pk)
    return rec, _roles(request, rec.inspection)


@login_required
def progress(request: HttpRequest, pk: int) -> HttpResponse:
    rec, roles = _rec_post(request, pk)
    if not roles["is_force"] or rec.kind != Kind.RECOMMENDATION:
        raise PermissionDenied
    form = ProgressForm(request.POST or None, request.FILES or None, recommendation=rec)
    if request.method == "POST" and form.is_valid():
        try:
            services.progress_post(
                actor=request.user,
                recommendation=rec,
                text=form.cleaned_data["text"],
                kind=form.cleaned_data["kind"],
                files=read_files(form.cleaned_data["attachments"]),
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, "Update posted.")
            return redirect("followup:recommendation", pk=rec.pk)
    return render(
        request,
        "followup/progress_form.html",
        _form_context(rec, form, "Post an update or evidence", "Post the update", multipart=True),
    )


@login_required
@require_POST
def comment(request: HttpRequest, pk: int) -> HttpResponse:
    rec, roles = _rec_post(request, pk)
    if not (roles["is_force"] or roles["can_assess"]):
        raise PermissionDenied
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.comment_post(
                actor=_user(request), recommendation=rec, text=form.cleaned_data["text"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Comment posted.")
            return redirect("followup:recommendation", pk=rec.pk)
    return render(
        request,
        "followup/comment_form.html",
        _form_context(rec, form, "Comment", "Post the comment"),
    )


# The inspectorate's side -----------------------------------------------------------------


@login_required
def route(request: HttpRequest, pk: int) -> HttpResponse:
    item = _inspection(request, pk)
    if not permissions.can_choose_route(request.user, item):
        raise PermissionDenied
    follow_up = FollowUp.objects.get(inspection=item)
    form = RouteForm(
        request.POST or None,
        initial={
            "route": follow_up.route,
            "rationale": follow_up.route_rationale,
            "version": follow_up.version,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.route_choose(
                actor=_user(request),
                inspection=item,
                route=form.cleaned_data["route"],
                rationale=form.cleaned_data["rationale"],
                version=form.cleaned_data["version"],
            )
        except services.ConcurrentFollowUpEdit as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Follow-up chosen.")
            return redirect("followup:inspection", pk=item.pk)
    return render(
        request,
        "followup/route_form.html",
        {
            "inspection": item,
            "form": form,
            "follow_up": follow_up,
            "heading": "Choose the follow-up",
            "button": "Save the decision",
            "back_url": reverse("followup:inspection", args=[item.pk]),
        },
    )


@login_required
def assess(request: HttpRequest, pk: int) -> HttpResponse:
    rec, roles = _rec_post(request, pk)
    if not roles["can_assess"] or rec.kind != Kind.RECOMMENDATION:
        raise PermissionDenied
    follow_ups = Inspection.objects.filter(follows=rec.inspection).order_by("fieldwork_start")
    form = AssessmentForm(
        request.POST or None, follow_ups=follow_ups, initial={"on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.assessment_record(
                actor=_user(request),
                recommendation=rec,
                outcome=form.cleaned_data["outcome"],
                reasoning=form.cleaned_data["reasoning"],
                public_note=form.cleaned_data["public_note"],
                on=form.cleaned_data["on"],
                in_inspection=form.cleaned_data["in_inspection"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Assessment recorded.")
            return redirect("followup:recommendation", pk=rec.pk)
    detail = selectors.recommendation_detail(rec)
    audit_view(
        actor=request.user,
        instance=rec,
        summary=f"Assessing {services.rec_label(rec).lower()} of {rec.inspection.reference}",
    )
    return render(
        request,
        "followup/assess_form.html",
        _form_context(
            rec,
            form,
            f"Assess {services.rec_label(rec).lower()}",
            "Record the assessment",
            **detail,
        ),
    )


@login_required
def close(request: HttpRequest, pk: int) -> HttpResponse:
    rec, roles = _rec_post(request, pk)
    if not roles["can_assess"] or rec.kind != Kind.RECOMMENDATION:
        raise PermissionDenied
    form = CloseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.recommendation_close(
                actor=_user(request), recommendation=rec, note=form.cleaned_data["note"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{services.rec_label(rec)} closed.")
            return redirect("followup:recommendation", pk=rec.pk)
    return render(
        request,
        "followup/close_form.html",
        _form_context(rec, form, f"Close {services.rec_label(rec).lower()}", "Close it"),
    )


@login_required
def concern_close(request: HttpRequest, pk: int) -> HttpResponse:
    rec, roles = _rec_post(request, pk)
    if not roles["can_manage"] or rec.kind != Kind.CAUSE_OF_CONCERN:
        raise PermissionDenied
    form = ConcernCloseForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        letter = form.cleaned_data["letter"]
        try:
            services.concern_close(
                actor=_user(request),
                cause_of_concern=rec,
                letter=(letter.name, letter.read()),
                summary=form.cleaned_data["summary"],
            )
        except ValidationError as error:
            _add_errors(form, error, "letter")
        else:
            messages.success(request, "Cause of concern closed.")
            return redirect("followup:recommendation", pk=rec.pk)
    return render(
        request,
        "followup/concern_close_form.html",
        _form_context(
            rec,
            form,
            "Close the cause of concern by letter",
            "Close the cause of concern",
            multipart=True,
            **selectors.recommendation_detail(rec),
        ),
    )


@login_required
@require_safe
def file_download(request: HttpRequest, pk: int) -> HttpResponse:
    """An evidence file, to those who may read its inspection's follow-up. Audited."""
    item = get_object_or_404(
        EvidenceFile.objects.select_related("update__recommendation", "plan"), pk=pk
    )
    if item.update_id:
        inspection_id = item.update.recommendation.inspection_id  # type: ignore[union-attr]
    elif item.plan_id:
        inspection_id = item.plan.inspection_id  # type: ignore[union-attr]
    else:
        closure = (
            ConcernClosure.objects.filter(letter=item).select_related("cause_of_concern").first()
        )
        if closure is None:
            raise Http404
        inspection_id = closure.cause_of_concern.inspection_id
    if (
        not permissions.inspections_in_follow_up_visible_to(request.user)
        .filter(pk=inspection_id)
        .exists()
    ):
        raise Http404
    audit_view(actor=request.user, instance=item, summary=f"Downloaded evidence file {item.name}")
    response = HttpResponse(decrypt(item.content), content_type=item.content_type)
    response["Content-Disposition"] = f'attachment; filename="{item.name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_safe
def pcc_summary(request: HttpRequest, pk: int) -> HttpResponse:
    rec = _recommendation(request, pk)
    if rec.kind != Kind.RECOMMENDATION:
        raise Http404
    audit_view(
        actor=request.user,
        instance=rec,
        summary=f"PCC summary of {services.rec_label(rec).lower()} of {rec.inspection.reference}",
    )
    return render(
        request,
        "followup/pcc_summary.html",
        {"rec": rec, "inspection": rec.inspection, **selectors.pcc_summary(rec)},
    )


# The national tracker ----------------------------------------------------------------------


def _tracker_filters(request: HttpRequest) -> tuple[TrackerForm, selectors.TrackerFilters]:
    form = TrackerForm(request.GET or None, choices=selectors.filter_choices())
    filters = selectors.TrackerFilters()
    if form.is_valid():
        data = form.cleaned_data
        filters = selectors.TrackerFilters(
            force=data["force"],
            status=data["status"],
            timescale=data["timescale"],
            stage=data["stage"],
            programme_type=data["programme_type"],
            theme=data["theme"],
            overdue=bool(data["overdue"]),
            age=data["age"],
            sort=data["sort"] or "due",
        )
    return form, filters


@login_required
@require_safe
def tracker(request: HttpRequest) -> HttpResponse:
    if not permissions.can_use_tracker(request.user):
        raise PermissionDenied
    form, filters = _tracker_filters(request)

    def body() -> str:
        return render_to_string(
            "followup/_tracker_body.html",
            {
                "form": form,
                "filters": filters,
                "query": filters.query_string(),
                "counts": selectors.force_counts(),
                **selectors.tracker_page(filters, request.GET.get("page")),
            },
        )

    # The same for every member of staff: the page's body is kept, per query and day, until
    # a recommendation's status (or the reference data) changes.
    asked = hashlib.sha256(repr(sorted(request.GET.lists())).encode()).hexdigest()[:32]
    html = cached_read(
        ("findings", "reference", "themes"),
        f"followup-tracker:{timezone.localdate()}:{asked}",
        body,
    )
    return render(request, "followup/tracker.html", {"body": mark_safe(html)})  # noqa: S308


EXPORT_COLUMNS = [
    "Force",
    "Inspection",
    "Recommendation",
    "Text",
    "Addressees",
    "Timescale",
    "Published",
    "Due",
    "Status",
    "Status since",
    "Overdue",
    "Stage or topic",
]


def _export_rows(filters: selectors.TrackerFilters) -> list[list[Any]]:
    today = timezone.localdate()
    return [
        [
            rec.force_name,  # type: ignore[attr-defined]
            rec.inspection.reference,
            rec.number,
            rec.headline,
            "; ".join(rec.addressees()),
            rec.timescale_text(),
            rec.published_on,  # type: ignore[attr-defined]
            rec.due_on,
            selectors.STATUS_LABELS.get(rec.status, rec.status),
            rec.status_on,
            "Yes" if selectors.is_overdue(rec, today) else "No",
            rec.stage,
        ]
        for rec in selectors.attach_force_names(list(selectors.tracker_queryset(filters, today)))
    ]


@login_required
@require_safe
def tracker_export(request: HttpRequest, fmt: str) -> HttpResponse:
    if not permissions.can_use_tracker(request.user):
        raise PermissionDenied
    if fmt not in ("csv", "xlsx"):
        raise Http404("Unknown format")
    _, filters = _tracker_filters(request)
    rows = _export_rows(filters)
    with transaction.atomic():
        audit_record(
            actor=request.user,
            action=AuditEvent.Action.EXPORT,
            object_type="followup.tracker",
            object_repr="National recommendation tracker",
            summary=f"{len(rows)} recommendations as {fmt.upper()} "
            f"({filters.query_string() or 'no filters'})",
        )
    return table_response(
        [EXPORT_COLUMNS, *rows],
        fmt=fmt,
        filename=f"recommendations-{timezone.localdate().isoformat()}",
        sheet="Recommendations",
    )
