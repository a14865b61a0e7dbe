"""A mass outage: 10,000 subscribers write in within a minute while agents keep working.

    .venv/bin/python bench/mass_outage.py --db beskontakt_bench [--contacts 10000] [--seconds 60]

Against the PostgreSQL database ``--db`` (migrated and loaded:
``manage.py load_demo --size operator``) it starts uvicorn (``--web-workers``,
default 1) and ``--celery-workers`` real Celery workers (default 2, one with
beat) on Redis, then several concurrent gateways post ``--contacts`` inbound
messages ("нет интернета" and the like, from the subscribers of a few streets)
in batches to the queued intake API, spread over ``--seconds``, retrying any
refused batch. Meanwhile one agent (a verified session) loads the queue page
in a loop. It prints how many were accepted and lost (every accepted message
must be stored), the time to accept the burst, the time until workers had
threaded every message into a case, and the queue page's p50/p95 before and
during the burst. Target: queue page p95 < 100 ms during the burst, nothing lost.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from typing import Any

import httpx
from common import PYTHON, ROOT, api_token, percentiles, server, setup_django, verified_session

QUEUE_TARGET_P95_MS = 100
TEXTS = [
    "Здравствуйте! С утра нет интернета, роутер мигает красным.",
    "Нет интернета во всём доме, у соседей тоже.",
    "Интернет пропал минут двадцать назад, перезагрузка роутера не помогла.",
    "Когда дадут интернет? Работаю из дома, всё стоит.",
    "Пропал интернет и телевидение одновременно.",
    "У нас в подъезде у всех нет связи. Это авария?",
    "Не работает интернет, ребёнок не может подключиться к уроку.",
    "Сколько ещё ждать? Интернета нет уже час.",
    "Нет соединения, на роутере горит только питание.",
    "Интернет то появляется, то пропадает, сейчас совсем нет.",
]
CHANNELS = ["sms", "telegram", "email", "chat", "portal"]


def outage_subscribers(streets: int) -> tuple[list[int], list[str]]:
    """Subscribers of the ``streets`` streets with the most subscribers (an outage of a few nodes)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT a.street FROM subscribers_subscriber s JOIN subscribers_address a ON a.id = s.address_id "
            "GROUP BY a.street ORDER BY count(*) DESC LIMIT %s",
            [streets],
        )
        names = [row[0] for row in cur.fetchall()]
        cur.execute(
            "SELECT s.id FROM subscribers_subscriber s JOIN subscribers_address a ON a.id = s.address_id "
            "WHERE a.street = ANY(%s) ORDER BY s.id",
            [names],
        )
        return [row[0] for row in cur.fetchall()], names


