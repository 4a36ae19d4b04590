from django.urls import path

from . import views

app_name = "followup"

urlpatterns = [
    path("follow-up/", views.home, name="home"),
    path("follow-up/tracker/", views.tracker, name="tracker"),
    path("follow-up/tracker/export.<str:fmt>", views.tracker_export, name="tracker-export"),
    path("follow-up/inspections/<int:pk>/", views.inspection, name="inspection"),
    path("follow-up/inspections/<int:pk>/action-plan/", views.plan_submit, name="plan-submit"),
    path("follow-up/inspections/<int:pk>/action-plan/<int:number>/", views.plan, name="plan"),
    path("follow-up/inspections/<int:pk>/route/", views.route, name="route"),
    path("follow-up/recommendations/<int:pk>/", views.recommendation, name="recommendation"),
    path("follow-up/recommendations/<int:pk>/update/", views.progress, name="progress"),
    path("follow-up/recommendations/<int:pk>/comment/", views.comment, name="comment"),
    path("follow-up/recommendations/<int:pk>/assess/", views.assess, name="assess"),
    path("follow-up/recommendations/<int:pk>/close/", views.close, name="close"),
    path(
        "follow-up/recommendations/<int:pk>/close-by-letter/",
        views.concern_close,
        name="concern-close",
    ),
    path("follow-up/recommendations/<int:pk>/summary/", views.pcc_summary, name="summary"),
    path("follow-up/files/<int:pk>/", views.file_download, name="file"),
]
