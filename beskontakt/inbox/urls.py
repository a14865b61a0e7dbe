"""Intake endpoints that channels call (the Telegram webhook) and the callback queue pages."""

app_name = "inbox"

urlpatterns: list = []
