"""The portal's live chat page (/my/chat/): the page; the conversation itself runs over /ws/chat/.

The page renders an empty message list and the composer; ``static/js/chat.js``
opens the socket, which sends the recent history at once, then every new message
both ways (see ``beskontakt.inbox.consumers.chat``).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from beskontakt.inbox.chat import MAX_CHAT_CHARS
from beskontakt.subscribers.models import Subscriber

from .access import subscriber_required


@never_cache
@require_GET
@subscriber_required
def chat_page(request: HttpRequest, subscriber: Subscriber) -> HttpResponse:
    """The chat with the operator: message list, "agent is typing…", composer."""
    return render(request, "portal/chat.html", {"subscriber": subscriber, "max_chars": MAX_CHAT_CHARS})
