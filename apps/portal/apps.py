from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _keep_search_index(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    from django.db import connections

    from .search import sqlite_index_ensure

    sqlite_index_ensure(connections[using])


class PortalConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.portal"
    verbose_name = "Public portal"

    def ready(self) -> None:
        # On SQLite a later migration of reports_publication drops the search triggers with the
        # old table; put them back (and rebuild the index) after every migrate.
        post_migrate.connect(_keep_search_index, sender=self, dispatch_uid="portal-search-index")
