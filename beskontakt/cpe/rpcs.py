"""Device tasks ↔ CWMP messages: build the request of a ``DeviceTask`` from its JSON arguments,
and turn the CPE's response into JSON for ``DeviceTask.result``.

Arguments per RPC (what ``actions.queue_task`` validates):

* GetParameterValues ``{"names": [path, …]}``; GetParameterAttributes the same;
* SetParameterValues ``{"values": [[path, value, xsd type], …], "parameter_key": str}`` —
  a value of a password path is stored encrypted (``"enc:"`` + Fernet token);
* GetParameterNames ``{"path": str, "next_level": bool}``;
* SetParameterAttributes ``{"attributes": [[path, notification 0–6], …]}``;
* AddObject / DeleteObject ``{"object_name": str, "parameter_key": str}``;
* Reboot ``{"command_key": str}``; FactoryReset ``{}``; GetRPCMethods ``{}``;
* ScheduleInform ``{"delay_seconds": int, "command_key": str}``;
* Download ``{"file": CpeFile name}`` or ``{"url": str, "file_type": str, "file_size": int}``.
"""

from __future__ import annotations

from typing import Any

from beskontakt.cpe.crypto import decrypt, encrypt
from beskontakt.cpe.cwmp import messages as m

SECRET_PREFIX = "enc:"  # noqa: S105 - a marker, not a secret
RPCS = (
    "GetParameterValues",
    "SetParameterValues",
    "GetParameterNames",
    "GetParameterAttributes",
    "SetParameterAttributes",
    "AddObject",
    "DeleteObject",
    "Reboot",
    "FactoryReset",
    "Download",
    "ScheduleInform",
    "GetRPCMethods",
)


def is_secret_path(path: str) -> bool:
    """Whether a parameter holds a password or key (stored encrypted, never shown)."""
    leaf = path.rsplit(".", 1)[-1].lower()
    return "password" in leaf or "passphrase" in leaf or leaf in {"presharedkey", "wepkey"}


def seal_values(values: list[tuple[str, str, str]]) -> list[list[str]]:
    """SetParameterValues values as stored in a task: secrets encrypted."""
    return [
        [path, SECRET_PREFIX + encrypt(value) if is_secret_path(path) and value else value, xsd]
        for path, value, xsd in values
    ]


def open_values(values: list[list[str]]) -> list[m.ParameterValue]:
    """Stored values back to ``ParameterValue`` with secrets decrypted."""
    found = []
    for path, value, xsd in values:
        if value.startswith(SECRET_PREFIX):
            value = decrypt(value[len(SECRET_PREFIX) :])
        found.append(m.ParameterValue(path, value, xsd))
    return found


def shown_value(path: str, value: str) -> str:
    """A value as a page may show it (secrets hidden)."""
    return "••••••" if is_secret_path(path) and value else value


def build_request(rpc: str, args: dict[str, Any], *, files_url: str = "") -> m.Message:
    """The CWMP request of a task; ValueError for an RPC or arguments it cannot build."""
    if rpc == "GetParameterValues":
        return m.GetParameterValues(names=[str(name) for name in args.get("names", [])])
    if rpc == "SetParameterValues":
        return m.SetParameterValues(
            values=open_values(args.get("values", [])), parameter_key=args.get("parameter_key", "")
        )
    if rpc == "GetParameterNames":
        return m.GetParameterNames(parameter_path=args.get("path", ""), next_level=bool(args.get("next_level", False)))
    if rpc == "GetParameterAttributes":
        return m.GetParameterAttributes(names=[str(name) for name in args.get("names", [])])
    if rpc == "SetParameterAttributes":
        return m.SetParameterAttributes(
            attributes=[
                m.SetParameterAttribute(str(name), True, int(level)) for name, level in args.get("attributes", [])
            ]
        )
    if rpc == "AddObject":
        return m.AddObject(object_name=args["object_name"], parameter_key=args.get("parameter_key", ""))
    if rpc == "DeleteObject":
        return m.DeleteObject(object_name=args["object_name"], parameter_key=args.get("parameter_key", ""))
    if rpc == "Reboot":
        return m.Reboot(command_key=args.get("command_key", ""))
    if rpc == "FactoryReset":
        return m.FactoryReset()
    if rpc == "GetRPCMethods":
        return m.GetRPCMethods()
    if rpc == "ScheduleInform":
        return m.ScheduleInform(
            delay_seconds=int(args.get("delay_seconds", 0)), command_key=args.get("command_key", "")
        )
    if rpc == "Download":
        url = args.get("url") or (files_url + args["file"])
        return m.Download(
            command_key=args.get("command_key", ""),
            file_type=args.get("file_type", m.FILE_FIRMWARE),
            url=url,
            file_size=int(args.get("file_size", 0)),
            target_file_name=args.get("target_file_name", ""),
        )
    raise ValueError(f"unknown RPC {rpc!r}")


def result_of(request: m.Message, response: m.Message) -> dict[str, Any]:
    """The JSON kept on the task for a successful response (secrets hidden)."""
    if isinstance(response, m.GetParameterValuesResponse):
        return {"values": {p.name: shown_value(p.name, p.value) for p in response.parameters}}
    if isinstance(response, m.GetParameterNamesResponse):
        return {"names": [[p.name, p.writable] for p in response.parameters]}
    if isinstance(response, m.GetParameterAttributesResponse):
        return {"attributes": [[a.name, a.notification] for a in response.attributes]}
    if isinstance(response, m.SetParameterValuesResponse | m.DeleteObjectResponse):
        return {"status": response.status}
    if isinstance(response, m.AddObjectResponse):
        return {"instance_number": response.instance_number, "status": response.status}
    if isinstance(response, m.DownloadResponse):
        return {"status": response.status}
    if isinstance(response, m.GetRPCMethodsResponse):
        return {"methods": list(response.methods)}
    return {}


def fault_result(fault: m.Fault) -> dict[str, Any]:
    """Per-parameter SetParameterValues faults as JSON (empty when there are none)."""
    if not fault.set_parameter_faults:
        return {}
    return {"parameter_faults": [[f.name, f.code, f.string] for f in fault.set_parameter_faults]}
