"""Follow-up tests build on the fieldwork fixture (a Northshire NCPI with its team, a
Southshire NCPI with another team, and a user of every role, including a liaison of each
force). Both inspections get findings and are then published as history: their state,
recommendations' due dates, first public status and follow-up record are written the way
publication writes them (publication itself is tested in tests/reports and, with follow-up,
in test_services.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.db import transaction

from apps.core.audit import SystemActor
from apps.findings import services as findings_services
from apps.findings.models import Finding, Kind, RecommendationStatus
from apps.findings.services import RecommendationTerms
from apps.followup import services
from apps.followup.models import FollowUp
from apps.inspections.models import Inspection, State
from tests.fieldwork.conftest import Fieldwork, fw  # noqa: F401

SYSTEM = SystemActor("tests")
PUBLISHED_ON = dt.date(2026, 10, 1)


@dataclass
class Published:
    fw: Fieldwork
    cause: Finding  # Northshire's cause of concern
    concern_rec: Finding  # its recommendation (within 3 months)
    immediate: Finding  # an "immediately" recommendation
    later: Finding  # within 6 months
    other_rec: Finding  # Southshire's recommendation

    @property
    def users(self):
        return self.fw.users

    @property
    def inspection(self) -> Inspection:
        return self.fw.inspection

    @property
    def other(self) -> Inspection:
        return self.fw.other_inspection

    def refresh(self) -> None:
        for name in ("cause", "concern_rec", "immediate", "later", "other_rec"):
            getattr(self, name).refresh_from_db()


def publish_as_history(inspection: Inspection, on: dt.date = PUBLISHED_ON) -> None:
    Inspection.objects.filter(pk=inspection.pk).update(state=State.PUBLISHED, state_changed_on=on)
    inspection.refresh_from_db()
    for finding in Finding.objects.filter(
        inspection=inspection, kind__in=[Kind.RECOMMENDATION, Kind.CAUSE_OF_CONCERN]
    ):
        if finding.kind == Kind.RECOMMENDATION:
            finding.due_on = finding.due_date_on_publication(on)
            Finding.objects.filter(pk=finding.pk).update(due_on=finding.due_on)
        with transaction.atomic():
            services.status_record(
                actor=SYSTEM,
                recommendation=finding,
                status=RecommendationStatus.AWAITING_RESPONSE,
                on=on,
                note="Published",
            )
    services.follow_up_start(inspection=inspection, published_on=on)


@pytest.fixture
def pub(fw) -> Published:  # noqa: F811
    inspector = fw.users["inspector"]
    cause = findings_services.finding_create(
        actor=inspector,
        inspection=fw.inspection,
        kind=Kind.CAUSE_OF_CONCERN,
        stage="initial_contact",
        headline="Officers too often fail to see the risk to children at domestic abuse incidents.",
        recommendations=[
            RecommendationTerms(
                headline="Make sure officers record the voice of the child at every incident.",
                timescale_months=3,
            )
        ],
    )
    concern_rec = Finding.objects.get(cause_of_concern=cause)
    immediate = findings_services.finding_create(
        actor=inspector,
        inspection=fw.inspection,
        kind=Kind.RECOMMENDATION,
        stage="investigation",
        headline="Review every open investigation of child sexual abuse older than six months.",
        terms=RecommendationTerms(
            headline="Review every open investigation of child sexual abuse older than six months.",
            timescale="immediately",
            timescale_months=None,
        ),
    )
    later = findings_services.finding_create(
        actor=inspector,
        inspection=fw.inspection,
        kind=Kind.RECOMMENDATION,
        stage="decision_making",
        headline="Improve the supervision of child protection investigations.",
        terms=RecommendationTerms(
            headline="Improve the supervision of child protection investigations.",
            to_pcc=True,
        ),
    )
    other_rec = findings_services.finding_create(
        actor=fw.users["outsider"],
        inspection=fw.other_inspection,
        kind=Kind.RECOMMENDATION,
        stage="investigation",
        headline="Make sure missing children are seen on their return.",
        terms=RecommendationTerms(
            headline="Make sure missing children are seen on their return.", timescale_months=3
        ),
    )
    publish_as_history(fw.inspection)
    publish_as_history(fw.other_inspection)
    published = Published(fw, cause, concern_rec, immediate, later, other_rec)
    published.refresh()
    assert FollowUp.objects.count() == 2
    return published
