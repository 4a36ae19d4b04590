"""Who may see and do what in follow-up, page by page and person by person; and that nothing
of one force's follow-up reaches another force, a partner inspector or the public.

1. The matrix: every URL of apps/followup/urls.py, for each person of the `pub` fixture and an
   anonymous visitor, GET and (where the view takes it) POST, with the exact status: sent to
   sign in when anonymous; 404 where the inspection's follow-up is hidden from them (partner
   inspectors, another force's liaison); 403 where they see it but may not do this; 200, or a
   redirect after a write, where they may. Every request runs in a savepoint rolled back
   afterwards. A refused request (302 to sign in, 403, 404, 405) changes nothing, not even the
   audit trail; a page shown (200) changes no data; a write that succeeds (302) changes it.
2. Across forces: each force's liaison, a partner inspector and an anonymous visitor over
   every follow-up page with the other force's inspection, plan, recommendation and file, and
   the API with the other force's key: 404 (403 for pages not about one inspection), nothing
   of the other force's in the answer, nothing changed; and the public portal shows statuses
   and public notes, never updates, comments, reasoning, plans or file names.
3. The pages that show a force's follow-up record the view in the audit trail.

Mismatches are collected over a whole loop and reported together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import resolve, reverse
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.findings.models import Finding, RecommendationStatusChange
from apps.followup import services
from apps.followup.models import (
    ActionPlan,
    ApiToken,
    Assessment,
    Comment,
    ConcernClosure,
    EvidenceFile,
    FollowUp,
    PlannedAction,
    ProgressUpdate,
)
from apps.frameworks.models import MethodologyVersion
from apps.inspections import services as inspection_services
from apps.inspections.models import Inspection
from apps.notifications.models import Notification
from apps.reports.models import Publication, Report

from .api_fixtures import ApiClient, make_keys
from .conftest import SYSTEM, Published

# The API (apps.followup.urls_api) is wired here whether or not inspectorate/urls.py has it.
pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.followup.api_urls")]

USERS = (
    "anonymous",
    "manager",
    "lead",
    "inspector",
    "second",
    "third",
    "outsider",
    "analyst",
    "partner",
    "liaison",
    "other_liaison",
    "admin",
)
# The inspectorate's staff read every inspection's follow-up (outsider leads Southshire's).
STAFF = frozenset(
    {"manager", "lead", "inspector", "second", "third", "outsider", "analyst", "admin"}
)
READERS = STAFF | {"liaison"}  # of Northshire's follow-up
# Northshire's follow-up is hidden from these: not told it exists.
HIDDEN = frozenset({"partner", "other_liaison"})
FORCE = frozenset({"liaison"})  # Northshire's side
MANAGERS = frozenset({"manager", "lead"})  # programme manager, Northshire's lead inspector
ASSESSORS = MANAGERS | {"inspector", "second", "third"}  # and Northshire's inspectors
NOBODY: frozenset[str] = frozenset()

REFUSED = (403, 404, 405)
MISSING = 999_999
TXT = b"Audit of 40 cases: officers recorded the child's views in 38.\n"


def expected(
    allowed: Iterable[str],
    *,
    ok: int = 200,
    hidden: Iterable[str] = HIDDEN,
    not_found: Iterable[str] = NOBODY,
) -> dict[str, int]:
    """Anonymous: 302 to sign in; hidden or not found: 404; allowed: `ok`; otherwise 403."""
    allowed, hidden, not_found = set(allowed), set(hidden), set(not_found)
    statuses = {}
    for user in USERS:
        if user == "anonymous":
            statuses[user] = 302
        elif user in hidden or user in not_found:
            statuses[user] = 404
        elif user in allowed:
            statuses[user] = ok
        else:
            statuses[user] = 403
    return statuses


def everyone(status: int) -> dict[str, int]:
    return {user: 302 if user == "anonymous" else status for user in USERS}


# The world: Northshire's and Southshire's follow-up under way ------------------------------


@dataclass
class World:
    pub: Published
    north_plan: ActionPlan
    south_plan: ActionPlan
    north_file: EvidenceFile  # on Northshire's `later` recommendation
    south_file: EvidenceFile  # on Southshire's recommendation
    clients: dict[str, Client] = field(default_factory=dict)

    @property
    def users(self):
        return self.pub.users

    @property
    def north(self) -> Inspection:
        return self.pub.inspection

    @property
    def south(self) -> Inspection:
        return self.pub.other


# Private text of each force's follow-up: never on another force's, a partner's or a public
# page. Every private text of a force carries its marker.
NORTH_PRIVATE = "NORTH-PRIVATE"
SOUTH_PRIVATE = "SOUTH-PRIVATE"
NORTH_FILE = "northshire-supervision-audit.txt"
SOUTH_FILE = "southshire-missing-children-audit.txt"
PUBLIC_NOTE = "Every open investigation has been reviewed."


def _actions(inspection: Inspection, marker: str) -> dict[int, services.PlannedActionInput]:
    return {
        rec.pk: services.PlannedActionInput(
            f"{marker} action: brief every officer.",
            f"{marker} impact: children are heard.",
            dt.date(2027, 3, 1),
            f"{marker} measure: a monthly audit.",
        )
        for rec in services.plan_recommendations(inspection)
    }


def _evidence(actor, rec: Finding, marker: str, name: str) -> EvidenceFile:
    update = services.progress_post(
        actor=actor,
        recommendation=rec,
        text=f"{marker} progress: supervision is now weekly.",
        files=[(name, TXT)],
    )
    return update.files.get()


@pytest.fixture
def world(pub: Published) -> World:
    users = pub.users
    north_plan = services.action_plan_submit(
        actor=users["liaison"],
        inspection=pub.inspection,
        summary=f"{NORTH_PRIVATE} plan summary",
        actions=_actions(pub.inspection, NORTH_PRIVATE),
        files=[("northshire-plan.txt", TXT)],
    )
    south_plan = services.action_plan_submit(
        actor=users["other_liaison"],
        inspection=pub.other,
        summary=f"{SOUTH_PRIVATE} plan summary",
        actions=_actions(pub.other, SOUTH_PRIVATE),
        files=[("southshire-plan.txt", TXT)],
    )
    north_file = _evidence(users["liaison"], pub.later, NORTH_PRIVATE, NORTH_FILE)
    south_file = _evidence(users["other_liaison"], pub.other_rec, SOUTH_PRIVATE, SOUTH_FILE)
    services.comment_post(
        actor=users["liaison"], recommendation=pub.later, text=f"{NORTH_PRIVATE} comment"
    )
    services.comment_post(
        actor=users["other_liaison"], recommendation=pub.other_rec, text=f"{SOUTH_PRIVATE} comment"
    )
    # Assessed: `immediate` can be closed, and the cause of concern closed by letter.
    services.assessment_record(
        actor=users["inspector"],
        recommendation=pub.immediate,
        outcome="achieved",
        reasoning=f"{NORTH_PRIVATE} reasoning: all 212 reviewed.",
        public_note=PUBLIC_NOTE,
    )
    services.assessment_record(
        actor=users["lead"],
        recommendation=pub.concern_rec,
        outcome="partly_achieved",
        reasoning=f"{NORTH_PRIVATE} reasoning: most officers record it.",
    )
    services.assessment_record(
        actor=users["outsider"],
        recommendation=pub.other_rec,
        outcome="partly_achieved",
        reasoning=f"{SOUTH_PRIVATE} reasoning: most children are seen.",
    )
    pub.refresh()
    world = World(pub, north_plan, south_plan, north_file, south_file)
    for user in USERS:  # signed in once, before any savepoint
        client = Client()
        if user != "anonymous":
            client.force_login(users[user])
        world.clients[user] = client
    return world


# Checking a request ------------------------------------------------------------------------


def state() -> tuple[Any, ...]:
    """Everything a follow-up request could change, but the audit trail."""
    return (
        ProgressUpdate.objects.count(),
        EvidenceFile.objects.count(),
        Comment.objects.count(),
        Assessment.objects.count(),
        ConcernClosure.objects.count(),
        PlannedAction.objects.count(),
        tuple(ActionPlan.objects.order_by("pk").values_list("pk", "status", "version")),
        tuple(FollowUp.objects.order_by("pk").values_list("pk", "route", "version")),
        tuple(Inspection.objects.order_by("pk").values_list("pk", "state")),
        RecommendationStatusChange.objects.count(),
        tuple(Finding.objects.order_by("pk").values_list("pk", "status")),
        Notification.objects.count(),
        tuple(ApiToken.objects.order_by("pk").values_list("pk", "revoked_at")),
    )


def audit_count() -> int:
    return AuditEvent.objects.count()


def _text(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


@dataclass(frozen=True)
class Case:
    name: str
    method: str  # "get" or "post"
    url: Callable[[World], str]
    want: dict[str, int]
    data: Callable[[World], dict[str, Any]] | None = None
    setup: Callable[[World], None] | None = None


def _request(world: World, user: str, method: str, url: str, data: Any) -> Any:
    client = world.clients[user]
    return getattr(client, method)(url, **({"data": data} if data is not None else {}))


def check(
    world: World,
    cases: Iterable[Case],
    users: Iterable[str] = USERS,
    leaks: Iterable[str] = (),
) -> list[str]:
    """Each case for each person, in savepoints rolled back. Returns what went wrong."""
    problems: list[str] = []
    users = list(users)
    leaks = list(leaks)
    sign_in = reverse("accounts:sign-in")
    for case in cases:
        found = {}
        with transaction.atomic():
            if case.setup:
                case.setup(world)
            url = case.url(world)
            for user in users:
                with transaction.atomic():
                    before, audits = state(), audit_count()
                    data = case.data(world) if case.data else None
                    response = _request(world, user, case.method, url, data)
                    status = found[user] = response.status_code
                    where = f"{case.name} {case.method.upper()} {url} as {user} ({status})"
                    changed = state() != before
                    anonymous = user == "anonymous"
                    if anonymous and status == 302 and not response.url.startswith(sign_in):
                        problems.append(f"{where}: sent to {response.url}, not to sign in")
                    if status in REFUSED or user == "anonymous":
                        if changed:
                            problems.append(f"{where}: refused but the data changed")
                        if audit_count() != audits:
                            problems.append(f"{where}: refused but the audit trail changed")
                    elif status == 200 and changed:
                        problems.append(f"{where}: a page shown, but the data changed")
                    elif status == 302 and case.method == "post" and not changed:
                        problems.append(f"{where}: redirected but nothing changed")
                    if leaks:
                        body = _text(response)
                        problems.extend(f"{where}: shows {s!r}" for s in leaks if s in body)
                    transaction.set_rollback(True)
            transaction.set_rollback(True)
        want = {u: case.want[u] for u in users}
        if found != want:
            wrong = {u: f"{found[u]} (expected {want[u]})" for u in users if found[u] != want[u]}
            problems.append(f"{case.name} {case.method.upper()} {url}: {wrong}")
    return problems


def _report(problems: list[str]) -> None:
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


# URLs and form data ----------------------------------------------------------------------


def _u(name: str, *args: Callable[[World], Any] | Any) -> Callable[[World], str]:
    def build(world: World) -> str:
        return reverse(f"followup:{name}", args=[a(world) if callable(a) else a for a in args])

    return build


def north(w: World) -> int:
    return w.north.pk


def south(w: World) -> int:
    return w.south.pk


def later(w: World) -> int:
    return w.pub.later.pk


def immediate(w: World) -> int:
    return w.pub.immediate.pk


def cause(w: World) -> int:
    return w.pub.cause.pk


def other_rec(w: World) -> int:
    return w.pub.other_rec.pk


def _upload(name: str = "new-evidence.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, TXT, content_type="text/plain")


def plan_data(inspection: Inspection) -> dict[str, Any]:
    data: dict[str, Any] = {"summary": "Our revised plan"}
    for rec in services.plan_recommendations(inspection):
        p = f"rec_{rec.pk}_"
        data |= {
            p + "action": "Brief every officer again.",
            p + "expected_impact": "Children are heard.",
            p + "target_date": "2027-06-01",
            p + "evidence_measure": "A monthly audit.",
        }
    return data


def review_data(plan: ActionPlan) -> dict[str, Any]:
    plan.refresh_from_db()
    return {"decision": "accept", "note": "", "version": plan.version}


def route_data(inspection: Inspection) -> dict[str, Any]:
    version = FollowUp.objects.get(inspection=inspection).version
    return {"route": "light_touch", "rationale": "Good progress so far.", "version": version}


def progress_data(_: World | None = None) -> dict[str, Any]:
    return {"kind": "progress", "text": "Supervision audits started.", "attachments": _upload()}


def comment_data(_: World | None = None) -> dict[str, Any]:
    return {"text": "When will the next audit be done?"}


def assess_data(_: World | None = None) -> dict[str, Any]:
    return {
        "outcome": "partly_achieved",
        "reasoning": "Better in two commands of three.",
        "public_note": "",
        "on": timezone.localdate().isoformat(),  # the server's date when posted
    }


def close_data(_: World | None = None) -> dict[str, Any]:
    return {"note": "Closed: the work is done."}


def concern_close_data(_: World | None = None) -> dict[str, Any]:
    return {
        "letter": SimpleUploadedFile("closure-letter.txt", b"Dear Chief Constable\n", "text/plain"),
        "summary": "The force has done what the cause of concern asked.",
    }


def _plan_sent_back(world: World) -> None:
    """The plan reviewed (changes asked for), so the force may send another."""
    services.action_plan_review(
        actor=world.users["lead"],
        plan=world.north_plan,
        accept=False,
        note="Add dates.",
        version=world.north_plan.version,
    )


# 1. The matrix -----------------------------------------------------------------------------

# Not about one inspection: no one is "hidden", the rest of the staff only.
HOME = expected(STAFF | {"liaison", "other_liaison"}, hidden=NOBODY)
TRACKER = expected(STAFF, hidden=NOBODY)

READ_CASES = [
    Case("home", "get", _u("home"), HOME),
    Case("tracker", "get", _u("tracker"), TRACKER),
    Case("tracker-csv", "get", _u("tracker-export", "csv"), TRACKER),
    Case("tracker-xlsx", "get", _u("tracker-export", "xlsx"), TRACKER),
    # An unknown format: the permission first, then 404.
    Case(
        "tracker-pdf",
        "get",
        _u("tracker-export", "pdf"),
        expected(NOBODY, hidden=NOBODY, not_found=STAFF),
    ),
    Case("inspection", "get", _u("inspection", north), expected(READERS)),
    Case("inspection-missing", "get", _u("inspection", MISSING), everyone(404)),
    Case("plan-submit", "get", _u("plan-submit", north), expected(FORCE)),
    Case("plan", "get", _u("plan", north, 1), expected(READERS)),
    Case("plan-missing", "get", _u("plan", north, 2), everyone(404)),
    Case("route", "get", _u("route", north), expected(MANAGERS)),
    Case("recommendation", "get", _u("recommendation", later), expected(READERS)),
    Case("recommendation-cause", "get", _u("recommendation", cause), expected(READERS)),
    Case("recommendation-missing", "get", _u("recommendation", MISSING), everyone(404)),
    Case("progress", "get", _u("progress", later), expected(FORCE)),
    # Updates go on a cause of concern's recommendations, not on the cause itself.
    Case("progress-cause", "get", _u("progress", cause), expected(NOBODY)),
    Case("comment", "get", _u("comment", later), everyone(405)),
    Case("comment-missing", "get", _u("comment", MISSING), everyone(405)),
    Case("assess", "get", _u("assess", later), expected(ASSESSORS)),
    Case("assess-cause", "get", _u("assess", cause), expected(NOBODY)),
    Case("close", "get", _u("close", immediate), expected(ASSESSORS)),
    Case("close-cause", "get", _u("close", cause), expected(NOBODY)),
    Case("concern-close", "get", _u("concern-close", cause), expected(MANAGERS)),
    Case("concern-close-rec", "get", _u("concern-close", later), expected(NOBODY)),
    Case("summary", "get", _u("summary", later), expected(READERS)),
    # A PCC summary is of a recommendation: a cause of concern has none.
    Case("summary-cause", "get", _u("summary", cause), expected(NOBODY, not_found=READERS)),
    Case(
        "file", "get", lambda w: reverse("followup:file", args=[w.north_file.pk]), expected(READERS)
    ),
    Case(
        "file-plan",
        "get",
        lambda w: reverse("followup:file", args=[w.north_plan.files.get().pk]),
        expected(READERS),
    ),
    Case("file-missing", "get", _u("file", MISSING), everyone(404)),
]

# Pages that only show refuse a POST (405) once signed in, and change nothing.
POST_TO_READ_CASES = [
    Case(
        f"{c.name} (POST)",
        "post",
        c.url,
        everyone(405),
        data=lambda w: {"text": "ignored"},
    )
    for c in READ_CASES
    if c.name
    in {"home", "tracker", "tracker-csv", "inspection", "recommendation", "summary", "file"}
]

WRITE_CASES = [
    # The force's side.
    Case(
        "plan-submit",
        "post",
        _u("plan-submit", north),
        expected(FORCE, ok=302),
        data=lambda w: plan_data(w.north),
        setup=_plan_sent_back,
    ),
    # While plan 1 awaits review the form is shown again with the refusal.
    Case(
        "plan-submit-awaiting-review",
        "post",
        _u("plan-submit", north),
        expected(FORCE),
        data=lambda w: plan_data(w.north),
    ),
    Case(
        "progress",
        "post",
        _u("progress", later),
        expected(FORCE, ok=302),
        data=progress_data,
    ),
    Case("progress-cause", "post", _u("progress", cause), expected(NOBODY), data=progress_data),
    Case(
        "comment",
        "post",
        _u("comment", later),
        expected(FORCE | ASSESSORS, ok=302),
        data=comment_data,
    ),
    Case(
        "comment-empty",
        "post",
        _u("comment", later),
        expected(FORCE | ASSESSORS),
        data=lambda w: {"text": ""},
    ),
    # The inspectorate's side.
    Case(
        "plan-review",
        "post",
        _u("plan", north, 1),
        expected(MANAGERS, ok=302),
        data=lambda w: review_data(w.north_plan),
    ),
    # Once reviewed, no one may post to the plan's page.
    Case(
        "plan-review-reviewed",
        "post",
        _u("plan", north, 1),
        expected(NOBODY),
        data=lambda w: review_data(w.north_plan),
        setup=_plan_sent_back,
    ),
    Case(
        "route",
        "post",
        _u("route", north),
        expected(MANAGERS, ok=302),
        data=lambda w: route_data(w.north),
    ),
    Case("assess", "post", _u("assess", later), expected(ASSESSORS, ok=302), data=assess_data),
    Case("assess-cause", "post", _u("assess", cause), expected(NOBODY), data=assess_data),
    Case("close", "post", _u("close", immediate), expected(ASSESSORS, ok=302), data=close_data),
    Case("close-cause", "post", _u("close", cause), expected(NOBODY), data=close_data),
    Case(
        "concern-close",
        "post",
        _u("concern-close", cause),
        expected(MANAGERS, ok=302),
        data=concern_close_data,
    ),
    Case(
        "concern-close-rec",
        "post",
        _u("concern-close", later),
        expected(NOBODY),
        data=concern_close_data,
    ),
]


def test_reading(world):
    _report(check(world, READ_CASES + POST_TO_READ_CASES))
    # Every URL of the app is in the matrix.
    from apps.followup.urls import urlpatterns

    names = {p.name for p in urlpatterns}
    covered = {resolve(case.url(world)).url_name for case in READ_CASES + WRITE_CASES}
    assert names == covered, names ^ covered


def test_writing(world):
    _report(check(world, WRITE_CASES))


def test_the_lead_of_a_review_manages_the_follow_up_of_the_inspection_it_follows(world):
    """A post-inspection review of Northshire's inspection led by Southshire's lead: the
    inspectorate's side of Northshire's follow-up is then theirs too."""
    # The review is planned once the follow-up is chosen (the inspection is then in
    # follow-up; the lifecycle move out of "published" is the inspection's own lead's).
    services.route_choose(
        actor=world.users["manager"],
        inspection=world.north,
        route="post_inspection_review",
        rationale="A return visit.",
        version=FollowUp.objects.get(inspection=world.north).version,
    )
    review = inspection_services.inspection_create(
        actor=SYSTEM,
        title="Northshire post-inspection review",
        programme_type="ncpi_review",
        methodology=MethodologyVersion.objects.get(code="ncpi-review"),
        forces=list(world.north.forces.all()),
        follows=world.north,
        fieldwork_start=dt.date(2027, 3, 1),
        fieldwork_end=dt.date(2027, 3, 5),
        planned_on=dt.date(2026, 11, 20),
    )
    inspection_services.team_member_add(
        actor=SYSTEM, inspection=review, user=world.users["outsider"], role="lead_inspector"
    )
    ok = {"outsider": 200}
    done = {"outsider": 302}
    cases = [
        Case("route", "get", _u("route", north), ok),
        Case("route", "post", _u("route", north), done, data=lambda w: route_data(w.north)),
        Case("plan", "post", _u("plan", north, 1), done, data=lambda w: review_data(w.north_plan)),
        Case("assess", "get", _u("assess", later), ok),
        Case("assess", "post", _u("assess", later), done, data=assess_data),
        Case("close", "post", _u("close", immediate), done, data=close_data),
        Case("comment", "post", _u("comment", later), done, data=comment_data),
        Case("concern-close", "get", _u("concern-close", cause), ok),
        Case("concern-close", "post", _u("concern-close", cause), done, data=concern_close_data),
        # Still not the force's side.
        Case("progress", "get", _u("progress", later), {"outsider": 403}),
        Case("plan-submit", "get", _u("plan-submit", north), {"outsider": 403}),
    ]
    _report(check(world, cases, users=["outsider"]))


# 2. Across forces --------------------------------------------------------------------------


def _cross_cases(
    inspection: Callable[[World], int],
    rec: Callable[[World], int],
    plan: Callable[[World], ActionPlan],
    file: Callable[[World], EvidenceFile],
    intruder: str,
) -> list[Case]:
    """Every follow-up URL with one force's objects, GET and POST with data that would be
    valid for that force's own people: the intruder (the other force's liaison) and a partner
    inspector get 404, or 403 for pages not about one inspection (405 for a method the page
    never takes, whatever the id); anonymous visitors are sent to sign in."""
    per_object = {"anonymous": 302, intruder: 404, "partner": 404}
    not_per_object = {"anonymous": 302, intruder: 403, "partner": 403}
    home = {"anonymous": 302, intruder: 200, "partner": 403}

    def the_plan(w: World) -> str:
        return reverse("followup:plan", args=[inspection(w), plan(w).number])

    def the_file(w: World) -> str:
        return reverse("followup:file", args=[file(w).pk])

    def plan_files(w: World) -> str:
        return reverse("followup:file", args=[plan(w).files.get().pk])

    def insp(w: World) -> Inspection:
        return Inspection.objects.get(pk=inspection(w))

    pages: list[tuple[str, Callable[[World], str], Callable[[World], dict[str, Any]] | None]] = [
        ("inspection", _u("inspection", inspection), None),
        ("plan-submit", _u("plan-submit", inspection), lambda w: plan_data(insp(w))),
        ("plan", the_plan, lambda w: review_data(plan(w))),
        ("route", _u("route", inspection), lambda w: route_data(insp(w))),
        ("recommendation", _u("recommendation", rec), None),
        ("progress", _u("progress", rec), progress_data),
        ("comment", _u("comment", rec), comment_data),
        ("assess", _u("assess", rec), assess_data),
        ("close", _u("close", rec), close_data),
        ("concern-close", _u("concern-close", rec), concern_close_data),
        ("summary", _u("summary", rec), None),
        ("file", the_file, None),
        ("file-plan", plan_files, None),
    ]
    cases = []
    for name, url, data in pages:
        # Comments are POST only: 405 to any GET, whatever the id (it tells nothing).
        get = {**per_object, intruder: 405, "partner": 405} if name == "comment" else per_object
        cases.append(Case(name, "get", url, get))
        # Read-only pages refuse any POST (405) whatever the id, as comments refuse a GET.
        post = per_object if data else {**per_object, intruder: 405, "partner": 405}
        cases.append(Case(name, "post", url, post, data=data or (lambda w: {"x": "1"})))
    cases += [
        Case("home", "get", _u("home"), home),
        Case("tracker", "get", _u("tracker"), not_per_object),
        Case("tracker-csv", "get", _u("tracker-export", "csv"), not_per_object),
        Case("tracker-xlsx", "get", _u("tracker-export", "xlsx"), not_per_object),
    ]
    return cases


def _leaks(inspection: Inspection, rec: Finding, file: EvidenceFile, marker: str) -> list[str]:
    """What of a force's follow-up no one else may see."""
    return [rec.headline, file.name, marker, inspection.reference, inspection.title]


