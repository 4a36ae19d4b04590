from django.urls import path

from . import views

app_name = "findings"

P = "inspections/<int:pk>/findings/"

urlpatterns = [
    path(P, views.register, name="register"),
    path(P + "add/<str:kind>/", views.finding_add, name="finding-add"),
    path(P + "<int:finding_pk>/", views.finding_edit, name="finding-edit"),
    path(P + "<int:finding_pk>/remove/", views.finding_delete, name="finding-delete"),
    path(P + "evidence/", views.evidence_list, name="evidence"),
    path(P + "evidence/add/", views.evidence_add, name="evidence-add"),
    path(P + "evidence/<int:item_pk>/", views.evidence_edit, name="evidence-edit"),
    path(P + "evidence/<int:item_pk>/remove/", views.evidence_delete, name="evidence-delete"),
]
