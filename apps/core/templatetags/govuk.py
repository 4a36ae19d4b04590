"""Render Django form fields as GOV.UK Design System components."""

from __future__ import annotations

from typing import Any

from django import forms, template
from django.core.exceptions import NON_FIELD_ERRORS

register = template.Library()


def _kind(field: forms.BoundField) -> str:
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.Select):
        return "select"
    if isinstance(widget, forms.Textarea):
        return "textarea"
    if isinstance(widget, forms.HiddenInput):
        return "hidden"
    return "input"


_INPUT_CLASSES = {
    forms.DateInput: "govuk-input govuk-input--width-10",
    forms.NumberInput: "govuk-input govuk-input--width-5",
    forms.FileInput: "govuk-file-upload",
}


@register.inclusion_tag("includes/form/field.html")
def govuk_field(field: forms.BoundField, hint: str = "", label_class: str = "") -> dict[str, Any]:
    kind = _kind(field)
    widget = field.field.widget
    css = "govuk-input"
    if kind == "select":
        css = "govuk-select"
    elif kind == "textarea":
        css = "govuk-textarea"
    else:
        for widget_type, classes in _INPUT_CLASSES.items():
            if isinstance(widget, widget_type):
                css = classes
    if field.errors:
        css += {"select": " govuk-select--error", "textarea": " govuk-textarea--error"}.get(
            kind, " govuk-input--error"
        )
    described_by = []
    if hint or field.help_text:
        described_by.append(f"{field.auto_id}-hint")
    if field.errors:
        described_by.append(f"{field.auto_id}-error")
    attrs: dict[str, str | bool] = {"class": css}
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    widget_html = (
        field.as_widget(attrs=attrs) if kind in {"input", "select", "textarea", "hidden"} else ""
    )
    return {
        "field": field,
        "kind": kind,
        "hint": hint or field.help_text,
        "label_class": label_class,
        "widget_html": widget_html,
        "described_by": " ".join(described_by),
    }


@register.inclusion_tag("includes/form/error_summary.html")
def govuk_error_summary(*forms_on_page: Any) -> dict[str, Any]:
    """One summary of every error of the page's forms (GOV.UK: one error summary a page),
    each linked to its field. A form the page does not have (None, or "" for a name not in
    the context) is skipped; anything else that is not a form is a mistake in the template."""
    items: list[dict[str, object]] = []
    for form in forms_on_page:
        if form is None or form == "":
            continue
        if not isinstance(form, forms.BaseForm):
            raise TypeError(f"govuk_error_summary takes forms, not {type(form).__name__}.")
        for name, errors in form.errors.items():
            if name == NON_FIELD_ERRORS:
                items.extend({"href": "", "text": e} for e in errors)
                continue
            bound = form[name]
            target = bound.auto_id
            if _kind(bound) in {"radios", "checkboxes"}:
                target = f"{bound.auto_id}_0"
            items.extend({"href": f"#{target}", "text": e} for e in errors)
    return {"items": items}
