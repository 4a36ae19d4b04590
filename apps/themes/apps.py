from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def check_embedding_settings(**kwargs: Any) -> list[checks.CheckMessage]:
    """THEMES_EMBEDDING_PROCESSES and THEMES_EMBEDDING_PRECISION are read only when text is
    embedded: check them at start-up."""
    from . import embedding  # numpy, not the model

    errors: list[checks.CheckMessage] = []
    for read, check_id in (
        (embedding.processes, "themes.E001"),
        (embedding.precision_setting, "themes.E002"),
    ):
        try:
            read()
        except ImproperlyConfigured as error:
            errors.append(checks.Error(str(error), id=check_id))
    return errors


class ThemesConfig(AppConfig):
    name = "apps.themes"
    label = "themes"
    verbose_name = "National thematic synthesis: coding statements to themes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        checks.register(check_embedding_settings)
