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
    # The codebook version whose themes the page offered: a revision since then makes its
    # keys another version's (a theme split or renamed is no longer a choice at all).
    seen_codebook = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        choices: list[tuple[str, str]],
        codebook_number: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["themes"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = choices
        self.codebook_number = codebook_number

    def clean_themes(self) -> list[str]:
        chosen = list(self.cleaned_data["themes"])
        if len(chosen) > 3:
            raise forms.ValidationError("Choose at most three themes.")
        return chosen

    def clean(self) -> dict[str, Any]:
        from .services import CODEBOOK_REVISED

        data = super().clean() or {}
        seen = data.get("seen_codebook")
        if seen is not None and self.codebook_number is not None and seen != self.codebook_number:
            self.errors.pop("themes", None)  # another version's keys: not the person's error
            raise forms.ValidationError(CODEBOOK_REVISED)
        return data


def _programme_choices() -> list[tuple[str, str]]:
    from apps.inspections.models import ProgrammeType

    return list(ProgrammeType.choices)


POLICE_ONLY_LABEL = "Only statements about the police"
POLICE_ONLY_HINT = (
    "A joint inspection's letter speaks of every agency of an area. Ticked: its statements "
    "about one other agency (health, children's social care, probation, schools) are left "
    "out; those about the police and about agencies working together are kept."
)


def _year_messages(name: str) -> dict[str, str]:
    return {
        "required": f"Enter the {name}",
        "invalid": f"The {name} must be a whole number, like 2019",
        "min_value": f"The {name} must be 1990 or later",
        "max_value": f"The {name} must be 2100 or earlier",
    }


class ScopeForm(forms.Form):
    """The scope of the analysis page, read from its query string (GET)."""

    # Named as the query string's parameters (Scope.from_query).
    prefix = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from"] = forms.IntegerField(
            label="From (year)",
            required=False,
            min_value=1990,
            max_value=2100,
            error_messages=_year_messages("first year"),
        )
        self.fields["to"] = forms.IntegerField(
            label="To (year)",
            required=False,
            min_value=1990,
            max_value=2100,
            error_messages=_year_messages("last year"),
        )
        self.fields["type"] = forms.MultipleChoiceField(
            label="Programme types",
            required=False,
            choices=_programme_choices(),
            widget=forms.CheckboxSelectMultiple,
            help_text="None ticked: every type.",
            error_messages={
                "invalid_choice": "Programme types: %(value)s is not a programme type; tick "
                "the types to include"
            },
        )
        # Named as Scope.from_query reads it: ?about=police.
        self.fields["about"] = forms.MultipleChoiceField(
            label="Whom the statements are about",
            required=False,
            choices=[("police", POLICE_ONLY_LABEL)],
            widget=forms.CheckboxSelectMultiple,
            help_text=POLICE_ONLY_HINT,
            error_messages={
                "invalid_choice": "Whom the statements are about: %(value)s is not a choice; "
                "tick the box, or leave it for every agency"
            },
        )


def _inspection_label(obj: Any) -> str:
    return f"{obj.reference}: {obj.title}"


def _archive_label(obj: Any) -> str:
    return obj.title + (f" ({obj.published_on:%B %Y})" if obj.published_on else "")


class ThematicReportForm(forms.Form):
    title = forms.CharField(
        max_length=200,
        error_messages={
            "required": "Enter a title",
            "max_length": "The title must be 200 characters or fewer",
        },
    )
    year_from = forms.IntegerField(
        label="First year",
        min_value=1990,
        max_value=2100,
        error_messages=_year_messages("first year"),
    )
    year_to = forms.IntegerField(
        label="Last year",
        min_value=1990,
        max_value=2100,
        error_messages=_year_messages("last year"),
    )
    programme_types = forms.MultipleChoiceField(
        label="Programme types",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every type.",
    )
    inspections: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
        label="Inspections",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked (here or below): every report in the period.",
    )
    archive_reports: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
        label="Imported reports",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    police_only = forms.BooleanField(
        label=POLICE_ONLY_LABEL, required=False, help_text=POLICE_ONLY_HINT
    )
    introduction = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
        help_text="The report's opening words: why this theme matters and what was asked.",
    )
    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from apps.inspections.models import Inspection

        from .models import ArchiveReport
        from .selectors import PUBLISHED_STATES

        super().__init__(*args, **kwargs)
        types = self.fields["programme_types"]
        assert isinstance(types, forms.MultipleChoiceField)
        types.choices = _programme_choices()
        inspections = self.fields["inspections"]
        assert isinstance(inspections, forms.ModelMultipleChoiceField)
        inspections.queryset = Inspection.objects.filter(state__in=PUBLISHED_STATES).order_by(
            "-fieldwork_start", "reference"
        )
        inspections.label_from_instance = _inspection_label  # type: ignore[method-assign]
        archive = self.fields["archive_reports"]
        assert isinstance(archive, forms.ModelMultipleChoiceField)
        archive.queryset = ArchiveReport.objects.order_by("-published_on", "title")
        archive.label_from_instance = _archive_label  # type: ignore[method-assign]


class ReadingForm(forms.Form):
    """How an imported statement was read, for a curator to correct (prefixed "reading", as
    the statement's page also has the form to code its themes)."""

    prefix = "reading"
    kind = forms.ChoiceField(label="Kind")
    stage = forms.ChoiceField(label="Stage or topic", required=False)
    agency = forms.ChoiceField(
        label="About",
        help_text="Whom the statement is about: for a joint inspection's statement, one agency "
        "or agencies working together; for everything else, the police.",
    )
    set_aside = forms.BooleanField(
        label="Not a statement: leave it out",
        required=False,
        help_text="For a sentence the import took that is not a finding, strength, area for "
        "improvement, cause of concern, practice or recommendation (a fact about the area, how "
        "the inspection was done). It then counts in no figure and is not in the review "
        "queue; untick to take it back.",
    )
    seen_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, statement: Any, **kwargs: Any) -> None:
        from .archive_services import stage_names
        from .models import ARCHIVE_KINDS, KIND_LABELS, Agency

        kwargs.setdefault(
            "initial",
            {
                "kind": statement.kind,
                "stage": statement.stage,
                "agency": statement.agency,
                "set_aside": statement.set_aside,
                "seen_version": statement.version,
            },
        )
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = [(k, KIND_LABELS[k]) for k in ARCHIVE_KINDS]
        stages = [("", "None"), *((n, n) for n in stage_names())]
        if statement.stage and statement.stage not in dict(stages):
            stages.append((statement.stage, statement.stage_label))  # a heading it was given
        stage = self.fields["stage"]
        assert isinstance(stage, forms.ChoiceField)
        stage.choices = stages
        agency = self.fields["agency"]
        assert isinstance(agency, forms.ChoiceField)
        agency.choices = Agency.choices
        if statement.repeat_of_id is not None:
            repeat = self.fields["set_aside"]
            repeat.label = "A repeat of a point the report makes elsewhere: leave it out"
            repeat.help_text = (
                "The import found that the report makes this point in another statement too, "
                "which counts it. Untick if it is a point of its own: it then counts as well."
            )
