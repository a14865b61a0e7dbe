"""Inbound messages through the API with idempotency keys: sustained rate, none lost or doubled.

    .venv/bin/python bench/inbound_throughput.py --db beskontakt_bench [--seconds 60] [--clients 4] [--batch 100]

Several clients post messages with unique channel ids for ``--seconds`` to the
batch intake endpoint (``--batch 0`` uses the single-message endpoint). Then it
checks every accepted message is stored exactly once and that re-sending a
sample is answered as a replay without new rows. Target (issue 2): ≥ 1,000
messages/s sustained for 60 s.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
import uuid

import httpx
from common import api_token, server, setup_django

CHANNELS = ["email", "telegram", "chat", "portal", "sms"]
TEXTS = [
    "Здравствуйте, пропал интернет, роутер мигает красным.",
    "Не показывает телевизор, пишет «нет сигнала».",
    "Скорость упала до 5 Мбит/с вечером.",
    "Прошу перезвонить, не могу оплатить через приложение.",
    "Спасибо, всё заработало!",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="beskontakt_bench")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=100, help="messages per request; 0 = single-message endpoint")
    parser.add_argument(
        "--mode",
        choices=["queue", "sync"],
        default="queue",
        help="queue: durable accept, workers process after (202); sync: each item threaded into its case at once",
    )
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    setup_django(args.db)
    from django.db import connection

    from beskontakt.cases.models import Message

    with connection.cursor() as cur:
        cur.execute("SELECT id FROM subscribers_subscriber ORDER BY random() LIMIT 20000")
        subscriber_ids = [row[0] for row in cur.fetchall()]
    token = api_token("bench-intake", role="noc")
    run = uuid.uuid4().hex[:8]
    accepted: list[int] = [0] * args.clients
    errors: list[int] = [0] * args.clients
    per_second: dict[int, int] = {}
    lock = threading.Lock()

    def client_loop(index: int, base: str, stop_at: float, started: float) -> None:
        rng = random.Random(index)
        headers = {"Authorization": f"Token {token}"}
        n = 0
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            while time.monotonic() < stop_at:

                def item() -> dict[str, object]:
                    nonlocal n
                    n += 1
                    return {
                        "channel": rng.choice(CHANNELS),
                        "external_id": f"bench-{run}-{index}-{n}",
                        "body": rng.choice(TEXTS),
                        "subscriber": rng.choice(subscriber_ids),
                    }

                if args.batch:
                    items = [item() for _ in range(args.batch)]
                    path = "queue" if args.mode == "queue" else "batch"
                    response = http.post(f"/api/v1/messages/inbound/{path}/", json={"items": items})
                    ok = response.status_code in (200, 202)
                    good = ("accepted", "created")
                    results = response.json().get("results", []) if ok else []
                    count = sum(1 for r in results if r.get("status") in good)
                else:
                    response = http.post("/api/v1/messages/inbound/", json=item())
                    ok = response.status_code == 201
                    count = 1 if ok else 0
                if not ok:
                    errors[index] += 1
                    if errors[index] <= 3:
                        print(f"client {index}: {response.status_code} {response.text[:300]}", file=sys.stderr)
                accepted[index] += count
                second = int(time.monotonic() - started)
                with lock:
                    per_second[second] = per_second.get(second, 0) + count

    with server(args.db, workers=args.workers) as base:
        started = time.monotonic()
        stop_at = started + args.seconds
        threads = [threading.Thread(target=client_loop, args=(i, base, stop_at, started)) for i in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        total = sum(accepted)
        from beskontakt.cases.models import PendingInbound

        store = PendingInbound if args.mode == "queue" and args.batch else Message
        stored = store.objects.filter(external_id__startswith=f"bench-{run}-").count()
        # Replay a sample: nothing new may be stored.
        replay_items = [
            {"channel": channel, "external_id": external_id, "body": "повтор", "subscriber": subscriber_ids[0]}
            for channel, external_id in Message.objects.filter(external_id__startswith=f"bench-{run}-").values_list(
                "channel", "external_id"
            )[:200]
        ] or [
            {"channel": channel, "external_id": external_id, "body": "повтор", "subscriber": subscriber_ids[0]}
            for channel, external_id in PendingInbound.objects.filter(
                external_id__startswith=f"bench-{run}-"
            ).values_list("channel", "external_id")[:200]
        ]
        with httpx.Client(base_url=base, headers={"Authorization": f"Token {token}"}, timeout=60) as http:
            path = "queue" if args.mode == "queue" else "batch"
            http.post(f"/api/v1/messages/inbound/{path}/", json={"items": replay_items})
        stored_after = store.objects.filter(external_id__startswith=f"bench-{run}-").count()
    rates = [per_second[s] for s in sorted(per_second) if s < int(args.seconds)]
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "seconds": round(elapsed, 1),
        "clients": args.clients,
        "batch": args.batch,
        "mode": args.mode,
        "web_workers": args.workers,
        "accepted": total,
        "stored": stored,
        "stored_after_replay": stored_after,
        "rate_per_s": round(total / elapsed, 1),
        "slowest_second": min(rates) if rates else 0,
        "request_errors": sum(errors),
    }
    print(json.dumps(report, indent=2))
    lost_or_doubled = stored != total or stored_after != stored
    print(
        f"{report['rate_per_s']} messages/s over {report['seconds']} s (slowest second {report['slowest_second']}); "
        f"accepted {total}, stored {stored}, after replay {stored_after}"
        + (" — LOST OR DUPLICATED" if lost_or_doubled else " — none lost or duplicated"),
        file=sys.stderr,
    )
    return 1 if lost_or_doubled or report["rate_per_s"] < 1000 else 0


if __name__ == "__main__":
    sys.exit(main())
