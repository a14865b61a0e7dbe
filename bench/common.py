"""Shared helpers of the benchmarks: a server to measure, a verified session, statistics.

Benchmarks measure over real HTTP against uvicorn on loopback, the way an agent's
browser or an integration reaches the system; nothing here is a unit test.
"""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable


def bench_env(db_name: str) -> dict[str, str]:
    """Environment for the measured server: PostgreSQL ``db_name``, no debug."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "beskontakt.settings",
            "BESKONTAKT_DB": "postgres",
            "BESKONTAKT_DB_NAME": db_name,
            "BESKONTAKT_DEBUG": "false",
            "BESKONTAKT_LOG_LEVEL": "WARNING",
            "BESKONTAKT_ALLOWED_HOSTS": "127.0.0.1,localhost",
        }
    )
    return env


def setup_django(db_name: str) -> None:
    """Configure Django in this process against the benchmark database."""
    os.environ.update(bench_env(db_name))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server(db_name: str, workers: int = 2, port: int | None = None) -> Iterator[str]:
    """Run uvicorn with ``workers`` processes on loopback; yields the base URL."""
    port = port or free_port()
    proc = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "uvicorn",
            "beskontakt.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=bench_env(db_name),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            time.sleep(0.2)
        else:
            raise RuntimeError("the server did not start within 60 s")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def verified_session(username: str, role: str = "agent") -> str:
    """A session key for ``username`` (created if missing) with the second factor passed.

    Logging in is not what is measured, so the session is written directly, as the
    login view would after a correct TOTP code.
    """
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from beskontakt.accounts.models import User

    user, _ = User.objects.get_or_create(username=username, defaults={"role": role, "available": False})
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="bench", confirmed=True
    )
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store.create()
    return str(store.session_key)


def api_token(username: str, role: str = "agent") -> str:
    from rest_framework.authtoken.models import Token

    from beskontakt.accounts.models import User

    user, _ = User.objects.get_or_create(username=username, defaults={"role": role})
    token, _ = Token.objects.get_or_create(user=user)
    return str(token.key)


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    """p50/p95/p99/max of latencies in milliseconds."""
    ordered = sorted(samples_ms)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "n": len(ordered),
        "p50": round(q[49], 1),
        "p95": round(q[94], 1),
        "p99": round(q[98], 1),
        "max": round(ordered[-1], 1),
    }
