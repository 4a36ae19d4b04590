"""What each role may do across the whole service (object-level rules live with each app's
selectors: see apps/inspections/permissions.py).

Roles grant Django permissions through RoleBackend, so `user.has_perm("core.view_auditevent")`
and `{% if perms.core.view_auditevent %}` work without groups to keep in step.
"""

from __future__ import annotations

from typing import Any

from .models import Role

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.PROGRAMME_MANAGER: frozenset(
        {
            "core.view_auditevent",
            "inspections.add_inspection",
            "inspections.view_all_inspections",
        }
    ),
    Role.ANALYST: frozenset({"inspections.view_all_inspections"}),
    Role.ADMINISTRATOR: frozenset({"core.view_auditevent", "inspections.view_all_inspections"}),
    Role.LEAD_INSPECTOR: frozenset(),
    Role.INSPECTOR: frozenset(),
    Role.PARTNER_INSPECTOR: frozenset(),
    Role.FORCE_LIAISON: frozenset(),
}


class RoleBackend:
    """Grants the permissions of a user's role. Authenticates nobody."""

    def authenticate(self, request: Any, **credentials: Any) -> None:
        return None

    def get_user(self, user_id: int) -> None:
        return None

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        return set(ROLE_PERMISSIONS.get(user_obj.role, frozenset()))

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        return any(p.startswith(f"{app_label}.") for p in self.get_all_permissions(user_obj))
