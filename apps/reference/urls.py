from django.urls import path

from . import views

app_name = "reference"

urlpatterns = [
    path("forces/", views.force_list, name="force-list"),
    path("forces/<slug:slug>/", views.force_detail, name="force-detail"),
    path("areas/", views.area_list, name="area-list"),
    path("areas/<str:code>/", views.area_detail, name="area-detail"),
]
