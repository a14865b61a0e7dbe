"""Every write to the device registry: tasks, links, credentials, presets, files, status.

Each action checks the actor's capability (``by`` None: the system itself), validates,
writes in a transaction, records a ``DeviceEvent`` and schedules side effects (connection
requests) with ``transaction.on_commit``. Bad input raises ``ValidationError`` keyed by field.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from beskontakt.accounts.roles import user_can
from beskontakt.cpe import connection, rpcs
from beskontakt.cpe.crypto import encrypt
from beskontakt.cpe.models import CpeFile, Device, DeviceCredentials, DeviceEvent, DeviceTask, Preset
from beskontakt.cpe.presets import validate_actions

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from beskontakt.accounts.models import User
    from beskontakt.cases.models import Case
    from beskontakt.subscribers.models import Equipment

DEFAULT_TASK_LIFETIME = timedelta(days=1)


def _check(by: User | None, capability: str) -> None:
    if by is not None and not user_can(by, capability):
        raise PermissionDenied(_("You may not do this."))


def _event(device: Device | None, kind: str, by: User | None, **data: Any) -> DeviceEvent:
    return DeviceEvent.objects.create(device=device, kind=kind, actor=by, data=data)


def validate_arguments(rpc: str, arguments: dict[str, Any]) -> None:
    """Whether ``rpc`` with ``arguments`` can be sent (ValidationError saying what is wrong)."""
    if rpc not in rpcs.RPCS:
        raise ValidationError({"rpc": _("Unknown operation %(rpc)s.") % {"rpc": rpc}})
    if not isinstance(arguments, dict):
        raise ValidationError({"arguments": _("Arguments must be an object.")})
    if rpc == "Download" and "file" in arguments and not CpeFile.objects.filter(name=arguments["file"]).exists():
        raise ValidationError({"arguments": _("No such file.")})
    try:
        rpcs.build_request(rpc, arguments, files_url="http://acs/files/")
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationError({"arguments": _("Invalid arguments: %(error)s") % {"error": exc}}) from exc
    if rpc in ("GetParameterValues", "GetParameterAttributes") and not arguments.get("names"):
        raise ValidationError({"arguments": _("Name at least one parameter.")})


def queue_task(
    device: Device,
    rpc: str,
    arguments: dict[str, Any] | None = None,
    *,
    by: User | None = None,
    case: Case | None = None,
    now: bool = False,
    wait_event: str = "",
    lifetime: timedelta = DEFAULT_TASK_LIFETIME,
    capability: str = "device.operate",
) -> DeviceTask:
    """Queue an RPC for the device's next session; ``now``: send a connection request after commit.

    SetParameterValues values of password paths are stored encrypted.
    """
    _check(by, capability)
    arguments = dict(arguments or {})
    if rpc == "SetParameterValues":
        arguments["values"] = rpcs.seal_values([tuple(v) for v in arguments.get("values", [])])
    validate_arguments(rpc, arguments)
    if not device.enabled:
        raise ValidationError({"device": _("The device is disabled.")})
    with transaction.atomic():
        task = DeviceTask.objects.create(
            device=device,
            rpc=rpc,
            arguments=arguments,
            wait_event=wait_event,
            created_by=by,
            case=case,
            expires_at=timezone.now() + lifetime,
        )
        _event(device, DeviceEvent.Kind.TASK_QUEUED, by, task=task.pk, rpc=rpc, case=case.pk if case else None)
        if now:
            transaction.on_commit(lambda: connection.wake(device.pk))
    return task


def cancel_task(task: DeviceTask, *, by: User | None = None) -> DeviceTask:
    """Cancel a task that has not been sent yet."""
    _check(by, "device.operate")
    with transaction.atomic():
        task = DeviceTask.objects.select_for_update().get(pk=task.pk)
        if task.status != DeviceTask.Status.QUEUED:
            raise ValidationError({"task": _("Only a queued task can be cancelled.")})
        task.status = DeviceTask.Status.CANCELLED
        task.finished_at = timezone.now()
        task.save(update_fields=["status", "finished_at"])
        _event(task.device, DeviceEvent.Kind.TASK_CANCELLED, by, task=task.pk)
    return task


def link_device(device: Device, equipment: Equipment | None, *, by: User | None = None) -> Device:
    """Link the device to a subscriber's equipment (None: unlink)."""
    _check(by, "device.manage")
    with transaction.atomic():
        device = Device.objects.select_for_update().get(pk=device.pk)
        if equipment is not None and Device.objects.filter(equipment=equipment).exclude(pk=device.pk).exists():
            raise ValidationError({"equipment": _("This equipment is already linked to another device.")})
        before = device.equipment_id
        device.equipment = equipment
        device.save(update_fields=["equipment"])
        _event(device, DeviceEvent.Kind.LINKED, by, before=before, after=equipment.pk if equipment else None)
    return device


