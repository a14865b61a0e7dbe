"""A real Celery worker records SLA breaches, over every broker we support.

The worker is a separate process (``celery -A beskontakt worker``) reading
the same database as the test; it is fed through Redis and RabbitMQ (the
machine's servers, as in production) and through the filesystem transport
the embedded demo uses.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from kombu import Connection

from beskontakt.cases import tasks
from beskontakt.cases.models import Case, Event, SlaClock

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, pytest.mark.xdist_group("worker")]

BROKERS = {
    "redis": "redis://127.0.0.1:6379/15",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672//",
    "filesystem": "filesystem://",
}


def _filesystem_options(root: Path) -> dict[str, Any]:
    folder = root / "queue"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("processed", "control"):
        (root / name).mkdir(exist_ok=True)
    return {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "processed_folder": str(root / "processed"),
        "control_folder": str(root / "control"),
    }


@pytest.mark.parametrize("broker", sorted(BROKERS))
def test_worker_records_breach(broker: str, case: Case, tmp_path: Path) -> None:
    db_name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite" and (not db_name or ":memory:" in str(db_name) or "mode=memory" in str(db_name)):
        pytest.fail("the SQLite test database must be a file (set BESKONTAKT_TEST_DB_NAME) so a worker can open it")
    # Make the first-response clock overdue.
    clock = case.clocks.get(kind="first_response")
    past = clock.started_at - timedelta(hours=2)
    SlaClock.objects.filter(pk=clock.pk).update(due_at=past, warn_at=past)

    url = BROKERS[broker]
    queue = f"bk-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "BESKONTAKT_BROKER_URL": url,
        "BESKONTAKT_DB": "postgres" if connection.vendor == "postgresql" else "sqlite",
        "BESKONTAKT_DB_NAME": str(db_name),
        "BESKONTAKT_DATA_DIR": str(tmp_path),
    }
    options = _filesystem_options(tmp_path / "celery") if broker == "filesystem" else {}
    worker = subprocess.Popen(  # noqa: S603 - fixed arguments
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "beskontakt",
            "worker",
            "--pool",
            "solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "WARNING",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        with Connection(url, transport_options=options) as conn:
            tasks.check_sla_clocks.apply_async(connection=conn, queue=queue)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if Event.objects.filter(case=case, kind=Event.Kind.SLA_BREACHED).exists():
                break
            if worker.poll() is not None:
                break
            time.sleep(0.3)
        else:
            pytest.fail(f"the worker on {broker} did not record the breach within 60 s")
        assert worker.poll() is None, worker.stdout.read().decode() if worker.stdout else "worker exited"
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
    case.refresh_from_db()
    assert case.sla_state == Case.SlaState.BREACHED
    assert Event.objects.filter(case=case, kind=Event.Kind.SLA_BREACHED).count() == 1
