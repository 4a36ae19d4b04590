"""The follow-up tests' published inspections: their findings are the corpus's statements."""

from tests.fieldwork.conftest import fw  # noqa: F401
from tests.followup.conftest import pub  # noqa: F401
from tests.reports.conftest import drafted  # noqa: F401
