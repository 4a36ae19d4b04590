"""Who may do what with the portal's own data. Everything else in the portal is public."""

from __future__ import annotations

from typing import Any

from apps.accounts.models import Role

# Messages from the public may say something about a child: only the people who run the
# programme read and answer them.
CONTACT_MESSAGE_ROLES = frozenset({Role.PROGRAMME_MANAGER, Role.ADMINISTRATOR})


def can_read_contact_messages(user: Any) -> bool:
    return (
        bool(getattr(user, "is_authenticated", False))
        and user.is_active
        and user.role in CONTACT_MESSAGE_ROLES
    )
