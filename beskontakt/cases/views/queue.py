"""The queue page: the agent's list of cases with tabs, filters, sorting and paging."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from beskontakt.accounts.access import staff_required
from beskontakt.accounts.roles import user_can

from ..access import visible_cases
from ..filters import TAB_QUEUE, TABS, CaseQueueFilter
from .common import format_duration, peek_page, restricted_subscriber_ids, wants_partial


@staff_required("case.view")
def queue(request: HttpRequest) -> HttpResponse:
    """Cases to work on; htmx requests (filters, tabs, the 15-second refresh) get only the table."""
    base = visible_cases(request.user).select_related("subscriber", "assignee", "queue", "category")
    filterset = CaseQueueFilter(request.GET or None, queryset=base, request=request)
    page = peek_page(filterset.qs, request.GET.get("page"))
    now = timezone.now()
    restricted = restricted_subscriber_ids(row.subscriber_id for row in page.rows)
    for row in page.rows:
        row.restricted = row.subscriber_id in restricted
        row.due_in = format_duration((row.next_due_at - now).total_seconds()) if row.next_due_at else None
    tabs = [(code, label) for code, label in TABS if user_can(request.user, "case.view_all") or code in ("mine",)]
    context = {
        "filter": filterset,
        "page": page,
        "tab": filterset.current_tab,
        "tabs": tabs,
        "needs_queue": filterset.current_tab == TAB_QUEUE and not request.GET.get("queue"),
    }
    partial = wants_partial(request)
    template = "cases/_queue_table.html" if partial else "cases/queue.html"
    status = 400 if filterset.is_bound and not filterset.is_valid() and not partial else 200
    response = render(request, template, context, status=status)
    response["Vary"] = "HX-Request"
    return response
