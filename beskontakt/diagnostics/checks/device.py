"""The subscriber's device, read once per diagnosis and shared by the CPE checks."""

from __future__ import annotations

import time

from beskontakt.cpe import profiles

from .base import CheckContext, DeviceSnapshot, Unknown

# Time the device read leaves for the checks that use it to finish within their own deadline.
MARGIN_SECONDS = 0.3


def load_snapshot(ctx: CheckContext) -> DeviceSnapshot:
    """Find the subscriber's managed device and read the overview parameters fresh from it.

    When the device does not answer the connection request in time, the cached values (with
    ``answered`` False) are what the checks get.
    """
    factory = ctx.sources.device_management
    if factory is None:
        raise Unknown("device management is not configured")
    management = factory()
    info = None
    for serial in ctx.facts.serial_numbers:
        info = management.find_device(serial)
        if info is not None:
            break
    if info is None:
        return DeviceSnapshot(info=None, readings={}, answered=False)
    started = time.monotonic()
    budget = max(0.2, ctx.remaining() - MARGIN_SECONDS)
    readings, outcome = management.read(info.device_id, list(profiles.OVERVIEW), refresh=True, timeout=budget)
    values = {name: reading.value for name, reading in (readings or {}).items()}
    return DeviceSnapshot(
        info=info,
        readings=values,
        answered=bool(outcome.ok),
        detail=outcome.detail,
        fault_code=outcome.fault_code,
        timed_out=outcome.timed_out,
        read_ms=round((time.monotonic() - started) * 1000),
    )


def require_answer(snapshot: DeviceSnapshot) -> None:
    """Raise :class:`Unknown` (with the cached values as evidence) unless the device answered just now."""
    if not snapshot.answered:
        reason = "the device did not answer in time" if snapshot.timed_out else "the device did not answer"
        raise Unknown(reason, detail=snapshot.detail, fault_code=snapshot.fault_code, cached=snapshot.readings)
