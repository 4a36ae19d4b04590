from django.urls import path

from . import views

app_name = "inspections"

urlpatterns = [
    path("home/", views.staff_home, name="staff-home"),
    path("inspections/", views.inspection_list, name="inspection-list"),
    path("inspections/new/", views.inspection_create, name="inspection-create"),
    path("inspections/<int:pk>/", views.inspection_detail, name="inspection-detail"),
    path("inspections/<int:pk>/plan/", views.inspection_plan, name="inspection-plan"),
    path("inspections/<int:pk>/step/", views.inspection_transition, name="inspection-transition"),
    path("inspections/<int:pk>/team/", views.team_manage, name="team"),
    path(
        "inspections/<int:pk>/team/<int:member_pk>/remove/",
        views.team_member_remove,
        name="team-member-remove",
    ),
]