CROSS = {
    # Northshire's liaison against everything of Southshire's.
    "north-liaison-on-south": dict(
        inspection=south,
        rec=other_rec,
        plan=lambda w: w.south_plan,
        file=lambda w: w.south_file,
        intruder="liaison",
        victim="other_liaison",
    ),
    # And the other way round.
    "south-liaison-on-north": dict(
        inspection=north,
        rec=later,
        plan=lambda w: w.north_plan,
        file=lambda w: w.north_file,
        intruder="other_liaison",
        victim="liaison",
    ),
}


@pytest.mark.parametrize("direction", CROSS)
def test_a_force_sees_and_changes_nothing_of_another_force(world, direction):
    spec = CROSS[direction]
    inspection = Inspection.objects.get(pk=spec["inspection"](world))
    rec = Finding.objects.get(pk=spec["rec"](world))
    file = spec["file"](world)
    marker = SOUTH_PRIVATE if inspection == world.south else NORTH_PRIVATE
    leaks = _leaks(inspection, rec, file, marker)
    # The victim's own liaison sees all of it: the leak check looks for the right things.
    own = world.clients[spec["victim"]]
    body = own.get(reverse("followup:recommendation", args=[rec.pk])).content.decode()
    assert rec.headline in body and file.name in body and f"{marker} comment" in body
    assert inspection.reference in own.get(reverse("followup:home")).content.decode()

    cases = _cross_cases(
        spec["inspection"], spec["rec"], spec["plan"], spec["file"], spec["intruder"]
    )
    _report(check(world, cases, users=["anonymous", spec["intruder"], "partner"], leaks=leaks))


