"""URLs of the device pages."""

from django.urls import path

from . import views

app_name = "cpe"
urlpatterns = [
    path("devices/<int:pk>/", views.device_detail, name="device"),
    path("devices/<int:pk>/operate/", views.device_operate, name="operate"),
]
