from __future__ import annotations

import re
from typing import Any

from django import forms

from .models import ContactMessage
from .search import MAX_QUERY_CHARS
from .selectors import Facets, ReportFilters

MESSAGE_MAX = 5000
NAME_MAX = 100
EMAIL_MAX = 254
MAX_LINKS = 2

# Markup of any kind: a tag (<b>, </p>, <!-- ...), a script URL or an inline event handler.
# Plain comparisons ("aged < 5", "x < y and z > w") are not tags: a tag's name follows the "<".
_MARKUP = re.compile(
    r"</?[a-z][a-z0-9-]*(?:\s[^<>]*)?/?>"
    r"|<\s*/?\s*(?:script|iframe|object|embed|style|svg|img|link|meta)\b"
    r"|<!--|<!\[cdata\[|javascript\s*:|vbscript\s*:|data\s*:\s*text/html"
    r"|\bon[a-z]+\s*=\s*[\"']",
    re.IGNORECASE,
)
_LINK = re.compile(r"\b(?:https?://|ftp://|www\.)\S+", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ReportFilterForm(forms.Form):
    """Search and filter the report list (GET). A value not on offer is shown as an error and
    ignored; a long query is cut short, never refused."""

    q = forms.CharField(label="Search reports", required=False, strip=True)
    force = forms.ChoiceField(label="Police force", required=False)
    area = forms.ChoiceField(label="Local authority area", required=False)
    programme_type = forms.ChoiceField(label="Type of inspection", required=False)
    year = forms.ChoiceField(label="Year published", required=False)

    def __init__(self, *args: Any, facets: Facets, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._choices("force", "All police forces", facets.forces)
        self._choices("area", "All areas", facets.areas)
        self._choices("programme_type", "All types", facets.programme_types)
        self._choices("year", "All years", [(str(y), str(y)) for y in facets.years])
        for name in ("force", "area", "programme_type", "year"):
            self.fields[name].error_messages["invalid_choice"] = (
                f"Choose a {self.fields[name].label.lower()} from the list"  # type: ignore[union-attr]
            )

    def _choices(self, name: str, everything: str, values: list[tuple[str, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", everything), *values]

    def clean_q(self) -> str:
        return (self.cleaned_data.get("q") or "")[:MAX_QUERY_CHARS]

    def filters(self) -> ReportFilters:
        if not self.is_bound:
            return ReportFilters()
        self.is_valid()
        data = self.cleaned_data
        year = data.get("year") or ""
        return ReportFilters(
            q=data.get("q") or "",
            force=data.get("force") or "",
            area=data.get("area") or "",
            programme_type=data.get("programme_type") or "",
            year=int(year) if year.isdigit() else None,
        )


def _plain_text(value: str, what: str, *, links: int) -> str:
    if _CONTROL.search(value):
        raise forms.ValidationError(f"{what} must not contain control characters")
    if _MARKUP.search(value):
        raise forms.ValidationError(
            f"{what} must not contain HTML, code or script (such as <script> or <a href>). "
            "Write it as plain text"
        )
    found = len(_LINK.findall(value))
    if found > links:
        if links == 0:
            raise forms.ValidationError(f"{what} must not contain web addresses")
        raise forms.ValidationError(
            f"{what} must contain no more than {links} web addresses (it has {found})"
        )
    return value


def _length_error(what: str, limit: int) -> str:
    return f"{what} must be {limit:,} characters or fewer"


class ContactForm(forms.Form):
    topic = forms.ChoiceField(
        label="What is your message about?",
        choices=ContactMessage.Topic.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select what your message is about"},
    )
    message = forms.CharField(
        label="Your message",
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=f"Up to {MESSAGE_MAX:,} characters, as plain text. Do not include the name or "
        "other details of a child.",
        error_messages={"required": "Enter your message"},
    )
    name = forms.CharField(
        label="Your name (optional)",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label="Your email address (optional)",
        required=False,
        max_length=EMAIL_MAX,
        help_text="We will send an acknowledgement here. We only use it to reply to you.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        error_messages={
            "invalid": "Enter an email address in the correct format, like name@example.com",
            "max_length": f"Your email address must be {EMAIL_MAX} characters or fewer",
        },
    )
    # A field people never see (the template hides it); automated senders fill it in.
    website = forms.CharField(label="Leave this field empty", required=False)

    # Lengths are checked here rather than with max_length, so the message names the field
    # and the browser does not cut a pasted message short without saying so.
    def clean_message(self) -> str:
        value = (self.cleaned_data.get("message") or "").strip()
        if len(value) > MESSAGE_MAX:
            raise forms.ValidationError(
                f"{_length_error('Your message', MESSAGE_MAX)} (it has {len(value):,})"
            )
        return _plain_text(value, "Your message", links=MAX_LINKS)

    def clean_name(self) -> str:
        value = (self.cleaned_data.get("name") or "").strip()
        if len(value) > NAME_MAX:
            raise forms.ValidationError(_length_error("Your name", NAME_MAX))
        return _plain_text(value, "Your name", links=0)

    def clean_email(self) -> str:
        return (self.cleaned_data.get("email") or "").strip()

    @property
    def is_spam(self) -> bool:
        """The hidden field was filled in: an automated sender."""
        return bool((self.data.get("website") or "").strip())


class HandledForm(forms.Form):
    note = forms.CharField(
        label="What was done (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: passed to the lead inspector; replied by email.",
    )
