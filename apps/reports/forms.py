from __future__ import annotations

from django import forms


class TitleForm(forms.Form):
    title = forms.CharField(label="Title", max_length=300)


class SectionForm(forms.Form):
    title = forms.CharField(
        label="Section title",
        required=False,
        max_length=200,
        help_text="The Welsh-language version's title for this section.",
    )
    body = forms.CharField(
        label="Text",
        required=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 20, "class": "app-section-text"}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class DismissForm(forms.Form):
    reason = forms.CharField(
        label="Why it cannot identify anyone",
        max_length=500,
        error_messages={"required": "Say why this cannot identify a child or anyone else."},
    )


class PublishForm(forms.Form):
    on = forms.DateField(
        label="Publication date (YYYY-MM-DD)",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": "Enter the publication date.",
            "invalid": "Enter the date as YYYY-MM-DD.",
        },
    )
    change_note = forms.CharField(
        label="What has changed since the last version",
        required=False,
        max_length=500,
        help_text="Shown in the public version history (only for a new version).",
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Why it is withdrawn",
        max_length=500,
        help_text="For the audit trail. The public sees only that the version is no longer "
        "available.",
        error_messages={"required": "Say why the version is withdrawn."},
    )
