from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def check_embedding_processes(**kwargs: Any) -> list[checks.CheckMessage]:
    """THEMES_EMBEDDING_PROCESSES is read only when a corpus is coded: check it at start-up."""
    from . import embedding  # numpy, not the model

    try:
        embedding.processes()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="themes.E001")]
    return []


class ThemesConfig(AppConfig):
    name = "apps.themes"
    label = "themes"
    verbose_name = "National thematic synthesis: coding statements to themes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        checks.register(check_embedding_processes)
