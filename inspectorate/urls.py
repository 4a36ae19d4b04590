from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Inspectorate administration"
admin.site.site_title = "Inspectorate administration"

urlpatterns = [
    path("", include("apps.core.urls")),
    path("", include("apps.accounts.urls")),
    path("", include("apps.portal.urls")),
    path("", include("apps.reference.urls")),
    path("", include("apps.inspections.urls")),
    path("", include("apps.fieldwork.urls")),
    path("", include("apps.findings.urls")),
    path("", include("apps.reports.urls")),
    path("", include("apps.followup.urls")),
    path("", include("apps.followup.urls_api")),
    path("", include("apps.themes.urls")),
    path("notifications/", include("apps.notifications.urls")),
    path("admin/", admin.site.urls),
]

handler403 = "apps.core.views.permission_denied"
handler404 = "apps.core.views.page_not_found"
handler500 = "apps.core.views.server_error"
