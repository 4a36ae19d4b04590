from __future__ import annotations

from typing import Any

from django import forms


class DecideForm(forms.Form):
    themes = forms.MultipleChoiceField(
        label="Themes this statement is about",
        widget=forms.CheckboxSelectMultiple,
        help_text="One to three: the themes it is substantively about, not those it mentions "
        "in passing.",
        error_messages={"required": "Choose at least one theme."},
    )
    seen_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["themes"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = choices

    def clean_themes(self) -> list[str]:
        chosen = list(self.cleaned_data["themes"])
        if len(chosen) > 3:
            raise forms.ValidationError("Choose at most three themes.")
        return chosen
