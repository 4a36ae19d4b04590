"""Forms of follow-up. They check shapes; the services check the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from apps.findings.models import Finding, Timescale
from apps.inspections.models import Inspection, ProgrammeType

from .models import Assessment, ProgressUpdate, Route
from .services import MAX_TEXT, PlannedActionInput, rec_label

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")  # what the browser reads


FILE_HINT = (
    "PDF, Word (DOCX), Excel (XLSX), PowerPoint (PPTX), CSV, TXT, PNG or JPEG, up to "
    f"{settings.FOLLOWUP_MAX_FILE_BYTES // 1_048_576} MB each. Don't include children's names "
    "or other details that identify them."
)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Zero or more files; each is read here (up to the size limit) and checked by the
    services for type and content."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        limit = settings.FOLLOWUP_MAX_FILE_BYTES
        for f in files:
            if f.size is not None and f.size > limit:
                raise forms.ValidationError(
                    f"{f.name}: the file is {f.size / 1_048_576:.1f} MB; the most is "
                    f"{limit / 1_048_576:.0f} MB."
                )
        return list(files)


def read_files(files: list[UploadedFile]) -> list[tuple[str, bytes]]:
    return [(f.name or "file", f.read()) for f in files]


class ProgressForm(forms.Form):
    kind = forms.ChoiceField(label="What are you posting?", widget=forms.RadioSelect)
    text = forms.CharField(
        label="Update", widget=forms.Textarea(attrs={"rows": 6}), max_length=MAX_TEXT
    )
    attachments = MultipleFileField(label="Evidence files (optional)", help_text=FILE_HINT)

    def __init__(self, *args: Any, recommendation: Finding, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kinds = [
            (ProgressUpdate.Kind.PROGRESS, "A progress update"),
            (
                ProgressUpdate.Kind.EVIDENCE,
                "Evidence that it is done, for the inspectorate to assess",
            ),
        ]
        if recommendation.timescale == Timescale.IMMEDIATELY:
            kinds.insert(
                0,
                (
                    ProgressUpdate.Kind.RESPONSE,
                    "The force's response on this immediate recommendation",
                ),
            )
        self.fields["kind"].choices = kinds  # type: ignore[attr-defined]
        self.fields["kind"].initial = kinds[0][0]


class CommentForm(forms.Form):
    text = forms.CharField(
        label="Comment", widget=forms.Textarea(attrs={"rows": 4}), max_length=MAX_TEXT
    )


class ActionPlanForm(forms.Form):
    summary = forms.CharField(
        label="Summary of the plan (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=MAX_TEXT,
    )
    attachments = MultipleFileField(label="The plan as a document (optional)", help_text=FILE_HINT)

    def __init__(self, *args: Any, recommendations: list[Finding], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recommendations = recommendations
        for rec in recommendations:
            p = f"rec_{rec.pk}_"
            self.fields[p + "action"] = forms.CharField(
                label="What the force will do",
                widget=forms.Textarea(attrs={"rows": 3}),
                max_length=MAX_TEXT,
                required=False,
            )
            self.fields[p + "expected_impact"] = forms.CharField(
                label="The difference it will make for children",
                widget=forms.Textarea(attrs={"rows": 2}),
                max_length=MAX_TEXT,
                required=False,
            )
            self.fields[p + "target_date"] = forms.DateField(
                label="When it will be done",
                widget=DATE,
                required=False,
                initial=rec.due_on,
            )
            self.fields[p + "evidence_measure"] = forms.CharField(
                label="What data or evidence will show it worked",
                widget=forms.Textarea(attrs={"rows": 2}),
                max_length=MAX_TEXT,
                required=False,
            )

    def groups(self) -> list[tuple[Finding, str, list[forms.BoundField]]]:
        return [
            (
                rec,
                rec_label(rec),
                [
                    self[f"rec_{rec.pk}_{n}"]
                    for n in ("action", "expected_impact", "target_date", "evidence_measure")
                ],
            )
            for rec in self.recommendations
        ]

    def actions(self) -> dict[int, PlannedActionInput]:
        data = self.cleaned_data
        return {
            rec.pk: PlannedActionInput(
                action=data.get(f"rec_{rec.pk}_action") or "",
                expected_impact=data.get(f"rec_{rec.pk}_expected_impact") or "",
                target_date=data.get(f"rec_{rec.pk}_target_date"),
                evidence_measure=data.get(f"rec_{rec.pk}_evidence_measure") or "",
            )
            for rec in self.recommendations
        }


class PlanReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label="Your review",
        widget=forms.RadioSelect,
        choices=[("accept", "Accept the plan"), ("changes", "Ask the force for changes")],
    )
    note = forms.CharField(
        label="Notes for the force (needed when asking for changes)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=MAX_TEXT,
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class RouteForm(forms.Form):
    route = forms.ChoiceField(label="Follow-up", widget=forms.RadioSelect, choices=Route.choices)
    rationale = forms.CharField(
        label="Why (the rationale is kept with the decision)",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=MAX_TEXT,
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class AssessmentForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Assessment", widget=forms.RadioSelect, choices=Assessment.Outcome.choices
    )
    reasoning = forms.CharField(
        label="Your reasoning (seen by the inspectorate and the force, not published)",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=MAX_TEXT,
    )
    public_note = forms.CharField(
        label="Public note for the tracker (optional)",
        required=False,
        max_length=500,
        help_text="Published on the portal beside the status. Checked for personal data.",
    )
    on = forms.DateField(label="Date of the assessment", widget=DATE)
    in_inspection = forms.ModelChoiceField(
        label="Assessed in (optional)",
        queryset=Inspection.objects.none(),
        required=False,
        empty_label="Not in a review or re-inspection",
    )

    def __init__(self, *args: Any, follow_ups: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["in_inspection"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = follow_ups
        field.label_from_instance = _follow_up_label  # type: ignore[method-assign,assignment]


def _follow_up_label(inspection: Inspection) -> str:
    return f"{inspection.reference}: {ProgrammeType(inspection.programme_type).label}"


class CloseForm(forms.Form):
    note = forms.CharField(
        label="Public note: why it is closed",
        max_length=500,
        help_text="Published on the portal with the status. Checked for personal data.",
    )


class ConcernCloseForm(forms.Form):
    letter = forms.FileField(label="The closure letter to the force", help_text=FILE_HINT)
    summary = forms.CharField(
        label="Public summary",
        max_length=500,
        help_text="Published on the portal with the status. Checked for personal data.",
    )


class TrackerForm(forms.Form):
    """The tracker's filters (GET). Unknown values are ignored rather than refused."""

    force = forms.ChoiceField(label="Force", required=False)
    status = forms.ChoiceField(label="Status", required=False)
    timescale = forms.ChoiceField(label="Timescale", required=False)
    stage = forms.ChoiceField(label="Stage or topic", required=False)
    programme_type = forms.ChoiceField(label="Type of inspection", required=False)
    theme = forms.ChoiceField(label="Theme", required=False)
    age = forms.ChoiceField(label="Published", required=False)
    overdue = forms.BooleanField(label="Overdue only", required=False)
    sort = forms.ChoiceField(label="Sort by", required=False)

    def __init__(self, *args: Any, choices: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        any_ = [("", "Any")]
        stages = [(s, s.replace("_", " ").capitalize()) for s in choices["stages"]]
        options = {
            "force": [("", "All forces"), *choices["forces"]],
            "status": any_ + choices["statuses"],
            "timescale": any_ + choices["timescales"],
            "stage": any_ + stages,
            "programme_type": any_ + choices["programme_types"],
            "theme": any_ + choices["themes"],
            "age": [("", "Any time"), *choices["ages"]],
            "sort": choices["sorts"],
        }
        for name, values in options.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = values
