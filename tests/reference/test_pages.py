"""The public force and area pages."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loaded_reference")]


def get(client: Client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status
    return response.content.decode()


def queries_for(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def test_force_list_shows_every_force_by_country(client: Client) -> None:
    html = get(client, reverse("reference:force-list"))
    assert html.count('data-force="') == 44
    assert "Police forces in England" in html
    assert "Police forces in Wales" in html
    assert "Non-territorial police forces" in html
    assert "Cumbria Constabulary" in html
    assert "90,746" in html  # Cumbria's children, with a thousands separator
    assert "England only" in html  # Welsh forces have no DfE figures
    assert '<caption class="govuk-table__caption' in html
    assert 'class="govuk-table__header govuk-table__header--numeric app-numeric"' in html


def test_force_detail_shows_figures_areas_and_map(client: Client) -> None:
    html = get(client, reverse("reference:force-detail", args=["cumbria"]))
    assert '<h1 class="govuk-heading-l">Cumbria Constabulary</h1>' in html
    assert "90,746" in html
    assert "ONS mid-year population estimates, mid-2023" in html
    assert "at 31 March 2025" in html
    assert "Cumberland" in html and "Westmorland and Furness" in html
    assert html.count('data-area="') == 2
    svg = re.search(r"<svg[^>]*>.*?</svg>", html, re.S)
    assert svg is not None
    assert 'role="img"' in svg.group(0)
    assert '<title id="force-map-title">Map of the Cumbria police force area</title>' in html
    assert "<desc" in svg.group(0)
    assert 'class="app-map__area app-map__area--focus"' in svg.group(0)
    assert "app-map__area--context" in svg.group(0)  # nearby forces, faintly


def test_welsh_force_says_figures_are_not_available(client: Client) -> None:
    html = get(client, reverse("reference:force-detail", args=["gwent"]))
    assert "Not available" in html
    assert "not available for Wales" in html
    assert "Care Inspectorate Wales" in html
    assert "<svg" in html


def test_british_transport_police_has_no_map(client: Client) -> None:
    html = get(client, reverse("reference:force-detail", args=["btp"]))
    assert "British Transport Police" in html
    assert "<svg" not in html
    assert "There is no map" in html


def test_unknown_force_and_area_are_not_found(client: Client) -> None:
    get(client, reverse("reference:force-detail", args=["no-such-force"]), status=404)
    get(client, reverse("reference:area-detail", args=["E06999999"]), status=404)


def test_area_list_shows_every_area_and_filters_by_force(client: Client) -> None:
    url = reverse("reference:area-list")
    html = get(client, url)
    assert html.count('data-area="') == 175
    assert '<select name="force" class="govuk-select" id="id_force">' in html
    assert '<label class="govuk-label " for="id_force">Police force</label>' in html
    html = get(client, f"{url}?force=cumbria")
    assert html.count('data-area="') == 2
    assert "2 areas in the Cumbria Constabulary force area" in html
    html = get(client, f"{url}?force=no-such-force")
    assert "govuk-error-summary" in html
    assert html.count('data-area="') == 175


def test_area_detail_shows_figures_judgements_and_force_map(client: Client) -> None:
    html = get(client, reverse("reference:area-detail", args=["E06000001"]))
    assert "Hartlepool" in html
    assert "1,341" in html  # children in need at 31 March 2025
    assert "635.8" in html
    assert "Ofsted judgements of children" in html
    assert "ILACS" in html
    assert "The map shows the Cleveland police force area" in html
    assert "Map of the Cleveland police force area" in html
    assert "Cleveland Police" in html


def test_area_detail_shows_suppressed_values_with_the_reason(client: Client) -> None:
    html = get(client, reverse("reference:area-detail", args=["E09000001"]))
    assert "Not available" in html
    assert "Suppressed by DfE" in html


def test_welsh_area_detail(client: Client) -> None:
    html = get(client, reverse("reference:area-detail", args=["W06000001"]))
    assert "Isle of Anglesey" in html
    assert "Not available for Wales" in html
    assert "Care Inspectorate Wales, not Ofsted" in html
    assert "North Wales Police" in html


def test_pages_make_a_fixed_number_of_queries(client: Client) -> None:
    # Cumbria has 2 areas, the Metropolitan Police 32.
    cumbria = queries_for(client, reverse("reference:force-detail", args=["cumbria"]))
    met = queries_for(client, reverse("reference:force-detail", args=["metropolitan"]))
    assert cumbria == met
    url = reverse("reference:area-list")
    assert queries_for(client, url) == queries_for(client, f"{url}?force=cumbria")
    # Hartlepool has 13 years of figures and 2 judgements; Anglesey none of either.
    hartlepool = queries_for(client, reverse("reference:area-detail", args=["E06000001"]))
    anglesey = queries_for(client, reverse("reference:area-detail", args=["W06000001"]))
    assert hartlepool == anglesey
    assert queries_for(client, reverse("reference:force-list")) <= 4
