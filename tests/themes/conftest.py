"""The follow-up tests' published inspections: their findings are the corpus's statements;
and a stand-in classifier version for tests that set suggestions without the model."""

from apps.themes import services
from apps.themes.models import ClassifierVersion, CodebookVersion
from tests.fieldwork.conftest import fw  # noqa: F401
from tests.followup.conftest import pub  # noqa: F401
from tests.reports.conftest import drafted  # noqa: F401


def stand_in_classifier(
    version: str = "test", codebook: CodebookVersion | None = None, trained_on: int = 1
) -> ClassifierVersion:
    """A classifier version with no model, to stamp suggestions a test sets itself."""
    return ClassifierVersion.objects.create(
        version=version,
        codebook=codebook or services.current_codebook(),
        embedding_model="m",
        trained_on=trained_on,
        model=b"",
    )
