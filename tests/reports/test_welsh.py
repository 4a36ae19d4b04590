"""The Welsh-language version of a Welsh force's report."""

from __future__ import annotations

import pytest

from apps.findings.models import RecommendationStatusChange
from apps.reference.models import Force
from apps.reports import services
from apps.reports.models import Publication, Report, SectionKind
from apps.reports.services import ReportError

from .conftest import TODAY

pytestmark = pytest.mark.django_db


def _publish_english(drafted) -> Publication:
    drafted.to_quality_assurance()
    services.disclosure_run(actor=drafted.users["inspector"], report=drafted.report)
    services.small_numbers_withhold_all(actor=drafted.users["inspector"], report=drafted.report)
    services.report_sign_off(actor=drafted.users["lead"], report=drafted.report)
    return services.report_publish(actor=drafted.users["manager"], report=drafted.report, on=TODAY)


def _translate_and_sign_off(drafted, welsh: Report) -> None:
    """Every section of the Welsh report translated (the foreword retitled), checked, its
    small numbers withheld and signed off by the lead."""
    for section in welsh.sections.all():
        services.section_save(
            actor=drafted.users["second"],
            section=section,
            body="Mae'r adran hon yn disgrifio'r hyn a welsom yn ystod yr arolygiad.",
            expected_version=section.version,
            title=section.title + " (cy)" if section.kind == SectionKind.FOREWORD else None,
        )
    services.disclosure_run(actor=drafted.users["second"], report=welsh)
    services.small_numbers_withhold_all(actor=drafted.users["second"], report=welsh)
    services.report_sign_off(actor=drafted.users["lead"], report=welsh)


def test_only_a_welsh_force_has_a_welsh_version(drafted):
    with pytest.raises(ReportError, match="forces in Wales"):
        services.welsh_report_start(actor=drafted.users["inspector"], inspection=drafted.inspection)
    Force.objects.filter(slug="northshire").update(country="wales")
    welsh = services.welsh_report_start(
        actor=drafted.users["inspector"], inspection=drafted.inspection
    )
    assert welsh.language == "cy"
    english_kinds = list(drafted.report.sections.values_list("kind", "stage"))
    assert list(welsh.sections.values_list("kind", "stage")) == english_kinds
    assert welsh.sections.get(kind=SectionKind.SUMMARY).title == "Crynodeb"
    again = services.welsh_report_start(actor=drafted.users["lead"], inspection=drafted.inspection)
    assert again == welsh


def test_the_welsh_version_is_published_after_the_english_one(drafted):
    Force.objects.filter(slug="northshire").update(country="wales")
    welsh = services.welsh_report_start(
        actor=drafted.users["inspector"], inspection=drafted.inspection
    )
    reasons = services.publication_blockers(welsh)
    assert "Publish the English report first." in reasons
    assert any(r.startswith("Translate every section") for r in reasons)
    english = _publish_english(drafted)
    _translate_and_sign_off(drafted, welsh)
    welsh.refresh_from_db()
    assert services.publication_blockers(welsh) == []
    publication = services.report_publish(actor=drafted.users["manager"], report=welsh, on=TODAY)
    assert (publication.language, publication.slug, publication.version) == (
        "cy",
        english.slug,
        1,
    )
    assert "disgrifio&#x27;r hyn a welsom" in publication.body_html
    # The translator's text stands alone: the English findings are not added to it.
    assert drafted.cause.headline not in publication.body_html
    assert "Rhagair (cy)" in [c["title"] for c in publication.contents]
    assert publication.pdf[:5] == b"%PDF-"
    # The inspection moved to published once, and the public history started once.
    assert drafted.inspection.state_changes.filter(to_state="published").count() == 1
    # (one step each for the recommendation and its cause of concern)
    assert RecommendationStatusChange.objects.count() == 2
    assert set(RecommendationStatusChange.objects.values_list("recommendation_id", flat=True)) == {
        drafted.cause.pk,
        drafted.cause.recommendations.get().pk,
    }
    assert Report.objects.filter(inspection=drafted.inspection).count() == 2
