"""URLs of the agent workspace."""

from django.urls import path

from . import views

app_name = "cases"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("cases/new/", views.new_case, name="new"),
    path("cases/<int:pk>/", views.detail, name="detail"),
    path("cases/<int:pk>/sla/", views.sla_panel, name="sla"),
    path("cases/<int:pk>/macro/", views.macro_text, name="macro"),
    path("cases/<int:pk>/reply/", views.reply, name="reply"),
    path("cases/<int:pk>/note/", views.note, name="note"),
    path("cases/<int:pk>/take/", views.take, name="take"),
    path("cases/<int:pk>/assign/", views.assign, name="assign"),
    path("cases/<int:pk>/status/", views.change_status, name="status"),
    path("cases/<int:pk>/priority/", views.set_priority, name="priority"),
    path("cases/<int:pk>/category/", views.set_category, name="category"),
    path("cases/<int:pk>/queue/", views.move_to_queue, name="move"),
    path("cases/<int:pk>/tags/", views.set_tags, name="tags"),
    path("cases/<int:pk>/merge/", views.merge, name="merge"),
    path("cases/<int:pk>/link/", views.link, name="link"),
    path("cases/<int:pk>/callback/", views.callback, name="callback"),
    path("cases/attachments/<int:pk>/", views.attachment, name="attachment"),
]
