from django.urls import path

from . import views, views_archive, views_codebook, views_discovery, views_synthesis

app_name = "themes"

urlpatterns = [
    path("themes/review/", views.review, name="review"),
    path("themes/statements/<int:pk>/", views.statement, name="statement"),
    path("themes/statements/<int:pk>/reading/", views.statement_reading, name="statement-reading"),
    *views_archive.urlpatterns,
    *views_codebook.urlpatterns,
    *views_discovery.urlpatterns,
    *views_synthesis.urlpatterns,
]
