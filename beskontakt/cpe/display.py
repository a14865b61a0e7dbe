"""How device data reads for people: online state, task status and faults in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from .faults import describe_fault
from .models import Device, DeviceTask

ONLINE_GRACE = 2.5  # × the periodic inform interval


def online_state(device: Device, now: datetime) -> tuple[str, str]:
    """("online" | "offline" | "unknown", words) from the last Inform and the inform interval."""
    if device.last_inform_at is None:
        return "offline", _("Never informed")
    if not device.periodic_inform_interval:
        return "unknown", _("Unknown (no periodic inform interval)")
    age = (now - device.last_inform_at).total_seconds()
    if age <= ONLINE_GRACE * device.periodic_inform_interval:
        return "online", _("On line")
    return "offline", _("Not heard from for longer than expected")


@dataclass
class TaskRow:
    """A task with its outcome in words."""

    task: DeviceTask
    outcome: str
    details: list[str]


def task_rows(tasks: list[DeviceTask]) -> list[TaskRow]:
    """Tasks with faults in words (and each refused parameter)."""
    rows = []
    for task in tasks:
        details: list[str] = []
        if task.fault_code:
            outcome = describe_fault(task.fault_code)
            for name, code, _text in task.result.get("parameter_faults", []):
                details.append(f"{name}: {describe_fault(code)}")
        elif task.status == DeviceTask.Status.DONE:
            outcome = _("Done")
            missing = task.result.get("missing")
            if missing:
                details.append(_("Not on this device: %(names)s") % {"names": ", ".join(missing)})
        else:
            outcome = task.get_status_display()
        rows.append(TaskRow(task, str(outcome), details))
    return rows


def summary(device: Device, now: datetime) -> dict[str, Any]:
    """A compact summary for the subscriber's device list."""
    state, words = online_state(device, now)
    return {"device": device, "state": state, "state_words": words}
