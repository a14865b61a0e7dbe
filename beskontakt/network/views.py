"""Access-network pages of the staff workspace: the node list, a node with its ports, a port's history."""

from __future__ import annotations

from datetime import timedelta

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from beskontakt.accounts.access import staff_required

from .access import access_node, access_port
from .charts import line_chart
from .models import Node, PortSample, PortState

NODES_PER_PAGE = 50
HISTORY = timedelta(hours=24)


@require_GET
@staff_required("network.view")
def node_list(request: HttpRequest) -> HttpResponse:
    """Every node with its kind, district, last poll and how many ports are down."""
    query = (request.GET.get("q") or "").strip()[:100]
    nodes = Node.objects.select_related("district").annotate(
        port_count=Count("ports", distinct=True),
        down_count=Count("ports", filter=Q(ports__state__oper_status=2, ports__state__admin_status=1), distinct=True),
    )
    if query:
        nodes = nodes.filter(Q(name__icontains=query) | Q(address__icontains=query))
    page = Paginator(nodes.order_by("name"), NODES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "network/node_list.html", {"page": page, "q": query})


@require_GET
@staff_required("network.view")
def node_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A node: its poll status and every port with link state, errors and utilisation."""
    node = access_node(request.user, pk)
    ports = list(
        node.ports.select_related("state").annotate(subscriber_count=Count("subscribers")).order_by("if_index")
    )
    return render(request, "network/node_detail.html", {"node": node, "ports": ports})


@require_GET
@staff_required("network.view")
def port_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A port's last 24 hours: utilisation, new errors and link changes, drawn as inline SVG."""
    port = access_port(request.user, pk)
    since = timezone.now() - HISTORY
    samples = list(
        PortSample.objects.filter(port=port, at__gte=since)
        .order_by("at")
        .values("at", "util_in", "util_out", "errors_delta", "flaps", "oper_status")
    )
    state = PortState.objects.filter(port=port).first()
    charts = {}
    if samples:
        charts = {
            "util_in": line_chart(
                [(s["at"], s["util_in"]) for s in samples], series_label=_("Utilisation in"), ceiling=1.0
            ),
            "util_out": line_chart(
                [(s["at"], s["util_out"]) for s in samples],
                series_label=_("Utilisation out"),
                ceiling=1.0,
                colour="#2f855a",
            ),
            "errors": line_chart(
                [(s["at"], float(s["errors_delta"] or 0)) for s in samples],
                series_label=_("New errors"),
                colour="#c53030",
                bars=True,
            ),
        }
    subscribers = port.subscribers.select_related("subscriber")[:50]
    context = {
        "port": port,
        "state": state,
        "charts": charts,
        "flaps": sum(s["flaps"] for s in samples),
        "errors": sum(s["errors_delta"] or 0 for s in samples),
        "sample_count": len(samples),
        "lines": subscribers,
    }
    return render(request, "network/port_detail.html", context)
