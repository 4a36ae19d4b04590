from django.urls import path

from . import views

app_name = "fieldwork"

P = "inspections/<int:pk>/fieldwork/"

urlpatterns = [
    path(P, views.overview, name="overview"),
    path(P + "case-lists/upload/", views.case_list_upload, name="case-list-upload"),
    path(P + "sample/", views.sample, name="sample"),
    path(P + "sample/<int:case_pk>/replace/", views.case_replace, name="case-replace"),
    path(P + "sample/<int:case_pk>/audit/<str:kind>/", views.audit_start, name="audit-start"),
    path(P + "audits/<int:audit_pk>/", views.audit_detail, name="audit"),
    path(P + "audits/<int:audit_pk>/save/", views.audit_save, name="audit-save"),
    path(P + "sample/<int:case_pk>/refer/", views.referral_create, name="referral-create"),
    path(P + "referrals/", views.referral_list, name="referrals"),
    path(P + "referrals/<int:referral_pk>/", views.referral_detail, name="referral"),
    path(P + "moderation/", views.moderation, name="moderation"),
    path(P + "moderation/<int:case_pk>/resolve/", views.resolve, name="resolve"),
    path(P + "agreement/", views.agreement, name="agreement"),
    path(P + "results/", views.results, name="results"),
    path(P + "results.<str:fmt>", views.results_export, name="results-export"),
    path("fieldwork/national/", views.national, name="national"),
]
