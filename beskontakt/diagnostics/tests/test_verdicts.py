"""Every verdict rule, from check results made by hand (no database, no threads)."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from beskontakt.diagnostics import verdicts
from beskontakt.diagnostics.models import CheckStatus, DiagnosisRun
from beskontakt.diagnostics.runner import CheckRecord

OK, WARNING, FAULT, UNKNOWN, SKIPPED = (
    CheckStatus.OK,
    CheckStatus.WARNING,
    CheckStatus.FAULT,
    CheckStatus.UNKNOWN,
    CheckStatus.SKIPPED,
)
NextStep = DiagnosisRun.NextStep


def healthy(**changes: tuple[str, dict[str, Any]]) -> dict[str, CheckRecord]:
    """Results of a healthy line, with some checks replaced."""
    base: dict[str, tuple[str, dict[str, Any]]] = {
        "billing": (OK, {"billing_status": "active", "balance": "320.50"}),
        "restrictions": (OK, {"kinds": [], "no_visit": False}),
        "outage": (OK, {}),
        "port": (OK, {"oper": "up", "admin": "up", "errors_last_hour": 0, "flaps_24h": 0, "line_errors": False}),
        "line": (OK, {"kind": "optical", "rx_dbm": -19.5}),
        "cpe": (OK, {"online": True, "answered": True}),
        "wan": (OK, {"state": "up", "auth_failure": False}),
        "wifi": (OK, {"channel": 6, "neighbours": 0, "congested": False, "weak_clients": 0}),
        "ping": (OK, {"sent": 3, "received": 3}),
    }
    base.update(changes)
    return {code: CheckRecord(code, status, summary) for code, (status, summary) in base.items()}


QUARANTINE = (WARNING, {"kinds": ["quarantine"], "no_visit": True})


def test_all_fine_is_healthy() -> None:
    verdict = verdicts.decide(healthy())
    assert verdict.code == verdicts.HEALTHY
    assert verdict.next_step == NextStep.NONE
    assert verdict.severity == DiagnosisRun.Severity.OK


def test_outage_comes_first_and_needs_no_visit() -> None:
    outage = (FAULT, {"title": "Авария на узле", "ends_at": "2026-11-25T18:00:00+03:00", "scope": "building"})
    port_down = (FAULT, {"oper": "down", "admin": "up"})
    verdict = verdicts.decide(healthy(outage=outage, port=port_down, cpe=(FAULT, {"online": False})))
    assert verdict.code == verdicts.KNOWN_OUTAGE
    assert verdict.next_step == NextStep.NONE
    assert verdict.params["ends_at"].startswith("2026-11-25")
    assert "18:00" in verdicts.advice(verdict.code, verdict.params) or "15:00" in verdicts.advice(
        verdict.code, verdict.params
    )


def test_blocked_for_debt_is_top_up() -> None:
    verdict = verdicts.decide(healthy(billing=(FAULT, {"billing_status": "blocked_debt", "balance": "-150.00"})))
    assert verdict.code == verdicts.BILLING_BLOCKED
    assert verdict.next_step == NextStep.BILLING
    assert "-150.00" in verdicts.advice(verdict.code, verdict.params)


def test_port_down_and_cpe_offline_is_no_link() -> None:
    verdict = verdicts.decide(
        healthy(port=(FAULT, {"oper": "down", "admin": "up"}), cpe=(FAULT, {"online": False}), wan=(UNKNOWN, {}))
    )
    assert verdict.code == verdicts.NO_LINK
    assert verdict.next_step == NextStep.VISIT
    assert set(verdict.evidence) == {"port", "cpe"}


def test_no_link_under_quarantine_takes_the_contactless_path() -> None:
    verdict = verdicts.decide(
        healthy(port=(FAULT, {"oper": "down"}), cpe=(FAULT, {"online": False}), restrictions=QUARANTINE)
    )
    assert verdict.code == verdicts.NO_LINK
    assert verdict.next_step == NextStep.PLAYBOOK
    assert verdict.params["contactless"] is True


CABLE_PORT = (FAULT, {"oper": "up", "admin": "up", "errors_last_hour": 840, "flaps_24h": 6, "line_errors": True})


def test_errors_and_flaps_with_a_healthy_router_are_a_cable_fault() -> None:
    verdict = verdicts.decide(healthy(port=CABLE_PORT))
    assert verdict.code == verdicts.CABLE_FAULT
    assert verdict.next_step == NextStep.VISIT
    assert verdict.params["errors_last_hour"] == 840
    with translation.override("en"):
        assert "patch cord" in verdicts.title(verdict.code, verdict.params)


def test_cable_fault_in_quarantine_is_door_delivery() -> None:
    verdict = verdicts.decide(healthy(port=CABLE_PORT, restrictions=QUARANTINE))
    assert verdict.code == verdicts.CABLE_FAULT
    assert verdict.next_step == NextStep.PLAYBOOK
    with translation.override("en"):
        assert "door" in verdicts.advice(verdict.code, verdict.params)


def test_cable_fault_needs_the_router_healthy() -> None:
    verdict = verdicts.decide(healthy(port=CABLE_PORT, cpe=(UNKNOWN, {})))
    assert verdict.code != verdicts.CABLE_FAULT


def test_low_optical_level() -> None:
    verdict = verdicts.decide(healthy(line=(FAULT, {"kind": "optical", "rx_dbm": -29.4, "low": True})))
    assert verdict.code == verdicts.LOW_OPTICAL
    assert verdict.next_step == NextStep.PLAYBOOK
    assert verdict.params["rx_dbm"] == -29.4


def test_low_dsl_margin() -> None:
    verdict = verdicts.decide(healthy(line=(FAULT, {"kind": "dsl", "margin_db": 3.5, "low": True})))
    assert verdict.code == verdicts.LOW_DSL_MARGIN


def test_ppp_authentication_failure_is_reprovision() -> None:
    wan = (FAULT, {"state": "disconnected", "last_error": "ERROR_AUTHENTICATION_FAILURE", "auth_failure": True})
    verdict = verdicts.decide(healthy(wan=wan))
    assert verdict.code == verdicts.PPP_AUTH_FAILURE
    assert verdict.next_step == NextStep.REMOTE_FIX
    assert verdict.fix == verdicts.FIX_REPROVISION


def test_congested_wifi_is_change_channel_to_the_least_used() -> None:
    wifi = (FAULT, {"channel": 6, "neighbours": 7, "congested": True, "suggested_channel": 11})
    verdict = verdicts.decide(healthy(wifi=wifi))
    assert verdict.code == verdicts.WIFI_CONGESTED
    assert verdict.fix == verdicts.FIX_WIFI_CHANNEL
    assert verdict.params["channel"] == 11
    assert "11" in verdicts.title(verdict.code, verdict.params)


def test_router_offline_with_the_port_up_is_reboot() -> None:
    verdict = verdicts.decide(healthy(cpe=(FAULT, {"online": False}), wan=(UNKNOWN, {}), wifi=(UNKNOWN, {})))
    assert verdict.code == verdicts.ROUTER_NOT_ANSWERING
    assert verdict.fix == verdicts.FIX_REBOOT
    assert verdict.next_step == NextStep.REMOTE_FIX


def test_wan_down_without_auth_error_is_reboot() -> None:
    verdict = verdicts.decide(healthy(wan=(FAULT, {"state": "connecting", "auth_failure": False})))
    assert verdict.code == verdicts.WAN_DOWN
    assert verdict.fix == verdicts.FIX_REBOOT


def test_weak_wifi_clients() -> None:
    wifi = (WARNING, {"channel": 6, "neighbours": 0, "congested": False, "weak_clients": 2, "clients": 3})
    assert verdicts.decide(healthy(wifi=wifi)).code == verdicts.WEAK_WIFI


def test_some_warning_is_degraded() -> None:
    verdict = verdicts.decide(healthy(ping=(WARNING, {"sent": 3, "received": 2})))
    assert verdict.code == verdicts.DEGRADED
    assert verdict.params["checks"] == ["ping"]


def test_negative_balance_alone_is_still_healthy() -> None:
    verdict = verdicts.decide(healthy(billing=(WARNING, {"billing_status": "active", "balance": "-5.00"})))
    assert verdict.code == verdicts.HEALTHY
    assert verdict.params["balance_negative"] is True


def test_nothing_known_is_inconclusive() -> None:
    results = {code: CheckRecord(code, UNKNOWN) for code in healthy()}
    verdict = verdicts.decide(results)
    assert verdict.code == verdicts.INCONCLUSIVE
    assert verdict.severity == DiagnosisRun.Severity.UNKNOWN


@pytest.mark.parametrize(
    "code",
    [
        verdicts.KNOWN_OUTAGE,
        verdicts.BILLING_BLOCKED,
        verdicts.NO_LINK,
        verdicts.CABLE_FAULT,
        verdicts.LOW_OPTICAL,
        verdicts.LOW_DSL_MARGIN,
        verdicts.PPP_AUTH_FAILURE,
        verdicts.WIFI_CONGESTED,
        verdicts.ROUTER_NOT_ANSWERING,
        verdicts.WAN_DOWN,
        verdicts.WEAK_WIFI,
        verdicts.DEGRADED,
        verdicts.HEALTHY,
        verdicts.INCONCLUSIVE,
    ],
)
def test_every_verdict_has_words_in_russian(code: str) -> None:
    with translation.override("ru"):
        title = verdicts.title(code, {"channel": 11, "title": "Авария"})
        advice = verdicts.advice(code, {"channel": 11, "balance": "-1"})
    assert title != code
    assert any("а" <= ch <= "я" for ch in (title + advice).lower())
