from __future__ import annotations

from typing import Any

from django import forms

from apps.accounts.models import Role, User
from apps.frameworks.models import MethodologyVersion
from apps.reference.models import Force, LocalAuthority

from .models import Inspection, ProgrammeType, State, TeamRole

DATE_HINT = "For example, 2027-03-15"


class DateField(forms.DateField):
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", DATE_HINT)
        kwargs.setdefault("error_messages", {"invalid": "Enter a real date, like 2027-03-15"})
        super().__init__(**kwargs)


class PlanFields(forms.Form):
    """The parts of the plan that can change after an inspection is created."""

    title = forms.CharField(
        label="Title", max_length=200, error_messages={"required": "Enter a title"}
    )
    theme = forms.CharField(
        label="Theme or subject",
        required=False,
        max_length=200,
        help_text="The JTAI deep-dive theme or the thematic subject",
    )
    fieldwork_start = DateField(label="Fieldwork starts", required=False)
    fieldwork_end = DateField(label="Fieldwork ends", required=False)
    planned_publication = DateField(label="Planned publication", required=False)
    confidential_notes = forms.CharField(
        label="Confidential planning notes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Seen by inspectorate staff only; encrypted when stored.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("fieldwork_start"), data.get("fieldwork_end")
        if start and end and end < start:
            self.add_error("fieldwork_end", "Fieldwork must end on or after the day it starts")
        return data


class InspectionCreateForm(PlanFields):
    programme_type = forms.ChoiceField(
        label="Type of inspection",
        choices=ProgrammeType.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the type of inspection"},
    )
    methodology = forms.ModelChoiceField(
        label="Methodology",
        queryset=MethodologyVersion.objects.all(),
        empty_label="Choose a methodology",
        error_messages={"required": "Choose the methodology it will be graded under"},
    )
    forces = forms.ModelMultipleChoiceField(
        label="Force or forces inspected",
        required=False,
        queryset=Force.objects.defer("boundary", "boundary_map"),
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="One force for an NCPI, review or re-inspection; two or more for a thematic "
        "inspection. Leave empty for a joint inspection: the forces of its areas are used.",
    )
    local_authorities = forms.ModelMultipleChoiceField(
        label="Local authority areas (joint inspections)",
        required=False,
        queryset=LocalAuthority.objects.all(),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    follows = forms.ModelChoiceField(
        label="Follows up (reviews and re-inspections)",
        required=False,
        queryset=Inspection.objects.filter(
            programme_type__in=[ProgrammeType.NCPI, ProgrammeType.NCPI_REINSPECTION],
            state__in=[State.PUBLISHED, State.FOLLOW_UP, State.CLOSED],
        ).order_by("-fieldwork_start"),
        empty_label="Not a follow-up",
    )


class InspectionPlanForm(PlanFields):
    version = forms.IntegerField(widget=forms.HiddenInput)


class TransitionForm(forms.Form):
    target = forms.ChoiceField(
        label="Next step",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the next step"},
    )
    on = DateField(
        label="Date it happened",
        error_messages={
            "required": "Enter the date it happened",
            "invalid": "Enter a real date, like 2027-03-15",
        },
    )
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Needed when returning a report or closing without follow-up",
    )

    def __init__(self, *args: Any, steps: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        target = self.fields["target"]
        assert isinstance(target, forms.ChoiceField)
        target.choices = [(s.target, s.label) for s in steps]


class TeamMemberForm(forms.Form):
    user = forms.ModelChoiceField(
        label="Person",
        queryset=User.objects.none(),
        empty_label="Choose a person",
        error_messages={"required": "Choose a person"},
    )
    role = forms.ChoiceField(
        label="Role on this inspection",
        choices=TeamRole.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose their role"},
    )

    def __init__(self, *args: Any, inspection: Inspection, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        roles = [Role.LEAD_INSPECTOR, Role.INSPECTOR, Role.ANALYST, Role.PROGRAMME_MANAGER]
        if inspection.is_joint:
            roles.append(Role.PARTNER_INSPECTOR)
        user_field = self.fields["user"]
        assert isinstance(user_field, forms.ModelChoiceField)
        user_field.queryset = (
            User.objects.filter(role__in=roles, is_active=True)
            .exclude(team_places__inspection=inspection)
            .select_related("organisation")
            .order_by("full_name")
        )
        user_field.label_from_instance = lambda u: (  # type: ignore[method-assign,assignment]
            f"{u.full_name} ({u.get_role_display()}, {u.organisation})"
        )
        if not inspection.is_joint:
            role_field = self.fields["role"]
            assert isinstance(role_field, forms.ChoiceField)
            role_field.choices = [c for c in TeamRole.choices if c[0] != TeamRole.PARTNER_INSPECTOR]


class InspectionFilterForm(forms.Form):
    text = forms.CharField(label="Reference or title contains", required=False, max_length=100)
    state = forms.ChoiceField(
        label="Stage", required=False, choices=[("", "Any stage"), *State.choices]
    )
    programme_type = forms.ChoiceField(
        label="Type", required=False, choices=[("", "Any type"), *ProgrammeType.choices]
    )
    force = forms.ChoiceField(label="Force", required=False, choices=[])
    year = forms.IntegerField(
        label="Fieldwork year",
        required=False,
        min_value=2000,
        max_value=2100,
        widget=forms.NumberInput,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        force_field = self.fields["force"]
        assert isinstance(force_field, forms.ChoiceField)
        force_field.choices = [
            ("", "Any force"),
            *Force.objects.order_by("name").values_list("slug", "name"),
        ]
