"""Used by run_bench.py only if `collectstatic` fails with the production settings.

frontend/build.mjs leaves GOV.UK Frontend's crest image out of static/, but the compiled
CSS (the footer styles) still refers to it, so the manifest storage's post-processing stops
with MissingFileError. These are the production settings with the crest found in
node_modules as well, so collection completes; the server itself then runs with the
unchanged production settings and the manifest this writes. See docs/benchmarks.md.
"""

from inspectorate.settings.production import *  # noqa: F403
from inspectorate.settings.production import BASE_DIR, STATICFILES_DIRS

STATICFILES_DIRS = [
    *STATICFILES_DIRS,
    ("govuk/assets/images", BASE_DIR / "node_modules/govuk-frontend/dist/govuk/assets/images"),
]
