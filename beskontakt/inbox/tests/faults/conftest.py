"""Fixtures of the fault tests: a fake SMS gateway and real Celery worker processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .fake_sms_gateway import FakeSmsGateway

REDIS_BROKER = "redis://127.0.0.1:6379/15"


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any BESKONTAKT_* setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BESKONTAKT_")}
    env["DJANGO_SETTINGS_MODULE"] = "beskontakt.settings"
    env.update(extra)
    return env


def start_worker(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen[bytes]:
    """A real ``celery -A beskontakt worker`` in its own process group (so it can be killed whole)."""
    out = log.open("ab")
    return subprocess.Popen(  # noqa: S603 - fixed arguments
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "beskontakt",
            "worker",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "WARNING",
            *args,
        ],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill_group(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to the process group ``proc`` leads (the worker and its pool children)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    """Stop a worker politely, then by force."""
    if proc.poll() is None:
        kill_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            proc.wait(timeout=5)
    else:
        kill_group(proc)  # children a killed leader left behind


@pytest.fixture
def sms_gateway() -> Iterator[FakeSmsGateway]:
    """A fake SMS gateway on a free loopback port (30 ms per request)."""
    gateway = FakeSmsGateway(delay=0.03).start()
    yield gateway
    gateway.stop()
