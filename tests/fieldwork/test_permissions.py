"""Who may see and do what in fieldwork, page by page and person by person.

For every fieldwork and notification URL, each person of the `fw` fixture (and an anonymous
visitor) gets the expected status: sent to sign in when anonymous; 404 where the inspection
(or, for a single audit or referral, the record) is hidden from them; 403 where they see
the inspection but may not do this; 200 (or a redirect after a write) where they may.
Writes are tried by each person in turn, each rolled back, and must change the data exactly
when they are allowed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from apps.fieldwork import services
from apps.fieldwork.models import (
    CaseAudit,
    EligibleCase,
    Referral,
    Resolution,
    Sample,
    SampledCase,
)
from apps.notifications.models import Notification
from apps.notifications.services import notify

from .conftest import AREAS, Fieldwork

USERS = (
    "anonymous",
    "lead",
    "inspector",
    "second",
    "third",
    "outsider",
    "manager",
    "analyst",
    "partner",
    "liaison",
    "other_liaison",
    "admin",
)
TEAM = frozenset({"lead", "inspector", "second", "third"})
# People who cannot see the inspection at all: the other inspection's lead, a partner
# inspector (not on a joint inspection) and another force's liaison.
INSPECTION_HIDDEN = frozenset({"outsider", "partner", "other_liaison"})
RESULTS = TEAM | {"manager", "analyst", "admin"}
REFERRALS = TEAM | {"manager", "liaison"}
# Signed in, but not on the team: a single audit or referral is not found for them.
NOT_ON_TEAM = frozenset({"manager", "analyst", "admin", "liaison"})


def expected(
    allowed: frozenset[str] | set[str],
    *,
    ok: int = 200,
    not_found: frozenset[str] | set[str] = frozenset(),
    inspection_hidden: frozenset[str] = INSPECTION_HIDDEN,
) -> dict[str, int]:
    statuses = {}
    for user in USERS:
        if user == "anonymous":
            statuses[user] = 302
        elif user in inspection_hidden or user in not_found:
            statuses[user] = 404
        elif user in allowed:
            statuses[user] = ok
        else:
            statuses[user] = 403
    return statuses


def everyone(status: int) -> dict[str, int]:
    return {user: 302 if user == "anonymous" else status for user in USERS}


@dataclass
class World:
    fw: Fieldwork
    sample: Sample
    plain: SampledCase  # not selected for second marking
    draft: CaseAudit  # the inspector's draft audit of `plain`
    fresh: SampledCase  # no audit yet
    marked: SampledCase  # audited and second-marked, both submitted
    referral: Referral  # about `plain`

    @property
    def pk(self) -> int:
        return self.fw.inspection.pk


@pytest.fixture
def world(fw) -> World:
    fw.upload()
    sample = fw.draw()
    cases = list(SampledCase.objects.filter(sample=sample))
    plain, fresh = [c for c in cases if not c.for_moderation][:2]
    marked = next(c for c in cases if c.for_moderation)
    draft = fw.audit(plain, "inspector")
    fw.complete(fw.audit(marked, "inspector"), "good")
    fw.complete(fw.audit(marked, "second", "second"), "good")
    referral = services.referral_raise(actor=fw.users["third"], case=plain, concern="At risk now")
    return World(fw, sample, plain, draft, fresh, marked, referral)


def _as(client, fw: Fieldwork, user: str) -> None:
    if user == "anonymous":
        client.logout()
    else:
        client.force_login(fw.users[user])


def statuses(
    client,
    fw: Fieldwork,
    method: str,
    url: str,
    data: Callable[[], Any] | None = None,
    effect: Callable[[], Any] | None = None,
    allowed_status: int = 302,
    **extra: Any,
) -> dict[str, int]:
    """Each person's status for the request. Each request runs in a savepoint that is rolled
    back; with `effect`, the data it reads must change exactly when the request succeeds."""
    found = {}
    for user in USERS:
        with transaction.atomic():
            _as(client, fw, user)
            before = effect() if effect else None
            kwargs = dict(extra)
            if data is not None:
                kwargs["data"] = data()
            response = getattr(client, method)(url, **kwargs)
            found[user] = response.status_code
            if user == "anonymous":
                assert response.status_code == 302
                assert response.url.startswith(reverse("accounts:sign-in")), response.url
            if effect is not None:
                succeeded = user != "anonymous" and response.status_code == allowed_status
                assert (effect() != before) == succeeded, (user, response.status_code, before)
            transaction.set_rollback(True)
    return found


# Reading ------------------------------------------------------------------------------------


def _args(*names: str) -> Callable[[World], list[Any]]:
    def build(world: World) -> list[Any]:
        values = {
            "pk": world.pk,
            "plain": world.plain.pk,
            "marked": world.marked.pk,
            "draft": world.draft.pk,
            "referral": world.referral.pk,
        }
        return [values.get(name, name) for name in names]

    return build


GET_CASES = {
    "overview": (
        "fieldwork:overview",
        _args("pk"),
        expected(TEAM | {"manager", "analyst", "admin", "liaison"}),
    ),
    "case-list-upload": ("fieldwork:case-list-upload", _args("pk"), expected(TEAM | {"liaison"})),
    "sample": ("fieldwork:sample", _args("pk"), expected(TEAM)),
    "case-replace": ("fieldwork:case-replace", _args("pk", "plain"), expected({"lead"})),
    "audit-start": ("fieldwork:audit-start", _args("pk", "plain", "primary"), everyone(405)),
    "audit": (
        "fieldwork:audit",
        _args("pk", "draft"),
        expected(TEAM, not_found=NOT_ON_TEAM),
    ),
    "audit-save": ("fieldwork:audit-save", _args("pk", "draft"), everyone(405)),
    "referral-create": ("fieldwork:referral-create", _args("pk", "plain"), expected(TEAM)),
    "referrals": ("fieldwork:referrals", _args("pk"), expected(REFERRALS)),
    "referral": (
        "fieldwork:referral",
        _args("pk", "referral"),
        expected(REFERRALS, not_found={"analyst", "admin"}),
    ),
    "moderation": ("fieldwork:moderation", _args("pk"), expected({"lead"})),
    "resolve": ("fieldwork:resolve", _args("pk", "marked"), expected({"lead"})),
    "agreement": ("fieldwork:agreement", _args("pk"), expected(RESULTS)),
    "results": ("fieldwork:results", _args("pk"), expected(RESULTS)),
    "results-csv": ("fieldwork:results-export", _args("pk", "csv"), expected(RESULTS)),
    "results-xlsx": ("fieldwork:results-export", _args("pk", "xlsx"), expected(RESULTS)),
    # Not about one inspection: every member of the inspectorate's staff.
    "national": (
        "fieldwork:national",
        _args(),
        expected(RESULTS | {"outsider"}, inspection_hidden=frozenset()),
    ),
    "notifications": ("notifications:list", _args(), everyone(200)),
    "notifications-read": ("notifications:read", _args(), everyone(405)),
}


@pytest.mark.parametrize("case", GET_CASES)
def test_get(client, world, case):
    name, args, wanted = GET_CASES[case]
    url = reverse(name, args=args(world))
    assert statuses(client, world.fw, "get", url) == wanted


def test_every_url_is_in_the_matrix():
    from apps.fieldwork.urls import urlpatterns as fieldwork_urls
    from apps.notifications.urls import urlpatterns as notification_urls

    covered = {name for name, _, _ in GET_CASES.values()}
    names = {f"fieldwork:{p.name}" for p in fieldwork_urls}
    names |= {f"notifications:{p.name}" for p in notification_urls}
    assert names == covered


# Writing ------------------------------------------------------------------------------------


def test_post_case_list_upload(client, fw):
    fw.upload(per_area=5)
    content = fw.case_list_csv(per_area=7)
    found = statuses(
        client,
        fw,
        "post",
        reverse("fieldwork:case-list-upload", args=[fw.inspection.pk]),
        data=lambda: {"file": SimpleUploadedFile("cases.csv", content, "text/csv")},
        effect=lambda: EligibleCase.objects.filter(inspection=fw.inspection).count(),
    )
    assert found == expected(TEAM | {"liaison"}, ok=302)


def test_post_sample_draw(client, fw):
    fw.upload(per_area=10)
    form = {f"quota_{area}": "3" for area in AREAS} | {
        "rationale": "Tests",
        "seed": "",
        "moderation_share": "10",
        "moderation_minimum": "5",
        "kappa_threshold": "0.6",
    }
    found = statuses(
        client,
        fw,
        "post",
        reverse("fieldwork:sample", args=[fw.inspection.pk]),
        data=lambda: form,
        effect=lambda: Sample.objects.filter(inspection=fw.inspection).count(),
    )
    assert found == expected({"lead"}, ok=302)


def _post_cases(world: World) -> dict[str, tuple[str, dict[str, Any], Callable[[], Any], Any]]:
    pk = world.pk
    return {
        "case-replace": (
            reverse("fieldwork:case-replace", args=[pk, world.fresh.pk]),
            {"data": lambda: {"reason": "The file is missing"}},
            lambda: SampledCase.objects.get(pk=world.fresh.pk).status,
            expected({"lead"}, ok=302),
        ),
        "audit-start": (
            reverse("fieldwork:audit-start", args=[pk, world.fresh.pk, "primary"]),
            {},
            lambda: CaseAudit.objects.filter(sampled_case=world.fresh).count(),
            expected(TEAM, ok=302),
        ),
        "audit": (
            reverse("fieldwork:audit", args=[pk, world.draft.pk]),
            {
                "data": lambda: {
                    "version": str(CaseAudit.objects.get(pk=world.draft.pk).version),
                    "overall_grade": "good",
                    "save": "1",
                }
            },
            lambda: CaseAudit.objects.get(pk=world.draft.pk).version,
            expected({"lead", "inspector"}, ok=302, not_found=NOT_ON_TEAM),
        ),
        "referral-create": (
            reverse("fieldwork:referral-create", args=[pk, world.fresh.pk]),
            {"data": lambda: {"concern": "At risk now"}},
            lambda: Referral.objects.count(),
            expected(TEAM, ok=302),
        ),
        "referral-acknowledge": (
            reverse("fieldwork:referral", args=[pk, world.referral.pk]),
            {"data": lambda: {"step": "acknowledge"}},
            lambda: Referral.objects.get(pk=world.referral.pk).status,
            expected({"lead", "liaison"}, ok=302, not_found={"analyst", "admin"}),
        ),
        "moderation": (
            reverse("fieldwork:moderation", args=[pk]),
            {
                "data": lambda: {
                    "version": "1",
                    "moderation_share": "20",
                    "moderation_minimum": "5",
                    "kappa_threshold": "0.6",
                }
            },
            lambda: Sample.objects.get(pk=world.sample.pk).version,
            expected({"lead"}, ok=302),
        ),
        "resolve": (
            reverse("fieldwork:resolve", args=[pk, world.marked.pk]),
            {"data": lambda: {"agreed_grade": "good", "reason": "Both agree"}},
            lambda: Resolution.objects.count(),
            expected({"lead"}, ok=302),
        ),
    }


POST_CASES = ["case-replace", "audit-start", "audit", "referral-create", "referral-acknowledge"]
POST_CASES += ["moderation", "resolve"]


@pytest.mark.parametrize("case", POST_CASES)
def test_post(client, world, case):
    url, kwargs, effect, wanted = _post_cases(world)[case]
    assert statuses(client, world.fw, "post", url, effect=effect, **kwargs) == wanted


def test_post_audit_save(client, world):
    """The autosave endpoint answers in JSON: 403 for a team member who may not change the
    audit, 404 (as for the page) for someone not on the team."""
    url = reverse("fieldwork:audit-save", args=[world.pk, world.draft.pk])
    bodies = {}

    def payload() -> str:
        version = CaseAudit.objects.get(pk=world.draft.pk).version
        return json.dumps({"version": version, "values": {"overall_grade": "good"}})

    found = {}
    for user in USERS:
        with transaction.atomic():
            _as(client, world.fw, user)
            before = CaseAudit.objects.get(pk=world.draft.pk).version
            response = client.post(url, payload(), content_type="application/json")
            found[user] = response.status_code
            if response.get("Content-Type") == "application/json":
                bodies[user] = response.json()
            after = CaseAudit.objects.get(pk=world.draft.pk).version
            assert (after != before) == (response.status_code == 200), user
            transaction.set_rollback(True)
    assert found == expected({"lead", "inspector"}, not_found=NOT_ON_TEAM)
    for user in ("second", "third"):
        assert bodies[user] == {"error": "You cannot change this audit."}
    for user in ("lead", "inspector"):
        assert bodies[user]["version"] == world.draft.version + 1


def test_post_notifications_read(client, world):
    fw = world.fw
    with transaction.atomic():
        notify(recipients=fw.users.values(), subject="Hello", body="A notice")
    found = statuses(
        client,
        fw,
        "post",
        reverse("notifications:read"),
        effect=lambda: Notification.objects.filter(read_at__isnull=True).count(),
    )
    assert found == everyone(302)


def test_only_the_lead_closes_a_referral(client, world):
    fw = world.fw
    referral = services.referral_record_action(
        actor=fw.users["liaison"], referral=world.referral, action="Visited"
    )
    url = reverse("fieldwork:referral", args=[world.pk, referral.pk])
    found = statuses(
        client,
        fw,
        "post",
        url,
        data=lambda: {"step": "close", "closing_note": "Done"},
        effect=lambda: Referral.objects.get(pk=referral.pk).status,
    )
    assert found == expected({"lead"}, ok=302, not_found={"analyst", "admin"})


def test_the_force_answers_but_other_inspectors_do_not(client, world):
    fw = world.fw
    url = reverse("fieldwork:referral", args=[world.pk, world.referral.pk])
    found = statuses(
        client,
        fw,
        "post",
        url,
        data=lambda: {"step": "action", "force_action": "Officers visited"},
        effect=lambda: Referral.objects.get(pk=world.referral.pk).status,
    )
    assert found == expected({"lead", "liaison"}, ok=302, not_found={"analyst", "admin"})


@pytest.mark.parametrize(
    ("name", "method", "obj"),
    [
        ("fieldwork:case-replace", "get", "plain"),
        ("fieldwork:case-replace", "post", "fresh"),
        ("fieldwork:audit", "get", "draft"),
        ("fieldwork:audit", "post", "draft"),
        ("fieldwork:audit-save", "post", "draft"),
        ("fieldwork:referral-create", "get", "fresh"),
        ("fieldwork:referral", "get", "referral"),
        ("fieldwork:referral", "post", "referral"),
        ("fieldwork:resolve", "get", "marked"),
    ],
)
def test_records_are_not_reached_through_another_inspection(client, world, name, method, obj):
    """The other inspection's lead, on their own inspection's URLs, cannot reach this
    inspection's cases, audits or referrals by their ids."""
    client.force_login(world.fw.users["outsider"])
    url = reverse(name, args=[world.fw.other_inspection.pk, getattr(world, obj).pk])
    data = {"reason": "x", "version": "1", "step": "acknowledge", "concern": "x"}
    response = getattr(client, method)(url, data)
    assert response.status_code == 404
    assert Referral.objects.get(pk=world.referral.pk).status == Referral.Status.RAISED
    assert SampledCase.objects.get(pk=world.fresh.pk).status == SampledCase.Status.IN_SAMPLE
    assert CaseAudit.objects.get(pk=world.draft.pk).version == world.draft.version


