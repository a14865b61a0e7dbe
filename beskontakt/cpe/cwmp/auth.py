"""Server-side HTTP authentication of CPEs: Basic and Digest (RFC 7616), without server state.

Digest nonces carry their issue time and an HMAC (``secret``), so any ACS worker can check
any nonce without shared storage; an expired but otherwise correct answer gets
``stale=true`` so the CPE retries with a fresh nonce instead of asking for a password.
Algorithms MD5 and SHA-256 (and their ``-sess`` forms), ``qop=auth`` (the RFC 2069 form
without qop is accepted from old CPEs). Every secret comparison is constant-time.
Nonce counts are not tracked (that would need state); a replayed request only ever
reaches the session of the same, already authenticated, device.

``Authenticator.verify()`` gets the password through an async ``lookup(username)`` — the
``SessionBackend.credentials`` of ``session.py``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

Scheme = Literal["digest", "basic", "any", "none"]
Lookup = Callable[[str], Awaitable[str | None]]

_HASHES: dict[str, Callable[[bytes], hashlib._Hash]] = {
    "MD5": hashlib.md5,
    "SHA-256": hashlib.sha256,
}
_PARAM = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)')
_ESCAPED = re.compile(r"\\(.)")
_NONCE_BYTES = 8 + 8 + 16  # time, random, MAC


@dataclass(frozen=True, slots=True)
class AuthResult:
    """The outcome of checking one Authorization header."""

    ok: bool
    username: str | None = None
    stale: bool = False
    reason: str = ""  # English, for logs (never contains a password)


def parse_authorization(header: str) -> tuple[str, dict[str, str]]:
    """``("digest", {"username": …, …})`` from an Authorization header (scheme lower-cased)."""
    scheme, _, rest = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "basic":
        return scheme, {"token": rest.strip()}
    params: dict[str, str] = {}
    for key, raw in _PARAM.findall(rest):
        value = raw
        if len(raw) >= 2 and raw[0] == '"' and raw[-1] == '"':
            value = _ESCAPED.sub(r"\1", raw[1:-1]) if "\\" in raw else raw[1:-1]
        params[key.lower()] = value
    return scheme, params


def _hash(algorithm: str, text: str) -> str:
    return _HASHES[algorithm](text.encode("utf-8")).hexdigest()


def digest_response(
    *,
    algorithm: str,
    username: str,
    realm: str,
    password: str,
    method: str,
    uri: str,
    nonce: str,
    nc: str = "",
    cnonce: str = "",
    qop: str = "auth",
) -> str:
    """The ``response`` value a client computes (RFC 7616 3.4.1); also used by tests and clients."""
    upper = algorithm.upper()
    session = upper.endswith("-SESS")
    base = upper[:-5] if session else upper
    ha1 = _hash(base, f"{username}:{realm}:{password}")
    if session:
        ha1 = _hash(base, f"{ha1}:{nonce}:{cnonce}")
    ha2 = _hash(base, f"{method}:{uri}")
    if qop:
        return _hash(base, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return _hash(base, f"{ha1}:{nonce}:{ha2}")


class Authenticator:
    """Challenges and verifies CPEs for one realm (``scheme``: digest, basic, any or none)."""

    def __init__(
        self,
        scheme: Scheme,
        realm: str,
        secret: bytes | str,
        *,
        nonce_ttl: float = 300.0,
        algorithms: tuple[str, ...] = ("MD5", "SHA-256"),
        clock: Callable[[], float] = time.time,
    ) -> None:
        if scheme not in ("digest", "basic", "any", "none"):
            raise ValueError(f"unknown authentication scheme {scheme!r}")
        unknown = [name for name in algorithms if name.upper() not in _HASHES]
        if unknown or not algorithms:
            raise ValueError(f"unsupported digest algorithms {unknown or algorithms}")
        self.scheme = scheme
        self.realm = realm
        self.secret = secret.encode() if isinstance(secret, str) else secret
        if scheme in ("digest", "any") and len(self.secret) < 16:
            raise ValueError("the nonce secret must be at least 16 bytes")
        self.nonce_ttl = nonce_ttl
        self.algorithms = tuple(name.upper() for name in algorithms)
        self.clock = clock
        self.opaque = hmac.new(self.secret, b"opaque:" + realm.encode(), hashlib.sha256).hexdigest()[:32]

    @property
    def required(self) -> bool:
        """Whether requests must authenticate at all."""
        return self.scheme != "none"

    # --- nonces ---------------------------------------------------------------

    def _mac(self, stamp_and_random: bytes) -> bytes:
        return hmac.new(self.secret, stamp_and_random + self.realm.encode(), hashlib.sha256).digest()[:16]

    def make_nonce(self) -> str:
        """A fresh nonce: issue time + random + HMAC, URL-safe base64."""
        head = struct.pack(">Q", int(self.clock())) + secrets.token_bytes(8)
        return base64.urlsafe_b64encode(head + self._mac(head)).decode("ascii").rstrip("=")

    def check_nonce(self, nonce: str) -> Literal["ok", "stale", "bad"]:
        """Whether a nonce was issued here ("bad" if not) and is still fresh ("stale" if expired)."""
        try:
            raw = base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))
        except (binascii.Error, ValueError):
            return "bad"
        if len(raw) != _NONCE_BYTES:
            return "bad"
        head, mac = raw[:16], raw[16:]
        if not hmac.compare_digest(mac, self._mac(head)):
            return "bad"
        issued = struct.unpack(">Q", head[:8])[0]
        age = self.clock() - issued
        if age > self.nonce_ttl or age < -60:
            return "stale"
        return "ok"

    # --- challenge and verification ---------------------------------------------

    def challenge(self, *, stale: bool = False) -> list[str]:
        """The WWW-Authenticate header values of a 401 (most preferred first)."""
        values = []
        if self.scheme in ("digest", "any"):
            nonce = self.make_nonce()
            for algorithm in self.algorithms:
                value = (
                    f'Digest realm="{self.realm}", qop="auth", algorithm={algorithm}, '
                    f'nonce="{nonce}", opaque="{self.opaque}"'
                )
                if stale:
                    value += ", stale=true"
                values.append(value)
        if self.scheme in ("basic", "any"):
            values.append(f'Basic realm="{self.realm}", charset="UTF-8"')
        return values

    async def verify(self, method: str, authorization: str | None, lookup: Lookup) -> AuthResult:
        """Check an Authorization header; ``lookup(username)`` gives the stored password."""
        if self.scheme == "none":
            return AuthResult(True)
        if not authorization:
            return AuthResult(False, reason="no credentials")
        scheme, params = parse_authorization(authorization)
        if scheme == "basic" and self.scheme in ("basic", "any"):
            return await self._verify_basic(params.get("token", ""), lookup)
        if scheme == "digest" and self.scheme in ("digest", "any"):
            return await self._verify_digest(method, params, lookup)
        return AuthResult(False, reason=f"scheme {scheme or '?'} not accepted")

    async def _verify_basic(self, token: str, lookup: Lookup) -> AuthResult:
        try:
            decoded = base64.b64decode(token, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return AuthResult(False, reason="malformed Basic credentials")
        username, sep, password = decoded.partition(":")
        if not sep or not username:
            return AuthResult(False, reason="malformed Basic credentials")
        stored = await lookup(username)
        if stored is None:
            hmac.compare_digest(password.encode(), password.encode())  # same work for unknown users
            return AuthResult(False, username, reason="unknown user")
        if not hmac.compare_digest(stored.encode("utf-8"), password.encode("utf-8")):
            return AuthResult(False, username, reason="wrong password")
        return AuthResult(True, username)

    async def _verify_digest(self, method: str, params: dict[str, str], lookup: Lookup) -> AuthResult:
        username = params.get("username", "")
        nonce = params.get("nonce", "")
        response = params.get("response", "").lower()
        uri = params.get("uri", "")
        if not (username and nonce and response and uri):
            return AuthResult(False, username or None, reason="incomplete Digest credentials")
        if params.get("userhash", "false").lower() == "true":
            return AuthResult(False, None, reason="userhash is not supported")
        if not hmac.compare_digest(params.get("realm", "").encode(), self.realm.encode()):
            return AuthResult(False, username, reason="wrong realm")
        algorithm = params.get("algorithm", "MD5").upper()
        base = algorithm[:-5] if algorithm.endswith("-SESS") else algorithm
        if base not in self.algorithms:
            return AuthResult(False, username, reason=f"algorithm {algorithm} not offered")
        qop = params.get("qop", "")
        if qop not in ("", "auth"):
            return AuthResult(False, username, reason=f"qop {qop} not supported")
        if qop and not (params.get("nc") and params.get("cnonce")):
            return AuthResult(False, username, reason="qop=auth without nc/cnonce")
        nonce_state = self.check_nonce(nonce)
        if nonce_state == "bad":
            return AuthResult(False, username, reason="nonce not issued here")
        stored = await lookup(username)
        if stored is None:
            return AuthResult(False, username, reason="unknown user")
        expected = digest_response(
            algorithm=algorithm,
            username=username,
            realm=self.realm,
            password=stored,
            method=method,
            uri=uri,
            nonce=nonce,
            nc=params.get("nc", ""),
            cnonce=params.get("cnonce", ""),
            qop=qop,
        )
        if not hmac.compare_digest(expected.encode(), response.encode()):
            return AuthResult(False, username, reason="wrong password")
        if nonce_state == "stale":
            return AuthResult(False, username, stale=True, reason="stale nonce")
        return AuthResult(True, username)
