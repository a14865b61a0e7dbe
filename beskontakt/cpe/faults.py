"""CWMP fault codes in words for people (Russian and English, through gettext).

The protocol module ``cwmp/faults.py`` keeps the English names for logs; pages and case
events use ``describe_fault(code)`` from here.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

WORDS: dict[int, Promise] = {
    8000: _("The device sent a request the ACS does not support."),
    8001: _("The ACS refused the request."),
    8002: _("Internal error of the ACS."),
    8003: _("The device sent invalid arguments."),
    8004: _("The device's message was too large."),
    8005: _("The session ended before the device answered; the task will be retried."),
    8006: _("The device's protocol version is not supported."),
    8007: _("The device's answer did not match the request."),
    9000: _("The device does not support this operation."),
    9001: _("The device refused the request."),
    9002: _("Internal error of the device."),
    9003: _("The device rejected the arguments."),
    9004: _("The device lacks the resources for this."),
    9005: _("The device has no such parameter."),
    9006: _("Wrong type for this parameter."),
    9007: _("The device rejected the value."),
    9008: _("This parameter cannot be changed."),
    9009: _("The device refused the notification setting."),
    9010: _("The file transfer failed."),
    9011: _("The upload failed."),
    9012: _("The file server refused the device's credentials."),
    9013: _("The device does not support this transfer protocol."),
    9014: _("The device could not join the multicast group."),
    9015: _("The device could not reach the file server."),
    9016: _("The device could not access the file."),
    9017: _("The download did not complete."),
    9018: _("The file is corrupted or unusable."),
    9019: _("The file failed authentication."),
    9020: _("The download missed its time window."),
    9021: _("The transfer cannot be cancelled now."),
    9022: _("Invalid UUID."),
    9023: _("Unknown execution environment."),
    9024: _("The execution environment is disabled."),
    9025: _("The deployment unit does not fit the execution environment."),
    9026: _("Duplicate deployment unit."),
    9027: _("The device ran out of system resources."),
    9028: _("Unknown deployment unit."),
    9029: _("Invalid deployment unit state."),
    9030: _("Downgrade not permitted."),
    9031: _("Version not specified."),
    9032: _("Version already exists."),
}


def describe_fault(code: int | None) -> str:
    """The fault ``code`` in words (a generic sentence for codes outside the standard ranges)."""
    if code is None:
        return ""
    words = WORDS.get(code)
    if words is not None:
        return str(words)
    if 9800 <= code <= 9899:
        return str(_("Vendor-specific fault of the device (%(code)s).") % {"code": code})
    return str(_("Fault %(code)s.") % {"code": code})
