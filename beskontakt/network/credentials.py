"""SNMP secrets at rest: Fernet encryption with a key derived from SECRET_KEY.

Communities and SNMPv3 keys are stored as Fernet tokens; they are decrypted only when
a poll needs them and never logged. Changing SECRET_KEY makes stored secrets unreadable
(``reveal`` then returns an empty string and the node's poll fails with an auth error).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

_CONTEXT = b"beskontakt.network.snmp-secrets"


def _fernet() -> Fernet:
    digest = hashlib.sha256(_CONTEXT + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(secret: str) -> str:
    """Encrypt ``secret`` for storage; an empty secret stays empty."""
    if not secret:
        return ""
    return _fernet().encrypt(secret.encode()).decode()


def reveal(token: str) -> str:
    """Decrypt a stored secret; empty when there is none or it cannot be read."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return ""
