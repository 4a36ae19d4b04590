"""The forces' API (/api/v1/, namespace "followup_api", registered by django-ninja) and the
pages that manage its keys (/follow-up/api-keys/, namespace "followup_keys").

Included from inspectorate/urls.py with `path("", include("apps.followup.urls_api"))`.
"""

from django.urls import include, path

from . import views_tokens
from .api import api

key_patterns = [
    path("", views_tokens.api_keys, name="list"),
    path("new/", views_tokens.api_key_create, name="create"),
    path("<int:pk>/revoke/", views_tokens.api_key_revoke, name="revoke"),
]

urlpatterns = [
    path("api/v1/", api.urls),
    path("follow-up/api-keys/", include((key_patterns, "followup_keys"))),
]
