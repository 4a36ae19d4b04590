"""Who codes statements to themes: the inspectorate's inspectors, lead inspectors, analysts
and the programme manager (not administrators, partners or forces)."""

from __future__ import annotations

from typing import Any

from apps.accounts.models import Role

CODERS = frozenset({Role.PROGRAMME_MANAGER, Role.LEAD_INSPECTOR, Role.INSPECTOR, Role.ANALYST})


def can_code(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.role in CODERS)


# Who shapes the corpus and the codebook: importing archive reports, revising the codebook,
# and drafting thematic reports are the analysts' and the programme manager's work.
CURATORS = frozenset({Role.PROGRAMME_MANAGER, Role.ANALYST})


def can_curate(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False) and user.is_active and user.role in CURATORS
    )


def require_coder(request: Any) -> None:
    """Refuse (403) anyone who may not code: for the pages' views."""
    from django.core.exceptions import PermissionDenied

    if not can_code(request.user):
        raise PermissionDenied


def require_curator(request: Any) -> None:
    """Refuse (403) anyone who may not curate: for the pages' views."""
    from django.core.exceptions import PermissionDenied

    if not can_curate(request.user):
        raise PermissionDenied
