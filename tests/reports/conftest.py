"""Report tests build on the fieldwork fixture (a Northshire NCPI in fieldwork with its team,
and a user of every role), with findings and a started report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from apps.findings import services as findings_services
from apps.findings.models import Finding, Kind
from apps.findings.services import RecommendationTerms
from apps.inspections import services as inspection_services
from apps.inspections.models import State
from apps.reports import services
from apps.reports.models import Report, ReportSection, SectionKind
from tests.fieldwork.conftest import Fieldwork, fw  # noqa: F401

TODAY = dt.date(2026, 11, 26)


@dataclass
class Drafted:
    fw: Fieldwork
    report: Report
    cause: Finding

    @property
    def users(self):
        return self.fw.users

    @property
    def inspection(self):
        return self.fw.inspection

    def section(self, kind: str, stage: str = "") -> ReportSection:
        return ReportSection.objects.get(report=self.report, kind=kind, stage=stage)

    def write(self, kind: str, body: str, user: str = "inspector", stage: str = "") -> None:
        section = self.section(kind, stage)
        services.section_save(
            actor=self.users[user], section=section, body=body, expected_version=section.version
        )

    def to_quality_assurance(self) -> None:
        for target in (State.REPORTING, State.QUALITY_ASSURANCE):
            inspection_services.inspection_transition(
                actor=self.users["manager"], inspection=self.inspection, target=target, on=TODAY
            )


@pytest.fixture
def drafted(fw) -> Drafted:  # noqa: F811
    cause = findings_services.finding_create(
        actor=fw.users["inspector"],
        inspection=fw.inspection,
        kind=Kind.CAUSE_OF_CONCERN,
        stage="initial_contact",
        headline="Officers too often fail to see the risk to children at domestic abuse incidents.",
        narrative="In 12 of the 30 cases we audited, officers did not record the child's views.",
        recommendations=[
            RecommendationTerms(
                headline="Make sure officers record the voice of the child at every incident.",
                timescale_months=3,
            )
        ],
    )
    findings_services.finding_create(
        actor=fw.users["inspector"],
        inspection=fw.inspection,
        kind=Kind.STRENGTH,
        stage="investigation",
        headline="Investigations of child sexual abuse are thorough.",
    )
    report = services.report_start(actor=fw.users["inspector"], inspection=fw.inspection)
    drafted = Drafted(fw, report, cause)
    drafted.write(
        SectionKind.SUMMARY,
        "Northshire Police has made progress since our last inspection, but too many children "
        "still wait too long for help.",
    )
    return drafted


@pytest.fixture
def small_numbers(drafted: Drafted) -> Drafted:
    """Case audits whose tables have counts of 1 to 4, found by the check and still open."""
    fieldwork = drafted.fw
    fieldwork.upload()
    fieldwork.draw(
        quotas={"domestic_abuse": 6, "missing_children": 5, "child_sexual_exploitation": 5}
    )
    cases = list(fieldwork.inspection.sampled_cases.filter(for_moderation=False).order_by("pk"))
    for case, grade in zip(cases, ["good", "inadequate", "good", "good"], strict=False):
        fieldwork.complete(fieldwork.audit(case, "inspector"), grade)
    result = services.disclosure_run(actor=drafted.users["inspector"], report=drafted.report)
    assert result.small_numbers > 0
    return drafted
