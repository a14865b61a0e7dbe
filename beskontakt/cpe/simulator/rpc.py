"""What the simulated device does with each ACS request (TR-069 A.3.2 and A.4.1).

``handle(cpe, message)`` returns the response body to send, raising ``CpeFault`` for a
fault (9000 for a method the device does not know, 9005 for an unknown name, 9003 with
per-parameter SetParameterValuesFault items, …). Work the spec puts after the session
(Reboot, FactoryReset, Download, diagnostics, ScheduleInform) is queued on the device
and run once the session has ended.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import soap
from .errors import INVALID_ARGUMENTS, INVALID_NAME, METHOD_NOT_SUPPORTED, NOTIFICATION_REJECTED, CpeFault
from .soap import AcsMessage, child, children, text_of

if TYPE_CHECKING:
    from .cpe import SimulatedCpe

METHODS = [
    "GetRPCMethods",
    "GetParameterNames",
    "GetParameterValues",
    "SetParameterValues",
    "GetParameterAttributes",
    "SetParameterAttributes",
    "AddObject",
    "DeleteObject",
    "Reboot",
    "FactoryReset",
    "Download",
    "ScheduleInform",
]
FILE_TYPES = {"1 Firmware Upgrade Image", "2 Web Content", "3 Vendor Configuration File"}


def handle(cpe: SimulatedCpe, message: AcsMessage) -> str:
    """The response body for ``message``; ``CpeFault`` for a fault answer."""
    handler = _HANDLERS.get(message.method)
    if handler is None:
        raise CpeFault(METHOD_NOT_SUPPORTED, f"method not supported: {message.method}")
    return handler(cpe, message)


def _strings(node: object) -> list[str]:
    return [text_of(item) for item in children(node)]  # type: ignore[arg-type]


def _get_rpc_methods(cpe: SimulatedCpe, message: AcsMessage) -> str:
    return soap.get_rpc_methods_response(METHODS)


def _get_parameter_names(cpe: SimulatedCpe, message: AcsMessage) -> str:
    path_node = child(message.body, "ParameterPath")
    if path_node is None:
        raise CpeFault(INVALID_ARGUMENTS, "ParameterPath missing")
    path = text_of(path_node)
    next_level = message.text("NextLevel").lower() in ("1", "true")
    return soap.get_parameter_names_response(cpe.dm.names(path, next_level))


def _get_parameter_values(cpe: SimulatedCpe, message: AcsMessage) -> str:
    names = _strings(child(message.body, "ParameterNames"))
    cpe.refresh_dynamic()
    return soap.get_parameter_values_response(cpe.dm.values_under(names))


def _set_parameter_values(cpe: SimulatedCpe, message: AcsMessage) -> str:
    items: list[tuple[str, str, str]] = []
    for struct in children(child(message.body, "ParameterList")):
        name_node, value_node = child(struct, "Name"), child(struct, "Value")
        if name_node is None or value_node is None:
            raise CpeFault(INVALID_ARGUMENTS, "ParameterValueStruct without Name or Value")
        xsd_type = ""
        for key, attribute in value_node.attrib.items():
            if soap.local(key) == "type":
                xsd_type = str(attribute).rsplit(":", 1)[-1]
        items.append((text_of(name_node), value_node.text or "", xsd_type))
    if len({name for name, _, _ in items}) != len(items):
        raise CpeFault(INVALID_ARGUMENTS, "a parameter appears twice")
    accepted: dict[str, str] = {}
    faults: list[tuple[str, int, str]] = []
    for name, value, xsd_type in items:
        try:
            if name in cpe.dm:
                cpe.dm.check_type(name, xsd_type)
            accepted[name] = cpe.dm.validate_set(name, value)
        except CpeFault as fault:
            faults.append((name, fault.code, fault.fault_string))
    if faults:
        raise CpeFault(INVALID_ARGUMENTS, "SetParameterValues refused", faults)
    for name, value in accepted.items():
        cpe.dm.set(name, value)
    cpe.dm.set(cpe.paths.parameter_key, message.text("ParameterKey"))
    cpe.after_set(accepted)
    return soap.simple_response("SetParameterValues", [("Status", "0")])


def _get_parameter_attributes(cpe: SimulatedCpe, message: AcsMessage) -> str:
    result: list[tuple[str, int]] = []
    for name in _strings(child(message.body, "ParameterNames")):
        for path in cpe.dm.below(name):
            result.append((path, cpe.dm.attributes.get(path, 0)))
    return soap.get_parameter_attributes_response(result)


def _set_parameter_attributes(cpe: SimulatedCpe, message: AcsMessage) -> str:
    changes: list[tuple[list[str], int]] = []
    for struct in children(child(message.body, "ParameterList")):
        name = text_of(child(struct, "Name"))
        if text_of(child(struct, "NotificationChange")).lower() not in ("1", "true"):
            cpe.dm.below(name)  # still 9005 for an unknown name
            continue
        try:
            notification = int(text_of(child(struct, "Notification")))
        except ValueError:
            raise CpeFault(INVALID_ARGUMENTS, "Notification is not 0, 1 or 2") from None
        if notification not in (0, 1, 2):
            raise CpeFault(INVALID_ARGUMENTS, "Notification is not 0, 1 or 2")
        paths = cpe.dm.below(name)
        if notification == 2 and any(path.endswith(".UpTime") for path in paths) and not name.endswith("."):
            raise CpeFault(NOTIFICATION_REJECTED, "active notification of UpTime is not allowed")
        changes.append(([p for p in paths if not p.endswith(".UpTime")], notification))
    for paths, notification in changes:
        for path in paths:
            if notification:
                cpe.dm.attributes[path] = notification
            else:
                cpe.dm.attributes.pop(path, None)
    return soap.simple_response("SetParameterAttributes")


def _add_object(cpe: SimulatedCpe, message: AcsMessage) -> str:
    number = cpe.dm.add_instance(message.text("ObjectName"))
    cpe.dm.set(cpe.paths.parameter_key, message.text("ParameterKey"))
    return soap.simple_response("AddObject", [("InstanceNumber", str(number)), ("Status", "0")])


def _delete_object(cpe: SimulatedCpe, message: AcsMessage) -> str:
    cpe.dm.delete_instance(message.text("ObjectName"))
    cpe.dm.set(cpe.paths.parameter_key, message.text("ParameterKey"))
    return soap.simple_response("DeleteObject", [("Status", "0")])


def _reboot(cpe: SimulatedCpe, message: AcsMessage) -> str:
    cpe.after_session(("reboot", message.text("CommandKey")))
    return soap.simple_response("Reboot")


def _factory_reset(cpe: SimulatedCpe, message: AcsMessage) -> str:
    cpe.after_session(("factory_reset", ""))
    return soap.simple_response("FactoryReset")


def _download(cpe: SimulatedCpe, message: AcsMessage) -> str:
    file_type = message.text("FileType")
    url = message.text("URL")
    if file_type not in FILE_TYPES:
        raise CpeFault(INVALID_ARGUMENTS, f"unsupported FileType {file_type!r}")
    if not url:
        raise CpeFault(INVALID_ARGUMENTS, "URL missing")
    try:
        size = int(message.text("FileSize", "0") or "0")
        delay = int(message.text("DelaySeconds", "0") or "0")
    except ValueError:
        raise CpeFault(INVALID_ARGUMENTS, "FileSize and DelaySeconds must be integers") from None
    cpe.after_session(
        (
            "download",
            {
                "command_key": message.text("CommandKey"),
                "file_type": file_type,
                "url": url,
                "username": message.text("Username"),
                "password": message.text("Password"),
                "size": size,
                "delay": delay,
                "target": message.text("TargetFileName"),
            },
        )
    )
    return soap.simple_response(
        "Download", [("Status", "1"), ("StartTime", soap.UNKNOWN_TIME), ("CompleteTime", soap.UNKNOWN_TIME)]
    )


def _schedule_inform(cpe: SimulatedCpe, message: AcsMessage) -> str:
    try:
        delay = int(message.text("DelaySeconds"))
    except ValueError:
        raise CpeFault(INVALID_ARGUMENTS, "DelaySeconds must be an integer") from None
    if delay <= 0:
        raise CpeFault(INVALID_ARGUMENTS, "DelaySeconds must be positive")
    cpe.schedule_inform(delay, message.text("CommandKey"))
    return soap.simple_response("ScheduleInform")


_HANDLERS = {
    "GetRPCMethods": _get_rpc_methods,
    "GetParameterNames": _get_parameter_names,
    "GetParameterValues": _get_parameter_values,
    "SetParameterValues": _set_parameter_values,
    "GetParameterAttributes": _get_parameter_attributes,
    "SetParameterAttributes": _set_parameter_attributes,
    "AddObject": _add_object,
    "DeleteObject": _delete_object,
    "Reboot": _reboot,
    "FactoryReset": _factory_reset,
    "Download": _download,
    "ScheduleInform": _schedule_inform,
}

__all__ = ["FILE_TYPES", "INVALID_NAME", "METHODS", "handle"]
