"""The device registry of the built-in ACS: devices, their credentials, parameter cache, tasks,
session log, presets and the files the ACS serves for Download.

Hot paths and their indexes: the ACS finds a device by ``device_id`` (unique) and a
credential by ``acs_username`` (unique); the group-commit writer upserts ``DeviceParameter``
on (device, path) (unique) and asks "which of these devices has queued tasks?" on
``DeviceTask`` (device, status); the pages list tasks and sessions per device by time.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

TR181 = "tr181"
TR098 = "tr098"


class Device(models.Model):
    """A TR-069 device (CPE) that talks to the built-in ACS, keyed ``OUI-ProductClass-Serial``.

    Linked to the subscriber's ``Equipment`` by serial number on its first Inform.
    ``last_inform_at``/``ip`` are written by the ACS's group-commit writer on every Inform.
    """

    class DataModel(models.TextChoices):
        TR181 = TR181, "TR-181 (Device:2)"
        TR098 = TR098, "TR-098 (InternetGatewayDevice)"

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        DISABLED = "disabled", _("Disabled (the ACS refuses it)")

    device_id = models.CharField(_("device id"), max_length=200, unique=True)
    oui = models.CharField(_("OUI"), max_length=6)
    product_class = models.CharField(_("product class"), max_length=64, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=64, db_index=True)
    manufacturer = models.CharField(_("manufacturer"), max_length=64, blank=True)
    data_model = models.CharField(_("data model"), max_length=8, choices=DataModel.choices, default=TR181)
    software_version = models.CharField(_("software version"), max_length=64, blank=True)
    hardware_version = models.CharField(_("hardware version"), max_length=64, blank=True)
    equipment = models.OneToOneField(
        "subscribers.Equipment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_device",
        verbose_name=_("equipment"),
    )
    connection_request_url = models.CharField(_("connection request URL"), max_length=300, blank=True)
    ip = models.CharField(_("IP address"), max_length=45, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"), auto_now_add=True)
    last_inform_at = models.DateTimeField(_("last inform"), null=True, blank=True, db_index=True)
    last_boot_at = models.DateTimeField(_("last boot"), null=True, blank=True)
    periodic_inform_interval = models.PositiveIntegerField(_("periodic inform interval, s"), null=True, blank=True)
    parameter_key = models.CharField(_("parameter key"), max_length=32, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    last_connection_request_at = models.DateTimeField(_("last connection request"), null=True, blank=True)
    last_connection_request_result = models.CharField(_("connection request result"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("managed device")
        verbose_name_plural = _("managed devices")
        ordering = ["device_id"]

    def __str__(self) -> str:
        return self.device_id

    @property
    def enabled(self) -> bool:
        """Whether the ACS talks to it."""
        return self.status == self.Status.ACTIVE


class DeviceCredentials(models.Model):
    """How a device logs in to the ACS and how the ACS reaches it (connection request).

    Passwords are Fernet tokens (``crypto.py``); read them with ``acs_password()`` /
    ``cr_password()``, never print them.
    """

    device = models.OneToOneField(Device, on_delete=models.CASCADE, related_name="credentials")
    acs_username = models.CharField(_("ACS username"), max_length=128, unique=True, null=True, blank=True)
    acs_password_encrypted = models.TextField(_("ACS password (encrypted)"), blank=True)
    cr_username = models.CharField(_("connection request username"), max_length=128, blank=True)
    cr_password_encrypted = models.TextField(_("connection request password (encrypted)"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("device credentials")
        verbose_name_plural = _("device credentials")

    def __str__(self) -> str:
        return f"{self.device_id}: {self.acs_username or '-'}"

    def acs_password(self) -> str:
        """The plaintext ACS password ("" when none)."""
        from beskontakt.cpe.crypto import decrypt

        return decrypt(self.acs_password_encrypted)

    def cr_password(self) -> str:
        """The plaintext connection-request password ("" when none)."""
        from beskontakt.cpe.crypto import decrypt

        return decrypt(self.cr_password_encrypted)


class DeviceParameter(models.Model):
    """The last value the ACS saw of one parameter of one device (the parameter cache)."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="parameters")
    path = models.CharField(_("path"), max_length=255)
    value = models.TextField(_("value"), blank=True)
    xsd_type = models.CharField(_("type"), max_length=32, default="xsd:string")
    writable = models.BooleanField(_("writable"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("device parameter")
        verbose_name_plural = _("device parameters")
        constraints = [models.UniqueConstraint(fields=["device", "path"], name="cpe_parameter_unique_path")]
        ordering = ["path"]

    def __str__(self) -> str:
        return f"{self.path}={self.value}"


class DeviceTask(models.Model):
    """One ACS request queued for a device: run in its next session (or now, via a connection request).

    ``wait_event``: hand the task out only in a session whose Inform carries that event
    (e.g. read IPPing results on ``8 DIAGNOSTICS COMPLETE``).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent to the device")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")

    FINAL = (Status.DONE, Status.FAILED, Status.CANCELLED, Status.EXPIRED)

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="tasks")
    rpc = models.CharField(_("RPC"), max_length=40)
    arguments = models.JSONField(_("arguments"), default=dict, blank=True)
    wait_event = models.CharField(_("waits for event"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    case = models.ForeignKey(
        "cases.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="device_tasks"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    fault_code = models.PositiveIntegerField(_("fault code"), null=True, blank=True)
    fault_string = models.CharField(_("fault text"), max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    class Meta:
        verbose_name = _("device task")
        verbose_name_plural = _("device tasks")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["device", "status"], name="cpe_task_device_status"),
            models.Index(fields=["status", "expires_at"], name="cpe_task_status_expires"),
        ]

    def __str__(self) -> str:
        return f"{self.rpc} → {self.device_id} ({self.status})"


class DeviceSession(models.Model):
    """One CWMP session of a device: why it called, how it ended, how many RPCs ran (kept N days)."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="sessions")
    events = models.JSONField(_("events"), default=list)
    started_at = models.DateTimeField(_("started"), db_index=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    rpc_count = models.PositiveSmallIntegerField(_("RPCs"), default=0)
    remote_addr = models.CharField(_("address"), max_length=45, blank=True)

    class Meta:
        verbose_name = _("device session")
        verbose_name_plural = _("device sessions")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["device", "-started_at"], name="cpe_session_device_time")]

    def __str__(self) -> str:
        return f"{self.device_id} {self.started_at:%Y-%m-%d %H:%M:%S} {self.outcome}"


class Preset(models.Model):
    """Declarative provisioning: on some Inform events, for matching devices, set these values.

    ``actions`` is an ordered list; each item is ``{"set": {name: value}}`` (a logical name of
    ``profiles`` or a full path) or ``{"credentials": "generate"}`` (new per-device ACS and
    connection-request credentials, stored encrypted once the device accepts them).
    Lower ``precedence`` runs first.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    events = models.JSONField(_("trigger events"), default=list, help_text=_('e.g. ["0 BOOTSTRAP", "1 BOOT"]'))
    product_class = models.CharField(_("product class"), max_length=64, blank=True)
    data_model = models.CharField(_("data model"), max_length=8, choices=Device.DataModel.choices, blank=True)
    oui = models.CharField(_("OUI"), max_length=6, blank=True)
    actions = models.JSONField(_("actions"), default=list)
    enabled = models.BooleanField(_("enabled"), default=True)
    precedence = models.SmallIntegerField(_("precedence"), default=100)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("preset")
        verbose_name_plural = _("presets")
        ordering = ["precedence", "name"]

    def __str__(self) -> str:
        return self.name


class CpeFile(models.Model):
    """A firmware image or configuration file the ACS itself serves for Download (``/files/<name>``)."""

    class FileType(models.TextChoices):
        FIRMWARE = "1 Firmware Upgrade Image", _("Firmware upgrade image")
        WEB_CONTENT = "2 Web Content", _("Web content")
        CONFIG = "3 Vendor Configuration File", _("Vendor configuration file")

    name = models.CharField(_("name"), max_length=100, unique=True)
    file_type = models.CharField(_("file type"), max_length=40, choices=FileType.choices)
    file = models.FileField(_("file"), upload_to="cpe-files/")
    size = models.PositiveBigIntegerField(_("size"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    product_class = models.CharField(_("product class"), max_length=64, blank=True)
    version = models.CharField(_("version"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("device file")
        verbose_name_plural = _("device files")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DeviceEvent(models.Model):
    """A change made to a device record by people or the system (who, when, what) — its audit trail."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        LINKED = "linked", _("Linked to equipment")
        TASK_QUEUED = "task_queued", _("Task queued")
        TASK_CANCELLED = "task_cancelled", _("Task cancelled")
        CREDENTIALS = "credentials", _("Credentials changed")
        STATUS = "status", _("Status changed")
        PRESET = "preset", _("Preset changed")

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="events", null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("device event")
        verbose_name_plural = _("device events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["device", "-at"], name="cpe_event_device_time")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}"
