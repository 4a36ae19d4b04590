"""Reads of the thematic synthesis: the corpus people code, the review queue and the
codebook's versions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import (
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from apps.inspections.models import State

from .models import (
    JOB_STOPPED_AFTER,
    ArchiveParagraph,
    CodebookVersion,
    Statement,
    StatementClaim,
    SuggestionRun,
    Theme,
    ThemeCode,
    ThemeCodeChange,
)

# Findings are coded once published: a draft's words are the team's until then.
PUBLISHED_STATES = [State.PUBLISHED, State.FOLLOW_UP, State.CLOSED]


def current_codes() -> QuerySet[ThemeCode]:
    """Codes to the themes of the current (latest) codebook version: earlier versions'
    codes are history once a revision has carried them over."""
    from .models import CodebookVersion

    latest = CodebookVersion.objects.order_by("-number").values("pk")[:1]
    return ThemeCode.objects.filter(theme__codebook__in=latest)


def placeholder_codes() -> QuerySet[ThemeCode, Any]:
    """A codebook split's placeholders under the current codebook: the parts of a theme a
    person had confirmed, suggested by no person and no classifier, for a person to choose
    among (codebook_revise.theme_split)."""
    return current_codes().filter(
        status=ThemeCode.Status.SUGGESTED, set_by__isnull=True, classifier__isnull=True
    )


def decided_statement_ids() -> QuerySet[ThemeCode, Any]:
    """The statements a person has coded under the current codebook and that hold no
    placeholder waiting for a person (as a subquery)."""
    return (
        current_codes()
        .filter(set_by__isnull=False)
        .exclude(statement_id__in=placeholder_codes().values("statement_id"))
        .values("statement_id")
    )


def coding_corpus(*, set_aside: bool = False) -> QuerySet[Statement]:
    """The statements that count: every imported report's, and the findings of published
    inspections; not an imported statement a curator set aside as not a statement, unless
    `set_aside` (its own page, where the curator can take it back)."""
    chosen = Statement.objects.filter(
        Q(source=Statement.Source.ARCHIVE) | Q(inspection__state__in=PUBLISHED_STATES)
    )
    return chosen if set_aside else chosen.filter(set_aside=False)


# How long a statement someone opened to code stays theirs in the review queue (minutes).
CLAIM_MINUTES = 15


def claim_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    """Claims made before this have lapsed."""
    return (now or timezone.now()) - dt.timedelta(minutes=CLAIM_MINUTES)


def review_queue(page: str | int | None, per_page: int = 50, user: Any = None) -> dict[str, Any]:
    """Statements no person has decided: first those a codebook split has sent back to a
    person (its placeholders), then the classifier's least sure (the lowest confidence of
    its likeliest theme; those with no suggestion first of all), each with its suggestions;
    those someone other than `user` opened in the last CLAIM_MINUTES after the rest, each
    with who (`held_by`), so two people working through the queue are given different
    statements. Three queries."""
    held = StatementClaim.objects.filter(
        statement=OuterRef("pk"), claimed_at__gt=claim_cutoff()
    ).exclude(claimed_by=getattr(user, "pk", None))
    undecided = coding_corpus().exclude(pk__in=decided_statement_ids())
    suggested = Prefetch(
        "codes",
        queryset=current_codes()
        .filter(status=ThemeCode.Status.SUGGESTED)
        .select_related("theme")
        .order_by("-confidence"),
        to_attr="suggestions",
    )
    ordered = (
        undecided.annotate(
            top=Max(
                "codes__confidence",
                filter=Q(
                    codes__status=ThemeCode.Status.SUGGESTED,
                    codes__theme__codebook__in=CodebookVersion.objects.order_by("-number").values(
                        "pk"
                    )[:1],
                ),
            )
        )
        .annotate(
            held=Exists(held),
            # A person had coded it, and a codebook split asks them to choose among parts.
            requeued=Exists(placeholder_codes().filter(statement=OuterRef("pk"))),
            held_by=Subquery(
                held.annotate(
                    name=Coalesce(
                        NullIf("claimed_by__full_name", Value("")), "claimed_by__username"
                    )
                ).values("name")[:1]
            ),
        )
        # A split's placeholders first: a person's coding waits on a choice. Then no
        # suggestion at all (none fits, or a codebook revision withdrew the only one): the
        # least sure of all.
        .order_by("held", F("requeued").desc(), F("top").asc(nulls_first=True), "id")
        .prefetch_related(suggested)
    )
    paginator = Paginator(ordered, per_page)
    page_obj: Page = paginator.get_page(page)
    return {
        "page": page_obj,
        "statements": list(page_obj.object_list),
        "count": paginator.count,
        "claim_minutes": CLAIM_MINUTES,
    }


def claim_held(statement: Statement, user: Any) -> StatementClaim | None:
    """Someone other than `user` who opened `statement` from the review queue within the
    last CLAIM_MINUTES (their claim), if anyone did."""
    return (
        StatementClaim.objects.filter(statement=statement, claimed_at__gt=claim_cutoff())
        .exclude(claimed_by=getattr(user, "pk", None))
        .select_related("claimed_by")
        .first()
    )


def statement_detail(statement: Statement) -> dict[str, Any]:
    codes = list(
        current_codes()
        .filter(statement=statement)
        .select_related("theme", "classifier")
        .order_by("theme__order")
    )
    history = list(
        ThemeCodeChange.objects.filter(code__statement=statement)
        .select_related("code__theme__codebook", "classifier")
        .order_by("at", "id")
    )
    decided = Statement.objects.filter(pk=statement.pk, pk__in=decided_statement_ids()).exists()
    return {"codes": codes, "history": history, "decided": decided}


def in_its_report(statement: Statement) -> list[dict[str, Any]]:
    """An imported statement in its report, as a person coding it reads it: its section's
    headings and the paragraphs before, of and after it, the statement's own words marked
    where the paragraph has them as they are. A sentence alone ("We found that these checks
    were carried out consistently") often says what it is about only there. Empty for a
    statement not imported (a finding of the register). One query."""
    paragraph = statement.paragraph
    if paragraph is None:
        return []
    number = paragraph.number
    paragraphs = list(
        ArchiveParagraph.objects.filter(
            report_id=paragraph.report_id, number__in=(number - 1, number, number + 1)
        ).order_by("number")
    )
    rows: list[dict[str, Any]] = []
    heading = None
    for p in paragraphs:
        own = p.number == number
        rows.append(
            {
                "paragraph": p,
                "own": own,
                # A section's headings where they change (a neighbour may be of another).
                "heading": p.heading if p.heading != heading else "",
                "parts": _marked(p.text, statement.text) if own else None,
            }
        )
        heading = p.heading
    return rows


def _marked(paragraph: str, statement: str) -> tuple[str, str, str]:
    """(before, the words to mark, after): the statement's words where the paragraph holds
    them as they are; else the whole paragraph (the import may have added a full stop, or
    joined a list item to its lead-in)."""
    for words in (statement, statement.rstrip(".")):
        at = paragraph.find(words) if words else -1
        if at >= 0:
            return paragraph[:at], words, paragraph[at + len(words) :]
    return "", paragraph, ""


def suggestions_out_of_date() -> int:
    """How many statements no person has coded hold no suggestion of the classifier that
    made the latest suggestions (under the current codebook): suggested by an earlier
    version, or not yet at all. A
    statement waiting for a person after a codebook split is the person's, not counted.
    One query."""
    # The classifier of the latest suggestions for the current codebook (a version may be
    # used again when what it learnt from is the same, so not simply the newest trained).
    latest_codebook = CodebookVersion.objects.order_by("-number").values("pk")[:1]
    used = (
        current_codes()
        .filter(classifier__codebook__in=latest_codebook, set_by__isnull=True)
        .order_by("-set_at", "-id")
        .values("classifier_id")[:1]
    )
    current = current_codes().filter(status=ThemeCode.Status.SUGGESTED, classifier__in=used)
    return (
        coding_corpus()
        .exclude(pk__in=decided_statement_ids())
        .exclude(pk__in=placeholder_codes().values("statement_id"))
        .exclude(pk__in=current.values("statement_id"))
        .count()
    )


def next_in_queue(after: Statement, user: Any = None) -> Statement | None:
    """The statement `user` should code next: the queue's first that is not `after` and
    that no one else has open."""
    queue = review_queue(1, per_page=2, user=user)["statements"]
    return next((s for s in queue if s.pk != after.pk and not s.held), None)


def current_theme_choices() -> list[tuple[str, str]]:
    """(key, name) of the current codebook's themes; none before one is loaded."""
    from .models import Theme

    latest = CodebookVersion.objects.order_by("-number").values("pk")[:1]
    return list(
        Theme.objects.filter(codebook__in=latest)
        .order_by("order", "key")
        .values_list("key", "name")
    )


def statements_coded_to(theme_key: str) -> QuerySet[Statement]:
    """Statements coded to a theme of the current codebook: confirmed by a person, or
    suggested by the classifier and not yet decided (not a codebook split's placeholder, a
    part left for a person to choose)."""

    latest = CodebookVersion.objects.order_by("-number").values("pk")[:1]
    return Statement.objects.filter(
        Q(codes__status=ThemeCode.Status.CONFIRMED)
        | Q(codes__status=ThemeCode.Status.SUGGESTED, codes__classifier__isnull=False),
        codes__theme__key=theme_key,
        codes__theme__codebook__in=latest,
    )


def overview() -> dict[str, Any]:
    """The figures of the synthesis's front page: a fixed number of queries."""
    from .models import ArchiveReport, ClassifierVersion, ThematicReport

    corpus = coding_corpus()
    decided = corpus.filter(pk__in=decided_statement_ids()).count()
    return {
        "codebook": CodebookVersion.objects.order_by("-number").first(),
        "statements": corpus.count(),
        "decided": decided,
        "to_review": review_queue(1, per_page=1)["count"],
        "archive_reports": ArchiveReport.objects.count(),
        "classifier": ClassifierVersion.objects.defer("model")
        .order_by("-trained_at", "-id")
        .first(),
        "thematic_reports": ThematicReport.objects.count(),
    }


# The codebook's pages ----------------------------------------------------------------------


def _with_counts(themes: QuerySet[Theme]) -> QuerySet[Theme]:
    """Themes with how many statements are coded to each (confirmed or suggested) and how
    many of those a person confirmed."""
    # Only the corpus people may see: findings of published inspections, imported reports.
    shown = Q(codes__statement__in=coding_corpus().values("pk"))
    return themes.annotate(
        statements=Count(
            "codes",
            filter=shown
            & Q(codes__status__in=[ThemeCode.Status.CONFIRMED, ThemeCode.Status.SUGGESTED])
            & ~Q(codes__status=ThemeCode.Status.SUGGESTED, codes__classifier__isnull=True),
        ),
        confirmed=Count("codes", filter=shown & Q(codes__status=ThemeCode.Status.CONFIRMED)),
    )


def codebook_overview() -> dict[str, Any]:
    """The current version's themes with their counts, and every version, newest first. Two
    queries whatever the number of themes, codes and versions."""
    versions = list(
        CodebookVersion.objects.select_related("based_on")
        .annotate(theme_count=Count("themes"))
        .order_by("-number")
    )
    current = versions[0] if versions else None
    themes = (
        list(_with_counts(Theme.objects.filter(codebook=current)).order_by("order", "key"))
        if current
        else []
    )
    return {"codebook": current, "themes": themes, "versions": versions}


def codebook_version(number: int) -> dict[str, Any] | None:
    """One version, whether it is the current one, its themes with their counts, what each
    derives from and what each became in the next version; None if there is no such
    version. Five queries."""
    version = CodebookVersion.objects.select_related("based_on").filter(number=number).first()
    if version is None:
        return None
    linked = Theme.objects.select_related("codebook").order_by("codebook__number", "order")
    themes = list(
        _with_counts(Theme.objects.filter(codebook=version))
        .prefetch_related(
            Prefetch("derived_from", queryset=linked), Prefetch("successors", queryset=linked)
        )
        .order_by("order", "key")
    )
    is_current = not CodebookVersion.objects.filter(number__gt=version.number).exists()
    return {"version": version, "themes": themes, "is_current": is_current}


# A background job still waiting this long after it was queued, with no job running: the
# background worker is not running.
JOB_NOT_STARTED = dt.timedelta(minutes=2)


def worker_not_started(queued_at: dt.datetime) -> bool:
    """A job queued at `queued_at` (and still waiting) has waited long while the worker
    runs no job (one busy with an earlier job is running): the worker seems not to be
    running. One query."""
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    return (
        now - queued_at > JOB_NOT_STARTED
        # (a job left running by a worker that was killed does not count)
        and not DBTaskResult.objects.filter(
            status="RUNNING", started_at__gte=now - JOB_STOPPED_AFTER
        ).exists()
    )


def suggestion_run_progress(run: SuggestionRun) -> dict[str, Any]:
    """How far a run of "Suggest themes again" has got, for its page to follow: its status,
    the line that says so, and whether it seems not to have started or to have stopped."""
    Status = SuggestionRun.Status
    line = "Finished."
    if run.status == Status.QUEUED:
        line = "Waiting to start."
    elif run.status == Status.RUNNING:
        line = (
            "Retraining the classifier if people's decisions have changed, then suggesting themes."
        )
    return {
        "status": run.status,
        "finished": run.finished(),
        "line": line,
        "not_started": run.status == Status.QUEUED and worker_not_started(run.created_at),
        "stopped": run.stalled(),
    }


def suggestion_run_page(run: SuggestionRun) -> dict[str, Any]:
    """A run's page: its progress and, once it has finished, how many statements wait for a
    person in the review queue now and some whose themes it changed. Five queries at most
    besides the run's."""
    done = run.status == run.Status.DONE
    waiting = review_queue(1, per_page=1)["count"] if done else None
    changes = run_changes(run) if done else []
    return {"run": run, "waiting": waiting, "changes": changes, **suggestion_run_progress(run)}


# How many of a run's changed statements its page shows.
CHANGES_SHOWN = 20


def run_changes(run: SuggestionRun) -> list[dict[str, Any]]:
    """Statements whose suggested themes the run changed, surest first, as the run kept them
    (`SuggestionRun.examples`), those a person may see only (not the findings of inspections
    not yet published), at most CHANGES_SHOWN: each with the themes suggested now, those new
    among them, and those no longer suggested, by name in the codebook the run used. Two
    queries."""
    if not run.examples:
        return []
    statements = coding_corpus().in_bulk([e["statement"] for e in run.examples])
    keys = {k for e in run.examples for k in (*e["before"], *e["after"])}
    names = dict(
        Theme.objects.filter(codebook__classifiers__version=run.classifier, key__in=keys)
        .order_by()
        .values_list("key", "name")
    )
    changes = []
    for example in run.examples:
        statement = statements.get(example["statement"])
        if statement is None:
            continue
        before, after = set(example["before"]), example["after"]
        changes.append(
            {
                "statement": statement,
                "now": [(names.get(k, k), k not in before) for k in after],
                "dropped": [names.get(k, k) for k in example["before"] if k not in after],
            }
        )
        if len(changes) == CHANGES_SHOWN:
            break
    return changes


# How long a finished run of "Suggest themes again" is shown on the model page.
RUN_SHOWN = dt.timedelta(days=7)


def suggestion_run_latest() -> SuggestionRun | None:
    """The run of "Suggest themes again" waiting or under way, or else the latest finished
    in the past week, for the model page. One query."""
    return (
        SuggestionRun.objects.filter(
            Q(active=True) | Q(finished_at__gte=timezone.now() - RUN_SHOWN)
        )
        .select_related("created_by")
        .order_by(F("active").desc(nulls_last=True), "-created_at", "-id")
        .first()
    )
