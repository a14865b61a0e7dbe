"""``run_diagnosis`` and the remote fixes with the sources' doubles: each verdict end to end, events, limits."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from beskontakt.accounts.roles import Role
from beskontakt.cases.models import Case, Event
from beskontakt.cpe import profiles
from beskontakt.diagnostics import actions, verdicts
from beskontakt.diagnostics.models import CheckStatus, DiagnosisRun
from beskontakt.incidents.models import Outage, OutageBuilding
from beskontakt.subscribers.models import AccessRestriction, Subscriber

from .doubles import FakeDevice, PortHealth, World

pytestmark = pytest.mark.django_db(transaction=True)
NextStep = DiagnosisRun.NextStep


def diagnose(subscriber: Subscriber, actor: Any, case: Case | None = None) -> DiagnosisRun:
    cache.clear()  # each call in a test is a fresh press of the button
    return actions.run_diagnosis(subscriber, case=case, actor=actor, origin=DiagnosisRun.Origin.AGENT)


def statuses(run: DiagnosisRun) -> dict[str, str]:
    return {c.check_code: c.status for c in run.checks.all()}


def test_healthy_line(world: World, subscriber: Subscriber, agent: Any) -> None:
    run = diagnose(subscriber, agent)
    assert run.status == DiagnosisRun.Status.DONE
    assert run.verdict == verdicts.HEALTHY
    assert statuses(run) == {
        "billing": "ok",
        "restrictions": "ok",
        "outage": "ok",
        "port": "ok",
        "line": "ok",
        "cpe": "ok",
        "wan": "ok",
        "wifi": "ok",
        "ping": "ok",
    }
    assert run.duration_ms is not None and run.finished_at is not None
    assert run.requested_by == agent
    port = run.checks.get(check_code="port")
    assert port.evidence["port_name"] == "Gi0/12"


def test_run_on_a_case_puts_the_verdict_on_the_timeline(world: World, case: Case, agent: Any) -> None:
    run = diagnose(case.subscriber, agent, case)
    event = Event.objects.get(case=case, kind=Event.Kind.DIAGNOSIS)
    assert event.data["run"] == run.pk
    assert event.data["verdict"] == verdicts.HEALTHY
    assert event.actor == agent


def test_case_of_another_subscriber_is_refused(world: World, case: Case, agent: Any, other_subscriber: Any) -> None:
    with pytest.raises(ValidationError):
        diagnose(other_subscriber, agent, case)


def test_wifi_congested_then_channel_changed_then_healthy(
    world: World, device: FakeDevice, case: Case, agent: Any
) -> None:
    device.values[profiles.WIFI_CHANNELS_IN_USE] = [6, 6, 5, 7, 4, 1, 6]
    run = diagnose(case.subscriber, agent, case)
    assert run.verdict == verdicts.WIFI_CONGESTED
    assert run.verdict_params["channel"] == 11
    assert run.recommended_fix == verdicts.FIX_WIFI_CHANNEL
    assert run.next_step == NextStep.REMOTE_FIX

    result = actions.change_wifi_channel(case, by=agent, channel=11)
    assert result.ok
    assert device.values[profiles.WIFI_CHANNEL] == 11
    assert device.values[profiles.WIFI_AUTO_CHANNEL] is False
    fix_event = Event.objects.get(case=case, kind=Event.Kind.REMOTE_FIX)
    assert fix_event.data["fix"] == "wifi_channel" and fix_event.data["channel"] == 11 and fix_event.data["ok"]

    assert diagnose(case.subscriber, agent, case).verdict == verdicts.HEALTHY


def test_cable_fault_the_articles_case(world: World, subscriber: Subscriber, agent: Any) -> None:
    world.port = PortHealth(errors_last_hour=840, errors_per_minute=14.0, flaps_24h=6)
    run = diagnose(subscriber, agent)
    assert run.verdict == verdicts.CABLE_FAULT
    assert run.next_step == NextStep.VISIT
    assert set(run.verdict_params["evidence"]) == {"port", "cpe"}


def test_cable_fault_in_quarantine_goes_contactless(world: World, subscriber: Subscriber, agent: Any) -> None:
    AccessRestriction.objects.create(
        subscriber=subscriber,
        kind=AccessRestriction.Kind.QUARANTINE,
        valid_until=timezone.localdate() + timedelta(days=14),
        reason="Карантин",
    )
    world.port = PortHealth(errors_last_hour=840, errors_per_minute=14.0, flaps_24h=6)
    run = diagnose(subscriber, agent)
    assert run.verdict == verdicts.CABLE_FAULT
    assert run.next_step == NextStep.PLAYBOOK
    assert run.checks.get(check_code="restrictions").summary["no_visit"] is True


def test_outage_on_the_building(world: World, subscriber: Subscriber, agent: Any) -> None:
    outage = Outage.objects.create(title="Авария на линии", ends_at=timezone.now() + timedelta(hours=3))
    OutageBuilding.objects.create(outage=outage, street=subscriber.address.street, building=subscriber.address.building)
    world.port = PortHealth(oper_status="down")
    run = diagnose(subscriber, agent)
    assert run.verdict == verdicts.KNOWN_OUTAGE
    assert run.next_step == NextStep.NONE
    assert run.verdict_params["scope"] == "building"


def test_blocked_for_debt(world: World, subscriber: Subscriber, agent: Any) -> None:
    Subscriber.objects.filter(pk=subscriber.pk).update(
        billing_status=Subscriber.BillingStatus.BLOCKED_DEBT, balance=Decimal("-150")
    )
    run = diagnose(subscriber, agent)
    assert run.verdict == verdicts.BILLING_BLOCKED
    assert run.next_step == NextStep.BILLING


def test_router_silent_with_port_up_is_reboot(world: World, device: FakeDevice, case: Case, agent: Any) -> None:
    device.answers = False
    device.informed_ago = timedelta(hours=3)
    run = diagnose(case.subscriber, agent, case)
    assert run.verdict == verdicts.ROUTER_NOT_ANSWERING
    assert statuses(run)["cpe"] == CheckStatus.FAULT
    assert statuses(run)["wan"] == CheckStatus.UNKNOWN
    result = actions.reboot_device(case, by=agent)
    assert not result.ok and result.timed_out
    event = Event.objects.get(case=case, kind=Event.Kind.REMOTE_FIX)
    assert event.data["timed_out"] is True


def test_port_down_and_router_silent_is_no_link(
    world: World, device: FakeDevice, subscriber: Subscriber, agent: Any
) -> None:
    device.answers = False
    device.informed_ago = timedelta(hours=3)
    world.port = PortHealth(oper_status="down")
    assert diagnose(subscriber, agent).verdict == verdicts.NO_LINK


def test_ppp_auth_failure_then_reprovision(world: World, device: FakeDevice, case: Case, agent: Any) -> None:
    device.values[profiles.WAN_STATUS] = "disconnected"
    device.values[profiles.WAN_PPP_LAST_ERROR] = "ERROR_AUTHENTICATION_FAILURE"
    run = diagnose(case.subscriber, agent, case)
    assert run.verdict == verdicts.PPP_AUTH_FAILURE
    assert run.recommended_fix == verdicts.FIX_REPROVISION
    assert actions.reprovision_device(case, by=agent).ok
    assert diagnose(case.subscriber, agent, case).verdict == verdicts.HEALTHY


def test_low_optical_level(world: World, device: FakeDevice, subscriber: Subscriber, agent: Any) -> None:
    device.values[profiles.OPTICAL_RX_POWER] = -29.3
    run = diagnose(subscriber, agent)
    assert run.verdict == verdicts.LOW_OPTICAL
    assert run.checks.get(check_code="line").summary["rx_dbm"] == -29.3


def test_a_hanging_device_makes_its_checks_unknown(
    world: World, device: FakeDevice, subscriber: Subscriber, agent: Any, settings: Any
) -> None:
    settings.DIAGNOSIS_CHECK_TIMEOUT_SECONDS = 0.5
    device.hang = threading.Event()
    try:
        run = diagnose(subscriber, agent)
    finally:
        device.hang.set()
    found = statuses(run)
    assert run.status == DiagnosisRun.Status.DONE
    assert found["cpe"] == found["wan"] == found["wifi"] == CheckStatus.UNKNOWN
    assert found["port"] == found["billing"] == CheckStatus.OK
    assert run.checks.get(check_code="cpe").evidence["reason"] == "timeout"


def test_no_managed_device(world: World, subscriber: Subscriber, agent: Any) -> None:
    world.management.devices.clear()
    run = diagnose(subscriber, agent)
    assert statuses(run)["cpe"] == CheckStatus.UNKNOWN
    assert "no managed device" in run.checks.get(check_code="cpe").error
    assert run.verdict == verdicts.HEALTHY  # the port is clean; the device part is unknown
    assert "cpe" in run.verdict_params["unknown"]


def test_runs_are_rate_limited_per_subscriber(
    world: World, subscriber: Subscriber, other_subscriber: Subscriber, agent: Any
) -> None:
    actions.run_diagnosis(subscriber, actor=agent)
    with pytest.raises(ValidationError) as caught:
        actions.run_diagnosis(subscriber, actor=agent)
    assert actions.wait_seconds(caught.value) >= 1
    actions.run_diagnosis(other_subscriber, actor=agent)  # another line is not held up


def test_who_may_run(world: World, subscriber: Subscriber, other_subscriber: Subscriber, users: dict[str, Any]) -> None:
    portal_user = users[Role.SUBSCRIBER]
    with pytest.raises(PermissionDenied):
        actions.run_diagnosis(other_subscriber, actor=portal_user, origin=DiagnosisRun.Origin.PORTAL)
    with pytest.raises(PermissionDenied):
        actions.run_diagnosis(subscriber, actor=portal_user, origin=DiagnosisRun.Origin.AGENT)
    with pytest.raises(PermissionDenied):
        actions.run_diagnosis(subscriber, actor=None, origin=DiagnosisRun.Origin.AGENT)
    run = actions.run_diagnosis(subscriber, actor=portal_user, origin=DiagnosisRun.Origin.PORTAL)
    assert run.origin == "portal"


def test_remote_fixes_need_device_operate(world: World, case: Case, users: dict[str, Any], device: FakeDevice) -> None:
    with pytest.raises(PermissionDenied):
        actions.reboot_device(case, by=users[Role.TECHNICIAN])
    assert not any(call[0] == "reboot" for call in world.management.calls)
    assert actions.reboot_device(case, by=users[Role.NOC]).ok


def test_wifi_password_is_validated_and_never_recorded(
    world: World, device: FakeDevice, case: Case, agent: Any, caplog: Any
) -> None:
    with pytest.raises(ValidationError):
        actions.change_wifi_password(case, by=agent, password="short")
    with pytest.raises(ValidationError):
        actions.change_wifi_password(case, by=agent, password="пароль-кириллицей")
    secret = "Correct-Horse-42"
    with caplog.at_level(logging.DEBUG):
        result = actions.change_wifi_password(case, by=agent, password=secret)
    assert result.ok
    assert device.values[profiles.WIFI_PASSWORD] == secret
    for event in Event.objects.filter(case=case):
        assert secret not in str(event.data)
    assert secret not in caplog.text


def test_channel_must_be_a_real_channel(world: World, case: Case, agent: Any) -> None:
    for bad in (0, 14, 37, 200):
        with pytest.raises(ValidationError):
            actions.change_wifi_channel(case, by=agent, channel=bad)


def test_a_fault_from_the_router_is_recorded_in_words(world: World, device: FakeDevice, case: Case, agent: Any) -> None:
    from beskontakt.diagnostics.display import event_text

    device.fault_code = 9007
    result = actions.change_wifi_channel(case, by=agent, channel=1)
    assert not result.ok and result.fault_code == 9007
    assert "9007" in event_text(result.event)


def test_speed_test_values_are_recorded(world: World, case: Case, agent: Any) -> None:
    result = actions.run_speed_test(case, by=agent)
    assert result.values["mbps"] == 100.0
    assert Event.objects.get(case=case, kind=Event.Kind.REMOTE_FIX).data["values"]["mbps"] == 100.0
