"""End to end: the real ACS (uvicorn, Django backend) and a simulated CPE with a congested Wi-Fi.

The agent's diagnosis reads the router fresh through a connection request and finds the crowded
channel; the remote fix changes it through ``BuiltinAcs``; the next diagnosis finds the line and
the router healthy. The switch port is unknown here (the subscriber hangs on no known port), and
ping is the real ``network.ping`` aimed at loopback, where the simulated CPE lives.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.core.cache import cache

from beskontakt.cases.models import Case, Event
from beskontakt.cpe import actions as cpe_actions
from beskontakt.cpe import profiles
from beskontakt.cpe.acs.app import make_app
from beskontakt.cpe.acs.backend import DjangoBackend
from beskontakt.cpe.cwmp.serve import serving
from beskontakt.cpe.models import Device
from beskontakt.cpe.simulator import CpeSpec, Fleet, FleetConfig
from beskontakt.cpe.testing import db, until
from beskontakt.demo import faults
from beskontakt.diagnostics import actions, verdicts
from beskontakt.diagnostics.models import CheckStatus, DiagnosisRun
from beskontakt.diagnostics.sources import default_sources, use_sources
from beskontakt.subscribers.models import Equipment

pytestmark = pytest.mark.django_db(transaction=True)
OUI, PRODUCT, SERIAL = "00D09E", "SimRouter", "SIMW0001"
BOOTSTRAP_PASSWORD = "factory-pw"


def test_wifi_congested_diagnosed_fixed_and_healthy(case: Case, agent: Any, settings: Any) -> None:
    settings.DIAGNOSIS_CHECK_TIMEOUT_SECONDS = 6.0  # a roomy bound on a loaded CI machine; not asserted on
    Equipment.objects.create(subscriber=case.subscriber, kind="router", model=PRODUCT, serial_number=SERIAL)
    cpe_actions.save_preset(
        None,
        name="bootstrap",
        events=["0 BOOTSTRAP"],
        actions=[{"set": {profiles.INFORM_INTERVAL: 60}}, {"credentials": "generate"}],
    )
    network_ping = default_sources().ping
    if network_ping is None:
        pytest.skip("beskontakt.network.ping is not installed")

    def loopback_ping(host: str, **options: Any) -> Any:
        return network_ping("127.0.0.1", **options)

    with use_sources(default_sources().with_(ping=loopback_ping)):
        asyncio.run(_scenario(case, agent))


async def _scenario(case: Case, agent: Any) -> None:
    backend = DjangoBackend(bootstrap_policy="accept", bootstrap_password=BOOTSTRAP_PASSWORD)
    config = FleetConfig(
        acs_url="",
        username_template="{oui}-{serial}",
        password_template=BOOTSTRAP_PASSWORD,
        inform_interval=3600,
        retry_min=0.05,
        oui=OUI,
        product_class=PRODUCT,
    )
    spec = CpeSpec(SERIAL, oui=OUI, product_class=PRODUCT, scenario=faults.WIFI_CONGESTED)
    async with serving(make_app(backend, auth="digest")) as base:
        config.acs_url = base + "/"
        async with Fleet(config, [spec]) as fleet:
            await until(lambda: Device.objects.filter(serial_number=SERIAL).exclude(connection_request_url="").exists())
            await until(lambda: Device.objects.get(serial_number=SERIAL).periodic_inform_interval == 60)

            run = await db(_diagnose, case, agent)
            found = await db(lambda: {c.check_code: c for c in run.checks.all()})
            assert run.verdict == verdicts.WIFI_CONGESTED, {k: (c.status, c.error) for k, c in found.items()}
            assert found["cpe"].status == CheckStatus.OK and found["cpe"].summary["answered"] is True
            assert found["ping"].status == CheckStatus.OK
            assert found["port"].status == CheckStatus.UNKNOWN
            channel = run.verdict_params["channel"]
            assert channel in (1, 11)

            result = await db(actions.change_wifi_channel, case, by=agent, channel=channel)
            assert result.ok, result
            sim = fleet.devices[SERIAL]
            assert sim.dm.value(sim.profile.path(profiles.WIFI_CHANNEL) or "") == str(channel)

            again = await db(_diagnose, case, agent)
            assert again.verdict == verdicts.HEALTHY, again.verdict
            assert fleet.stats.sessions_failed == 0, fleet.summary()
    await backend.close()

    kinds = await db(lambda: list(Event.objects.filter(case=case).values_list("kind", flat=True)))
    assert kinds.count(Event.Kind.DIAGNOSIS) == 2 and kinds.count(Event.Kind.REMOTE_FIX) == 1


def _diagnose(case: Case, agent: Any) -> DiagnosisRun:
    cache.clear()
    return actions.run_diagnosis(case.subscriber, case=case, actor=agent, origin=DiagnosisRun.Origin.AGENT)
