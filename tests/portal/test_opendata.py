"""Open data: every download parses, matches the documented schema (the page and
docs/open-data.md) and holds only current versions; CSV cells are spreadsheet-safe."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from apps.portal import opendata
from tests.factories import ForceFactory

from .conftest import Publisher

pytestmark = pytest.mark.django_db

TYPE_CHECKS = {
    "text": lambda v: isinstance(v, str),
    "code": lambda v: isinstance(v, str) and v == v.lower(),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "date": lambda v: isinstance(v, str) and dt.date.fromisoformat(v) is not None,
    "URL": lambda v: isinstance(v, str) and v.startswith(("http://", "https://")),
    "list of text": lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
    "list of steps": lambda v: (
        isinstance(v, list) and all(set(i) == {"status", "on", "note"} for i in v)
    ),
}


def _check(type_: str, value) -> bool:
    if type_.endswith(" or empty"):
        if value is None:
            return True
        type_ = type_.removesuffix(" or empty")
    return TYPE_CHECKS[type_](value)


@pytest.fixture
def published(publisher: Publisher):
    force = ForceFactory(slug="northshire", name="=Northshire Police")  # a formula-like name
    first = publisher.publish(
        forces=[force],
        recommendations=["Improve supervision", "-Train staff"],
        statuses=[("being_progressed", dt.date(2025, 8, 1), "Plan received")],
    )
    publisher.republish(first, change_note="Corrected")
    second = publisher.publish(grades=None, title="@No case audits")
    return first, second


def download(client, dataset: str, fmt: str):
    response = client.get(reverse("portal:open-data-file", args=[dataset, fmt]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{dataset}.{fmt}"'
    return response


@pytest.mark.parametrize("dataset", list(opendata.DATASETS))
def test_json_matches_the_schema(client, published, dataset: str) -> None:
    response = download(client, dataset, "json")
    assert response["Content-Type"] == "application/json"
    document = json.loads(response.content)
    columns = opendata.DATASETS[dataset].columns
    assert document["dataset"] == dataset
    assert document["licence"] == "Open Government Licence v3.0"
    assert [f["name"] for f in document["fields"]] == [c.name for c in columns]
    assert document["records"], "the fixture publishes something for every dataset"
    for record in document["records"]:
        assert list(record) == [c.name for c in columns]
        for column in columns:
            assert _check(column.type, record[column.name]), (column, record[column.name])


@pytest.mark.parametrize("dataset", list(opendata.DATASETS))
def test_csv_matches_the_schema_and_is_spreadsheet_safe(client, published, dataset) -> None:
    response = download(client, dataset, "csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")  # byte order mark
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [c.name for c in opendata.DATASETS[dataset].columns]
    records = json.loads(download(client, dataset, "json").content)["records"]
    assert len(rows) - 1 == len(records)
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell


def test_reports_hold_current_versions_only(client, published) -> None:
    first, second = published
    records = json.loads(download(client, "reports", "json").content)["records"]
    assert {(r["slug"], r["version"]) for r in records} == {(first.slug, 2), (second.slug, 1)}
    mine = next(r for r in records if r["slug"] == first.slug)
    assert mine["forces"] == ["northshire"]
    assert mine["force_names"] == ["=Northshire Police"]
    assert mine["recommendations"] == 2
    assert mine["cases_graded"] == 55
    assert mine["url"].endswith(f"/reports/{first.slug}/")
    assert mine["pdf_url"].endswith(f"/reports/{first.slug}/report.pdf")
    other = next(r for r in records if r["slug"] == second.slug)
    assert other["cases_graded"] is None
    csv_rows = list(
        csv.DictReader(io.StringIO(download(client, "reports", "csv").content.decode("utf-8-sig")))
    )
    row = next(r for r in csv_rows if r["slug"] == first.slug)
    assert row["force_names"] == "'=Northshire Police"
    assert next(r for r in csv_rows if r["slug"] == second.slug)["title"] == "'@No case audits"


def test_recommendations_carry_their_current_status(client, published) -> None:
    first, _ = published
    records = json.loads(download(client, "recommendations", "json").content)["records"]
    assert [r["number"] for r in records] == [1, 2]
    rec = records[0]
    assert rec["recommendation_id"] == first.recommendations[0].pk
    assert rec["status"] == "being_progressed" and rec["status_on"] == "2025-08-01"
    assert rec["status_label"] == "Being progressed"
    assert [s["status"] for s in rec["history"]] == ["awaiting_response", "being_progressed"]
    assert rec["history"][1]["note"] == "Plan received"
    rows = list(
        csv.DictReader(
            io.StringIO(download(client, "recommendations", "csv").content.decode("utf-8-sig"))
        )
    )
    assert rows[0]["history"] == "2025-06-02 awaiting_response; 2025-08-01 being_progressed"
    assert rows[1]["text"] == "'-Train staff"


def test_case_grades_are_long_with_suppression(client, published) -> None:
    first, _ = published
    records = json.loads(download(client, "case-grades", "json").content)["records"]
    assert {r["report_slug"] for r in records} == {first.slug}  # the other has no audits
    methodology = [r for r in records if r["scale"] == "methodology"]
    common = [r for r in records if r["scale"] == "common"]
    assert [(r["grade"], r["count"], r["suppressed"]) for r in methodology] == [
        ("good", 20, False),
        ("requires improvement", 31, False),
        ("inadequate", None, True),
    ]
    assert [r["grade"] for r in common] == ["good", "requires_improvement", "inadequate"]
    assert [r["grade_order"] for r in common] == [1, 2, 3]
    rows = list(
        csv.DictReader(
            io.StringIO(download(client, "case-grades", "csv").content.decode("utf-8-sig"))
        )
    )
    suppressed = [r for r in rows if r["suppressed"] == "true"]
    assert len(suppressed) == 2 and all(r["count"] == "" for r in suppressed)


def test_unknown_downloads_are_not_found(client) -> None:
    assert client.get("/open-data/nothing.csv").status_code == 404
    assert client.get("/open-data/reports.xlsx").status_code == 404


def test_the_page_and_the_docs_document_every_field(client, published) -> None:
    page = html.unescape(client.get(reverse("portal:open-data")).content.decode())
    docs = (Path(settings.BASE_DIR) / "docs" / "open-data.md").read_text()
    for dataset in opendata.DATASETS.values():
        assert f'href="/open-data/{dataset.slug}.csv"' in page
        assert f'href="/open-data/{dataset.slug}.json"' in page
        table = re.search(rf'data-dataset="{dataset.slug}".*?</table>', page, re.S).group(0)
        for column in dataset.columns:
            assert (
                f'<code>{column.name}</code></th><td class="govuk-table__cell">{column.type}</td>'
                in table
            )
            assert f"| `{column.name}` | {column.type} | {column.meaning} |" in docs, column.name
    assert "Open Government Licence v3.0" in page


def test_downloads_follow_new_publications(client, publisher: Publisher) -> None:
    from apps.core.cache import data_changed

    assert json.loads(download(client, "reports", "json").content)["records"] == []
    publisher.publish()
    data_changed("publications")
    assert len(json.loads(download(client, "reports", "json").content)["records"]) == 1
