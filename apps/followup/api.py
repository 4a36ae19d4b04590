"""The forces' REST API (django-ninja), at /api/v1/: a force's own published
recommendations, and progress updates with evidence files posted from its own systems.

Every call carries a key of one force (`Authorization: Bearer insp_...`, see tokens.py) and
sees that force's recommendations and nothing else: another force's recommendation, or one
not published, answers 404 exactly as one that does not exist, and the attempt is logged and
audited; so is every call with no key, a wrong key or a revoked one (401). Writes go through
the same service as the site (`services.progress_post`, acting as an `ApiActor`), so the
same rules, file checks, audit and notifications apply. Reading a recommendation with its
progress updates is audited as a view, as on the site.

The OpenAPI document is at /api/v1/openapi.json. The interactive docs page is off: it loads
Swagger UI from a CDN, and nothing here fetches from the internet. docs/api.md is the guide
for forces.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from ninja import Field, File, Form, NinjaAPI, P, PathEx, Query, Schema, Status
from ninja.decorators import decorate_view
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.files import UploadedFile
from ninja.security import HttpBearer

from apps.core.audit import audit_view
from apps.findings.models import Finding, Kind, RecommendationStatus
from apps.inspections.models import Inspection

from . import selectors, services, tokens
from .forms import read_files
from .models import ApiToken, ProgressUpdate
from .permissions import FOLLOW_UP_STATES
from .reminders import FORCE_TO_ACT

logger = logging.getLogger("apps.followup.api")

MAX_PAGE = 200
NOT_FOUND = "No such recommendation."
UNAUTHORISED = (
    "Send a valid API key of your force as 'Authorization: Bearer <key>'. The key is "
    "missing, wrong or revoked."
)
MiB = 1_048_576
# A whole request (text and files) at most this size: checked before the body is read. A
# single file of the largest size allowed always fits.
DEFAULT_MAX_REQUEST_BYTES = 50 * MiB


def max_request_bytes() -> int:
    configured = getattr(settings, "FOLLOWUP_API_MAX_REQUEST_BYTES", None)
    return int(configured or max(DEFAULT_MAX_REQUEST_BYTES, settings.FOLLOWUP_MAX_FILE_BYTES + MiB))


# Authentication ----------------------------------------------------------------------------


class ForceKey(HttpBearer):
    """`Authorization: Bearer <key>`: the key's record, or None (ninja then answers 401).
    Every refusal is logged and audited (tokens.api_call_refused)."""

    def __call__(self, request: HttpRequest) -> ApiToken | None:
        header = request.headers.get(self.header, "")
        scheme, _, key = header.partition(" ")
        if not header:
            reason = "missing"
        elif scheme.lower() != self.openapi_scheme or not key.strip():
            reason = "malformed"
        else:
            return self.authenticate(request, key.strip())
        tokens.api_call_refused(reason=reason, method=request.method or "", path=request.path)
        return None

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = tokens.token_authenticate(token)
        if found is not None:
            return found
        revoked = tokens.token_find(token)
        tokens.api_call_refused(
            reason="revoked" if revoked else "unknown",
            key="" if revoked else token,
            token=revoked,
            method=request.method or "",
            path=request.path,
        )
        return None


api = NinjaAPI(
    title="Inspectorate follow-up API",
    version="1",
    description=(
        "A police force's published recommendations, and progress updates with evidence "
        "files, for the force's own systems. Authenticate with a key of your force: "
        "`Authorization: Bearer insp_...` (keys are made on the site, under Follow-up, API "
        "keys). See docs/api.md."
    ),
    urls_namespace="followup_api",
    docs_url=None,
    auth=ForceKey(),
)


def _token(request: HttpRequest) -> ApiToken:
    return cast(ApiToken, request.auth)  # type: ignore[attr-defined]


# Schemas -----------------------------------------------------------------------------------


class Error(Schema):
    detail: str
    errors: dict[str, list[str]] | None = Field(
        None, description="The field's name and what is wrong with it, for each field refused"
    )


class ForceOut(Schema):
    name: str
    code: str | None = Field(None, description="ONS police force area code")
    slug: str


class KeyOut(Schema):
    name: str
    prefix: str = Field(description="The key's first characters")
    created_at: dt.datetime
    last_used_at: dt.datetime | None


class MeOut(Schema):
    force: ForceOut
    key: KeyOut


class RecommendationOut(Schema):
    id: int
    inspection: str = Field(description="The inspection's reference")
    inspection_title: str
    number: int | None
    text: str = Field(description="The recommendation, as published")
    cause_of_concern: str | None = Field(
        None, description="The cause of concern it answers, if any"
    )
    addressees: list[str]
    timescale: str = Field(description="e.g. 'Within 6 months of publication'")
    due_on: dt.date | None
    status: RecommendationStatus
    status_label: str
    status_on: dt.date | None
    overdue: bool = Field(description="Past its due date with the next move the force's")


class RecommendationPage(Schema):
    count: int = Field(description="How many match, on every page")
    limit: int
    offset: int
    items: list[RecommendationOut]


class StatusChangeOut(Schema):
    status: RecommendationStatus
    label: str
    on: dt.date
    note: str


class PlannedActionOut(Schema):
    plan_number: int = Field(description="The action plan's submission number")
    plan_status: str
    action: str
    expected_impact: str
    target_date: dt.date
    evidence_measure: str


class FileOut(Schema):
    name: str
    size: int
    content_type: str
    sha256: str


class UpdateOut(Schema):
    id: int
    kind: ProgressUpdate.Kind
    text: str
    posted_at: dt.datetime
    author_label: str
    via_api: bool
    files: list[FileOut]


class RecommendationDetailOut(RecommendationOut):
    history: list[StatusChangeOut] = Field(description="The public status history, oldest first")
    planned_action: PlannedActionOut | None = Field(
        None, description="What the latest action plan covering it says"
    )
    updates: list[UpdateOut] = Field(description="Progress updates, oldest first")


class UpdateCreated(Schema):
    update: UpdateOut
    status: RecommendationStatus = Field(description="The recommendation's status now")
    status_label: str
    status_on: dt.date | None


class ListFilters(Schema):
    status: RecommendationStatus | None = None
    inspection: str | None = Field(None, max_length=30, description="An inspection's reference")
    overdue: bool | None = None
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0)


# Reads -------------------------------------------------------------------------------------


def force_recommendations(force_id: int) -> QuerySet[Finding]:
    """The force's published recommendations: those of its inspections in follow-up."""
    inspections = Inspection.objects.filter(
        state__in=FOLLOW_UP_STATES, follow_up_record__isnull=False, forces=force_id
    )
    return (
        Finding.objects.filter(inspection__in=inspections, kind=Kind.RECOMMENDATION)
        .exclude(status="")
        .select_related("inspection", "cause_of_concern")
    )


