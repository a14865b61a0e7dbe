"""The network pages: who may see them, and what they show."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.utils import timezone

from beskontakt.accounts.models import User
from beskontakt.accounts.roles import Role
from beskontakt.accounts.testing import login_verified
from beskontakt.network import actions
from beskontakt.network.models import Node, Port, PortSample, PortState
from beskontakt.subscribers.models import Subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def port(subscriber: Subscriber) -> Port:
    node = actions.save_node(name="sw-khamovniki-1", address="10.1.0.1", community="secret-community")
    port = Port.objects.create(node=node, if_index=3, name="Gi0/3", speed_bps=100_000_000)
    now = timezone.now()
    for minutes in (60, 30, 5):
        PortSample.objects.create(
            port=port,
            at=now - timedelta(minutes=minutes),
            oper_status=1,
            admin_status=1,
            errors_delta=40,
            flaps=1,
            util_in=0.3,
            util_out=0.1,
        )
    PortState.objects.create(port=port, at=now, oper_status=1, admin_status=1, util_in=0.3, util_out=0.1, flap_count=3)
    actions.connect_subscriber(subscriber, port)
    return port


def test_anonymous_is_sent_to_login(client: Client, port: Port) -> None:
    for url in ("/network/", f"/network/nodes/{port.node_id}/", f"/network/ports/{port.pk}/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/" in response["Location"]


def test_subscriber_is_refused(client: Client, users: dict[str, User], port: Port) -> None:
    login_verified(client, users[Role.SUBSCRIBER])
    assert client.get("/network/").status_code == 403
    assert client.get(f"/network/ports/{port.pk}/").status_code == 403


@pytest.mark.parametrize("role", [Role.AGENT, Role.TECHNICIAN, Role.NOC, Role.ADMIN, Role.SUPERVISOR])
def test_staff_see_nodes_ports_and_charts(client: Client, users: dict[str, User], port: Port, role: str) -> None:
    login_verified(client, users[role])
    listing = client.get("/network/?q=khamov")
    assert listing.status_code == 200 and "sw-khamovniki-1" in listing.content.decode()
    node_page = client.get(f"/network/nodes/{port.node_id}/").content.decode()
    assert "Gi0/3" in node_page and "secret-community" not in node_page
    port_page = client.get(f"/network/ports/{port.pk}/")
    assert port_page.status_code == 200
    html = port_page.content.decode()
    assert "<svg" in html and "polyline" in html and "<rect" in html
    assert client.get("/network/nodes/999999/").status_code == 404
    assert client.get("/network/?page=abc").status_code == 200


def test_subscriber_line_tag(users: dict[str, User], subscriber: Subscriber, port: Port) -> None:
    template = Template("{% load network_tags %}{% subscriber_line subscriber %}")
    request = RequestFactory().get("/")
    request.user = users[Role.AGENT]
    html = template.render(Context({"request": request, "subscriber": subscriber}))
    assert "sw-khamovniki-1" in html and "Gi0/3" in html and "120" in html
    request.user = users[Role.SUBSCRIBER]
    assert "sw-khamovniki-1" not in template.render(Context({"request": request, "subscriber": subscriber}))


def test_node_admin_hides_secrets(client: Client, users: dict[str, User], port: Port) -> None:
    login_verified(client, users[Role.ADMIN])
    page = client.get(f"/admin/network/node/{port.node_id}/change/").content.decode()
    assert "secret-community" not in page and "community_sealed" not in page
    assert client.get("/admin/network/port/").status_code == 200
    assert Node.objects.count() == 1