# The API: a key of one force against the other's recommendations.

API_CASES = [
    # (name, method, path with {rec}, data)
    ("recommendation", "get", "/recommendations/{rec}", None),
    (
        "post-update",
        "post",
        "/recommendations/{rec}/updates",
        lambda: {"text": "From our tracker", "kind": "progress", "files": _upload()},
    ),
    # TO FILL: any further API endpoint about one recommendation (or one file, one plan) goes
    # here, with {rec} for the other force's recommendation id.
]


@pytest.mark.parametrize("direction", ["north-key-on-south", "south-key-on-north"])
def test_an_api_key_sees_and_changes_nothing_of_another_force(world, direction):
    keys = make_keys(world.pub)
    if direction == "north-key-on-south":
        key, rec, file, marker = (
            keys.north_key,
            world.pub.other_rec,
            world.south_file,
            SOUTH_PRIVATE,
        )
        inspection = world.south
    else:
        key, rec, file, marker = keys.south_key, world.pub.later, world.north_file, NORTH_PRIVATE
        inspection = world.north
    api = ApiClient(key)
    leaks = _leaks(inspection, rec, file, marker)
    problems = []
    for name, method, path, data in API_CASES:
        with transaction.atomic():
            before, refusals = (
                state(),
                AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN_FAILED).count(),
            )
            url = path.format(rec=rec.pk)
            response = getattr(api, method)(url, *([data()] if data else []))
            where = f"API {name} {method.upper()} {url} ({response.status_code})"
            if response.status_code != 404:
                problems.append(f"{where}: expected 404")
            if state() != before:
                problems.append(f"{where}: the data changed")
            logged = AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN_FAILED)
            if logged.count() != refusals + 1:
                problems.append(f"{where}: the attempt was not audited")
            elif "wrong force" not in logged.order_by("-id").first().summary:
                problems.append(f"{where}: the audit does not say wrong force")
            body = response.content.decode()
            problems.extend(f"{where}: shows {s!r}" for s in leaks if s in body)
            transaction.set_rollback(True)
    # The list of the key's recommendations has nothing of the other force's.
    for query in ({}, {"inspection": inspection.reference}, {"limit": 200}):
        response = api.get("/recommendations", query)
        assert response.status_code == 200
        assert rec.pk not in {item["id"] for item in response.json()["items"]}
        body = response.content.decode()
        problems.extend(f"API list {query}: shows {s!r}" for s in leaks if s in body)
    _report(problems)


