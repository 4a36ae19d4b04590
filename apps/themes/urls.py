from django.urls import path

from . import views

app_name = "themes"

urlpatterns = [
    path("themes/review/", views.review, name="review"),
    path("themes/statements/<int:pk>/", views.statement, name="statement"),
]