def _rec_out(rec: Finding, today: dt.date) -> dict[str, Any]:
    return {
        "id": rec.pk,
        "inspection": rec.inspection.reference,
        "inspection_title": rec.inspection.title,
        "number": rec.number,
        "text": rec.headline,
        "cause_of_concern": rec.cause_of_concern.headline if rec.cause_of_concern else None,
        "addressees": rec.addressees(),
        "timescale": rec.timescale_text(),
        "due_on": rec.due_on,
        "status": rec.status,
        "status_label": selectors.status_label(rec),
        "status_on": rec.status_on,
        "overdue": selectors.is_overdue(rec, today),
    }


def _update_out(update: ProgressUpdate) -> dict[str, Any]:
    return {
        "id": update.pk,
        "kind": update.kind,
        "text": update.text,
        "posted_at": update.posted_at,
        "author_label": update.author_label,
        "via_api": update.via_api,
        "files": [
            {"name": f.name, "size": f.size, "content_type": f.content_type, "sha256": f.sha256}
            for f in update.files.all()
        ],
    }


def _recommendation(request: HttpRequest, recommendation_id: int) -> Finding:
    """The key's force's published recommendation; otherwise 404, the same whether it is
    another force's, not published or missing, and the attempt is logged and audited."""
    token = _token(request)
    rec = force_recommendations(token.force_id).filter(pk=recommendation_id).first()
    if rec is not None:
        return rec
    found = Finding.objects.filter(pk=recommendation_id).select_related("inspection").first()
    if found is None:
        what = f"recommendation {recommendation_id} does not exist"
    elif found.inspection.forces.filter(pk=token.force_id).exists():
        what = f"finding {recommendation_id} of its own force is not a published recommendation"
    else:
        what = f"wrong force: recommendation {recommendation_id} is another force's"
    tokens.api_wrong_force(
        token=token,
        actor=tokens.api_actor(token),
        what=what,
        object_id=str(recommendation_id),
        method=request.method or "",
        path=request.path,
    )
    raise HttpError(404, NOT_FOUND)


