from django.urls import path

from . import views

app_name = "inspections"

urlpatterns = [
    path("home/", views.staff_home, name="staff-home"),
    path("inspections/", views.inspection_list, name="inspection-list"),
]
