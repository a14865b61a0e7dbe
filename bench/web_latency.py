"""Latency of the agent's pages and the API case list on an operator-size database.

    .venv/bin/python bench/web_latency.py --db beskontakt_bench [--requests 300]

Starts uvicorn (2 workers) on loopback against the PostgreSQL database ``--db``
(load it first: ``BESKONTAKT_DB=postgres BESKONTAKT_DB_NAME=beskontakt_bench
.venv/bin/python manage.py load_demo --size operator``), then requests each page
sequentially as one agent would, after a warm-up, and prints p50/p95/p99 in ms.
Targets (issue 2): queue p95 < 100 ms, case page p95 < 150 ms, subscriber search
p95 < 100 ms, API case list p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable

import httpx
from common import api_token, percentiles, server, setup_django

TARGETS_MS = {"queue": 100, "case_page": 150, "subscriber_search": 100, "api_case_list": 100}


def sample_inputs(rng: random.Random) -> dict[str, list[str]]:
    """Real ids and search terms picked from the database."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT max(id) FROM cases_case")
        max_case = cur.fetchone()[0] or 1
        cur.execute("SELECT max(id) FROM subscribers_subscriber")
        max_sub = cur.fetchone()[0] or 1
        sub_ids = [rng.randint(1, max_sub) for _ in range(400)]
        cur.execute(
            "SELECT s.contract_number, s.last_name, s.first_name, a.street, a.building, "
            "(SELECT value FROM subscribers_contactpoint c "
            " WHERE c.subscriber_id = s.id AND c.channel = 'phone' LIMIT 1) "
            "FROM subscribers_subscriber s LEFT JOIN subscribers_address a ON a.id = s.address_id WHERE s.id = ANY(%s)",
            [sub_ids],
        )
        rows = cur.fetchall()
    queries: list[str] = []
    for contract, last, first, street, building, phone in rows:
        queries += [contract, f"{last} {first}".strip(), f"{street} {building}".strip()]
        if phone:
            queries.append(phone)
    cases = [str(rng.randint(1, max_case)) for _ in range(400)]
    return {"cases": cases, "queries": [q for q in queries if q]}


def measure(client: httpx.Client, urls: Callable[[int], str], n: int, warmup: int) -> dict[str, float]:
    samples = []
    errors = 0
    for i in range(warmup + n):
        url = urls(i)
        start = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - start) * 1000
        if response.status_code >= 400 and response.status_code != 404:
            errors += 1
            if errors <= 3:
                print(f"  {response.status_code} for {url}", file=sys.stderr)
        if i >= warmup:
            samples.append(elapsed)
    result = percentiles(samples)
    result["errors"] = errors
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="beskontakt_bench")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes serving the pages")
    args = parser.parse_args()
    setup_django(args.db)
    from common import verified_session

    from beskontakt.accounts.models import User
    from beskontakt.cases.models import Case
    from beskontakt.subscribers.models import Subscriber

    rng = random.Random(args.seed)
    inputs = sample_inputs(rng)
    agent = User.objects.filter(role="agent", available=True).order_by("pk").first()
    session = verified_session(agent.username if agent else "bench-agent")
    token = api_token("bench-api")
    size = {"subscribers": Subscriber.objects.count(), "cases": Case.objects.count()}
    from beskontakt.cases.models import Message

    size["messages"] = Message.objects.count()
    queue_tabs = ["mine", "unassigned", "breaching", "all"]
    cases, queries = inputs["cases"], inputs["queries"]
    results = {}
    with server(args.db, workers=args.workers) as base:
        web = httpx.Client(base_url=base, cookies={"sessionid": session}, timeout=30)
        api = httpx.Client(base_url=base, headers={"Authorization": f"Token {token}"}, timeout=30)
        results["queue"] = measure(web, lambda i: f"/?tab={queue_tabs[i % 4]}", args.requests, args.warmup)
        results["case_page"] = measure(web, lambda i: f"/cases/{cases[i % len(cases)]}/", args.requests, args.warmup)
        results["subscriber_search"] = measure(
            web, lambda i: f"/subscribers/?q={queries[i % len(queries)]}", args.requests, args.warmup
        )
        results["api_case_list"] = measure(
            api,
            lambda i: ["/api/v1/cases/", "/api/v1/cases/?status=new", "/api/v1/cases/?ordering=-created_at"][i % 3],
            args.requests,
            args.warmup,
        )
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "size": size,
        "web_workers": args.workers,
        "results": results,
        "targets_ms_p95": TARGETS_MS,
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    ok = True
    for name, target in TARGETS_MS.items():
        p95 = results[name]["p95"]
        verdict = "ok" if p95 < target and not results[name]["errors"] else "MISSED"
        ok = ok and verdict == "ok"
        print(
            f"{name:20s} p50 {results[name]['p50']:7.1f} ms  p95 {p95:7.1f} ms  (target < {target} ms) {verdict}",
            file=sys.stderr,
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
