"""Forms of the findings register. They parse input; the rules live in services."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.inspections.models import Inspection

from .models import EvidenceItem, Kind, Timescale

TIMESCALE_CHOICES = [
    (Timescale.IMMEDIATELY, "Immediately"),
    (Timescale.MONTHS, "Within a number of months of publication"),
    (Timescale.FIXED_DATE, "By a fixed date"),
]


class EvidenceForm(forms.Form):
    source = forms.ChoiceField(
        label="Where the evidence comes from",
        choices=EvidenceItem.Source.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose where the evidence comes from."},
    )
    title = forms.CharField(
        label="Title",
        max_length=200,
        help_text="Say what it is, not who was there: for example “Focus group with MASH "
        "staff” or “Force missing children policy, 2024”.",
        error_messages={"required": "Enter a title that says what the evidence is."},
    )
    sampled_case = forms.TypedChoiceField(
        label="Audited case (case audits only)", required=False, coerce=int, empty_value=None
    )
    gathered_on = forms.DateField(
        label="Date gathered (YYYY-MM-DD)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    notes = forms.CharField(
        label="Notes",
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Encrypted when stored. No names of children or families.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, cases: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["sampled_case"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Not linked to a case"), *cases]


class FindingForm(forms.Form):
    """One finding. Which fields apply depends on the kind (fixed when it is created)."""

    stage = forms.ChoiceField(label="Stage or topic", required=False)
    headline = forms.CharField(
        label="Finding in one sentence",
        max_length=400,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Enter the finding in one sentence."},
    )
    narrative = forms.CharField(
        label="Narrative",
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="What the evidence showed. No names, ages with places, or other details "
        "that could identify a child: the disclosure check looks for them before publication.",
    )
    evidence = forms.TypedMultipleChoiceField(
        label="Evidence it rests on",
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    carried_over_from = forms.TypedChoiceField(
        label="Carried over from an earlier inspection",
        required=False,
        coerce=int,
        empty_value=None,
    )
    # Recommendations.
    cause_of_concern = forms.TypedChoiceField(
        label="Answers the cause of concern", required=False, coerce=int, empty_value=None
    )
    to_force = forms.BooleanField(label="The force (its chief constable)", required=False)
    to_pcc = forms.BooleanField(label="The police and crime commissioner", required=False)
    national_bodies = forms.CharField(
        label="Named national bodies",
        required=False,
        max_length=300,
        help_text="Separate them with semicolons, for example “College of Policing; Home Office”.",
    )
    timescale = forms.ChoiceField(
        label="Timescale", required=False, choices=TIMESCALE_CHOICES, widget=forms.RadioSelect
    )
    timescale_months = forms.IntegerField(
        label="Months after publication", required=False, min_value=1, max_value=36
    )
    due_by = forms.DateField(
        label="Due by (YYYY-MM-DD)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    RECOMMENDATION_ONLY = (
        "cause_of_concern",
        "to_force",
        "to_pcc",
        "national_bodies",
        "timescale",
        "timescale_months",
        "due_by",
    )

    def __init__(
        self,
        *args: Any,
        inspection: Inspection,
        kind: str,
        evidence: list[tuple[int, str]],
        carry_over: list[tuple[int, str]],
        causes: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        stage = self.fields["stage"]
        assert isinstance(stage, forms.ChoiceField)
        stage.choices = [
            ("", "The force as a whole"),
            *((s["code"], s["name"]) for s in inspection.methodology.stages),
        ]
        for name, choices, empty in (
            ("evidence", evidence, None),
            ("carried_over_from", carry_over, "Not carried over"),
            ("cause_of_concern", causes, "None: a recommendation on its own"),
        ):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [("", empty), *choices] if empty else list(choices)
        if kind != Kind.RECOMMENDATION:
            for name in self.RECOMMENDATION_ONLY:
                del self.fields[name]
        if not carry_over:
            del self.fields["carried_over_from"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.kind == Kind.RECOMMENDATION and not data.get("timescale"):
            self.add_error("timescale", "Choose a timescale.")
        return data


class FirstRecommendationForm(forms.Form):
    """A cause of concern is recorded with its first recommendation."""

    prefix = "rec"

    headline = forms.CharField(
        label="Recommendation",
        max_length=400,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Enter the recommendation: a cause of concern needs at least one."
        },
    )
    to_force = forms.BooleanField(label="The force (its chief constable)", required=False)
    to_pcc = forms.BooleanField(label="The police and crime commissioner", required=False)
    national_bodies = forms.CharField(label="Named national bodies", required=False, max_length=300)
    timescale = forms.ChoiceField(
        label="Timescale",
        choices=TIMESCALE_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a timescale."},
    )
    timescale_months = forms.IntegerField(
        label="Months after publication", required=False, min_value=1, max_value=36
    )
    due_by = forms.DateField(
        label="Due by (YYYY-MM-DD)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class DeleteForm(forms.Form):
    confirm = forms.BooleanField(
        label="Yes, remove it",
        error_messages={"required": "Confirm that you want to remove it."},
    )
