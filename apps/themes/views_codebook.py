"""Pages of the codebook: the current version with its themes and every version's history,
for everyone who codes statements; adding, renaming, merging and splitting themes, for the
analysts and the programme manager (codebook_revise.py does the work)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.views.decorators.http import require_http_methods, require_safe

from apps.core.forms import add_service_errors

from . import codebook_revise, permissions, selectors
from .codebook import ID_PATTERN
from .models import CodebookVersion, Theme

PARTS = 4  # part fieldsets on the split form; blank ones are ignored

# Forms --------------------------------------------------------------------------------------

KEY_HINT = (
    "A short, permanent id: lower case letters, digits and underscores, such as online_abuse. "
    "A key always means the same theme, so one used before cannot be used again."
)
EXAMPLES_HINT = (
    "One a line, at least one: statements in the words of a report that belong to this theme. "
    "The classifier learns the theme from them before anyone codes it."
)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _key_field(label: str = "Key", hint: str = KEY_HINT) -> forms.CharField:
    return forms.CharField(label=label, required=False, max_length=50, help_text=hint)


def _words_fields() -> dict[str, forms.Field]:
    return {
        "name": forms.CharField(label="Name", required=False, max_length=200),
        "covers": forms.CharField(
            label="What it covers",
            required=False,
            widget=forms.Textarea(attrs={"rows": 4}),
        ),
        "excludes": forms.CharField(
            label="What it does not cover (optional)",
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text="What goes to another theme instead, and which.",
        ),
        "examples": forms.CharField(
            label="Examples",
            required=False,
            widget=forms.Textarea(attrs={"rows": 5}),
            help_text=EXAMPLES_HINT,
        ),
    }


class _RevisionForm(forms.Form):
    """The fields every change has: the version it was made against (hidden)."""

    based_on_number = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class AddForm(_RevisionForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["key"] = _key_field()
        self.fields.update(_words_fields())


class RenameForm(_RevisionForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_key"] = _key_field(
            hint="Change it only if the old key misleads: statements coded to the old key "
            "under earlier versions count under the new one."
        )
        self.fields.update(_words_fields())


class MergeForm(_RevisionForm):
    def __init__(self, *args: Any, themes: list[Theme], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["keys"] = forms.MultipleChoiceField(
            label="Themes to merge",
            required=False,
            choices=[(t.key, t.name) for t in themes],
            widget=forms.CheckboxSelectMultiple,
            help_text="At least two.",
            error_messages={
                "invalid_choice": "%(value)s is not a theme of the current codebook: reload "
                "the page."
            },
        )
        self.fields["key"] = _key_field(
            hint=KEY_HINT.replace(
                "so one used before cannot be used again",
                "so one used before cannot be used again, except the key of a theme merged",
            )
        )
        self.fields.update(_words_fields())


class SplitForm(_RevisionForm):
    PART_FIELDS = ("key", "name", "covers", "excludes", "examples")

    def __init__(self, *args: Any, themes: list[Theme], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["key"] = forms.ChoiceField(
            label="Theme to split",
            choices=[("", "Choose a theme"), *((t.key, t.name) for t in themes)],
            error_messages={
                "required": "Choose the theme to split.",
                "invalid_choice": "%(value)s is not a theme of the current codebook: reload "
                "the page.",
            },
        )
        for n in range(1, PARTS + 1):
            self.fields[f"part_{n}_key"] = _key_field()
            for name, field in _words_fields().items():
                self.fields[f"part_{n}_{name}"] = field

    def filled(self) -> list[int]:
        """The part fieldsets with anything in them, by number."""
        return [
            n
            for n in range(1, PARTS + 1)
            if any(self.cleaned_data.get(f"part_{n}_{f}", "").strip() for f in self.PART_FIELDS)
        ]

    def parts(self) -> list[codebook_revise.ThemePart]:
        data = self.cleaned_data
        return [
            codebook_revise.ThemePart(
                key=data[f"part_{n}_key"],
                name=data[f"part_{n}_name"],
                covers=data[f"part_{n}_covers"],
                excludes=data[f"part_{n}_excludes"],
                examples=_lines(data[f"part_{n}_examples"]),
            )
            for n in self.filled()
        ]

    def fieldsets(self) -> list[dict[str, Any]]:
        return [
            {"number": n, **{f: self[f"part_{n}_{f}"] for f in self.PART_FIELDS}}
            for n in range(1, PARTS + 1)
        ]


# Showing a service's refusal ------------------------------------------------------------------


def _refused(
    form: forms.Form, error: ValidationError, rename: Callable[[str, str], tuple[str, str]] | None
) -> bool:
    """The service's errors on the form: a stale version (or no codebook) above the form, the
    rest on their fields; `rename` maps a service field and message to the form's. Whether
    the form was stale."""
    errors: dict[str, list[str]] = {}
    stale = False
    for name, messages_ in error.message_dict.items():
        for message in messages_:
            if name == "based_on_number":
                form.add_error(None, message)
                stale = True
                continue
            field_name, shown = rename(name, message) if rename else (name, message)
            errors.setdefault(field_name, []).append(shown)
    if errors:
        add_service_errors(form, ValidationError(errors))
    return stale


def _current_or_404() -> CodebookVersion:
    current = CodebookVersion.objects.order_by("-number").first()
    if current is None:
        raise Http404("No codebook is loaded yet.")
    return current


def _suggested_key(name: str) -> str:
    key = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    key = re.sub(r"^[^a-z]+", "", key)[:50].rstrip("_")
    return key if ID_PATTERN.match(key) else ""


def _revision_page(
    request: HttpRequest,
    form: forms.Form,
    call: Callable[[dict[str, Any]], codebook_revise.Revision],
    context: dict[str, Any],
    *,
    template: str = "themes/codebook_form.html",
    rename: Callable[[str, str], tuple[str, str]] | None = None,
) -> HttpResponse:
    """A revision form: shown, or on a valid POST handed to the service, and on success back
    to the codebook with what happened."""
    stale = False
    if request.method == "POST" and form.is_valid():
        try:
            revision = call(form.cleaned_data)
        except ValidationError as error:
            stale = _refused(form, error, rename)
        else:
            # The classifier learnt the earlier version's themes; a split's parts and a new
            # theme have no suggestions until it learns this one.
            messages.success(
                request,
                f"{revision.message} The classifier learns this version when themes are next "
                "suggested: use \u201cSuggest themes again\u201d on its page (How it has "
                "learnt), or wait for the next scheduled run.",
            )
            return redirect("themes:codebook")
    return render(request, template, {"form": form, "stale": stale, **context})


# Pages --------------------------------------------------------------------------------------


@login_required
@require_safe
def codebook(request: HttpRequest) -> HttpResponse:
    permissions.require_coder(request)
    return render(
        request,
        "themes/codebook.html",
        {**selectors.codebook_overview(), "can_curate": permissions.can_curate(request.user)},
    )


@login_required
@require_safe
def codebook_version(request: HttpRequest, number: int) -> HttpResponse:
    permissions.require_coder(request)
    found = selectors.codebook_version(number)
    if found is None:
        raise Http404("No such codebook version.")
    return render(request, "themes/codebook_version.html", found)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def codebook_add(request: HttpRequest) -> HttpResponse:
    permissions.require_curator(request)
    current = _current_or_404()
    # Another page (candidate themes found in the corpus) links here with the theme's
    # suggested name, description and example statements.
    name = request.GET.get("name", "")
    initial = {
        "based_on_number": current.number,
        "key": request.GET.get("key") or _suggested_key(name),
        "name": name,
        "covers": request.GET.get("covers", ""),
        "examples": "\n".join(e.strip() for e in request.GET.getlist("example") if e.strip()),
    }
    form = AddForm(request.POST or None, initial=initial)

    def call(data: dict[str, Any]) -> codebook_revise.Revision:
        return codebook_revise.theme_add(
            actor=request.user,
            based_on_number=data["based_on_number"],
            key=data["key"],
            name=data["name"],
            covers=data["covers"],
            excludes=data["excludes"],
            examples=_lines(data["examples"]),
        )

    return _revision_page(
        request, form, call, {"action": "add", "codebook": current, "title": "Add a theme"}
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def codebook_rename(request: HttpRequest, key: str) -> HttpResponse:
    permissions.require_curator(request)
    current = _current_or_404()
    theme = Theme.objects.filter(codebook=current, key=key).first()
    if theme is None:
        raise Http404("No such theme in the current codebook.")
    initial = {
        "based_on_number": current.number,
        "new_key": theme.key,
        "name": theme.name,
        "covers": theme.covers,
        "excludes": theme.excludes,
        "examples": "\n".join(theme.examples),
    }
    form = RenameForm(request.POST or None, initial=initial)

    def call(data: dict[str, Any]) -> codebook_revise.Revision:
        return codebook_revise.theme_rename(
            actor=request.user,
            based_on_number=data["based_on_number"],
            key=theme.key,
            new_key=data["new_key"] or None,
            name=data["name"],
            covers=data["covers"],
            excludes=data["excludes"],
            examples=_lines(data["examples"]),
        )

    return _revision_page(
        request,
        form,
        call,
        {
            "action": "rename",
            "codebook": current,
            "theme": theme,
            "title": f"Rename or reword: {theme.name}",
        },
    )


def _say_if_gone(
    request: HttpRequest, keys: list[str], themes: list[Theme], current: CodebookVersion
) -> None:
    """A link that asks for themes no longer in the codebook (one revised since the link was
    made): the form opens without them, and says why."""
    if request.method != "GET":
        return
    gone = sorted({k for k in keys if k} - {t.key for t in themes})
    if gone:
        messages.warning(
            request,
            f"{', '.join(gone)} {'is not a theme' if len(gone) == 1 else 'are not themes'} "
            f"of the current codebook (version {current.number}): renamed, merged, split or "
            "removed in a revision. Choose among the current themes.",
        )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def codebook_merge(request: HttpRequest) -> HttpResponse:
    permissions.require_curator(request)
    current = _current_or_404()
    themes = list(current.themes.order_by("order", "key"))
    _say_if_gone(request, request.GET.getlist("key"), themes, current)
    form = MergeForm(
        request.POST or None,
        themes=themes,
        initial={"based_on_number": current.number, "keys": request.GET.getlist("key")},
    )

    def call(data: dict[str, Any]) -> codebook_revise.Revision:
        return codebook_revise.themes_merge(
            actor=request.user,
            based_on_number=data["based_on_number"],
            keys=data["keys"],
            key=data["key"],
            name=data["name"],
            covers=data["covers"],
            excludes=data["excludes"],
            examples=_lines(data["examples"]),
        )

    return _revision_page(
        request, form, call, {"action": "merge", "codebook": current, "title": "Merge themes"}
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def codebook_split(request: HttpRequest) -> HttpResponse:
    permissions.require_curator(request)
    current = _current_or_404()
    themes = list(current.themes.order_by("order", "key"))
    _say_if_gone(request, request.GET.getlist("key"), themes, current)
    form = SplitForm(
        request.POST or None,
        themes=themes,
        initial={"based_on_number": current.number, "key": request.GET.get("key", "")},
    )

    def call(data: dict[str, Any]) -> codebook_revise.Revision:
        return codebook_revise.theme_split(
            actor=request.user,
            based_on_number=data["based_on_number"],
            key=data["key"],
            parts=form.parts(),
        )

    def rename(name: str, message: str) -> tuple[str, str]:
        """The service numbers the parts it was given; the form numbers its fieldsets, some
        of which may have been left blank."""
        found = re.fullmatch(r"part_(\d+)_(\w+)", name)
        if found is None:
            return name, message
        number = form.filled()[int(found[1]) - 1]
        return f"part_{number}_{found[2]}", re.sub(r"^Part \d+:", f"Part {number}:", message)

    return _revision_page(
        request,
        form,
        call,
        {
            "codebook": current,
            "title": "Split a theme",
            "fieldsets": form.fieldsets(),
            "parts": PARTS,
        },
        template="themes/codebook_split.html",
        rename=rename,
    )


urlpatterns: list[URLPattern] = [
    path("themes/codebook/", codebook, name="codebook"),
    path("themes/codebook/versions/<int:number>/", codebook_version, name="codebook-version"),
    path("themes/codebook/add/", codebook_add, name="codebook-add"),
    path("themes/codebook/themes/<slug:key>/rename/", codebook_rename, name="codebook-rename"),
    path("themes/codebook/merge/", codebook_merge, name="codebook-merge"),
    path("themes/codebook/split/", codebook_split, name="codebook-split"),
]