# Errors ------------------------------------------------------------------------------------


def _unauthorised(request: HttpRequest, exc: Any) -> HttpResponse:
    response = api.create_response(request, {"detail": UNAUTHORISED}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="inspectorate"'
    return response


def _invalid(request: HttpRequest, exc: Any) -> HttpResponse:
    """Request parameters that do not parse: the same shape as a service's refusal."""
    errors: dict[str, list[str]] = {}
    for error in cast(NinjaValidationError, exc).errors:
        names = [str(part) for part in error.get("loc", ()) if isinstance(part, str)]
        errors.setdefault(names[-1] if names else "request", []).append(str(error.get("msg")))
    return api.create_response(
        request,
        {"detail": "The request is not valid: see errors.", "errors": errors},
        status=422,
    )


api.add_exception_handler(AuthenticationError, _unauthorised)
api.add_exception_handler(NinjaValidationError, _invalid)


def _refused(error: DjangoValidationError) -> Status[dict[str, Any]]:
    """A service's refusal: 422 naming the fields, or 409 when the recommendation's state
    refuses it (closed, carried over)."""
    if hasattr(error, "error_dict"):
        errors = {name: list(messages) for name, messages in error.message_dict.items()}
        detail = " ".join(m for messages in errors.values() for m in messages)
        return Status(422, {"detail": detail, "errors": errors})
    return Status(409, {"detail": " ".join(error.messages)})


def limit_request_size(run: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse a request larger than the limit before its body is read (413)."""

    @wraps(run)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return api.create_response(
                request, {"detail": "The Content-Length header is not a number."}, status=400
            )
        limit = max_request_bytes()
        if length > limit:
            logger.warning(
                "API request refused: %s bytes is more than the limit of %s",
                length,
                limit,
                extra={"event": "api_too_large"},
            )
            return api.create_response(
                request,
                {
                    "detail": f"The request is {filesizeformat(length)}; the most is "
                    f"{filesizeformat(limit)} in all. Send the files in more than one update."
                },
                status=413,
            )
        return run(request, *args, **kwargs)

    return checked


# Endpoints ---------------------------------------------------------------------------------

RecommendationId = PathEx[int, P(ge=1, le=2**63 - 1)]


@api.get(
    "/me",
    response={200: MeOut, 401: Error},
    operation_id="me",
    summary="The key's force",
    description="Which force the key is for: a check that an integration is set up.",
    tags=["keys"],
)
def me(request: HttpRequest) -> dict[str, Any]:
    token = _token(request)
    return {
        "force": {"name": token.force.name, "code": token.force.code, "slug": token.force.slug},
        "key": {
            "name": token.name,
            "prefix": token.prefix,
            "created_at": token.created_at,
            "last_used_at": token.last_used_at,
        },
    }


@api.get(
    "/recommendations",
    response={200: RecommendationPage, 401: Error, 422: Error},
    operation_id="listRecommendations",
    summary="The force's published recommendations",
    description=(
        "Newest publication first. Filter by `status`, `inspection` (its reference) and "
        f"`overdue`; page with `limit` (at most {MAX_PAGE}) and `offset`."
    ),
    tags=["recommendations"],
)
def recommendation_list(request: HttpRequest, filters: Query[ListFilters]) -> dict[str, Any]:
    today = timezone.localdate()
    recs = force_recommendations(_token(request).force_id)
    if filters.status:
        recs = recs.filter(status=filters.status)
    if filters.inspection:
        recs = recs.filter(inspection__reference__iexact=filters.inspection.strip())
    late = {"due_on__lt": today, "status__in": FORCE_TO_ACT}
    if filters.overdue is True:
        recs = recs.filter(**late)
    elif filters.overdue is False:
        recs = recs.exclude(**late)
    recs = recs.order_by(
        "-inspection__follow_up_record__published_on", "inspection__reference", "number", "id"
    )
    page = list(recs[filters.offset : filters.offset + filters.limit])
    return {
        "count": recs.count(),
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [_rec_out(rec, today) for rec in page],
    }


@api.get(
    "/recommendations/{recommendation_id}",
    response={200: RecommendationDetailOut, 401: Error, 404: Error, 422: Error},
    operation_id="getRecommendation",
    summary="One recommendation, with its history, planned action and progress updates",
    description="Files are listed (name, size, type, SHA-256), not their content.",
    tags=["recommendations"],
)
def recommendation_get(request: HttpRequest, recommendation_id: RecommendationId) -> Any:
    rec = _recommendation(request, recommendation_id)
    detail = selectors.recommendation_progress(rec)
    action = detail["action"]
    audit_view(
        actor=tokens.api_actor(_token(request)),
        instance=rec,
        summary=f"{services.rec_label(rec)} of {rec.inspection.reference} read through the "
        f"API, with {len(detail['updates'])} progress updates",
    )
    return {
        **_rec_out(rec, timezone.localdate()),
        "history": [
            {"status": c.status, "label": c.get_status_display(), "on": c.on, "note": c.note}
            for c in detail["history"]
        ],
        "planned_action": {
            "plan_number": action.plan.number,
            "plan_status": action.plan.get_status_display(),
            "action": action.action,
            "expected_impact": action.expected_impact,
            "target_date": action.target_date,
            "evidence_measure": action.evidence_measure,
        }
        if action
        else None,
        "updates": [_update_out(u) for u in detail["updates"]],
    }


@api.post(
    "/recommendations/{recommendation_id}/updates",
    response={
        201: UpdateCreated,
        401: Error,
        404: Error,
        409: Error,
        413: Error,
        422: Error,
    },
    operation_id="postUpdate",
    summary="Post a progress update, a response or evidence, with files",
    description=(
        "multipart/form-data: `text`, `kind` (progress, response: only on an 'immediately' "
        "recommendation, or evidence: for the inspectorate to assess) and up to "
        f"{services.MAX_FILES} `files`. Files must be PDF, DOCX, XLSX, PPTX, CSV, TXT, PNG or "
        "JPEG, and are checked by content; one bad file refuses the whole update. 409: the "
        "recommendation takes no more updates (closed or carried over)."
    ),
    tags=["recommendations"],
)
@decorate_view(limit_request_size)
def update_post(
    request: HttpRequest,
    recommendation_id: RecommendationId,
    text: Form[str] = "",
    kind: Form[ProgressUpdate.Kind] = ProgressUpdate.Kind.PROGRESS,
    files: File[list[UploadedFile] | None] = None,
) -> Any:
    rec = _recommendation(request, recommendation_id)
    token = _token(request)
    try:
        update = services.progress_post(
            actor=tokens.api_actor(token),
            recommendation=rec,
            text=text,
            kind=kind,
            files=read_files(list(files or [])),
        )
    except DjangoValidationError as error:
        logger.info(
            "API update refused on recommendation %s: %s",
            rec.pk,
            "; ".join(error.messages),
            extra={"event": "api_update_refused", "token_id": token.pk},
        )
        return _refused(error)
    rec.refresh_from_db(fields=["status", "status_on"])
    update = ProgressUpdate.objects.prefetch_related("files").get(pk=update.pk)
    return Status(
        201,
        {
            "update": _update_out(update),
            "status": rec.status,
            "status_label": selectors.status_label(rec),
            "status_on": rec.status_on,
        },
    )
