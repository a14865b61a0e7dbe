"""The subscriber's self-care portal (under /my/)."""


app_name = "portal"

urlpatterns: list = []
