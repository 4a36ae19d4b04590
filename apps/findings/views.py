"""Pages of the findings register. Thin: permissions from permissions.py, reads from
selectors.py, writes through services.py. Evidence notes are encrypted; every page that shows
them records the view."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from apps.core.audit import audit_view
from apps.core.forms import add_service_errors
from apps.fieldwork.models import SampledCase
from apps.inspections.models import Inspection
from apps.inspections.permissions import inspections_visible_to

from . import permissions, selectors, services
from .forms import DeleteForm, EvidenceForm, FindingForm, FirstRecommendationForm
from .models import EvidenceItem, Finding, Kind


def staff_inspection(request: HttpRequest, pk: int) -> Inspection:
    """The inspection, for pages of its working findings and report: 404 if the person cannot
    see it, 403 if they see it but not its working papers (the force, a partner)."""
    inspection = (
        inspections_visible_to(request.user)
        .select_related("methodology", "lead_inspectorate")
        .filter(pk=pk)
        .first()
    )
    if inspection is None:
        raise Http404("No such inspection")
    if not permissions.can_read_findings(request.user, inspection):
        raise PermissionDenied
    return inspection


def _require_recorder(request: HttpRequest, inspection: Inspection) -> None:
    if not permissions.can_record_findings(request.user, inspection):
        raise PermissionDenied


def _context(request: HttpRequest, inspection: Inspection, **extra: Any) -> dict[str, Any]:
    return {
        "inspection": inspection,
        "can_record": permissions.can_record_findings(request.user, inspection),
        "register_open": permissions.register_is_open(inspection),
        **extra,
    }


@login_required
def register(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = staff_inspection(request, pk)
    return render(
        request,
        "findings/register.html",
        _context(
            request,
            inspection,
            register=selectors.register(inspection),
            kinds=[(k, selectors.kind_labels(inspection)[k]) for k in selectors.KIND_ORDER],
        ),
    )


# Findings ---------------------------------------------------------------------------------


def _finding_form(
    request: HttpRequest, inspection: Inspection, kind: str, **kwargs: Any
) -> FindingForm:
    return FindingForm(
        request.POST or None,
        inspection=inspection,
        kind=kind,
        evidence=selectors.evidence_choices(inspection),
        carry_over=selectors.carry_over_choices(inspection),
        causes=selectors.causes_of_concern(inspection),
        **kwargs,
    )


def _terms(data: dict[str, Any]) -> services.RecommendationTerms:
    return services.RecommendationTerms(
        headline=data.get("headline", ""),
        to_force=data.get("to_force", False),
        to_pcc=data.get("to_pcc", False),
        national_bodies=data.get("national_bodies", ""),
        timescale=data.get("timescale", ""),
        timescale_months=data.get("timescale_months"),
        due_by=data.get("due_by"),
    )


def _finding_or_none(inspection: Inspection, pk: int | None) -> Finding | None:
    if pk is None:
        return None
    return Finding.objects.filter(pk=pk).first()


def _evidence(inspection: Inspection, ids: list[int]) -> list[EvidenceItem]:
    return list(EvidenceItem.objects.filter(inspection=inspection, pk__in=ids))


@login_required
def finding_add(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    inspection = staff_inspection(request, pk)
    _require_recorder(request, inspection)
    if kind not in Kind.values:
        raise Http404("No such kind of finding")
    form = _finding_form(request, inspection, kind)
    rec_form = (
        FirstRecommendationForm(request.POST or None) if kind == Kind.CAUSE_OF_CONCERN else None
    )
    if request.method == "POST" and form.is_valid() and (rec_form is None or rec_form.is_valid()):
        data = form.cleaned_data
        try:
            finding = services.finding_create(
                actor=request.user,
                inspection=inspection,
                kind=kind,
                stage=data["stage"],
                headline=data["headline"],
                narrative=data["narrative"],
                evidence=_evidence(inspection, data["evidence"]),
                carried_over_from=_finding_or_none(inspection, data.get("carried_over_from")),
                terms=_terms(data) if kind == Kind.RECOMMENDATION else None,
                cause_of_concern=_finding_or_none(inspection, data.get("cause_of_concern")),
                recommendations=[_terms(rec_form.cleaned_data)] if rec_form else (),
            )
        except ValidationError as error:
            target = rec_form if rec_form is not None and _about_terms(error) else form
            add_service_errors(target, error)
        else:
            messages.success(request, f"Recorded: {finding}")
            return redirect("findings:register", pk=inspection.pk)
    label = selectors.kind_labels(inspection)[kind]
    return render(
        request,
        "findings/finding_form.html",
        _context(request, inspection, form=form, rec_form=rec_form, kind=kind, label=label),
    )


def _about_terms(error: ValidationError) -> bool:
    return hasattr(error, "error_dict") and bool(
        set(error.error_dict) & {"to_force", "timescale", "timescale_months", "due_by"}
    )


@login_required
def finding_edit(request: HttpRequest, pk: int, finding_pk: int) -> HttpResponse:
    inspection = staff_inspection(request, pk)
    _require_recorder(request, inspection)
    finding = get_object_or_404(Finding, pk=finding_pk, inspection=inspection)
    initial = {
        "stage": finding.stage,
        "headline": finding.headline,
        "narrative": finding.narrative,
        "evidence": list(finding.evidence.values_list("pk", flat=True)),
        "carried_over_from": finding.carried_over_from_id,
        "cause_of_concern": finding.cause_of_concern_id,
        "to_force": finding.to_force,
        "to_pcc": finding.to_pcc,
        "national_bodies": finding.national_bodies,
        "timescale": finding.timescale,
        "timescale_months": finding.timescale_months,
        "due_by": finding.due_by,
        "version": finding.version,
    }
    form = _finding_form(request, inspection, finding.kind, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {name: data[name] for name in ("stage", "headline", "narrative")}
        extra: dict[str, Any] = {}
        if finding.kind == Kind.RECOMMENDATION:
            changes.update(
                {
                    name: data[name]
                    for name in (
                        "to_force",
                        "to_pcc",
                        "national_bodies",
                        "timescale",
                        "timescale_months",
                        "due_by",
                    )
                }
            )
            extra["cause_of_concern"] = _finding_or_none(inspection, data["cause_of_concern"])
        if "carried_over_from" in form.fields:
            extra["carried_over_from"] = _finding_or_none(inspection, data["carried_over_from"])
        try:
            services.finding_update(
                actor=request.user,
                finding=finding,
                expected_version=data["version"] or 0,
                evidence=_evidence(inspection, data["evidence"]),
                **extra,
                **changes,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except services.ConcurrentFindingEdit as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Your changes were saved.")
            return redirect("findings:register", pk=inspection.pk)
    label = selectors.kind_labels(inspection)[finding.kind]
    return render(
        request,
        "findings/finding_form.html",
        _context(request, inspection, form=form, finding=finding, kind=finding.kind, label=label),
    )


def _delete_page(
    request: HttpRequest,
    inspection: Inspection,
    *,
    thing: Finding | EvidenceItem,
    remove: Any,
    back: str,
    also: list[Finding],
) -> HttpResponse:
    """Confirm, then remove `thing` with the `remove` service; its refusal shows on the page."""
    form = DeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            remove()
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Removed: {thing}")
            return redirect(back, pk=inspection.pk)
    return render(
        request,
        "findings/delete.html",
        _context(
            request, inspection, form=form, thing=thing, also=also, back=(back, inspection.pk)
        ),
    )


@login_required
def finding_delete(request: HttpRequest, pk: int, finding_pk: int) -> HttpResponse:
    inspection = staff_inspection(request, pk)
    _require_recorder(request, inspection)
    finding = get_object_or_404(Finding, pk=finding_pk, inspection=inspection)
    return _delete_page(
        request,
        inspection,
        thing=finding,
        remove=lambda: services.finding_delete(actor=request.user, finding=finding),
        back="findings:register",
        also=list(finding.recommendations.all()) if finding.kind == Kind.CAUSE_OF_CONCERN else [],
    )


# Evidence ---------------------------------------------------------------------------------


def _case_choices(request: HttpRequest, inspection: Inspection) -> list[tuple[int, str]]:
    """The evidence form's list of the sample, by reference: empty for those who may not see
    case references."""
    if not permissions.can_see_case_references(request.user, inspection):
        return []
    return selectors.case_choices(inspection)


def _record_case_references_view(request: HttpRequest, inspection: Inspection, where: str) -> None:
    """Case references are case-level data: a page that shows them records the view once,
    naming the inspection (never the references), as fieldwork's sample page does."""
    audit_view(
        actor=request.user,
        instance=inspection,
        summary=f"Viewed the sample's case references {where}",
    )


