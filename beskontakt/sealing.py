"""Secrets at rest: device credentials, SNMP communities and keys, sealed as Fernet tokens.

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with one key per *purpose*
(``"cpe-credentials"``, ``"snmp"`` …), each derived with HKDF-SHA256 from
``settings.SECRETS_KEY`` or, when that is empty, from ``SECRET_KEY``. A token sealed for one
purpose does not open for another. Changing the key makes stored secrets unreadable:
``reveal`` then answers "" (and logs that it could not, never the secret), and the secret
has to be set again.
"""

from __future__ import annotations

import base64
import functools
import logging

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

log = logging.getLogger("beskontakt.sealing")


@functools.cache
def _fernet(purpose: str, key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"beskontakt-sealing", info=purpose.encode()).derive(
        key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def fernet(purpose: str) -> Fernet:
    """The Fernet of ``purpose`` under the configured key."""
    return _fernet(purpose, settings.SECRETS_KEY or settings.SECRET_KEY)


def seal(plaintext: str, *, purpose: str) -> str:
    """A token for ``plaintext`` ("" stays "")."""
    if not plaintext:
        return ""
    return fernet(purpose).encrypt(plaintext.encode("utf-8")).decode("ascii")


def reveal(token: str, *, purpose: str) -> str:
    """The plaintext of a token ("" for "" or for a token the current key cannot open)."""
    if not token:
        return ""
    try:
        return fernet(purpose).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        log.warning("a stored %s secret cannot be opened with the current key", purpose)
        return ""
