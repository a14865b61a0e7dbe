"""PostgreSQL restarts while channel gateways keep posting inbound messages: nothing is lost.

A PostgreSQL 15 server of the test's own (never the shared one) backs a real
uvicorn serving the queued intake API and a real Celery worker with beat. Four
senders post batches of inbound SMS and retry whatever did not get a 202 — as a
gateway would. Mid-way the server is stopped with ``pg_ctl -m fast`` (sessions
cut, as in a restart) and started again three seconds later. Afterwards every
message is stored exactly once, and the worker has threaded each into exactly
one case message. Every failed request must have been a clean, retryable
answer: a connection error, or 503 with ``Retry-After`` and a JSON body.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from django.conf import settings

from .conftest import clean_env, start_worker, stop_worker
from .postgres_instance import PostgresInstance, free_port

pytestmark = [pytest.mark.xdist_group("faults")]

ROOT = Path(__file__).resolve().parents[4]
SENDERS = 4
PER_SENDER = 150
BATCH = 5
URL = "/api/v1/messages/inbound/queue/"
TEXTS = [
    "Здравствуйте, с утра нет интернета, роутер горит красным.",
    "Нет интернета во всём подъезде, соседи тоже без связи.",
    "Интернет пропал час назад, перезагружала роутер — не помогло.",
    "Когда починят? Работаю из дома, интернета нет.",
]


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"uvicorn exited: {log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.2)
    pytest.fail("uvicorn did not start within 60 s")


class Senders:
    """Gateways posting batches and retrying until each batch is answered 202."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.sent_batches = 0
        self.answered: set[str] = set()  # external ids a 202 covered
        self.http_errors: list[dict[str, Any]] = []
        self.connection_errors: Counter[str] = Counter()
        self.retried_batches = 0
        self.gave_up: list[str] = []
        self.bad_answers: list[str] = []
        self._lock = threading.Lock()

    def run(self, n: int) -> None:
        client = httpx.Client(base_url=self.base, headers={"Authorization": f"Token {self.token}"}, timeout=30)
        ids = [f"restart-{n}-{i}" for i in range(PER_SENDER)]
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            items = [
                {
                    "channel": "sms",
                    "external_id": x,
                    "body": TEXTS[hash(x) % len(TEXTS)],
                    "sender": f"+7916{n:03d}{i:04d}",
                }
                for i, x in enumerate(chunk, start)
            ]
            self._send(client, chunk, items)
            time.sleep(0.03)
        client.close()

    def _send(self, client: httpx.Client, chunk: list[str], items: list[dict[str, Any]]) -> None:
        deadline = time.monotonic() + 90
        retried = False
        while time.monotonic() < deadline:
            try:
                response = client.post(URL, json={"items": items})
            except httpx.TransportError as exc:
                with self._lock:
                    self.connection_errors[type(exc).__name__] += 1
            else:
                if response.status_code == 202:
                    statuses = [r["status"] for r in response.json()["results"]]
                    with self._lock:
                        if any(s not in ("accepted", "replayed") for s in statuses):
                            self.bad_answers.append(response.text[:300])
                        self.answered.update(chunk)
                        self.sent_batches += 1
                        self.retried_batches += retried
                    return
                with self._lock:
                    self.http_errors.append(
                        {
                            "status": response.status_code,
                            "content_type": response.headers.get("content-type", ""),
                            "retry_after": response.headers.get("retry-after"),
                            "body": response.text[:300],
                        }
                    )
            retried = True
            time.sleep(0.2)
        with self._lock:
            self.gave_up.extend(chunk)


