"""The project's URLs with the API and its key pages, for tests run before (or after)
inspectorate/urls.py includes apps.followup.urls_api."""

from django.urls import include, path

from inspectorate import urls as project

handler403 = project.handler403
handler404 = project.handler404
handler500 = project.handler500

_wired = any(
    getattr(p, "urlconf_name", None) is not None
    and getattr(p.urlconf_name, "__name__", p.urlconf_name) == "apps.followup.urls_api"
    for p in project.urlpatterns
)

urlpatterns = list(project.urlpatterns)
if not _wired:
    urlpatterns.append(path("", include("apps.followup.urls_api")))
