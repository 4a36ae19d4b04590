"""Fieldwork pages. Thin: permissions from permissions.py, reads from selectors.py, writes
through services.py. Every page that shows case-level text records the view."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_POST

from apps.core.audit import audit_record, audit_view
from apps.core.cache import versions_token
from apps.core.exports import table_response
from apps.core.forms import add_service_errors
from apps.core.models import AuditEvent
from apps.inspections.models import Inspection
from apps.inspections.permissions import inspections_visible_to

from . import permissions, sample_size, selectors, services
from .forms import (
    CaseListUploadForm,
    DrawForm,
    ModerationForm,
    ReferralActionForm,
    ReferralCloseForm,
    ReferralForm,
    ReplaceForm,
    ResolutionForm,
    SampleSizeForm,
)
from .intake import CaseListRejected
from .models import CaseAudit, Referral, Sample, SampledCase

PROBLEMS_SHOWN = 500


def _inspection(request: HttpRequest, pk: int) -> Inspection:
    inspection = (
        inspections_visible_to(request.user).select_related("methodology").filter(pk=pk).first()
    )
    if inspection is None:
        raise Http404("No such inspection")
    return inspection


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


# Overview -----------------------------------------------------------------------------------


@login_required
def overview(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = _inspection(request, pk)
    _require(permissions.can_see_fieldwork(request.user, inspection))
    context = {
        "inspection": inspection,
        "grades_cases": services.grades_cases(inspection),
        "can_audit": permissions.can_audit(request.user, inspection),
        "can_lead": permissions.can_lead(request.user, inspection),
        "can_upload": permissions.can_upload_case_list(request.user, inspection),
        "can_view_results": permissions.reads_results(request.user),
        "upload_open": inspection.state in services.UPLOAD_STATES,
    }
    if context["grades_cases"]:
        context.update(selectors.fieldwork_overview(inspection))
    return render(request, "fieldwork/overview.html", context)


# Case lists ---------------------------------------------------------------------------------


@login_required
def case_list_upload(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = _inspection(request, pk)
    _require(permissions.can_upload_case_list(request.user, inspection))
    form = CaseListUploadForm(request.POST or None, request.FILES or None)
    rejected: CaseListRejected | None = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            case_list = services.case_list_upload(
                actor=request.user,
                inspection=inspection,
                filename=upload.name,
                content=upload.read(),
                today=timezone.localdate(),
            )
        except CaseListRejected as error:
            rejected = error
            count = len(error.problems)
            form.add_error(
                "file",
                f"The file has {count:,} problem{'s' if count != 1 else ''} and nothing from it "
                "has been stored. Correct every problem listed, then upload it again.",
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"{case_list.filename}: {case_list.row_count:,} eligible cases stored.",
            )
            return redirect("fieldwork:overview", pk=inspection.pk)
    summary: list[tuple[str, str, int]] = []
    if rejected:
        counts: dict[tuple[str, str], int] = {}
        for problem in rejected.problems:
            key = (problem.column or "(whole file)", problem.reason)
            counts[key] = counts.get(key, 0) + 1
        summary = sorted(((c, r, n) for (c, r), n in counts.items()), key=lambda t: -t[2])[:20]
    return render(
        request,
        "fieldwork/case_list_upload.html",
        {
            "inspection": inspection,
            "form": form,
            "areas": inspection.methodology.audit_areas,
            "problems": rejected.problems[:PROBLEMS_SHOWN] if rejected else [],
            "problem_count": len(rejected.problems) if rejected else 0,
            "problem_summary": summary if rejected and len(rejected.problems) > 20 else [],
            "shown": PROBLEMS_SHOWN,
        },
        status=400 if rejected or form.errors else 200,
    )


# Sampling -----------------------------------------------------------------------------------


def _calculation(form: SampleSizeForm, frame: dict[str, int]) -> dict[str, Any] | None:
    if not form.is_valid():
        return None
    data = form.cleaned_data
    population = sum(frame.values())
    if not population:
        return None
    result = sample_size.sample_size(
        population=population,
        proportion=float(data["proportion"]) / 100,
        margin=float(data["margin"]) / 100,
        confidence=data["confidence"],
    )
    quotas = sample_size.allocate_quotas(result.required, frame, minimum=data["minimum"])
    return {
        "result": result,
        "quotas": quotas,
        "inputs": {
            "proportion": float(data["proportion"]),
            "margin": float(data["margin"]),
            "confidence": data["confidence"],
            "minimum": data["minimum"],
            "population": population,
            "required": result.required,
        },
    }


def _posted_calculation(request: HttpRequest) -> dict[str, Any]:
    """The calculator's inputs, carried through the draw form to be stored with the sample."""
    try:
        value = json.loads(request.POST.get("calculation") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@login_required
def sample(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = _inspection(request, pk)
    _require(permissions.can_audit(request.user, inspection))
    existing = selectors.sample_of(inspection)
    lead = permissions.can_lead(request.user, inspection)
    if existing is not None:
        rows = selectors.sample_rows(inspection, request.user, lead=lead)
        audit_view(
            actor=request.user, instance=existing, summary="Viewed the sample's case references"
        )
        return render(
            request,
            "fieldwork/sample.html",
            {
                "inspection": inspection,
                "sample": existing,
                "rows": rows,
                "areas": {a["code"]: a["name"] for a in inspection.methodology.audit_areas},
                "can_lead": lead,
                "user_id": request.user.pk,
            },
        )
    frame = selectors.frame_sizes(inspection)
    calculator = SampleSizeForm(request.GET if "margin" in request.GET else None)
    calculation = _calculation(calculator, frame) if calculator.is_bound else None
    initial = {f"quota_{a}": n for a, n in (calculation or {}).get("quotas", {}).items()}
    form = DrawForm(
        request.POST or None, inspection=inspection, frame=frame, initial=initial or None
    )
    if request.method == "POST":
        _require(lead)
        if form.is_valid():
            data = form.cleaned_data
            try:
                drawn = services.sample_draw(
                    actor=request.user,
                    inspection=inspection,
                    request=services.DrawRequest(
                        quotas=form.quotas(),
                        rationale=data["rationale"],
                        seed=data["seed"],
                        calculation=_posted_calculation(request),
                        moderation_share=data["moderation_share"] / Decimal(100),
                        moderation_minimum=data["moderation_minimum"],
                        kappa_threshold=data["kappa_threshold"],
                    ),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request, f"Sample drawn with seed {drawn.seed}: record it with the plan."
                )
                return redirect("fieldwork:sample", pk=inspection.pk)
    return render(
        request,
        "fieldwork/sample_draw.html",
        {
            "inspection": inspection,
            "frame": frame,
            "calculator": calculator if calculator.is_bound else SampleSizeForm(),
            "calculation": calculation,
            "calculation_json": json.dumps(calculation["inputs"]) if calculation else "",
            "form": form,
            "can_lead": lead,
        },
        status=400 if form.errors else 200,
    )


@login_required
def case_replace(request: HttpRequest, pk: int, case_pk: int) -> HttpResponse:
    inspection = _inspection(request, pk)
    _require(permissions.can_lead(request.user, inspection))
    case = get_object_or_404(SampledCase, pk=case_pk, inspection=inspection)
    form = ReplaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            replacement = services.case_replace(
                actor=request.user, case=case, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Case {case.reference} replaced by {replacement.reference}.")
            return redirect("fieldwork:sample", pk=inspection.pk)
    return render(
        request,
        "fieldwork/case_replace.html",
        {"inspection": inspection, "case": case, "form": form},
        status=400 if form.errors else 200,
    )


# Case audits --------------------------------------------------------------------------------


@login_required
@require_POST
def audit_start(request: HttpRequest, pk: int, case_pk: int, kind: str) -> HttpResponse:
    inspection = _inspection(request, pk)
    _require(permissions.can_audit(request.user, inspection))
    if kind not in CaseAudit.Kind.values:
        raise Http404("No such kind of audit")
    case = get_object_or_404(SampledCase, pk=case_pk, inspection=inspection)
    try:
        audit = services.audit_start(actor=request.user, case=case, kind=kind)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("fieldwork:sample", pk=inspection.pk)
    if not permissions.can_view_audit(request.user, audit):
        messages.error(request, "Someone else is already recording this audit.")
        return redirect("fieldwork:sample", pk=inspection.pk)
    return redirect("fieldwork:audit", pk=inspection.pk, audit_pk=audit.pk)


def _audit(request: HttpRequest, pk: int, audit_pk: int) -> tuple[Inspection, CaseAudit]:
    inspection = _inspection(request, pk)
    audit = get_object_or_404(
        CaseAudit.objects.select_related("sampled_case", "auditor", "updated_by"),
        pk=audit_pk,
        inspection=inspection,
    )
    audit.inspection = inspection
    audit.sampled_case.inspection = inspection
    if not permissions.can_view_audit(request.user, audit):
        raise Http404("No such audit")  # blind: do not even confirm it exists
    return inspection, audit


def _render_audit(
    request: HttpRequest,
    inspection: Inspection,
    audit: CaseAudit,
    *,
    errors: list[str] | None = None,
    posted: dict[str, str] | None = None,
    stale_version: int | None = None,
    status: int = 200,
) -> HttpResponse:
    audit_view(actor=request.user, instance=audit, summary="Viewed a case audit")
    sections = selectors.audit_sections(audit)
    if posted:  # show what the person typed, not the stored values, after a refusal
        for section in sections:
            section.grade = posted.get(f"j:{section.code}::grade", section.grade)
            section.notes = posted.get(f"j:{section.code}::notes", section.notes)
            for criterion in section.criteria:
                base = f"j:{section.code}:{criterion.code}"
                criterion.grade = posted.get(f"{base}:grade", criterion.grade)
                criterion.notes = posted.get(f"{base}:notes", criterion.notes)
    editable = (
        permissions.can_edit_audit(request.user, audit)
        and audit.status == CaseAudit.Status.DRAFT
        and inspection.state in services.AUDIT_STATES
    )
    return render(
        request,
        "fieldwork/audit.html",
        {
            "inspection": inspection,
            "audit": audit,
            "case": audit.sampled_case,
            "area": inspection.methodology.audit_area(audit.sampled_case.audit_area),
            "sections": sections,
            "scale": list(inspection.methodology.grade_scale),
            "overall_grade": (posted or {}).get("overall_grade", audit.overall_grade),
            "overall_notes": (posted or {}).get("overall_notes", audit.overall_notes),
            "editable": editable,
            # After a conflict the form keeps the version its values were based on, so posting
            # them again is refused too: the person must reload and look at the other change.
            "version": stale_version if stale_version is not None else audit.version,
            "errors": errors or [],
            "can_refer": permissions.can_audit(request.user, inspection),
            "referrals": list(audit.sampled_case.referrals.all()),
        },
        status=status,
    )


@login_required
def audit_detail(request: HttpRequest, pk: int, audit_pk: int) -> HttpResponse:
    """The audit form. Without JavaScript it posts whole; with it, each change saves as the
    inspector types (audit_save) and this POST is only used to submit."""
    inspection, audit = _audit(request, pk, audit_pk)
    if request.method != "POST":
        return _render_audit(request, inspection, audit)
    _require(permissions.can_edit_audit(request.user, audit))
    fields = services.audit_fields(audit)
    posted = {name: request.POST.get(name, "") for name in fields if name in request.POST}
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        return _render_audit(
            request, inspection, audit, errors=["The form is out of date: reload it."], status=400
        )
    try:
        if posted:
            audit = services.audit_save(
                actor=request.user, audit=audit, version=version, values=posted
            )
            version = audit.version
        if "submit" in request.POST:
            services.audit_submit(actor=request.user, audit=audit, version=version)
            messages.success(request, f"Audit of case {audit.sampled_case.reference} submitted.")
            return redirect("fieldwork:sample", pk=inspection.pk)
    except services.AuditConflict as conflict:
        return _render_audit(
            request,
            inspection,
            conflict.audit,
            errors=[str(conflict)],
            posted=posted,
            stale_version=version,
            status=409,
        )
    except ValidationError as error:
        _, audit = _audit(request, pk, audit_pk)
        return _render_audit(
            request, inspection, audit, errors=error.messages, posted=posted, status=400
        )
    messages.success(request, "Draft saved.")
    return redirect("fieldwork:audit", pk=inspection.pk, audit_pk=audit.pk)


@login_required
@require_POST
def audit_save(request: HttpRequest, pk: int, audit_pk: int) -> JsonResponse:
    """Autosave: {"version": n, "values": {field: value}} -> {"version": n + 1}."""
    _, audit = _audit(request, pk, audit_pk)
    if not permissions.can_edit_audit(request.user, audit):
        return JsonResponse({"error": "You cannot change this audit."}, status=403)
    try:
        payload = json.loads(request.body)
        version = int(payload["version"])
        values = {str(k): str(v) for k, v in dict(payload["values"]).items()}
    except (ValueError, KeyError, TypeError, OverflowError):
        return JsonResponse({"error": "The saved data was not understood."}, status=400)
    try:
        audit = services.audit_save(actor=request.user, audit=audit, version=version, values=values)
    except services.AuditConflict as conflict:
        return JsonResponse({"error": str(conflict), "version": conflict.audit.version}, status=409)
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    saved_at = timezone.localtime(audit.updated_at).strftime("%H:%M:%S")
    return JsonResponse({"version": audit.version, "saved_at": saved_at})


# Child at risk now --------------------------------------------------------------------------


@login_required
def referral_create(request: HttpRequest, pk: int, case_pk: int) -> HttpResponse:
    inspection = _inspection(request, pk)
    _require(permissions.can_audit(request.user, inspection))
    case = get_object_or_404(
        SampledCase, pk=case_pk, inspection=inspection, status=SampledCase.Status.IN_SAMPLE
    )
    form = ReferralForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            referral = services.referral_raise(
                actor=request.user, case=case, concern=form.cleaned_data["concern"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Referral raised for case {case.reference}. The lead inspector and the force "
                "have been told.",
            )
            return redirect("fieldwork:referral", pk=inspection.pk, referral_pk=referral.pk)
    return render(
        request,
        "fieldwork/referral_create.html",
        {"inspection": inspection, "case": case, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def referral_list(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = _inspection(request, pk)
    _require(permissions.can_see_referrals(request.user, inspection))
    referrals = list(Referral.objects.filter(inspection=inspection).select_related("raised_by"))
    audit_view(
        actor=request.user, instance=inspection, summary="Viewed the child at risk referrals"
    )
    return render(
        request, "fieldwork/referral_list.html", {"inspection": inspection, "referrals": referrals}
    )


@login_required
def referral_detail(request: HttpRequest, pk: int, referral_pk: int) -> HttpResponse:
    inspection = _inspection(request, pk)
    referral = get_object_or_404(
        Referral.objects.select_related("raised_by", "acknowledged_by", "actioned_by", "closed_by"),
        pk=referral_pk,
        inspection=inspection,
    )
    referral.inspection = inspection
    if not permissions.can_view_referral(request.user, referral):
        raise Http404("No such referral")
    can_answer = permissions.can_answer_referral(request.user, referral)
    can_close = permissions.can_lead(request.user, inspection)
    action_form = ReferralActionForm(request.POST if "force_action" in request.POST else None)
    close_form = ReferralCloseForm(request.POST if "closing_note" in request.POST else None)
    refused = False
    if request.method == "POST":
        step = request.POST.get("step", "")
        if not {"acknowledge": can_answer, "action": can_answer, "close": can_close}.get(step):
            raise PermissionDenied
        try:
            if step == "acknowledge":
                services.referral_acknowledge(actor=request.user, referral=referral)
                messages.success(request, "Referral acknowledged.")
                return redirect(request.path)
            if step == "action" and action_form.is_valid():
                services.referral_record_action(
                    actor=request.user,
                    referral=referral,
                    action=action_form.cleaned_data["force_action"],
                )
                messages.success(request, "The force's action is recorded.")
                return redirect(request.path)
            if step == "close" and close_form.is_valid():
                services.referral_close(
                    actor=request.user,
                    referral=referral,
                    note=close_form.cleaned_data["closing_note"],
                )
                messages.success(request, "Referral closed.")
                return redirect(request.path)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            referral.refresh_from_db()
            refused = True
    audit_view(actor=request.user, instance=referral, summary="Viewed a child at risk referral")
    return render(
        request,
        "fieldwork/referral_detail.html",
        {
            "inspection": inspection,
            "referral": referral,
            "can_answer": can_answer,
            "can_close": can_close,
            "action_form": action_form,
            "close_form": close_form,
        },
        status=400 if refused or action_form.errors or close_form.errors else 200,
    )


# Moderation ---------------------------------------------------------------------------------


@login_required
def moderation(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = _inspection(request, pk)
    _require(permissions.can_lead(request.user, inspection))
    sample_ = get_object_or_404(Sample, inspection=inspection)
    form = ModerationForm.for_sample(sample_, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.moderation_update(
                actor=request.user,
                sample=sample_,
                version=data["version"],
                share=data["moderation_share"] / Decimal(100),
                minimum=data["moderation_minimum"],
                threshold=data["kappa_threshold"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Moderation settings saved.")
            return redirect("fieldwork:moderation", pk=inspection.pk)
    report = selectors.agreement_report(inspection)
    audit_view(
        actor=request.user, instance=sample_, summary="Viewed moderation: case grades by marker"
    )
    return render(
        request,
        "fieldwork/moderation.html",
        {"inspection": inspection, "sample": sample_, "form": form, "report": report},
        status=400 if form.errors else 200,
    )


@login_required
def resolve(request: HttpRequest, pk: int, case_pk: int) -> HttpResponse:
    inspection = _inspection(request, pk)
    _require(permissions.can_lead(request.user, inspection))
    case = get_object_or_404(SampledCase, pk=case_pk, inspection=inspection)
    marks = {
        a.kind: a
        for a in CaseAudit.objects.filter(
            sampled_case=case, status=CaseAudit.Status.SUBMITTED
        ).select_related("auditor")
    }
    if len(marks) < 2:
        raise Http404("This case has no second marking to resolve")
    audit_view(actor=request.user, instance=case, summary="Viewed both marks to agree a grade")
    form = ResolutionForm(request.POST or None, scale=list(inspection.methodology.grade_scale))
    if request.method == "POST" and form.is_valid():
        try:
            services.resolution_record(
                actor=request.user,
                case=case,
                agreed_grade=form.cleaned_data["agreed_grade"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Agreed grade recorded for case {case.reference}.")
            return redirect("fieldwork:moderation", pk=inspection.pk)
    return render(
        request,
        "fieldwork/resolve.html",
        {
            "inspection": inspection,
            "case": case,
            "primary": marks[CaseAudit.Kind.PRIMARY],
            "second": marks[CaseAudit.Kind.SECOND],
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@login_required
def agreement(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = _inspection(request, pk)
    _require(permissions.reads_results(request.user))  # _inspection checked visibility
    if not Sample.objects.filter(inspection=inspection).exists():
        raise Http404("No sample has been drawn")
    return render(
        request,
        "fieldwork/agreement.html",
        {
            "inspection": inspection,
            "report": selectors.agreement_report(inspection),
            "can_lead": permissions.can_lead(request.user, inspection),
        },
    )


# Results ------------------------------------------------------------------------------------


@login_required
def results(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = _inspection(request, pk)
    _require(permissions.reads_results(request.user))  # _inspection checked visibility
    _require(services.grades_cases(inspection))
    # The body is cached as HTML under the data versions; the results are read (from the
    # cache or the database) only when it is not.
    return render(
        request,
        "fieldwork/results.html",
        {
            "inspection": inspection,
            "results": SimpleLazyObject(lambda: selectors.inspection_results(inspection)),
            "fragment_key": versions_token(("fieldwork", "inspections")),
        },
    )


def _result_rows(inspection: Inspection) -> list[list[Any]]:
    data = selectors.inspection_results(inspection)
    rows: list[list[Any]] = [["table", "row", "grade", "cases", "percent"]]
    for key in ("by_area", "by_stage", "comparison"):
        table = data[key]
        for row in table.rows + ([table.total] if table.total else []):
            for grade, (count, percent) in zip(table.grades, row.cells, strict=True):
                rows.append([table.caption, row.label, grade, count, round(percent, 1)])
    return rows


@login_required
def results_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    inspection = _inspection(request, pk)
    _require(permissions.reads_results(request.user))  # _inspection checked visibility
    _require(services.grades_cases(inspection))
    if fmt not in ("csv", "xlsx"):
        raise Http404("Unknown format")
    rows = _result_rows(inspection)
    with transaction.atomic():
        audit_record(
            actor=request.user,
            action=AuditEvent.Action.EXPORT,
            instance=inspection,
            summary=f"Exported case grade results as {fmt.upper()}",
        )
    return table_response(
        rows, fmt=fmt, filename=f"{inspection.reference}-case-grades", sheet="Case grades"
    )


@login_required
def national(request: HttpRequest) -> HttpResponse:
    _require(permissions.reads_results(request.user))
    return render(
        request,
        "fieldwork/national.html",
        {
            "national": SimpleLazyObject(selectors.national_distribution),
            "fragment_key": versions_token(("fieldwork", "inspections")),
        },
    )
