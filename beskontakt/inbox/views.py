"""Workspace pages of the intake channels: what was refused, and what could not be delivered."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from beskontakt.accounts.access import staff_required
from beskontakt.cases.views.common import peek_page
from beskontakt.subscribers.models import Channel

from .models import OutboundMessage, RejectedInbound


@require_GET
@staff_required("inbox.review")
def refused(request: HttpRequest) -> HttpResponse:
    """Inbound items that did not become case messages, and outbound ones that failed, newest first."""
    channel = request.GET.get("channel", "")
    reason = request.GET.get("reason", "")
    items = RejectedInbound.objects.select_related("case").order_by("-received_at", "-pk")
    if channel in Channel.values:
        items = items.filter(channel=channel)
    if reason in RejectedInbound.Reason.values:
        items = items.filter(reason=reason)
    failed = (
        OutboundMessage.objects.filter(status__in=[OutboundMessage.Status.FAILED, OutboundMessage.Status.SUPPRESSED])
        .select_related("case")
        .order_by("-created_at", "-pk")
    )
    if channel in Channel.values:
        failed = failed.filter(channel=channel)
    context = {
        "page": peek_page(items, request.GET.get("page")),
        "failed": list(failed[:50]),
        "channels": Channel.choices,
        "reasons": RejectedInbound.Reason.choices,
        "channel": channel,
        "reason": reason,
    }
    return render(request, "inbox/refused.html", context)
