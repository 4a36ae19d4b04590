from django.urls import path, register_converter

from . import views


class LanguageConverter:
    """A report's language in its address: en or cy."""

    regex = "en|cy"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(LanguageConverter, "lang")

app_name = "reports"

P = "inspections/<int:pk>/report/"
L = P + "<lang:lang>/"

urlpatterns = [
    path(P, views.report, name="report"),
    path(P + "start/", views.report_start, name="start"),
    path(P + "cy/start/", views.welsh_start, name="welsh-start"),
    path(L, views.report, name="report-language"),
    path(L + "title/", views.retitle, name="retitle"),
    path(L + "preview/", views.preview, name="preview"),
    path(L + "sections/<int:section_pk>/", views.section_edit, name="section"),
    path(L + "sections/<int:section_pk>/revisions/<int:number>/", views.revision, name="revision"),
    path(L + "disclosure/", views.disclosure, name="disclosure"),
    path(L + "disclosure/run/", views.disclosure_run, name="disclosure-run"),
    path(L + "disclosure/small-numbers/", views.small_numbers_withhold, name="withhold-small"),
    path(L + "disclosure/<int:hit_pk>/redact/", views.hit_redact, name="hit-redact"),
    path(L + "disclosure/<int:hit_pk>/dismiss/", views.hit_dismiss, name="hit-dismiss"),
    path(L + "sign-off/", views.sign_off, name="sign-off"),
    path(L + "publish/", views.publish, name="publish"),
    path(L + "versions/<int:version>/withdraw/", views.withdraw, name="withdraw"),
]
