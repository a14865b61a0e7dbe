"""A TR-069 CPE simulator: the device side of CWMP, written from the specification.

It is the peer the built-in ACS is tested, demonstrated and benchmarked against, so it
shares no codec with ``beskontakt.cpe.cwmp``: its own lxml reading and template writing
(``soap``), TR-181 and TR-098 trees (``trees``, ``datamodel``), the RPCs (``rpc``),
sessions with Basic/Digest authentication and back-off (``cpe``), connection requests
(``crserver``), diagnostics (``diagnostics``), scriptable faults (``scenarios``) and
fleets of thousands of devices in one process (``fleet``). No Django here; the
``cpe_simulate`` management command builds a fleet from the demo's equipment.

    python -m beskontakt.cpe.simulator --acs http://127.0.0.1:7547/ --count 100
"""

from __future__ import annotations

from .cpe import FaultInjection, SimulatedCpe
from .fleet import CpeSpec, Fleet, FleetConfig
from .scenarios import SCENARIOS, Scenario
from .stats import Stats

__all__ = ["SCENARIOS", "CpeSpec", "FaultInjection", "Fleet", "FleetConfig", "Scenario", "SimulatedCpe", "Stats"]
