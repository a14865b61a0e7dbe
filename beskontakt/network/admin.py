"""Admin pages of the access network (secrets are never shown)."""

from __future__ import annotations

from django.contrib import admin

from .models import Node, Port, SubscriberPort


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
    """Nodes: topology and polling settings; SNMP secrets are set through ``actions.save_node``."""

    list_display = ["name", "kind", "district", "address", "snmp_version", "enabled", "poll_status", "polled_at"]
    list_filter = ["kind", "snmp_version", "enabled", "poll_status"]
    search_fields = ["name", "address"]
    exclude = ["community_sealed", "v3_auth_key_sealed", "v3_priv_key_sealed"]
    readonly_fields = ["polled_at", "poll_status", "poll_error", "poll_ms", "uptime_ticks"]


@admin.register(Port)
class PortAdmin(admin.ModelAdmin):
    """Ports of nodes."""

    list_display = ["node", "if_index", "name", "alias", "kind", "is_uplink"]
    list_filter = ["kind", "is_uplink"]
    search_fields = ["node__name", "name", "alias"]
    raw_id_fields = ["node"]


@admin.register(SubscriberPort)
class SubscriberPortAdmin(admin.ModelAdmin):
    """Which subscriber hangs on which port."""

    list_display = ["subscriber", "port", "since"]
    raw_id_fields = ["subscriber", "port"]
