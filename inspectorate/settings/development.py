"""Local development and the demo: SQLite, debug pages, two-factor optional."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
INSPECTORATE_ENCRYPTION_KEYS = env.list(
    "INSPECTORATE_ENCRYPTION_KEYS",
    # A fixed demo key so the demo survives restarts. Never used outside development.
    default=["ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q="],
)
