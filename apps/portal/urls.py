from django.urls import path

from . import feeds, views

app_name = "portal"

R = "reports/<slug:slug>/"
CY = {"language": "cy"}

urlpatterns = [
    path("reports/", views.report_list, name="report-list"),
    path("reports/feed.atom", feeds.PublicationFeed(), name="report-feed"),
    path(R, views.report, name="report"),
    path(R + "report.pdf", views.report_pdf, name="report-pdf"),
    path(R + "v<int:version>/", views.report, name="report-version"),
    path(R + "v<int:version>/report.pdf", views.report_pdf, name="report-version-pdf"),
    path(R + "cy/", views.report, CY, name="report-cy"),
    path(R + "cy/report.pdf", views.report_pdf, CY, name="report-cy-pdf"),
    path(R + "cy/v<int:version>/", views.report, CY, name="report-cy-version"),
    path(R + "cy/v<int:version>/report.pdf", views.report_pdf, CY, name="report-cy-version-pdf"),
    path("map/", views.national_map, name="map"),
    path("open-data/", views.open_data, name="open-data"),
    path("open-data/<slug:dataset>.<str:fmt>", views.open_data_download, name="open-data-file"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("contact/", views.contact, name="contact"),
    path("contact/thanks/", views.contact_thanks, name="contact-thanks"),
    path("contact-messages/", views.message_list, name="message-list"),
    path("contact-messages/<int:pk>/", views.message_detail, name="message-detail"),
    path("contact-messages/<int:pk>/handled/", views.message_handled, name="message-handled"),
]
