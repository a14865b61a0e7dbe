"""The project's URLs plus the portal chat page at /my/chat/ (in case the portal's own urls lack it yet)."""

from django.urls import path

from beskontakt.portal import chat
from beskontakt.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("my/chat/", chat.chat_page, name="realtime-test-chat"), *project_urlpatterns]
