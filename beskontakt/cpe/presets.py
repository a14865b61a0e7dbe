"""Presets: which devices and Inform events they match, and the requests they make.

Plain data (``PresetSpec``) so the ACS can keep them in a per-process cache and match them
on the event loop without a query. ``requests_for()`` turns a preset's actions into
SetParameterValues requests (one per preset, plus one for generated credentials, which the
ACS stores only once the device has accepted them).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from beskontakt.cpe import profiles
from beskontakt.cpe.cwmp import messages as m


@dataclass(frozen=True)
class PresetSpec:
    """A preset as the ACS matches it."""

    name: str
    events: frozenset[str]
    actions: tuple[dict[str, Any], ...]
    product_class: str = ""
    data_model: str = ""
    oui: str = ""
    precedence: int = 100

    def matches(self, *, oui: str, product_class: str, data_model: str, events: Iterable[str] | None) -> bool:
        """Whether the preset applies to this device (and, with ``events``, to this Inform)."""
        if self.oui and self.oui.upper() != oui.upper():
            return False
        if self.product_class and self.product_class != product_class:
            return False
        if self.data_model and self.data_model != data_model:
            return False
        return events is None or bool(self.events.intersection(events))


@dataclass
class GeneratedCredentials:
    """Fresh management credentials a preset sets on the device (stored once it accepts them)."""

    acs_username: str
    acs_password: str
    cr_username: str
    cr_password: str


@dataclass
class PresetRequest:
    """One request a preset makes; ``credentials`` when it carries generated ones."""

    preset: str
    request: m.SetParameterValues
    credentials: GeneratedCredentials | None = None
    labels: list[str] = field(default_factory=list)


def validate_actions(actions: Any) -> list[str]:
    """Problems with a preset's actions (English, for the form to word); [] when fine."""
    problems = []
    if not isinstance(actions, list):
        return ["actions must be a list"]
    for index, action in enumerate(actions):
        if not isinstance(action, dict) or len(action) != 1:
            problems.append(f"action {index + 1}: one of set / credentials")
            continue
        kind, body = next(iter(action.items()))
        if kind == "set":
            if not isinstance(body, dict) or not body:
                problems.append(f"action {index + 1}: set needs a mapping of names to values")
                continue
            for name in body:
                if "." not in name:
                    problems.append(f"action {index + 1}: {name} is neither a logical name nor a path")
        elif kind == "credentials":
            if body != "generate":
                problems.append(f'action {index + 1}: credentials must be "generate"')
        else:
            problems.append(f"action {index + 1}: unknown action {kind}")
    return problems


def _encode(profile: profiles.Profile, name: str, value: Any) -> m.ParameterValue | None:
    if name in profile.params:
        path, text, xsd = profile.encode(name, value)
        return m.ParameterValue(path, text, xsd)
    if name.startswith(profile.root):
        return m.ParameterValue.of(name, value)
    return None  # a logical name the model lacks, or a path of the other model


def requests_for(
    specs: Iterable[PresetSpec], *, device_id: str, serial_number: str, data_model: str
) -> list[PresetRequest]:
    """The SetParameterValues requests of ``specs`` (in precedence order) for one device."""
    profile = profiles.profile_for(data_model)
    found: list[PresetRequest] = []
    for spec in sorted(specs, key=lambda s: (s.precedence, s.name)):
        values: list[m.ParameterValue] = []
        for action in spec.actions:
            if "set" in action:
                for name, value in action["set"].items():
                    item = _encode(profile, name, value)
                    if item is not None:
                        values.append(item)
            elif action.get("credentials") == "generate":
                creds = GeneratedCredentials(
                    acs_username=device_id,
                    acs_password=secrets.token_urlsafe(18),
                    cr_username=serial_number or device_id,
                    cr_password=secrets.token_urlsafe(18),
                )
                cred_values = [
                    m.ParameterValue(*profile.encode(name, value)[:2], "xsd:string")
                    for name, value in (
                        (profiles.ACS_USERNAME, creds.acs_username),
                        (profiles.ACS_PASSWORD, creds.acs_password),
                        (profiles.CR_USERNAME, creds.cr_username),
                        (profiles.CR_PASSWORD, creds.cr_password),
                    )
                ]
                found.append(
                    PresetRequest(spec.name, m.SetParameterValues(cred_values, parameter_key=_key(spec.name)), creds)
                )
        if values:
            found.append(PresetRequest(spec.name, m.SetParameterValues(values, parameter_key=_key(spec.name))))
    return found


def _key(name: str) -> str:
    return ("p:" + name)[:32]
