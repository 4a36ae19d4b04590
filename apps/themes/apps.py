from django.apps import AppConfig


class ThemesConfig(AppConfig):
    name = "apps.themes"
    label = "themes"
    verbose_name = "National thematic synthesis: coding statements to themes"
    default_auto_field = "django.db.models.BigAutoField"
