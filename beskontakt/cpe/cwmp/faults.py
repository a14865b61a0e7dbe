"""CWMP fault codes (TR-069 Amendment 6, A.5.1) with their English names.

ACS faults (8000–8006, plus 8007 which Beskontakt uses for "the CPE's message did not
match the request outstanding") travel from the ACS to the CPE; CPE faults (9000–9032)
come back from the device. The names are English for logs and the protocol's own
FaultString; the Django side words them for people by code (its own catalogue).
"""

from __future__ import annotations

# ACS fault codes
METHOD_NOT_SUPPORTED = 8000
REQUEST_DENIED = 8001
INTERNAL_ERROR = 8002
INVALID_ARGUMENTS = 8003
RESOURCES_EXCEEDED = 8004
RETRY_REQUEST = 8005
ACS_VERSION_INCOMPATIBLE = 8006
RESPONSE_MISMATCH = 8007  # Beskontakt's own, in the ACS range reserved for extensions

ACS_FAULTS: dict[int, str] = {
    METHOD_NOT_SUPPORTED: "Method not supported",
    REQUEST_DENIED: "Request denied (no reason specified)",
    INTERNAL_ERROR: "Internal error",
    INVALID_ARGUMENTS: "Invalid arguments",
    RESOURCES_EXCEEDED: "Resources exceeded",
    RETRY_REQUEST: "Retry request",
    ACS_VERSION_INCOMPATIBLE: "ACS version incompatible with CPE",
    RESPONSE_MISMATCH: "Response does not match the request",
}

# CPE fault codes
CPE_METHOD_NOT_SUPPORTED = 9000
CPE_REQUEST_DENIED = 9001
CPE_INTERNAL_ERROR = 9002
CPE_INVALID_ARGUMENTS = 9003
CPE_RESOURCES_EXCEEDED = 9004
INVALID_PARAMETER_NAME = 9005
INVALID_PARAMETER_TYPE = 9006
INVALID_PARAMETER_VALUE = 9007
NON_WRITABLE_PARAMETER = 9008
NOTIFICATION_REJECTED = 9009
DOWNLOAD_FAILURE = 9010
UPLOAD_FAILURE = 9011
TRANSFER_AUTHENTICATION_FAILURE = 9012
UNSUPPORTED_TRANSFER_PROTOCOL = 9013
MULTICAST_JOIN_FAILURE = 9014
FILE_SERVER_UNREACHABLE = 9015
FILE_ACCESS_FAILURE = 9016
DOWNLOAD_INCOMPLETE = 9017
FILE_CORRUPTED = 9018
FILE_AUTHENTICATION_FAILURE = 9019
TRANSFER_WINDOW_MISSED = 9020
CANCEL_NOT_PERMITTED = 9021
INVALID_UUID = 9022
UNKNOWN_EXECUTION_ENVIRONMENT = 9023
DISABLED_EXECUTION_ENVIRONMENT = 9024
DEPLOYMENT_UNIT_MISMATCH = 9025
DUPLICATE_DEPLOYMENT_UNIT = 9026
SYSTEM_RESOURCES_EXCEEDED = 9027
UNKNOWN_DEPLOYMENT_UNIT = 9028
INVALID_DEPLOYMENT_UNIT_STATE = 9029
DOWNGRADE_NOT_PERMITTED = 9030
VERSION_NOT_SPECIFIED = 9031
VERSION_EXISTS = 9032

CPE_FAULTS: dict[int, str] = {
    CPE_METHOD_NOT_SUPPORTED: "Method not supported",
    CPE_REQUEST_DENIED: "Request denied (no reason specified)",
    CPE_INTERNAL_ERROR: "Internal error",
    CPE_INVALID_ARGUMENTS: "Invalid arguments",
    CPE_RESOURCES_EXCEEDED: "Resources exceeded",
    INVALID_PARAMETER_NAME: "Invalid parameter name",
    INVALID_PARAMETER_TYPE: "Invalid parameter type",
    INVALID_PARAMETER_VALUE: "Invalid parameter value",
    NON_WRITABLE_PARAMETER: "Attempt to set a non-writable parameter",
    NOTIFICATION_REJECTED: "Notification request rejected",
    DOWNLOAD_FAILURE: "File transfer failure",
    UPLOAD_FAILURE: "Upload failure",
    TRANSFER_AUTHENTICATION_FAILURE: "File transfer server authentication failure",
    UNSUPPORTED_TRANSFER_PROTOCOL: "Unsupported protocol for file transfer",
    MULTICAST_JOIN_FAILURE: "File transfer failure: unable to join multicast group",
    FILE_SERVER_UNREACHABLE: "File transfer failure: unable to contact file server",
    FILE_ACCESS_FAILURE: "File transfer failure: unable to access file",
    DOWNLOAD_INCOMPLETE: "File transfer failure: unable to complete download",
    FILE_CORRUPTED: "File transfer failure: file corrupted or otherwise unusable",
    FILE_AUTHENTICATION_FAILURE: "File transfer failure: file authentication failure",
    TRANSFER_WINDOW_MISSED: "File transfer failure: unable to complete download within the time windows",
    CANCEL_NOT_PERMITTED: "Cancellation of file transfer not permitted in current transfer state",
    INVALID_UUID: "Invalid UUID format",
    UNKNOWN_EXECUTION_ENVIRONMENT: "Unknown execution environment",
    DISABLED_EXECUTION_ENVIRONMENT: "Disabled execution environment",
    DEPLOYMENT_UNIT_MISMATCH: "Deployment unit to execution environment mismatch",
    DUPLICATE_DEPLOYMENT_UNIT: "Duplicate deployment unit",
    SYSTEM_RESOURCES_EXCEEDED: "System resources exceeded",
    UNKNOWN_DEPLOYMENT_UNIT: "Unknown deployment unit",
    INVALID_DEPLOYMENT_UNIT_STATE: "Invalid deployment unit state",
    DOWNGRADE_NOT_PERMITTED: "Invalid deployment unit update: downgrade not permitted",
    VERSION_NOT_SPECIFIED: "Invalid deployment unit update: version not specified",
    VERSION_EXISTS: "Invalid deployment unit update: version already exists",
}

ALL_FAULTS: dict[int, str] = {**ACS_FAULTS, **CPE_FAULTS}

# Faults caused by the server side rather than the content of the request (SOAP "Server").
_SERVER_FAULTS = frozenset(
    {INTERNAL_ERROR, RESOURCES_EXCEEDED, RETRY_REQUEST, CPE_INTERNAL_ERROR, CPE_RESOURCES_EXCEEDED}
)


def fault_name(code: int) -> str:
    """The English name of a fault code; vendor codes (9800–9899) and unknown ones say so."""
    if code in ALL_FAULTS:
        return ALL_FAULTS[code]
    if 9800 <= code <= 9899:
        return "Vendor-specific fault"
    return "Unknown fault"


def soap_fault_code(code: int) -> str:
    """``"Server"`` or ``"Client"``: the SOAP faultcode that goes with a CWMP fault code."""
    return "Server" if code in _SERVER_FAULTS else "Client"


def is_cpe_fault(code: int) -> bool:
    """Whether the code is in the CPE range (9000–9899)."""
    return 9000 <= code <= 9899