def test_audits_are_not_started_through_another_inspection(client, world):
    client.force_login(world.fw.users["outsider"])
    url = reverse(
        "fieldwork:audit-start", args=[world.fw.other_inspection.pk, world.fresh.pk, "primary"]
    )
    assert client.post(url).status_code == 404
    assert not CaseAudit.objects.filter(sampled_case=world.fresh).exists()


# Blind second marking -----------------------------------------------------------------------


@dataclass
class Blind:
    fw: Fieldwork
    case: SampledCase
    primary: CaseAudit
    second: CaseAudit


@pytest.fixture
def blind(fw) -> Blind:
    """A selected case audited as inadequate, with a draft second marking by `second`."""
    fw.upload()
    sample = fw.draw()
    case = SampledCase.objects.filter(sample=sample, for_moderation=True)[0]
    primary = fw.complete(fw.audit(case, "inspector"), "inadequate")
    second = fw.audit(case, "second", "second")
    return Blind(fw, case, primary, second)


def _audit_statuses(client, blind: Blind, audit: CaseAudit) -> dict[str, int]:
    url = reverse("fieldwork:audit", args=[blind.fw.inspection.pk, audit.pk])
    found = {}
    for user in sorted(TEAM):
        client.force_login(blind.fw.users[user])
        found[user] = client.get(url).status_code
    return found


