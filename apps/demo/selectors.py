"""Reads of the demo app."""

from __future__ import annotations

from dataclasses import dataclass

from apps.accounts.models import Role, User
from apps.inspections.models import Inspection, State, TeamRole
from apps.inspections.permissions import inspections_visible_to

from .catalogue import SIGN_INS
from .models import DemoProgramme


def demo_programme_current() -> DemoProgramme | None:
    """The fictional programme generated into this database, if any."""
    return DemoProgramme.objects.order_by("-generated_at", "-id").first()


@dataclass(frozen=True)
class SignIn:
    username: str
    role: str
    organisation: str
    sees: str


def _plural(n: int, word: str) -> str:
    return word if n == 1 else f"{word}s"


def _sees(user: User) -> str:
    visible = inspections_visible_to(user)
    n = visible.count()
    if user.role == Role.PROGRAMME_MANAGER:
        return (
            f"Every inspection ({n}): plans them, staffs the teams, records publication; "
            "the audit trail."
        )
    if user.role == Role.ANALYST:
        return f"Every inspection ({n}), to read."
    if user.role == Role.ADMINISTRATOR:
        return f"Every inspection ({n}), the audit trail and the Django admin at /admin/."
    if user.role == Role.LEAD_INSPECTOR:
        leads = visible.filter(team__user=user, team__role=TeamRole.LEAD_INSPECTOR).count()
        return (
            f"The {n} inspections on whose team they are; leads {leads} of them and moves "
            "them through the lifecycle."
        )
    if user.role == Role.INSPECTOR:
        return f"The {n} {_plural(n, 'inspection')} on whose team they are."
    if user.role == Role.PARTNER_INSPECTOR:
        return f"The {n} joint {_plural(n, 'inspection')} on whose team they are."
    if user.role == Role.FORCE_LIAISON and user.own_force_id:
        planned = Inspection.objects.filter(forces=user.own_force_id, state=State.PLANNED).count()
        return (
            f"The force's {n} inspections from the day it is notified (not the {planned} "
            "still being planned)."
        )
    return "Nothing."


def demo_sign_ins() -> list[SignIn]:
    """The documented demo sign-ins that exist here, with what each can see."""
    users = {
        u.username: u
        for u in User.objects.select_related("organisation").filter(
            username__in=[p.username for p in SIGN_INS]
        )
    }
    return [
        SignIn(
            username=p.username,
            role=users[p.username].get_role_display(),
            organisation=str(users[p.username].organisation or "no organisation"),
            sees=" ".join(filter(None, (p.note, _sees(users[p.username])))),
        )
        for p in SIGN_INS
        if p.username in users
    ]
