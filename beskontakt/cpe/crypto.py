"""Encryption at rest for CPE credentials: Fernet (AES-128-CBC + HMAC) from ``cryptography``.

The key is ``settings.CPE_CREDENTIALS_KEY`` (a Fernet key, urlsafe base64 of 32 bytes) or,
when empty, derived from ``SECRET_KEY`` with HKDF-SHA256 — so rotating SECRET_KEY without
setting CPE_CREDENTIALS_KEY makes stored passwords unreadable (they read as ""; set them again).
"""

from __future__ import annotations

import base64
import functools
import logging

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

log = logging.getLogger("beskontakt.cpe")


@functools.cache
def _fernet(key: str, secret_key: str) -> Fernet:
    if key:
        return Fernet(key.encode())
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"beskontakt-cpe", info=b"credentials").derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def fernet() -> Fernet:
    """The Fernet instance for the configured key."""
    return _fernet(settings.CPE_CREDENTIALS_KEY, settings.SECRET_KEY)


def encrypt(plaintext: str) -> str:
    """A Fernet token for ``plaintext`` ("" stays "")."""
    if not plaintext:
        return ""
    return fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """The plaintext of a token ("" for "" or a token this key cannot read — logged, never raised)."""
    if not token:
        return ""
    try:
        return fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        log.warning("a stored CPE credential cannot be decrypted with the current key")
        return ""


def mask(secret: str) -> str:
    """What a page may show of a secret: its length hidden, the last two characters at most."""
    if not secret:
        return ""
    return "•" * 6 + (secret[-2:] if len(secret) >= 8 else "")