def test_the_api_takes_no_session_and_no_partner(world):
    """Signed in on the site is not a key: the API answers 401 to a liaison's session, a
    partner's and an anonymous visitor's."""
    rec = world.pub.later
    for user in ("liaison", "partner", "anonymous", "manager"):
        client = world.clients[user]
        for method, path in (
            ("get", "/api/v1/recommendations"),
            ("get", f"/api/v1/recommendations/{rec.pk}"),
            ("post", f"/api/v1/recommendations/{rec.pk}/updates"),
        ):
            before = state()
            kwargs = {"data": {"text": "x"}} if method == "post" else {}
            response = getattr(client, method)(path, **kwargs)
            assert response.status_code == 401, (user, method, path, response.status_code)
            assert rec.headline not in response.content.decode()
            assert state() == before


def test_api_key_pages_keep_to_the_own_force(world):
    keys = make_keys(world.pub)
    south_key = keys.south
    key_list = reverse("followup_keys:list")
    revoke = reverse("followup_keys:revoke", args=[south_key.pk])
    create = reverse("followup_keys:create")
    cases = [
        Case("keys", "get", lambda w: key_list, {"anonymous": 302, "liaison": 200, "partner": 403}),
        Case(
            "revoke",
            "get",
            lambda w: revoke,
            {"anonymous": 302, "liaison": 404, "partner": 403},
        ),
        Case(
            "revoke",
            "post",
            lambda w: revoke,
            {"anonymous": 302, "liaison": 404, "partner": 403},
            data=lambda w: {},
        ),
    ]
    _report(
        check(
            world,
            cases,
            users=["anonymous", "liaison", "partner"],
            leaks=[south_key.name, south_key.prefix],
        )
    )
    # Creating a key with Southshire's id as the force makes one for Northshire.
    south_force = world.south.forces.get()
    response = world.clients["liaison"].post(create, {"name": "Sneaky", "force": south_force.pk})
    assert response.status_code == 200
    made = ApiToken.objects.get(name="Sneaky")
    assert made.force == world.north.forces.get()
    assert ApiToken.objects.filter(force=south_force).count() == 1


