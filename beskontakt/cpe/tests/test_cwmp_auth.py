"""CPE authentication: HTTP Basic and Digest (MD5, SHA-256, -sess, stale nonces), without server state."""

from __future__ import annotations

import asyncio
import base64

import pytest

from beskontakt.cpe.cwmp.auth import Authenticator, AuthResult, digest_response, parse_authorization

SECRET = b"0123456789abcdef0123456789abcdef"
PASSWORDS = {"cpe-1": "s3cret", "ключ": "пароль"}


async def lookup(username: str) -> str | None:
    return PASSWORDS.get(username)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def verify(auth: Authenticator, header: str | None, method: str = "POST") -> AuthResult:
    return asyncio.run(auth.verify(method, header, lookup))


def digest_header(
    auth: Authenticator,
    *,
    username: str = "cpe-1",
    password: str = "s3cret",
    algorithm: str = "MD5",
    nonce: str | None = None,
    qop: str = "auth",
    uri: str = "/",
    realm: str | None = None,
) -> str:
    nonce = nonce or auth.make_nonce()
    realm = realm or auth.realm
    response = digest_response(
        algorithm=algorithm, username=username, realm=realm, password=password, method="POST", uri=uri,
        nonce=nonce, nc="00000001", cnonce="abcdef", qop=qop,
    )  # fmt: skip
    parts = [
        f'username="{username}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"',
        f"algorithm={algorithm}", f'response="{response}"', f'opaque="{auth.opaque}"',
    ]  # fmt: skip
    if qop:
        parts += [f"qop={qop}", "nc=00000001", 'cnonce="abcdef"']
    return "Digest " + ", ".join(parts)


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256", "MD5-sess", "SHA-256-sess"])
def test_digest_accepts_the_right_password(algorithm: str) -> None:
    auth = Authenticator("digest", "acs", SECRET)
    result = verify(auth, digest_header(auth, algorithm=algorithm))
    assert result == AuthResult(True, "cpe-1")


def test_digest_rfc2069_form_without_qop() -> None:
    auth = Authenticator("digest", "acs", SECRET)
    assert verify(auth, digest_header(auth, qop="")).ok


def test_digest_unicode_credentials() -> None:
    auth = Authenticator("digest", "acs", SECRET)
    assert verify(auth, digest_header(auth, username="ключ", password="пароль")).ok


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"password": "wrong"}, "wrong password"),
        ({"username": "nobody"}, "unknown user"),
        ({"realm": "other"}, "wrong realm"),
        ({"nonce": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, "nonce not issued here"),
        ({"nonce": "%%%"}, "nonce not issued here"),
    ],
)
def test_digest_refusals(kwargs: dict[str, str], reason: str) -> None:
    auth = Authenticator("digest", "acs", SECRET)
    result = verify(auth, digest_header(auth, **kwargs))
    assert not result.ok
    assert result.reason == reason
    assert not result.stale


def test_nonce_of_another_secret_is_refused() -> None:
    other = Authenticator("digest", "acs", b"another-secret-of-16-bytes")
    auth = Authenticator("digest", "acs", SECRET)
    assert verify(auth, digest_header(auth, nonce=other.make_nonce())).reason == "nonce not issued here"


def test_stale_nonce_is_flagged_only_with_the_right_password() -> None:
    clock = Clock()
    auth = Authenticator("digest", "acs", SECRET, nonce_ttl=60, clock=clock)
    nonce = auth.make_nonce()
    clock.now += 61
    stale = verify(auth, digest_header(auth, nonce=nonce))
    assert stale == AuthResult(False, "cpe-1", stale=True, reason="stale nonce")
    wrong = verify(auth, digest_header(auth, nonce=nonce, password="x"))
    assert not wrong.stale
    assert any("stale=true" in value for value in auth.challenge(stale=True))
    assert verify(auth, digest_header(auth)).ok  # a fresh nonce works again


def test_another_worker_with_the_same_secret_accepts_the_nonce() -> None:
    first = Authenticator("digest", "acs", SECRET)
    second = Authenticator("digest", "acs", SECRET)
    assert verify(second, digest_header(first, nonce=first.make_nonce())).ok


def test_digest_incomplete_or_unsupported() -> None:
    auth = Authenticator("digest", "acs", SECRET, algorithms=("SHA-256",))
    assert verify(auth, digest_header(auth, algorithm="MD5")).reason == "algorithm MD5 not offered"
    assert verify(auth, 'Digest username="cpe-1"').reason == "incomplete Digest credentials"
    assert verify(auth, None).reason == "no credentials"
    assert verify(auth, "Bearer abc").reason == "scheme bearer not accepted"
    assert verify(auth, digest_header(auth, algorithm="SHA-256", qop="auth-int")).reason == "qop auth-int not supported"


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_basic() -> None:
    auth = Authenticator("basic", "acs", SECRET)
    assert verify(auth, basic("cpe-1", "s3cret")) == AuthResult(True, "cpe-1")
    assert verify(auth, basic("cpe-1", "nope")).reason == "wrong password"
    assert verify(auth, basic("ghost", "s3cret")).reason == "unknown user"
    assert verify(auth, "Basic !!!").reason == "malformed Basic credentials"
    assert verify(auth, "Basic " + base64.b64encode(b"no-colon").decode()).reason == "malformed Basic credentials"
    assert verify(auth, digest_header(auth)).reason == "scheme digest not accepted"
    assert auth.challenge() == ['Basic realm="acs", charset="UTF-8"']


def test_any_accepts_both_and_challenges_both() -> None:
    auth = Authenticator("any", "acs", SECRET)
    assert verify(auth, basic("cpe-1", "s3cret")).ok
    assert verify(auth, digest_header(auth, algorithm="SHA-256")).ok
    challenge = auth.challenge()
    assert [value.split(" ", 1)[0] for value in challenge] == ["Digest", "Digest", "Basic"]
    assert "algorithm=MD5" in challenge[0] and "algorithm=SHA-256" in challenge[1]


def test_none_accepts_anything() -> None:
    assert verify(Authenticator("none", "acs", b""), None).ok


def test_configuration_errors() -> None:
    with pytest.raises(ValueError, match="scheme"):
        Authenticator("ntlm", "acs", SECRET)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="16 bytes"):
        Authenticator("digest", "acs", b"short")
    with pytest.raises(ValueError, match="algorithms"):
        Authenticator("digest", "acs", SECRET, algorithms=("SHA-1",))


def test_parse_authorization_quotes_and_commas() -> None:
    scheme, params = parse_authorization('Digest username="a\\"b", realm="r, s", nc=00000001, qop=auth')
    assert scheme == "digest"
    assert params == {"username": 'a"b', "realm": "r, s", "nc": "00000001", "qop": "auth"}
