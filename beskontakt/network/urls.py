"""URLs of the access-network pages."""

from django.urls import path

from . import views

app_name = "network"
urlpatterns = [
    path("", views.node_list, name="nodes"),
    path("nodes/<int:pk>/", views.node_detail, name="node"),
    path("ports/<int:pk>/", views.port_detail, name="port"),
]