# The public portal -----------------------------------------------------------------------


def _publish(world: World, inspection: Inspection, slug: str) -> Publication:
    """A current publication of the inspection, as the publish service leaves it, with its
    recommendations (and their live status history)."""
    report, _ = Report.objects.get_or_create(
        inspection=inspection, language="en", defaults={"title": inspection.title}
    )
    recs = Finding.objects.filter(inspection=inspection, kind="recommendation").order_by("number")
    forces = list(inspection.forces.all())
    publication = Publication.objects.create(
        report=report,
        inspection=inspection,
        language="en",
        slug=slug,
        version=1,
        is_current=True,
        title=inspection.title,
        summary=f"What we found in {forces[0].name}.",
        programme_type=inspection.programme_type,
        published_on=dt.date(2026, 10, 1),
        published_by=world.users["manager"],
        body_html="<p class='govuk-body'>The report.</p>",
        contents=[],
        data={
            "reference": inspection.reference,
            "programme_type": inspection.programme_type,
            "programme_type_label": inspection.get_programme_type_display(),
            "forces": [{"slug": f.slug, "name": f.name} for f in forces],
            "local_authorities": [],
            "recommendations": [
                {
                    "finding_id": r.pk,
                    "number": r.number,
                    "text": r.headline,
                    "addressees": r.addressees(),
                    "timescale": r.timescale_text(),
                    "due_on": r.due_on.isoformat() if r.due_on else None,
                    "stage": r.stage,
                    "cause_of_concern": r.cause_of_concern.headline if r.cause_of_concern else None,
                }
                for r in recs
            ],
        },
        search_text=inspection.title,
    )
    publication.forces.set(forces)
    return publication