def start_workers(n: int, tmp: str, nice: int = 0) -> list[subprocess.Popen[bytes]]:
    """``n`` Celery worker processes (solo pool), the first with beat; their log goes to ``tmp``.

    ``nice`` lowers their CPU priority, so the web process serving agents comes first.
    """
    procs = []
    prefix = ["nice", "-n", str(nice)] if nice else []
    for i in range(n):
        extra = ["-B", "-s", os.path.join(tmp, "celerybeat-schedule")] if i == 0 else []
        log = open(os.path.join(tmp, f"worker-{i}.log"), "ab")  # noqa: SIM115 - the worker holds it open
        procs.append(
            subprocess.Popen(
                [
                    *prefix,
                    PYTHON,
                    "-m",
                    "celery",
                    "-A",
                    "beskontakt",
                    "worker",
                    "--pool",
                    "solo",
                    "-n",
                    f"outage{i}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--loglevel",
                    "WARNING",
                    *extra,
                ],
                cwd=ROOT,
                env=dict(os.environ),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    return procs


class QueueProbe(threading.Thread):
    """One agent reloading the queue page; samples are tagged with the phase they fell in."""

    def __init__(self, base: str, session: str) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=base, cookies={"sessionid": session}, timeout=30)
        self.phase = "warmup"
        self.samples: dict[str, list[float]] = {}
        self.errors = 0
        self.stop = threading.Event()

    def run(self) -> None:
        tabs = ["mine", "unassigned", "breaching", "all"]
        i = 0
        while not self.stop.is_set():
            phase = self.phase
            start = time.perf_counter()
            response = self.client.get(f"/?tab={tabs[i % len(tabs)]}")
            elapsed = (time.perf_counter() - start) * 1000
            if response.status_code != 200:
                self.errors += 1
            self.samples.setdefault(phase, []).append(elapsed)
            i += 1
            time.sleep(0.05)  # an agent clicking: about 15 page loads a second at most


class Gateways:
    """Concurrent gateways posting batches over the window, retrying refused ones."""

    def __init__(
        self, base: str, token: str, run: str, subscribers: list[int], args: argparse.Namespace, seed: int
    ) -> None:
        self.seed = seed
        self.base, self.token, self.run_id, self.args = base, token, run, args
        self.subscribers = subscribers
        self.accepted = 0
        self.replayed = 0
        self.refused_requests: dict[str, int] = {}
        self.item_errors = 0
        self.request_ms: list[float] = []
        self.lock = threading.Lock()

    def client(self, index: int, batches: list[list[dict[str, Any]]], started: float) -> None:
        window = self.args.seconds
        with httpx.Client(base_url=self.base, headers={"Authorization": f"Token {self.token}"}, timeout=60) as http:
            for n, items in enumerate(batches):
                # Spread each client's batches evenly over the window (a burst, not a flood of one second).
                due = started + window * n / max(len(batches), 1)
                time.sleep(max(0.0, due - time.monotonic()))
                while True:
                    t0 = time.perf_counter()
                    try:
                        response = http.post("/api/v1/messages/inbound/queue/", json={"items": items})
                    except httpx.TransportError as exc:
                        self._refused(type(exc).__name__)
                        time.sleep(0.5)
                        continue
                    ms = (time.perf_counter() - t0) * 1000
                    if response.status_code != 202:
                        self._refused(str(response.status_code))
                        time.sleep(float(response.headers.get("Retry-After", "1")))
                        continue
                    body = response.json()
                    with self.lock:
                        self.accepted += body["accepted"]
                        self.replayed += body["replayed"]
                        self.item_errors += body["errors"]
                        self.request_ms.append(ms)
                    break

    def _refused(self, why: str) -> None:
        with self.lock:
            self.refused_requests[why] = self.refused_requests.get(why, 0) + 1

    def batches(self) -> list[list[list[dict[str, Any]]]]:
        """Per client, its batches: ``contacts`` items with unique channel ids."""
        rng = random.Random(self.seed)
        items = [
            {
                "channel": rng.choice(CHANNELS),
                "external_id": f"outage-{self.run_id}-{i}",
                "body": rng.choice(TEXTS),
                "subject": "Нет интернета",
                "subscriber": rng.choice(self.subscribers),
            }
            for i in range(self.args.contacts)
        ]
        size = self.args.batch
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        return [chunks[c :: self.args.clients] for c in range(self.args.clients)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="beskontakt_bench")
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=60, help="window the burst is spread over")
    parser.add_argument("--clients", type=int, default=8, help="concurrent gateways")
    parser.add_argument("--batch", type=int, default=50, help="messages per request")
    parser.add_argument("--streets", type=int, default=5, help="the outage hits subscribers of this many streets")
    parser.add_argument("--web-workers", type=int, default=1)
    parser.add_argument("--celery-workers", type=int, default=2)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--baseline-seconds", type=float, default=10)
    parser.add_argument("--drain-timeout", type=float, default=900)
    parser.add_argument("--worker-nice", type=int, default=0, help="run the Celery workers at this nice level")
    parser.add_argument("--seed", type=int, default=None, help="who writes on which channel (default: random)")
    args = parser.parse_args()
    os.environ["BESKONTAKT_BROKER_URL"] = args.broker
    os.environ["BESKONTAKT_REDIS_URL"] = args.broker
    tmp = tempfile.mkdtemp(prefix="bk-mass-outage-")
    os.environ["BESKONTAKT_DATA_DIR"] = tmp
    setup_django(args.db)
    from django.db import connection
    from django.db.models import Count

    from beskontakt.accounts.models import User
    from beskontakt.cases.models import Case, Message, PendingInbound
    from beskontakt.subscribers.models import Subscriber

    subscribers, streets = outage_subscribers(args.streets)
    if not subscribers:
        print("no subscribers: load the database first (manage.py load_demo)", file=sys.stderr)
        return 2
    agent = User.objects.filter(role="agent", available=True).order_by("pk").first()
    session = verified_session(agent.username if agent else "bench-agent")
    token = api_token("bench-outage-gateway", role="noc")
    run = uuid.uuid4().hex[:8]
    size = {"subscribers": Subscriber.objects.count(), "cases": Case.objects.count()}
    cases_before = size["cases"]
    connection.close()

    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 30)
    workers = start_workers(args.celery_workers, tmp, nice=args.worker_nice)
    report: dict[str, Any] = {}
    try:
        with server(args.db, workers=args.web_workers) as base:
            probe = QueueProbe(base, session)
            probe.start()
            time.sleep(3)  # warm-up
            probe.phase = "before"
            time.sleep(args.baseline_seconds)
            gateways = Gateways(base, token, run, subscribers, args, seed)
            plan = gateways.batches()
            probe.phase = "accepting"
            started = time.monotonic()
            threads = [
                threading.Thread(target=gateways.client, args=(i, plan[i], started)) for i in range(args.clients)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            accepted_at = time.monotonic() - started
            probe.phase = "processing"
            prefix = f"outage-{run}-"
            pending = PendingInbound.objects.filter(external_id__startswith=prefix)
            deadline = time.monotonic() + args.drain_timeout
            while time.monotonic() < deadline and pending.filter(state="pending").exists():
                time.sleep(0.25)
            processed_at = time.monotonic() - started
            probe.phase = "after"
            time.sleep(3)
            probe.stop.set()
            probe.join(timeout=30)
    finally:
        for proc in workers:
            proc.terminate()
        for proc in workers:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()

    stored = pending.count()
    states = dict(pending.values_list("state").annotate(n=Count("id")))
    messages = Message.objects.filter(external_id__startswith=prefix)
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "db": args.db,
        "size": size,
        "outage": {"streets": streets, "subscribers": len(subscribers)},
        "web_workers": args.web_workers,
        "celery_workers": args.celery_workers,
        "worker_nice": args.worker_nice,
        "seed": seed,
        "clients": args.clients,
        "batch": args.batch,
        "contacts": args.contacts,
        "accepted": gateways.accepted,
        "replayed": gateways.replayed,
        "item_errors": gateways.item_errors,
        "refused_requests": gateways.refused_requests,
        "stored": stored,
        "lost": args.contacts - stored,
        "states": states,
        "messages": messages.count(),
        "cases_opened": Case.objects.count() - cases_before,
        "seconds_to_accept": round(accepted_at, 1),
        "seconds_until_processed": round(processed_at, 1),
        "intake_request_ms": percentiles(gateways.request_ms),
        "queue_page_ms": {phase: percentiles(s) for phase, s in probe.samples.items() if len(s) >= 2},
        "queue_page_errors": probe.errors,
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    during = [*probe.samples.get("accepting", []), *probe.samples.get("processing", [])]
    burst = percentiles(during)
    ok = report["lost"] == 0 and report["messages"] == args.contacts and burst["p95"] < QUEUE_TARGET_P95_MS
    print(
        f"accepted {gateways.accepted}/{args.contacts} in {report['seconds_to_accept']} s, lost {report['lost']}, "
        f"all threaded into cases after {report['seconds_until_processed']} s ({report['messages']} messages, "
        f"{report['cases_opened']} cases opened); queue page during the burst p50 {burst['p50']} ms "
        f"p95 {burst['p95']} ms (target < {QUEUE_TARGET_P95_MS} ms) {'ok' if ok else 'MISSED'}",
        file=sys.stderr,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
