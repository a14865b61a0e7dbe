"""Secrets at rest: sealed per purpose, never readable across purposes or keys."""

from __future__ import annotations

from django.test import override_settings

from beskontakt import sealing


def test_round_trip_and_empty() -> None:
    token = sealing.seal("пароль-42", purpose="cpe-credentials")
    assert token and "пароль" not in token
    assert sealing.reveal(token, purpose="cpe-credentials") == "пароль-42"
    assert sealing.seal("", purpose="snmp") == ""
    assert sealing.reveal("", purpose="snmp") == ""


def test_a_token_opens_only_for_its_purpose_and_key() -> None:
    token = sealing.seal("public", purpose="snmp")
    assert sealing.reveal(token, purpose="cpe-credentials") == ""
    with override_settings(SECRETS_KEY="another key"):
        assert sealing.reveal(token, purpose="snmp") == ""
    assert sealing.reveal("not a token", purpose="snmp") == ""
