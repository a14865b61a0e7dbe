"""CPE fault codes (TR-069 Amendment 6, table 58) as the simulated device answers them.

The simulator keeps its own table rather than importing the ACS's: it is the independent
peer the ACS is tested against.
"""

from __future__ import annotations

METHOD_NOT_SUPPORTED = 9000
REQUEST_DENIED = 9001
INTERNAL_ERROR = 9002
INVALID_ARGUMENTS = 9003
RESOURCES_EXCEEDED = 9004
INVALID_NAME = 9005
INVALID_TYPE = 9006
INVALID_VALUE = 9007
NON_WRITABLE = 9008
NOTIFICATION_REJECTED = 9009
DOWNLOAD_FAILURE = 9010
TRANSFER_AUTH_FAILURE = 9012
UNSUPPORTED_PROTOCOL = 9013
SERVER_UNREACHABLE = 9015
FILE_ACCESS_FAILURE = 9016
DOWNLOAD_INCOMPLETE = 9017
FILE_CORRUPTED = 9018

FAULT_STRINGS: dict[int, str] = {
    METHOD_NOT_SUPPORTED: "Method not supported",
    REQUEST_DENIED: "Request denied",
    INTERNAL_ERROR: "Internal error",
    INVALID_ARGUMENTS: "Invalid arguments",
    RESOURCES_EXCEEDED: "Resources exceeded",
    INVALID_NAME: "Invalid parameter name",
    INVALID_TYPE: "Invalid parameter type",
    INVALID_VALUE: "Invalid parameter value",
    NON_WRITABLE: "Attempt to set a non-writable parameter",
    NOTIFICATION_REJECTED: "Notification request rejected",
    DOWNLOAD_FAILURE: "Download failure",
    TRANSFER_AUTH_FAILURE: "File transfer server authentication failure",
    UNSUPPORTED_PROTOCOL: "Unsupported protocol for file transfer",
    SERVER_UNREACHABLE: "Download failure: unable to contact file server",
    FILE_ACCESS_FAILURE: "Download failure: unable to access file",
    DOWNLOAD_INCOMPLETE: "Download failure: unable to complete download",
    FILE_CORRUPTED: "Download failure: file corrupted",
}


class CpeFault(Exception):
    """A CWMP fault the device answers with; ``details`` are per-parameter SetParameterValues faults."""

    def __init__(self, code: int, message: str = "", details: list[tuple[str, int, str]] | None = None) -> None:
        super().__init__(message or FAULT_STRINGS.get(code, "Fault"))
        self.code = code
        self.fault_string = FAULT_STRINGS.get(code, "Fault")
        self.details = details or []
