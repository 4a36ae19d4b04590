"""The GOV.UK error summary: one a page, listing every form's errors, each linked to its
field."""

from __future__ import annotations

import pytest
from django import forms
from django.template import Context, Template


class _Finding(forms.Form):
    headline = forms.CharField()


class _Recommendation(forms.Form):
    timescale = forms.ChoiceField(choices=[("now", "Now"), ("later", "Later")])


def _render(**context: object) -> str:
    template = Template("{% load govuk %}{% govuk_error_summary form rec_form %}")
    return template.render(Context(context))


def test_one_summary_lists_the_errors_of_every_form_on_the_page():
    html = _render(form=_Finding(data={}), rec_form=_Recommendation(data={}, prefix="rec"))
    assert html.count('class="govuk-error-summary"') == 1
    assert html.count("This field is required.") == 2
    assert 'href="#id_headline"' in html and 'href="#id_rec-timescale"' in html


def test_a_missing_form_or_one_without_errors_adds_nothing():
    assert 'class="govuk-error-summary"' not in _render(form=_Finding(data={"headline": "x"}))
    html = _render(form=_Finding(data={}))  # rec_form is not in the context
    assert html.count("This field is required.") == 1


def test_something_else_than_a_form_is_a_mistake_in_the_template():
    with pytest.raises(TypeError, match="takes forms, not list"):
        _render(form=_Finding(data={}), rec_form=[1])
