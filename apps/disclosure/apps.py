from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class DisclosureConfig(AppConfig):
    name = "apps.disclosure"
    label = "disclosure"
    verbose_name = "Disclosure check of text before publication"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.reference.models import Force, Inspectorate, LocalAuthority

        from .allowlist import reset_cache

        # The allow-list caches the reference names; a change to them forgets the cache.
        for model in (Force, LocalAuthority, Inspectorate):
            for signal in (post_save, post_delete):
                signal.connect(
                    reset_cache, sender=model, dispatch_uid=f"disclosure-{model.__name__}"
                )
