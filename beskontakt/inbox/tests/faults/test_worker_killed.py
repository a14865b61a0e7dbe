"""A Celery worker killed in the middle of delivering 200 SMS: every subscriber gets exactly one.

The outbox items are written through ``outbox.enqueue`` in one transaction and
handed to a real worker process over Redis. The fake gateway holds one request
open, the test SIGKILLs the whole worker (pool children included) while that
delivery is in flight, starts a new worker and lets the outbox sweep take back
what the dead worker left: deliveries it had claimed (after their lease runs
out) and the task messages it had taken from the broker. The gateway's
``Idempotency-Key`` makes the repeated posts harmless.
"""

from __future__ import annotations

import signal
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from kombu import Connection

from beskontakt.inbox import outbox, tasks
from beskontakt.inbox.models import OutboundMessage
from beskontakt.subscribers.models import Channel

from .conftest import REDIS_BROKER, clean_env, kill_group, start_worker, stop_worker
from .fake_sms_gateway import FakeSmsGateway

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, pytest.mark.xdist_group("faults")]

ITEMS = 200
Status = OutboundMessage.Status
# The worker's lease on a claimed delivery; short so the sweep takes a dead worker's items back quickly.
LEASE_SECONDS = 3


def _counts() -> dict[str, int]:
    rows = OutboundMessage.objects.filter(key__startswith="fault-").values_list("status", flat=True)
    counts: dict[str, int] = {}
    for status in rows:
        counts[status] = counts.get(status, 0) + 1
    return counts


def _wait(predicate: Any, timeout: float, what: str, worker: Any = None, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if worker is not None and worker.poll() is not None:
            pytest.fail(f"the worker exited while waiting for {what}: {log.read_text()[-3000:] if log else ''}")
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s waiting for {what}; outbox: {_counts()}")


def test_killed_worker_delivers_each_sms_once(
    sms_gateway: FakeSmsGateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, record_property: Any
) -> None:
    db_name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and (not db_name or "memory" in db_name):
        pytest.fail("the SQLite test database must be a file (set BESKONTAKT_TEST_DB_NAME) so a worker can open it")
    queue = f"bk-fault-{uuid.uuid4().hex[:8]}"
    env = clean_env(
        BESKONTAKT_BROKER_URL=REDIS_BROKER,
        BESKONTAKT_DB="postgres" if connection.vendor == "postgresql" else "sqlite",
        BESKONTAKT_DB_NAME=db_name,
        BESKONTAKT_DATA_DIR=str(tmp_path),
        BESKONTAKT_SMS_GATEWAY_URL=sms_gateway.url,
        BESKONTAKT_OUTBOX_LEASE_SECONDS=str(LEASE_SECONDS),
    )
    if connection.vendor == "postgresql":
        for key in ("HOST", "PORT", "USER", "PASSWORD"):
            if connection.settings_dict.get(key):
                env[f"BESKONTAKT_DB_{key}"] = str(connection.settings_dict[key])
    log = tmp_path / "worker.log"
    sms_gateway.hold_request = 60  # the 60th post waits 3 s: the worker is killed while it is in flight

    broker = Connection(REDIS_BROKER)
    # The outbox asks for delivery on commit; in this process that message goes to the test's queue on Redis.
    monkeypatch.setattr(
        outbox, "_schedule", lambda item_id: tasks.deliver.apply_async((item_id,), connection=broker, queue=queue)
    )
    worker_args = ("--pool", "prefork", "--concurrency", "4", "-Q", queue)
    first = start_worker(env, *worker_args, log=log)
    second = None
    try:
        with transaction.atomic():
            for i in range(ITEMS):
                outbox.enqueue(
                    channel=Channel.SMS,
                    address=f"+7 (916) 555-{i // 100:02d}-{i % 100:02d}",
                    body=f"Авария на линии устранена, интернет снова работает. Сообщение {i}.",
                    key=f"fault-{i}",
                )
        _wait(sms_gateway.held.is_set, 60, "the worker to reach the held request", first, log)
        kill_group(first, signal.SIGKILL)
        first.wait(timeout=10)
        at_kill = _counts()
        time.sleep(0.5)  # let the killed pool children go too
        assert 0 < at_kill.get(Status.DELIVERED, 0) < ITEMS, at_kill
        assert at_kill.get(Status.SENDING, 0) >= 1, at_kill  # the held delivery, at least
        sms_gateway.hold_request = None

        second = start_worker(env, *worker_args, log=log)

        # The beat's outbox sweep, sent to the new worker every second until everything is delivered.
        last_sweep = [0.0]

        def swept() -> bool:
            if _counts().get(Status.DELIVERED, 0) == ITEMS:
                return True
            if time.monotonic() - last_sweep[0] >= 1:
                last_sweep[0] = time.monotonic()
                tasks.sweep_outbox.apply_async(connection=broker, queue=queue)
            return False

        _wait(swept, 120, f"all {ITEMS} items delivered", second, log)
    finally:
        stop_worker(first)
        if second is not None:
            stop_worker(second)
        with broker:
            broker.default_channel.queue_delete(queue)

    items = {o.key: o for o in OutboundMessage.objects.filter(key__startswith="fault-")}
    assert len(items) == ITEMS
    assert all(o.status == Status.DELIVERED for o in items.values())
    # Every subscriber received exactly one SMS, and the outbox holds the id of that SMS.
    assert set(sms_gateway.sent) == set(items)
    assert all(items[k].provider_id == sms_gateway.sent[k] for k in items)
    posts = len(sms_gateway.requests)
    duplicates = sms_gateway.duplicates
    assert posts == ITEMS + duplicates
    assert duplicates >= 1  # the held delivery was posted again after the kill
    assert sms_gateway.held_key in {r.key for r in sms_gateway.requests if r.repeated}
    retried = sum(1 for o in items.values() if o.attempts > 1)
    record_property("posts", posts)
    record_property("duplicates_suppressed", duplicates)
    print(
        f"\n[worker-kill/{connection.vendor}] at kill: {at_kill}; gateway posts {posts}, "
        f"unique SMS {len(sms_gateway.sent)}, duplicate posts suppressed by Idempotency-Key {duplicates}, "
        f"items delivered on a later attempt {retried}"
    )