@login_required
def evidence_list(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = staff_inspection(request, pk)
    items = list(selectors.evidence_of(inspection))
    show_cases = permissions.can_see_case_references(request.user, inspection)
    if show_cases and any(item.sampled_case_id for item in items):
        _record_case_references_view(request, inspection, "in the evidence log")
    return render(
        request,
        "findings/evidence_list.html",
        _context(request, inspection, items=items, show_case_references=show_cases),
    )


def _case(inspection: Inspection, pk: int | None) -> SampledCase | None:
    if pk is None:
        return None
    case = SampledCase.objects.filter(pk=pk, inspection=inspection).first()
    if case is None:
        raise ValidationError({"sampled_case": "Choose a case from this inspection's sample."})
    return case


@login_required
def evidence_add(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = staff_inspection(request, pk)
    _require_recorder(request, inspection)
    cases = _case_choices(request, inspection)
    form = EvidenceForm(request.POST or None, cases=cases)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            item = services.evidence_create(
                actor=request.user,
                inspection=inspection,
                source=data["source"],
                title=data["title"],
                sampled_case=_case(inspection, data["sampled_case"]),
                gathered_on=data["gathered_on"],
                notes=data["notes"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Logged: {item.title}")
            return redirect("findings:evidence", pk=inspection.pk)
    if cases:
        _record_case_references_view(request, inspection, "in the evidence form")
    return render(request, "findings/evidence_form.html", _context(request, inspection, form=form))


@login_required
def evidence_edit(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    inspection = staff_inspection(request, pk)
    item = get_object_or_404(EvidenceItem, pk=item_pk, inspection=inspection)
    can_record = permissions.can_record_findings(request.user, inspection)
    show_cases = permissions.can_see_case_references(request.user, inspection)
    cases = _case_choices(request, inspection) if can_record else []  # read-only: no list
    initial = {
        "source": item.source,
        "title": item.title,
        "sampled_case": item.sampled_case_id,
        "gathered_on": item.gathered_on,
        "notes": item.notes,
        "version": item.version,
    }
    form = EvidenceForm(
        request.POST or None if can_record else None,
        cases=cases,
        initial=initial,
    )
    if request.method == "POST":
        _require_recorder(request, inspection)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.evidence_update(
                    actor=request.user,
                    item=item,
                    expected_version=data["version"] or 0,
                    source=data["source"],
                    title=data["title"],
                    sampled_case=_case(inspection, data["sampled_case"]),
                    gathered_on=data["gathered_on"],
                    notes=data["notes"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            except services.ConcurrentFindingEdit as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, "Your changes were saved.")
                return redirect("findings:evidence", pk=inspection.pk)
    # The page shows the encrypted notes (in the form or read-only): record the view.
    audit_view(actor=request.user, instance=item, summary="Evidence item and its notes")
    if cases or (show_cases and item.sampled_case_id):  # the sample's list, or the item's case
        _record_case_references_view(request, inspection, "on an evidence item")
    return render(
        request,
        "findings/evidence_form.html",
        _context(
            request,
            inspection,
            form=form,
            item=item,
            findings=list(item.findings.order_by("order")),
            read_only=not can_record,
            show_case_references=show_cases,
        ),
    )


@login_required
def evidence_delete(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    inspection = staff_inspection(request, pk)
    _require_recorder(request, inspection)
    item = get_object_or_404(EvidenceItem, pk=item_pk, inspection=inspection)
    return _delete_page(
        request,
        inspection,
        thing=item,
        remove=lambda: services.evidence_delete(actor=request.user, item=item),
        back="findings:evidence",
        also=[],
    )
