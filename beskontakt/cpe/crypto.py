"""CPE credentials at rest (ACS and connection-request passwords), sealed by ``beskontakt.sealing``."""

from __future__ import annotations

from beskontakt.sealing import reveal, seal

PURPOSE = "cpe-credentials"


def encrypt(plaintext: str) -> str:
    """A token for ``plaintext`` ("" stays "")."""
    return seal(plaintext, purpose=PURPOSE)


def decrypt(token: str) -> str:
    """The plaintext of a token ("" for "" or a token the current key cannot open)."""
    return reveal(token, purpose=PURPOSE)


def mask(secret: str) -> str:
    """What a page may show of a secret: its length hidden, the last two characters at most."""
    if not secret:
        return ""
    return "•" * 6 + (secret[-2:] if len(secret) >= 8 else "")