def test_the_public_portal_shows_statuses_never_the_private_follow_up(world):
    from apps.portal import pagecache

    pagecache.recent.clear()
    north_pub = _publish(world, world.north, "northshire-ncpi")
    south_pub = _publish(world, world.south, "southshire-ncpi")
    private = [
        NORTH_PRIVATE,
        SOUTH_PRIVATE,
        NORTH_FILE,
        SOUTH_FILE,
        "northshire-plan.txt",
        "southshire-plan.txt",
    ]
    pages = [
        reverse("portal:report", args=[north_pub.slug]),
        reverse("portal:report", args=[south_pub.slug]),
        reverse("reference:force-detail", args=["northshire"]),
        reverse("reference:force-detail", args=["southshire"]),
        reverse("portal:report-list"),
        reverse("portal:open-data-file", args=["recommendations", "csv"]),
    ]
    problems = []
    try:
        for user in ("anonymous", "partner", "other_liaison"):
            for page in pages:
                response = world.clients[user].get(page)
                if response.status_code != 200:
                    problems.append(f"{page} as {user}: {response.status_code}")
                    continue
                body = _text(response)
                problems.extend(f"{page} as {user}: shows {s!r}" for s in private if s in body)
        # The public status history is there: the report page shows the public note.
        report = world.clients["anonymous"].get(pages[0]).content.decode()
        assert PUBLIC_NOTE in report
        assert world.pub.later.headline in report
        force_page = world.clients["anonymous"].get(pages[2]).content.decode()
        assert PUBLIC_NOTE in force_page
    finally:
        pagecache.recent.clear()
    _report(problems)