def set_credentials(
    device: Device,
    *,
    acs_username: str | None = None,
    acs_password: str | None = None,
    cr_username: str | None = None,
    cr_password: str | None = None,
    by: User | None = None,
) -> DeviceCredentials:
    """Store what the ACS knows of the device's credentials (None: leave as is); encrypted at rest.

    This records credentials the device already has (e.g. from the vendor's list); to change
    them on the device, queue a SetParameterValues (or re-provision with a credentials preset).
    """
    _check(by, "device.manage")
    if acs_username is not None and len(acs_username) > 128:
        raise ValidationError({"acs_username": _("At most 128 characters.")})
    if cr_username is not None and len(cr_username) > 128:
        raise ValidationError({"cr_username": _("At most 128 characters.")})
    with transaction.atomic():
        creds, _created = DeviceCredentials.objects.select_for_update().get_or_create(device=device)
        changed = []
        if acs_username is not None:
            name = acs_username.strip() or None
            if name and DeviceCredentials.objects.filter(acs_username=name).exclude(pk=creds.pk).exists():
                raise ValidationError({"acs_username": _("Another device uses this username.")})
            creds.acs_username = name
            changed.append("acs_username")
        if acs_password is not None:
            creds.acs_password_encrypted = encrypt(acs_password)
            changed.append("acs_password")
        if cr_username is not None:
            creds.cr_username = cr_username.strip()
            changed.append("cr_username")
        if cr_password is not None:
            creds.cr_password_encrypted = encrypt(cr_password)
            changed.append("cr_password")
        creds.save()
        _event(device, DeviceEvent.Kind.CREDENTIALS, by, fields=changed)  # names only, never values
    return creds


def set_device_status(device: Device, status: str, *, by: User | None = None) -> Device:
    """Enable or disable a device (a disabled one is refused by the ACS)."""
    _check(by, "device.manage")
    if status not in Device.Status.values:
        raise ValidationError({"status": _("Unknown status.")})
    with transaction.atomic():
        before = device.status
        Device.objects.filter(pk=device.pk).update(status=status)
        device.status = status
        _event(device, DeviceEvent.Kind.STATUS, by, before=before, after=status)
    return device


def save_preset(
    preset: Preset | None,
    *,
    name: str,
    events: list[str],
    actions: list[dict[str, Any]],
    product_class: str = "",
    data_model: str = "",
    oui: str = "",
    precedence: int = 100,
    enabled: bool = True,
    by: User | None = None,
) -> Preset:
    """Add (``preset`` None) or edit a preset; the ACS workers pick it up within seconds."""
    _check(by, "device.manage")
    errors: dict[str, Any] = {}
    if not name.strip():
        errors["name"] = _("Give the preset a name.")
    if not isinstance(events, list) or not events or not all(isinstance(e, str) and e.strip() for e in events):
        errors["events"] = _('List at least one event code, e.g. "0 BOOTSTRAP".')
    problems = validate_actions(actions)
    if problems:
        errors["actions"] = _("Invalid actions: %(problems)s") % {"problems": "; ".join(problems)}
    if data_model and data_model not in Device.DataModel.values:
        errors["data_model"] = _("Unknown data model.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        same_name = Preset.objects.filter(name=name.strip())
        if preset is not None:
            same_name = same_name.exclude(pk=preset.pk)
        if same_name.exists():
            raise ValidationError({"name": _("A preset with this name exists.")})
        preset = preset or Preset()
        preset.name = name.strip()
        preset.events = [e.strip() for e in events]
        preset.actions = actions
        preset.product_class = product_class
        preset.data_model = data_model
        preset.oui = oui.upper()
        preset.precedence = precedence
        preset.enabled = enabled
        preset.save()
        _event(None, DeviceEvent.Kind.PRESET, by, preset=preset.pk, name=preset.name)
    return preset


def add_file(name: str, file_type: str, upload: UploadedFile, *, version: str = "", by: User | None = None) -> CpeFile:
    """Store a file the ACS serves for Download, with its size and SHA-256."""
    _check(by, "device.manage")
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValidationError({"name": _("A plain file name, without slashes.")})
    if file_type not in CpeFile.FileType.values:
        raise ValidationError({"file_type": _("Unknown file type.")})
    digest = hashlib.sha256()
    size = 0
    for chunk in upload.chunks():
        digest.update(chunk)
        size += len(chunk)
    with transaction.atomic():
        if CpeFile.objects.filter(name=name).exists():
            raise ValidationError({"name": _("A file with this name exists.")})
        item = CpeFile(name=name, file_type=file_type, size=size, sha256=digest.hexdigest(), version=version)
        item.file.save(name, upload, save=False)
        item.save()
    return item
