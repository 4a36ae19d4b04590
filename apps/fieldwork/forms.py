from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings

from apps.inspections.models import Inspection

from .models import Sample


class CaseListUploadForm(forms.Form):
    file = forms.FileField(
        label="Case list file",
        help_text=(
            "A CSV or XLSX file with the columns case_reference, audit_area and date_opened "
            "(and optionally date_closed and team). Pseudonymous case references only: "
            "no names, dates of birth, addresses or other identifying details."
        ),
        error_messages={"required": "Choose a CSV or XLSX file to upload."},
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > settings.FIELDWORK_MAX_UPLOAD_BYTES:
            limit = settings.FIELDWORK_MAX_UPLOAD_BYTES / (1024 * 1024)
            raise forms.ValidationError(f"The file must be smaller than {limit:.3g} MB.")
        return upload


class SampleSizeForm(forms.Form):
    """The calculator's inputs (a GET form: nothing is stored until the sample is drawn)."""

    proportion = forms.DecimalField(
        label="Expected proportion (%)",
        min_value=Decimal("1"),
        max_value=Decimal("99"),
        initial=50,
        help_text=(
            "The share of cases you expect to be, say, inadequate. 50% is the cautious choice."
        ),
    )
    margin = forms.DecimalField(
        label="Margin of error (%)",
        min_value=Decimal("1"),
        max_value=Decimal("50"),
        initial=10,
    )
    confidence = forms.TypedChoiceField(
        label="Confidence level",
        choices=[("0.90", "90%"), ("0.95", "95%"), ("0.99", "99%")],
        coerce=float,
        initial="0.95",
    )
    minimum = forms.IntegerField(
        label="Minimum cases per audit area",
        min_value=0,
        max_value=1000,
        initial=5,
        help_text="Each area gets at least this many, if it has them.",
    )


class DrawForm(forms.Form):
    rationale = forms.CharField(
        label="Rationale",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        help_text=(
            "Why these numbers: the calculation, areas of focus, constraints. No case details."
        ),
        error_messages={"required": "Explain why these numbers of cases were chosen."},
    )
    seed = forms.CharField(
        label="Seed (optional)",
        required=False,
        max_length=64,
        help_text="Leave blank for a new random seed. Enter a recorded seed to repeat a draw.",
    )
    moderation_share = forms.DecimalField(
        label="Share to second-mark blind (%)",
        min_value=Decimal("1"),
        max_value=Decimal("100"),
        initial=10,
    )
    moderation_minimum = forms.IntegerField(
        label="Minimum cases to second-mark", min_value=0, max_value=500, initial=5
    )
    kappa_threshold = forms.DecimalField(
        label="Flag agreement below this kappa",
        min_value=Decimal("0.01"),
        max_value=Decimal("1"),
        decimal_places=3,
        initial=Decimal("0.6"),
    )

    def __init__(self, *args: Any, inspection: Inspection, frame: dict[str, int], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.areas = []
        for area in inspection.methodology.audit_areas:
            size = frame.get(area["code"], 0)
            if not size:
                continue
            name = f"quota_{area['code']}"
            self.fields[name] = forms.IntegerField(
                label=area["name"],
                min_value=0,
                max_value=size,
                help_text=f"{size:,} eligible",
                error_messages={
                    "max_value": f"{area['name']}: the case list has only {size:,} cases.",
                    "required": f"Enter the number of {area['name'].lower()} cases to audit.",
                },
            )
            self.areas.append((area["code"], self[name]))

    def quotas(self) -> dict[str, int]:
        return {code: self.cleaned_data[f"quota_{code}"] for code, _ in self.areas}


class ModerationForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    moderation_share = DrawForm.base_fields["moderation_share"]
    moderation_minimum = DrawForm.base_fields["moderation_minimum"]
    kappa_threshold = DrawForm.base_fields["kappa_threshold"]

    @classmethod
    def for_sample(cls, sample: Sample, data: Any = None) -> ModerationForm:
        return cls(
            data,
            initial={
                "version": sample.version,
                "moderation_share": sample.moderation_share * 100,
                "moderation_minimum": sample.moderation_minimum,
                "kappa_threshold": sample.kappa_threshold,
            },
        )


class ReplaceForm(forms.Form):
    reason = forms.CharField(
        label="Why can this case not be audited?",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: the file is incomplete, or the case is outside the period.",
        error_messages={"required": "Say why the case cannot be audited."},
    )


class ReferralForm(forms.Form):
    concern = forms.CharField(
        label="Why does the child appear to be at risk now?",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
        help_text="What the force needs to act on. Use the case reference, not names.",
        error_messages={"required": "Describe why the child appears to be at risk now."},
    )


class ReferralActionForm(forms.Form):
    force_action = forms.CharField(
        label="What has the force done?",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        error_messages={"required": "Describe what the force has done."},
    )


class ReferralCloseForm(forms.Form):
    closing_note = forms.CharField(
        label="Why can the referral be closed?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": "Say why the referral can be closed."},
    )


class ResolutionForm(forms.Form):
    agreed_grade = forms.ChoiceField(
        label="Agreed grade",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the agreed grade."},
    )
    reason = forms.CharField(
        label="Why this grade?",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        error_messages={"required": "Say why this grade was agreed."},
    )

    def __init__(self, *args: Any, scale: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        grade = self.fields["agreed_grade"]
        assert isinstance(grade, forms.ChoiceField)
        grade.choices = [(g, g.capitalize()) for g in scale]