# 3. Reading a force's follow-up is audited ---------------------------------------------------

AUDITED = [
    ("recommendation", _u("recommendation", later), lambda w: w.pub.later),
    ("recommendation-cause", _u("recommendation", cause), lambda w: w.pub.cause),
    ("plan", _u("plan", north, 1), lambda w: w.north_plan),
    ("file", lambda w: reverse("followup:file", args=[w.north_file.pk]), lambda w: w.north_file),
    (
        "file-plan",
        lambda w: reverse("followup:file", args=[w.north_plan.files.get().pk]),
        lambda w: w.north_plan.files.get(),
    ),
    ("summary", _u("summary", later), lambda w: w.pub.later),
    ("assess", _u("assess", later), lambda w: w.pub.later),
]


def _views_of(user, instance) -> int:
    return AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEW,
        actor=user,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
    ).count()


def test_reading_a_forces_follow_up_is_audited(world):
    problems = []
    for name, url, instance in AUDITED:
        obj = instance(world)
        for user in ("liaison", "lead", "analyst", "other_liaison", "partner"):
            person = world.users[user]
            before = _views_of(person, obj)
            status = world.clients[user].get(url(world)).status_code
            views = _views_of(person, obj) - before
            if status == 200 and views != 1:
                problems.append(f"{name} as {user}: shown, {views} view events (expected 1)")
            if status != 200 and views:
                problems.append(f"{name} as {user}: {status}, yet {views} view events")
    _report(problems)


def test_the_export_is_audited_and_refusals_are_not(world):
    url = reverse("followup:tracker-export", args=["csv"])
    before = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count()
    assert world.clients["liaison"].get(url).status_code == 403
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == before
    assert world.clients["analyst"].get(url).status_code == 200
    event = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).order_by("-id").first()
    assert event.actor == world.users["analyst"]
    assert event.object_type == "followup.tracker"
