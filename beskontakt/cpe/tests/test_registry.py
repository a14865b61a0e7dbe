"""The registry without servers: actions, access, credentials at rest, the writer's flush,
faults in words, Celery clean-up, the device page and the subscriber's device list."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.utils import timezone

from beskontakt.accounts.roles import Role
from beskontakt.accounts.testing import login_verified
from beskontakt.conftest import make_user
from beskontakt.cpe import actions, crypto, rpcs, tasks
from beskontakt.cpe.acs.backend import (
    DISABLED,
    HAS_TASKS,
    InformUpdate,
    SessionRecord,
    WriterItem,
    device_fields,
    flush,
)
from beskontakt.cpe.cwmp import messages as m
from beskontakt.cpe.faults import describe_fault
from beskontakt.cpe.models import Device, DeviceCredentials, DeviceEvent, DeviceParameter, DeviceSession, DeviceTask
from beskontakt.subscribers.models import Equipment

pytestmark = pytest.mark.django_db


@pytest.fixture
def device(subscriber: Any) -> Device:
    equipment = Equipment.objects.create(subscriber=subscriber, kind="router", model="R1", serial_number="SN-1")
    return Device.objects.create(
        device_id="00D09E-R1-SN-1",
        oui="00D09E",
        product_class="R1",
        serial_number="SN-1",
        equipment=equipment,
        periodic_inform_interval=300,
        last_inform_at=timezone.now(),
    )


def test_credentials_are_encrypted_at_rest_and_never_in_events(device: Device) -> None:
    creds = actions.set_credentials(device, acs_username="dev1", acs_password="s3cret-pass", cr_password="cr-pass")
    raw = DeviceCredentials.objects.values("acs_password_encrypted", "cr_password_encrypted").get(pk=creds.pk)
    assert "s3cret" not in raw["acs_password_encrypted"] and raw["acs_password_encrypted"]
    assert creds.acs_password() == "s3cret-pass" and creds.cr_password() == "cr-pass"
    event = DeviceEvent.objects.get(kind=DeviceEvent.Kind.CREDENTIALS)
    assert "s3cret" not in str(event.data)
    assert crypto.mask("s3cret-pass") == "••••••ss"
    assert crypto.decrypt("garbage") == ""  # unreadable token: empty, logged, no crash


def test_credentials_username_is_unique(device: Device) -> None:
    other = Device.objects.create(device_id="X-Y-Z", oui="X", serial_number="Z")
    actions.set_credentials(device, acs_username="same")
    with pytest.raises(ValidationError) as caught:
        actions.set_credentials(other, acs_username="same")
    assert "acs_username" in caught.value.message_dict


def test_queue_task_validates_and_seals_secrets(device: Device) -> None:
    with pytest.raises(ValidationError):
        actions.queue_task(device, "Explode", {})
    with pytest.raises(ValidationError):
        actions.queue_task(device, "GetParameterValues", {"names": []})
    with pytest.raises(ValidationError):
        actions.queue_task(device, "Download", {"file": "missing.bin"})
    task = actions.queue_task(
        device,
        "SetParameterValues",
        {"values": [["Device.WiFi.AccessPoint.1.Security.KeyPassphrase", "wifi-secret", "xsd:string"]]},
    )
    stored = task.arguments["values"][0][1]
    assert stored.startswith(rpcs.SECRET_PREFIX) and "wifi-secret" not in stored
    request = rpcs.build_request(task.rpc, task.arguments)
    assert isinstance(request, m.SetParameterValues) and request.values[0].value == "wifi-secret"
    assert task.expires_at is not None and task.status == DeviceTask.Status.QUEUED


def test_capabilities_are_checked(device: Device, users: dict[str, Any]) -> None:
    technician = make_user(Role.TECHNICIAN, "tech-cpe")
    with pytest.raises(PermissionDenied):
        actions.queue_task(device, "Reboot", {}, by=technician)
    with pytest.raises(PermissionDenied):
        actions.set_credentials(device, acs_password="x", by=users[Role.AGENT])
    task = actions.queue_task(device, "Reboot", {}, by=users[Role.AGENT])
    assert task.created_by == users[Role.AGENT]
    actions.cancel_task(task, by=users[Role.AGENT])
    with pytest.raises(ValidationError):
        actions.cancel_task(task)


def test_presets_are_validated() -> None:
    with pytest.raises(ValidationError) as caught:
        actions.save_preset(None, name="bad", events=["0 BOOTSTRAP"], actions=[{"explode": 1}])
    assert "actions" in caught.value.message_dict
    with pytest.raises(ValidationError):
        actions.save_preset(None, name="", events=[], actions=[])
    preset = actions.save_preset(None, name="ok", events=["1 BOOT"], actions=[{"set": {"wifi.channel": 6}}])
    with pytest.raises(ValidationError):
        actions.save_preset(None, name="ok", events=["1 BOOT"], actions=[])
    assert actions.save_preset(preset, name="ok", events=["2 PERIODIC"], actions=[]).events == ["2 PERIODIC"]


def test_group_commit_flush_persists_informs_and_reports_queued_tasks(device: Device) -> None:
    other = Device.objects.create(device_id="00D09E-R1-SN-2", oui="00D09E", serial_number="SN-2", status="disabled")
    actions.queue_task(device, "Reboot", {})
    now = timezone.now()
    params = [
        m.ParameterValue("Device.DeviceInfo.SoftwareVersion", "2.0", "xsd:string"),
        m.ParameterValue("Device.ManagementServer.ConnectionRequestURL", "http://10.0.0.1:7547/cr", "xsd:string"),
    ]
    changed = device_fields({p.name: p.value for p in params})
    items: list[WriterItem] = [
        InformUpdate(device.pk, now, "10.0.0.1", changed, params),
        InformUpdate(other.pk, now, "10.0.0.2", {}, params[:1]),
        SessionRecord(other.pk, ["2 PERIODIC"], now, now, "done", "", 0, "10.0.0.2"),
    ]
    assert flush(items) == [HAS_TASKS, DISABLED, None]  # the second is refused after its Inform is recorded
    device.refresh_from_db()
    assert device.software_version == "2.0" and device.connection_request_url.endswith("/cr")
    assert device.ip == "10.0.0.1" and device.last_inform_at == now
    assert DeviceParameter.objects.filter(device=other).count() == 1
    # a second Inform upserts, it does not duplicate
    later = now + timedelta(seconds=5)
    flush([InformUpdate(other.pk, later, "10.0.0.2", {}, [m.ParameterValue(params[0].name, "2.1")])])
    row = DeviceParameter.objects.get(device=other)
    assert row.value == "2.1" and row.updated_at == later
    assert DeviceSession.objects.filter(device=other, outcome="done").count() == 1


def test_faults_in_words() -> None:
    assert describe_fault(9005)
    assert describe_fault(9007) != describe_fault(9005)
    assert "9850" in describe_fault(9850)
    assert describe_fault(None) == ""


def test_clean_up_tasks(device: Device) -> None:
    old = actions.queue_task(device, "Reboot", {}, lifetime=timedelta(seconds=-1))
    stuck = actions.queue_task(device, "FactoryReset", {})
    DeviceTask.objects.filter(pk=stuck.pk).update(
        status=DeviceTask.Status.SENT, sent_at=timezone.now() - timedelta(hours=1)
    )
    assert tasks.expire_tasks() == {"expired": 1, "requeued": 1}
    old.refresh_from_db()
    assert old.status == DeviceTask.Status.EXPIRED
    DeviceSession.objects.create(device=device, started_at=timezone.now() - timedelta(days=30), outcome="done")
    DeviceSession.objects.create(device=device, started_at=timezone.now(), outcome="done")
    assert tasks.prune_sessions()["sessions"] == 1


def test_device_page_shows_state_tasks_and_faults_in_words(device: Device, users: dict[str, Any]) -> None:
    DeviceParameter.objects.create(
        device=device, path="Device.WiFi.Radio.1.Channel", value="6", updated_at=timezone.now()
    )
    task = actions.queue_task(
        device, "SetParameterValues", {"values": [["Device.WiFi.Radio.1.Channel", "99", "xsd:unsignedInt"]]}
    )
    DeviceTask.objects.filter(pk=task.pk).update(
        status=DeviceTask.Status.FAILED,
        fault_code=9003,
        result={"parameter_faults": [["Device.WiFi.Radio.1.Channel", 9007, "bad"]]},
    )
    client = Client()
    login_verified(client, users[Role.AGENT])
    response = client.get(f"/cpe/devices/{device.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Device.WiFi.Radio.1.Channel" in body
    assert describe_fault(9007) in body
    assert 'id="device-state"' in body
    assert client.get("/cpe/devices/999999/").status_code == 404
    response = client.post(f"/cpe/devices/{device.pk}/operate/", {"operation": "reboot"})
    assert response.status_code == 302
    assert DeviceTask.objects.filter(device=device, rpc="Reboot", created_by=users[Role.AGENT]).exists()
    response = client.post(f"/cpe/devices/{device.pk}/operate/", {"operation": "nonsense"})
    assert response.status_code == 302  # refused with a message, nothing queued
    subscriber_client = Client()
    subscriber_client.force_login(users[Role.SUBSCRIBER])
    assert subscriber_client.get(f"/cpe/devices/{device.pk}/").status_code in (302, 403, 404)


def test_subscriber_devices_tag(device: Device, users: dict[str, Any]) -> None:
    request = RequestFactory().get("/")
    request.user = users[Role.AGENT]
    html = Template("{% load cpe_tags %}{% subscriber_devices subscriber %}").render(
        Context({"request": request, "subscriber": device.equipment.subscriber})  # type: ignore[union-attr]
    )
    assert "SN-1" in html and f"/cpe/devices/{device.pk}/" in html
    request.user = users[Role.SUBSCRIBER]
    html = Template("{% load cpe_tags %}{% subscriber_devices subscriber %}").render(
        Context({"request": request, "subscriber": device.equipment.subscriber})  # type: ignore[union-attr]
    )
    assert "SN-1" not in html


def test_overload_and_writable_flags(device: Device) -> None:
    from beskontakt.cpe.acs.backend import DjangoBackend, _cache_writable

    backend = DjangoBackend(bootstrap_policy="reject", max_open_sessions=0)
    assert backend.overloaded()  # the ACS then answers 503 with Retry-After
    backend.db.shutdown()
    with pytest.raises(ValueError):
        DjangoBackend(bootstrap_policy="maybe")
    now = timezone.now()
    DeviceParameter.objects.create(device=device, path="Device.WiFi.Radio.1.Channel", value="6", updated_at=now)
    DeviceParameter.objects.create(device=device, path="Device.DeviceInfo.UpTime", value="5", updated_at=now)
    _cache_writable(
        device.pk,
        [
            m.ParameterInfo("Device.WiFi.Radio.1.Channel", True),
            m.ParameterInfo("Device.DeviceInfo.UpTime", False),
            m.ParameterInfo("Device.WiFi.", False),
        ],
    )
    flags = dict(DeviceParameter.objects.filter(device=device).values_list("path", "writable"))
    assert flags == {"Device.WiFi.Radio.1.Channel": True, "Device.DeviceInfo.UpTime": False}
