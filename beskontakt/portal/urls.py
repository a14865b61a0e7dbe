"""The subscriber's self-care portal (under /my/)."""

from django.urls import path

from . import chat, views

app_name = "portal"

urlpatterns = [
    path("", views.home_view, name="home"),
    path("login/", views.login_view, name="login"),
    path("login/code/", views.code_view, name="code"),
    path("login/resend/", views.resend_view, name="resend"),
    path("logout/", views.logout_view, name="logout"),
    path("restrictions/new/", views.restriction_view, name="restriction-new"),
    path("restrictions/<int:restriction_id>/lift/", views.restriction_lift_view, name="restriction-lift"),
    path("cases/new/", views.case_new_view, name="case-new"),
    path("cases/<int:case_id>/", views.case_view, name="case"),
    path("cases/<int:case_id>/message/", views.case_message_view, name="case-message"),
    path("files/<int:attachment_id>/", views.attachment_view, name="file"),
    path("callback/", views.callback_view, name="callback"),
    path("check/", views.check_view, name="check"),
    path("chat/", chat.chat_page, name="chat"),
]
