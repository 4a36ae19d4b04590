from django.apps import AppConfig


class FieldworkConfig(AppConfig):
    name = "apps.fieldwork"
    label = "fieldwork"
    verbose_name = "Fieldwork: case lists, samples, case audits and moderation"
    default_auto_field = "django.db.models.BigAutoField"
