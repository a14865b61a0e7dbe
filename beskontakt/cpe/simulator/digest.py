"""HTTP Digest (and Basic) authentication (RFC 7616, MD5 and SHA-256, qop ``auth``), both sides.

The simulated CPE is a Digest *client* towards the ACS and a Digest *server* for
connection requests. Nonces are stateless: an HMAC of their issue time under a
per-process secret, valid for ``NONCE_SECONDS``; an older one gets ``stale=true``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import time
from dataclasses import dataclass, field

NONCE_SECONDS = 300
_PARAM = re.compile(r'\s*([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?')


def parse_params(header: str) -> tuple[str, dict[str, str]]:
    """``Digest realm="x", nonce="y"`` → (``digest``, {realm: x, nonce: y}); lower-case keys."""
    scheme, _, rest = header.strip().partition(" ")
    params: dict[str, str] = {}
    position = 0
    while position < len(rest):
        match = _PARAM.match(rest, position)
        if not match or match.end() == position:
            break
        quoted, bare = match.group(2), match.group(3)
        params[match.group(1).lower()] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
        position = match.end()
    return scheme.lower(), params


def basic_authorization(username: str, password: str) -> str:
    """An ``Authorization: Basic`` value."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _hash(algorithm: str, text: str) -> str:
    name = "sha256" if algorithm.upper().startswith("SHA-256") else "md5"
    return hashlib.new(name, text.encode(), usedforsecurity=False).hexdigest()


def response_value(
    *,
    algorithm: str,
    username: str,
    realm: str,
    password: str,
    method: str,
    uri: str,
    nonce: str,
    nc: str,
    cnonce: str,
    qop: str,
) -> str:
    """The ``response`` field: KD(H(A1), nonce:nc:cnonce:qop:H(A2)) (or RFC 2069 without qop)."""
    ha1 = _hash(algorithm, f"{username}:{realm}:{password}")
    if algorithm.upper().endswith("-SESS"):
        ha1 = _hash(algorithm, f"{ha1}:{nonce}:{cnonce}")
    ha2 = _hash(algorithm, f"{method}:{uri}")
    if qop:
        return _hash(algorithm, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return _hash(algorithm, f"{ha1}:{nonce}:{ha2}")


@dataclass
class DigestClient:
    """One session's Digest state towards a server: the challenge and the nonce count."""

    username: str
    password: str
    challenge: dict[str, str] = field(default_factory=dict)
    count: int = 0

    def accept(self, header: str) -> bool:
        """Take a ``WWW-Authenticate: Digest …`` challenge; False when it is not Digest."""
        scheme, params = parse_params(header)
        if scheme != "digest" or "nonce" not in params:
            return False
        self.challenge = params
        self.count = 0
        return True

    def authorization(self, method: str, uri: str) -> str:
        """The ``Authorization`` header for the next request."""
        self.count += 1
        params = self.challenge
        algorithm = params.get("algorithm", "MD5")
        qops = [q.strip() for q in params.get("qop", "").split(",") if q.strip()]
        qop = "auth" if "auth" in qops else ""
        nc = f"{self.count:08x}"
        cnonce = os.urandom(8).hex()
        response = response_value(
            algorithm=algorithm,
            username=self.username,
            realm=params.get("realm", ""),
            password=self.password,
            method=method,
            uri=uri,
            nonce=params["nonce"],
            nc=nc,
            cnonce=cnonce,
            qop=qop,
        )
        parts = [
            f'username="{self.username}"',
            f'realm="{params.get("realm", "")}"',
            f'nonce="{params["nonce"]}"',
            f'uri="{uri}"',
            f'response="{response}"',
            f"algorithm={algorithm}",
        ]
        if qop:
            parts += [f"qop={qop}", f"nc={nc}", f'cnonce="{cnonce}"']
        if "opaque" in params:
            parts.append(f'opaque="{params["opaque"]}"')
        return "Digest " + ", ".join(parts)


class DigestServer:
    """Issues challenges and checks ``Authorization: Digest`` answers (stateless nonces)."""

    def __init__(self, realm: str, secret: bytes | None = None) -> None:
        self.realm = realm
        self._secret = secret or os.urandom(16)

    def _nonce(self, issued: int) -> str:
        mac = hmac.new(self._secret, str(issued).encode(), "sha256").hexdigest()[:24]
        return f"{issued:x}.{mac}"

    def challenge(self, stale: bool = False) -> str:
        """A ``WWW-Authenticate`` value with a fresh nonce."""
        nonce = self._nonce(int(time.time()))
        header = f'Digest realm="{self.realm}", qop="auth", algorithm=MD5, nonce="{nonce}"'
        return header + (", stale=true" if stale else "")

    def check(self, method: str, header: str | None, passwords: dict[str, str]) -> str:
        """``ok``, ``stale`` (valid answer to an old nonce) or ``denied``; ``passwords``: username → password."""
        if not header:
            return "denied"
        scheme, params = parse_params(header)
        if scheme != "digest":
            return "denied"
        nonce = params.get("nonce", "")
        issued_hex, _, _mac = nonce.partition(".")
        try:
            issued = int(issued_hex, 16)
        except ValueError:
            return "denied"
        if not hmac.compare_digest(self._nonce(issued), nonce) or params.get("realm") != self.realm:
            return "denied"
        username = params.get("username", "")
        password = passwords.get(username)
        if password is None:
            return "denied"
        expected = response_value(
            algorithm=params.get("algorithm", "MD5"),
            username=username,
            realm=self.realm,
            password=password,
            method=method,
            uri=params.get("uri", ""),
            nonce=nonce,
            nc=params.get("nc", ""),
            cnonce=params.get("cnonce", ""),
            qop=params.get("qop", ""),
        )
        if not hmac.compare_digest(expected, params.get("response", "")):
            return "denied"
        if time.time() - issued > NONCE_SECONDS:
            return "stale"
        return "ok"
