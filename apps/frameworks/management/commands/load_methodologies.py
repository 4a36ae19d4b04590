from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.core.audit import SystemActor
from apps.frameworks.loaders import MethodologyFileError, read_directory
from apps.frameworks.services import methodologies_load


class Command(BaseCommand):
    help = "Load the inspection methodology versions from data/methodologies (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--path", type=Path, default=Path(settings.BASE_DIR) / "data" / "methodologies"
        )

    def handle(self, *args, **options):
        try:
            files = read_directory(options["path"])
            result = methodologies_load(actor=SystemActor("load_methodologies"), files=files)
        except MethodologyFileError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Methodologies: {len(result.created)} created, {len(result.updated)} updated, "
            f"{len(result.unchanged)} unchanged."
        )
