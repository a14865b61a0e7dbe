"""Who may see which part of the access network: staff with ``network.view`` see every node."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from beskontakt.accounts.roles import user_can

from .models import Node, Port


def access_node(user: Any, node_id: int) -> Node:
    """The node, for staff who may view the network; anyone else gets a 404."""
    if not user_can(user, "network.view"):
        raise Http404
    try:
        return Node.objects.select_related("district", "parent").get(pk=node_id)
    except Node.DoesNotExist as exc:
        raise Http404 from exc


def access_port(user: Any, port_id: int) -> Port:
    """The port, for staff who may view the network; anyone else gets a 404."""
    if not user_can(user, "network.view"):
        raise Http404
    try:
        return Port.objects.select_related("node").get(pk=port_id)
    except Port.DoesNotExist as exc:
        raise Http404 from exc
