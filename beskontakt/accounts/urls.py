"""URLs of the accounts app: staff sign-in with two factors, sign-out, profile, API token."""

from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("otp/", views.otp_view, name="otp"),
    path("enroll/", views.enroll_view, name="enroll"),
    path("logout/", views.logout_view, name="logout"),
    path("profile/", views.profile_view, name="profile"),
    path("api-token/", views.api_token_view, name="api-token"),
]