def test_while_second_marking_is_open_each_mark_is_hidden(client, blind):
    assert _audit_statuses(client, blind, blind.primary) == {
        "lead": 200,
        "inspector": 200,
        "second": 404,
        "third": 404,
    }
    assert _audit_statuses(client, blind, blind.second) == {
        "lead": 200,
        "inspector": 404,
        "second": 200,
        "third": 404,
    }


def test_once_second_marking_is_submitted_both_are_open_to_the_team(client, blind):
    blind.fw.complete(blind.second, "inadequate")
    for audit in (blind.primary, blind.second):
        assert _audit_statuses(client, blind, audit) == dict.fromkeys(TEAM, 200)


def test_the_lead_reads_but_does_not_change_a_second_marking(client, blind):
    client.force_login(blind.fw.users["lead"])
    url = reverse("fieldwork:audit-save", args=[blind.fw.inspection.pk, blind.second.pk])
    body = {"version": blind.second.version, "values": {"overall_grade": "good"}}
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 403
    assert CaseAudit.objects.get(pk=blind.second.pk).overall_grade == ""


def _sample_row(html: str, reference: str) -> str:
    match = re.search(
        rf'<th scope="row" class="govuk-table__header app-nowrap">{re.escape(reference)}</th>'
        r"(.*?)</tr>",
        html,
        re.S,
    )
    assert match, reference
    return match.group(1)


def test_the_sample_page_hides_the_grade_while_second_marking_is_open(client, blind):
    url = reverse("fieldwork:sample", args=[blind.fw.inspection.pk])
    for user, shown in [("lead", True), ("inspector", True), ("second", False), ("third", False)]:
        client.force_login(blind.fw.users[user])
        html = client.get(url).content.decode()
        row = _sample_row(html, blind.case.reference)
        assert ("inadequate" in row) is shown, user
        if not shown:
            assert "inadequate" not in html, user
            # No link to an audit the person may not open.
            primary_url = reverse(
                "fieldwork:audit", args=[blind.fw.inspection.pk, blind.primary.pk]
            )
            assert f'href="{primary_url}"' not in html, user
    blind.fw.complete(blind.second, "inadequate")
    client.force_login(blind.fw.users["third"])
    row = _sample_row(client.get(url).content.decode(), blind.case.reference)
    assert "inadequate" in row
