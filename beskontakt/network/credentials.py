"""SNMP secrets at rest (communities, SNMPv3 keys), sealed by ``beskontakt.sealing``.

They are opened only when a poll needs them and never logged. A secret the current key
cannot open reads as "" and the node's poll then fails with an authentication error.
"""

from __future__ import annotations

from beskontakt.sealing import reveal as _reveal
from beskontakt.sealing import seal as _seal

PURPOSE = "snmp"


def seal(secret: str) -> str:
    """Encrypt ``secret`` for storage; an empty secret stays empty."""
    return _seal(secret, purpose=PURPOSE)


def reveal(token: str) -> str:
    """Decrypt a stored secret; empty when there is none or it cannot be read."""
    return _reveal(token, purpose=PURPOSE)
