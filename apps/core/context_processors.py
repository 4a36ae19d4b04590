from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

# (url name, label, who sees it): "all", "anonymous", "signed_in", or a permission.
NAVIGATION = (
    ("inspections:staff-home", "Home", "signed_in"),
    ("core:home", "Home", "anonymous"),
    ("inspections:inspection-list", "Inspections", "signed_in"),
    ("fieldwork:national", "National grades", "staff"),
    ("followup:home", "Follow-up", "follow_up"),
    ("themes:home", "Themes", "theme_coding"),
    ("notifications:list", "Notices", "signed_in"),
    ("reference:force-list", "Police forces", "all"),
    ("reference:area-list", "Areas", "all"),
    ("core:audit-list", "Audit trail", "core.view_auditevent"),
    ("admin:index", "Admin", "is_staff"),
    ("accounts:sign-in", "Sign in", "anonymous"),
)


def _shown(user: Any, audience: str) -> bool:
    signed_in = bool(getattr(user, "is_authenticated", False))
    if audience == "all":
        return True
    if audience == "anonymous":
        return not signed_in
    if audience == "signed_in":
        return signed_in
    if audience == "staff":
        return signed_in and user.is_inspectorate_staff
    if audience == "follow_up":  # the inspectorate's staff and force liaisons
        return signed_in and (user.is_inspectorate_staff or bool(user.own_force_id))
    if audience == "theme_coding":
        from apps.themes.permissions import can_code

        return can_code(user)
    if audience == "is_staff":
        return signed_in and user.is_staff
    return signed_in and user.has_perm(audience)


def service(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else ""
    navigation = [
        {"href": reverse(name), "label": label, "active": name == current}
        for name, label, audience in NAVIGATION
        if _shown(user, audience)
    ]
    if getattr(user, "is_authenticated", False):
        from apps.notifications.selectors import unread_count

        unread = unread_count(user)
        if unread:
            for item in navigation:
                if item["href"] == reverse("notifications:list"):
                    item["label"] = f"Notices ({unread} new)"
    return {
        "service_name": settings.SERVICE_NAME,
        "service_tagline": settings.SERVICE_TAGLINE,
        "navigation": navigation,
    }
