"""Which demo subscribers' lines and devices misbehave, and how (deterministic).

The demo's simulated CPEs (``cpe_simulate --demo``) and its seeded switch-port history
(``network`` demo topology) both ask ``demo_scenario`` so that a diagnosis in the demo
finds the same fault on both sides: a congested Wi-Fi channel, a PPP authentication
failure, a weak optical signal, a flapping link, or a cable fault (CRC errors and link
flaps on the switch port while the router itself is healthy). Most lines are healthy.
"""

from __future__ import annotations

import zlib

HEALTHY = "healthy"
WIFI_CONGESTED = "wifi_congested"
PPP_AUTH_FAILURE = "ppp_auth_failure"
LOW_OPTICAL = "low_optical"
FLAPPING_LINK = "flapping_link"
CABLE_FAULT = "cable_fault"

# One in ten lines has a problem, spread over the five kinds.
_FAULTS = [WIFI_CONGESTED, PPP_AUTH_FAILURE, LOW_OPTICAL, FLAPPING_LINK, CABLE_FAULT]


def demo_scenario(contract_number: str) -> str:
    """The scenario of the subscriber with this contract number (stable across runs)."""
    bucket = zlib.crc32(contract_number.encode()) % 50
    return _FAULTS[bucket] if bucket < len(_FAULTS) else HEALTHY
