"""The pages: the Diagnose button on the case and subscriber pages, remote fixes, the run page, CSRF,
permissions, and the subscriber's "check my connection" in the portal."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from beskontakt.accounts.roles import Role
from beskontakt.accounts.testing import login_verified
from beskontakt.cases.models import Case, Event
from beskontakt.cpe import profiles
from beskontakt.diagnostics import verdicts
from beskontakt.diagnostics.models import DiagnosisRun
from beskontakt.portal.tests.conftest import portal_login
from beskontakt.subscribers.models import Subscriber

from .doubles import FakeDevice, World

pytestmark = pytest.mark.django_db(transaction=True)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def client() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def test_case_page_has_the_panel_and_diagnose_runs_with_htmx(
    client: Client, world: World, case: Case, agent: Any
) -> None:
    login_verified(client, agent)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="diagnose-button"' in page and 'id="fix-reboot"' in page
    response = client.post(f"/diagnostics/subscribers/{case.subscriber_id}/diagnose/", {"case": case.pk}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Line and router healthy" in html
    assert 'data-check="port"' in html and "raw evidence" in html
    run = DiagnosisRun.objects.get()
    assert run.case == case and run.requested_by == agent
    timeline = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Diagnosis: Line and router healthy" in timeline
    assert f"/diagnostics/runs/{run.pk}/" in timeline


def test_plain_post_redirects_to_the_run_page(client: Client, world: World, subscriber: Subscriber, agent: Any) -> None:
    login_verified(client, agent)
    response = client.post(f"/diagnostics/subscribers/{subscriber.pk}/diagnose/")
    run = DiagnosisRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/diagnostics/runs/{run.pk}/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Gi0/12" in page.content.decode()  # staff see the raw evidence


def test_subscriber_page_has_the_button(client: Client, world: World, subscriber: Subscriber, agent: Any) -> None:
    login_verified(client, agent)
    page = client.get(f"/subscribers/{subscriber.pk}/").content.decode()
    assert 'id="diagnose-button"' in page
    assert 'id="fix-reboot"' not in page  # fixes are made from a case


def test_second_run_too_soon_is_429_or_an_htmx_notice(
    client: Client, world: World, subscriber: Subscriber, agent: Any
) -> None:
    login_verified(client, agent)
    url = f"/diagnostics/subscribers/{subscriber.pk}/diagnose/"
    assert client.post(url).status_code == 302
    refused = client.post(url)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    notice = client.post(url, **HTMX)
    assert notice.status_code == 200 and "just run" in notice.content.decode()
    assert DiagnosisRun.objects.count() == 1


def test_forms_need_the_csrf_token(world: World, case: Case, agent: Any) -> None:
    strict = Client(enforce_csrf_checks=True)
    login_verified(strict, agent)
    assert strict.post(f"/diagnostics/subscribers/{case.subscriber_id}/diagnose/").status_code == 403
    assert strict.post(f"/diagnostics/cases/{case.pk}/fix/reboot/").status_code == 403
    assert not DiagnosisRun.objects.exists()
    page = strict.get(f"/cases/{case.pk}/")
    token = page.cookies["csrftoken"].value
    response = strict.post(f"/diagnostics/cases/{case.pk}/fix/reboot/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_remote_fix_from_the_case_page(
    client: Client, world: World, device: FakeDevice, case: Case, agent: Any
) -> None:
    login_verified(client, agent)
    response = client.post(f"/diagnostics/cases/{case.pk}/fix/wifi_channel/", {"wifi-channel": "11"}, **HTMX)
    assert response.status_code == 200
    assert "Wi-Fi channel → 11 — done" in response.content.decode()
    assert device.values[profiles.WIFI_CHANNEL] == 11
    bad = client.post(f"/diagnostics/cases/{case.pk}/fix/wifi_channel/", {"wifi-channel": "14"}, **HTMX)
    assert "Choose a Wi-Fi channel" in bad.content.decode()
    assert client.post(f"/diagnostics/cases/{case.pk}/fix/wifi_channel/", {"wifi-channel": "x"}).status_code == 400
    assert client.post(f"/diagnostics/cases/{case.pk}/fix/format_disk/").status_code == 404


def test_suggested_channel_is_prefilled(
    client: Client, world: World, device: FakeDevice, case: Case, agent: Any
) -> None:
    device.values[profiles.WIFI_CHANNELS_IN_USE] = [6, 6, 6, 5, 7, 1]
    login_verified(client, agent)
    html = client.post(
        f"/diagnostics/subscribers/{case.subscriber_id}/diagnose/", {"case": case.pk}, **HTMX
    ).content.decode()
    assert DiagnosisRun.objects.get().verdict == verdicts.WIFI_CONGESTED
    assert 'name="wifi-channel" value="11"' in html


def test_password_is_not_echoed(client: Client, world: World, device: FakeDevice, case: Case, agent: Any) -> None:
    login_verified(client, agent)
    short = client.post(f"/diagnostics/cases/{case.pk}/fix/wifi_password/", {"wifi-password": "abc12"}, **HTMX)
    assert "abc12" not in short.content.decode()
    secret = "Sunny-Garden-2026"
    done = client.post(f"/diagnostics/cases/{case.pk}/fix/wifi_password/", {"wifi-password": secret}, **HTMX)
    assert done.status_code == 200 and secret not in done.content.decode()
    assert secret not in client.get(f"/cases/{case.pk}/").content.decode()
    assert device.values[profiles.WIFI_PASSWORD] == secret


def test_technician_can_diagnose_but_not_operate(
    client: Client, world: World, case: Case, users: dict[str, Any]
) -> None:
    technician = users[Role.TECHNICIAN]
    case.assignee = technician
    case.save()
    login_verified(client, technician)
    assert client.post(f"/diagnostics/cases/{case.pk}/fix/reboot/").status_code == 403
    assert not any(call[0] == "reboot" for call in world.management.calls)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="fix-reboot"' not in page
    assert client.post(f"/diagnostics/subscribers/{case.subscriber_id}/diagnose/").status_code == 302


def test_subscribers_cannot_use_the_staff_pages(
    client: Client, world: World, subscriber: Subscriber, users: dict[str, Any]
) -> None:
    portal_user = users[Role.SUBSCRIBER]
    client.force_login(portal_user)
    response = client.post(f"/diagnostics/subscribers/{subscriber.pk}/diagnose/")
    assert response.status_code in (302, 403)
    assert not DiagnosisRun.objects.exists()


def test_unknown_run_is_404(client: Client, world: World, agent: Any) -> None:
    login_verified(client, agent)
    assert client.get("/diagnostics/runs/999999/").status_code == 404


# --- the portal ---------------------------------------------------------------------------------


def test_portal_check_shows_a_safe_summary(
    client: Client, world: World, device: FakeDevice, users: dict[str, Any], subscriber: Subscriber
) -> None:
    device.values[profiles.WIFI_CHANNELS_IN_USE] = [6, 6, 6, 7, 5, 1]
    portal_login(client, subscriber)
    assert 'id="check-connection"' in client.get("/my/").content.decode()
    assert client.get("/my/check/").status_code == 200
    response = client.post("/my/check/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "switched it to channel 11" in html
    for internal in ("sw-khamovniki", "Gi0/12", "127.0.0.1", "SN0001", "evidence"):
        assert internal not in html
    run = DiagnosisRun.objects.get()
    assert run.origin == "portal" and run.applied_fix == verdicts.FIX_WIFI_CHANNEL and run.fix_outcome["ok"]
    assert device.values[profiles.WIFI_CHANNEL] == 11
    again = client.post("/my/check/")
    assert again.status_code == 429 and "just checked" in again.content.decode()


def test_portal_check_with_a_line_fault_hands_it_to_the_desk(
    client: Client, world: World, users: dict[str, Any], subscriber: Subscriber
) -> None:
    from .doubles import PortHealth

    world.port = PortHealth(errors_last_hour=500, errors_per_minute=8, flaps_24h=4)
    portal_login(client, subscriber)
    html = client.post("/my/check/").content.decode()
    assert "specialist" in html
    run = DiagnosisRun.objects.get()
    assert run.verdict == verdicts.CABLE_FAULT and run.case is not None
    assert Event.objects.filter(case=run.case, kind=Event.Kind.DIAGNOSIS, data__run=run.pk).exists()


def test_portal_check_needs_a_subscriber_session(client: Client, world: World, agent: Any) -> None:
    assert client.get("/my/check/").status_code == 302
    login_verified(client, agent)
    assert client.post("/my/check/").status_code == 403
    assert not DiagnosisRun.objects.exists()


def test_portal_check_needs_csrf(world: World, users: dict[str, Any], subscriber: Subscriber) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(users[Role.SUBSCRIBER])
    assert strict.post("/my/check/").status_code == 403


def test_the_panel_speaks_russian(world: World, case: Case, agent: Any) -> None:
    russian = Client(HTTP_ACCEPT_LANGUAGE="ru")
    login_verified(russian, agent)
    html = russian.post(
        f"/diagnostics/subscribers/{case.subscriber_id}/diagnose/", {"case": case.pk}, **HTMX
    ).content.decode()
    assert "Линия и роутер исправны" in html and "Порт коммутатора" in html
    page = russian.get(f"/cases/{case.pk}/").content.decode()
    assert "Диагностика: Линия и роутер исправны" in page
    assert "Перезагрузить роутер" in page
