from __future__ import annotations

from typing import Any

from django import forms

from .models import Force


class AreaFilterForm(forms.Form):
    """Filter the area list by police force (GET ?force=slug)."""

    force = forms.ChoiceField(label="Police force", required=False)

    def __init__(self, *args: Any, forces: list[Force], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.forces = {force.slug: force for force in forces}
        field = self.fields["force"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "All police forces")] + [(force.slug, force.name) for force in forces]

    def selected_force(self) -> Force | None:
        if not self.is_bound or not self.is_valid():
            return None
        return self.forces.get(self.cleaned_data["force"] or "")
