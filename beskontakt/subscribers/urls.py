"""URLs of the subscriber pages of the workspace."""

from django.urls import path

from . import views

app_name = "subscribers"
urlpatterns = [
    path("", views.search, name="search"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/restrictions/", views.restrict, name="restrict"),
    path("<int:pk>/restrictions/<int:restriction_id>/lift/", views.lift, name="lift"),
]