def _query(pg: PostgresInstance, db: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(host="127.0.0.1", port=pg.port, user="postgres", dbname=db) as conn:
        return list(conn.execute(sql).fetchall())  # type: ignore[arg-type]


def test_postgres_restart_loses_no_inbound_message(
    tmp_path: Path, record_property: Any, caplog: pytest.LogCaptureFixture
) -> None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("restarting PostgreSQL: run with BESKONTAKT_DB=postgres")
    if not PostgresInstance.available():
        pytest.skip("PostgreSQL 15 server programs (/usr/lib/postgresql/15/bin/initdb) are not installed")
    caplog.set_level(logging.WARNING, logger="httpx")
    pg = PostgresInstance().init()
    db = "bk_fault_restart"
    server = worker = None
    try:
        pg.create_database(db)
        data = tmp_path / "data"
        data.mkdir()
        env = clean_env(
            BESKONTAKT_DB="postgres",
            BESKONTAKT_DB_NAME=db,
            BESKONTAKT_DB_HOST="127.0.0.1",
            BESKONTAKT_DB_PORT=str(pg.port),
            BESKONTAKT_DATA_DIR=str(data),
            BESKONTAKT_DEBUG="false",
            BESKONTAKT_ALLOWED_HOSTS="127.0.0.1,localhost",
        )
        _manage(env, "migrate", "--noinput", "-v", "0")
        token = (
            _manage(
                env,
                "shell",
                "-c",
                "from beskontakt.accounts.models import User; from beskontakt.accounts.actions import issue_api_token; "
                "u = User.objects.create_user(username='sms-gateway', role='agent'); "
                "print(issue_api_token(u, via='command'))",
            )
            .strip()
            .splitlines()[-1]
        )

        port = free_port(range(18560, 18600))
        log = tmp_path / "uvicorn.log"
        server = subprocess.Popen(  # noqa: S603 - fixed arguments
            [sys.executable, "-m", "uvicorn", "beskontakt.asgi:application", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning", "--no-access-log"],
            env=env, cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        _wait_port(port, server, log)
        worker_log = tmp_path / "worker.log"
        worker = start_worker(env, "-B", "--pool", "solo", "-s", str(data / "celerybeat-schedule"), log=worker_log)

        senders = Senders(f"http://127.0.0.1:{port}", token)
        threads = [threading.Thread(target=senders.run, args=(n,)) for n in range(SENDERS)]
        for t in threads:
            t.start()
        total_batches = SENDERS * PER_SENDER // BATCH
        deadline = time.monotonic() + 60
        while senders.sent_batches < total_batches // 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        before_restart = senders.sent_batches
        pg.stop()
        time.sleep(3)
        pg.start()
        for t in threads:
            t.join(timeout=300)
        assert 0 < before_restart < total_batches

        expected = {f"restart-{n}-{i}" for n in range(SENDERS) for i in range(PER_SENDER)}
        assert not senders.gave_up, f"batches never accepted within 90 s: {senders.gave_up[:10]}"
        assert not senders.bad_answers
        assert senders.answered == expected
        stored = _query(pg, db, "SELECT external_id, count(*) FROM cases_pendinginbound GROUP BY external_id")
        assert {x for x, _ in stored} == expected
        assert all(n == 1 for _, n in stored)

        # The worker (its beat sweeps every 10 s) threads every stored message into exactly one case message.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            (pending,) = _query(pg, db, "SELECT count(*) FROM cases_pendinginbound WHERE state = 'pending'")[0]
            if pending == 0:
                break
            time.sleep(0.5)
        states = dict(_query(pg, db, "SELECT state, count(*) FROM cases_pendinginbound GROUP BY state"))
        assert states == {"done": len(expected)}, states
        messages = _query(
            pg, db, "SELECT external_id, count(*) FROM cases_message WHERE external_id LIKE 'restart-%' GROUP BY 1"
        )
        assert {x for x, _ in messages} == expected
        assert all(n == 1 for _, n in messages)
    finally:
        for proc in (worker, server):
            if proc is not None:
                stop_worker(proc)
        pg.destroy()

    statuses = Counter(e["status"] for e in senders.http_errors)
    record_property("http_errors", dict(statuses))
    record_property("connection_errors", dict(senders.connection_errors))
    print(
        f"\n[pg-restart] {len(expected)} messages in {total_batches} batches; batches retried "
        f"{senders.retried_batches}; HTTP errors {dict(statuses)}; connection errors "
        f"{dict(senders.connection_errors)}; first errors: {senders.http_errors[:3]}"
    )
    # Every refusal was one a gateway can retry on: 503 + Retry-After with a JSON body (never a 500 or HTML).
    unclean = [
        e for e in senders.http_errors if e["status"] != 503 or not e["retry_after"] or "json" not in e["content_type"]
    ]
    assert not unclean, f"{len(unclean)} refusals were not a clean 503: {unclean[:3]}"
