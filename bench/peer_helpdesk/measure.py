"""Measure django-helpdesk over HTTP: the ticket list an agent sees, and ticket creation throughput.

Run inside ``.venv-helpdesk`` from ``bench/peer_helpdesk`` against a database filled by ``load.py``::

    HELPDESK_DB=helpdesk_bench ../../.venv-helpdesk/bin/python measure.py --serve

``--serve`` starts ``serve.sh`` (uvicorn, ASGI, 2 workers on 127.0.0.1:8100) and stops it at the end;
without it a server must already listen on ``--base``. Only loopback addresses are accepted.

What is measured (all over real HTTP, logged in as the staff user through the login form with CSRF):

* ``list_page_ms``: what an agent pays to see the first page of open tickets: the HTML page
  ``/helpdesk/tickets/`` plus the DataTables JSON request its script makes for the first 25 rows
  (``/helpdesk/datatables_ticket_list/<query>``), timed together, sequentially, N=200 after 20 warm-ups.
  Static assets are not fetched (a browser has them cached).
* ``create_per_s``: tickets created per second for ``--duration`` seconds by ``--clients`` concurrent
  clients through django-helpdesk's REST API (``POST /helpdesk/api/tickets/``, session-authenticated,
  the path an integration would use). ``create_form_per_s`` does the same through the staff
  "submit ticket" form (GET the form for its CSRF token, then POST it, as a browser does; the redirect
  to the new ticket is not followed).

A JSON object goes to stdout; a human-readable table to stderr.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import math
import os
import re
import subprocess
import sys
import threading
import time
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

import httpx

HERE = Path(__file__).resolve().parent
BENCH_USER = "bench"
BENCH_PASSWORD = "bench-pass"  # noqa: S105 - throwaway benchmark account on a local database

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
DATATABLES_URL = re.compile(r'"url": "(/helpdesk/datatables_ticket_list/[^"]*)"')


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, math.ceil(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


def login(base: str) -> httpx.Client:
    """A client logged in as the staff user through the real login form (CSRF token from the page)."""
    client = httpx.Client(base_url=base, timeout=120.0, follow_redirects=False)
    page = client.get("/helpdesk/login/")
    page.raise_for_status()
    token = CSRF_INPUT.search(page.text)
    if not token:
        raise SystemExit("login page has no CSRF token")
    resp = client.post(
        "/helpdesk/login/",
        data={
            "csrfmiddlewaretoken": token.group(1),
            "username": BENCH_USER,
            "password": BENCH_PASSWORD,
            "next": "/helpdesk/",
        },
        headers={"Referer": f"{base}/helpdesk/login/"},
    )
    if resp.status_code != 302 or "sessionid" not in client.cookies:
        raise SystemExit(f"login failed: HTTP {resp.status_code}; was load.py run on this database?")
    return client


def list_page_once(client: httpx.Client) -> tuple[float, float, int]:
    """One agent view of the open tickets: HTML page, then the first JSON page of 25 rows.

    Returns (html seconds, json seconds, records in the filtered list).
    """
    t0 = time.perf_counter()
    page = client.get("/helpdesk/tickets/")
    t1 = time.perf_counter()
    if page.status_code != 200:
        raise RuntimeError(f"ticket list: HTTP {page.status_code}")
    m = DATATABLES_URL.search(page.text)
    if not m:
        raise RuntimeError("ticket list page has no datatables_ticket_list URL")
    t2 = time.perf_counter()
    rows = client.get(
        m.group(1),
        params={"draw": "1", "start": "0", "length": "25", "search[value]": "", "search[regex]": "false"},
        headers={"X-Requested-With": "XMLHttpRequest", "Accept": "application/json"},
    )
    t3 = time.perf_counter()
    if rows.status_code != 200:
        raise RuntimeError(f"datatables_ticket_list: HTTP {rows.status_code}")
    body = rows.json()
    if len(body["data"]) != min(25, body["recordsFiltered"]):
        raise RuntimeError(f"expected 25 rows, got {len(body['data'])}")
    return t1 - t0, t3 - t2, int(body["recordsFiltered"])


def measure_list(base: str, n: int, warmup: int, budget: float) -> dict:
    """Sequential list-page timings after warm-up; ms percentiles of the combined and split costs.

    Stops early (and says so with ``n``) once ``budget`` seconds of timed views have passed, so a
    peer whose page takes tens of seconds on a large database still finishes in bounded time.
    """
    client = login(base)
    t_warm = time.perf_counter()
    for _ in range(warmup):
        list_page_once(client)
        if time.perf_counter() - t_warm > budget / 4:
            break
    total, html, js = [], [], []
    records = 0
    t_start = time.perf_counter()
    for _ in range(n):
        if total and time.perf_counter() - t_start > budget:
            break
        h, j, records = list_page_once(client)
        html.append(h * 1000)
        js.append(j * 1000)
        total.append((h + j) * 1000)
    client.close()

    def stats(values: list[float]) -> dict:
        s = sorted(values)
        return {
            "p50": round(percentile(s, 50), 1),
            "p95": round(percentile(s, 95), 1),
            "p99": round(percentile(s, 99), 1),
            "mean": round(sum(s) / len(s), 1),
        }

    return {"total": stats(total), "html": stats(html), "json": stats(js), "open_tickets": records, "n": len(total)}


def _create_api(client: httpx.Client, i: int, queue: int) -> bool:
    resp = client.post(
        "/helpdesk/api/tickets/",
        json={
            "queue": queue,
            "title": f"Нет интернета с утра (бенчмарк {i})",
            "description": "Здравствуйте! С утра не работает интернет, роутер перезагружал. Индикатор LOS мигает.",
            "submitter_email": f"abonent{i}@mail.ru",
            "priority": 3,
        },
        headers={"X-CSRFToken": client.cookies["csrftoken"], "Referer": str(client.base_url)},
    )
    return resp.status_code == 201


def _create_form(client: httpx.Client, i: int, queue: int) -> bool:
    form = client.get("/helpdesk/tickets/submit/")
    token = CSRF_INPUT.search(form.text)
    if form.status_code != 200 or not token:
        return False
    resp = client.post(
        "/helpdesk/tickets/submit/",
        data={
            "csrfmiddlewaretoken": token.group(1),
            "queue": str(queue),
            "title": f"Нет интернета с утра (бенчмарк {i})",
            "body": "Здравствуйте! С утра не работает интернет, роутер перезагружал. Индикатор LOS мигает.",
            "priority": "3",
            "submitter_email": f"abonent{i}@mail.ru",
            "assigned_to": "",
            "due_date": "",
        },
        headers={"Referer": f"{client.base_url}helpdesk/tickets/submit/"},
    )
    return resp.status_code == 302


def measure_create(base: str, duration: float, clients: int, kind: str, queues: list[int]) -> dict:
    """Closed-loop creation by ``clients`` threads, each with its own logged-in session, for ``duration`` s."""
    fn = _create_api if kind == "api" else _create_form
    sessions = [login(base) for _ in range(clients)]
    for s in sessions:  # one untimed warm-up request each (connection, worker caches)
        fn(s, 0, queues[0])
    ok = [0] * clients
    failed = [0] * clients
    barrier = threading.Barrier(clients + 1)
    deadline = [0.0]

    def worker(k: int) -> None:
        s = sessions[k]
        i = k
        barrier.wait()
        while time.perf_counter() < deadline[0]:
            i += clients
            if fn(s, 1_000_000 + i, queues[i % len(queues)]):
                ok[k] += 1
            else:
                failed[k] += 1

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    deadline[0] = t0 + duration
    barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    for s in sessions:
        s.close()
    return {
        "created": sum(ok),
        "failed": sum(failed),
        "seconds": round(elapsed, 2),
        "per_s": round(sum(ok) / elapsed, 1),
    }


def ticket_counts() -> tuple[int, int, list[int]]:
    """(tickets, follow-ups, queue ids) in the benchmark database."""
    import psycopg

    with psycopg.connect(
        host=os.environ.get("HELPDESK_DB_HOST", "127.0.0.1"),
        port=os.environ.get("HELPDESK_DB_PORT", "5432"),
        user=os.environ.get("HELPDESK_DB_USER", "postgres"),
        dbname=os.environ.get("HELPDESK_DB", "helpdesk_bench"),
    ) as conn:
        t = conn.execute("SELECT count(*) FROM helpdesk_ticket").fetchone()[0]
        f = conn.execute("SELECT count(*) FROM helpdesk_followup").fetchone()[0]
        q = [r[0] for r in conn.execute("SELECT id FROM helpdesk_queue ORDER BY id").fetchall()]
    return t, f, q


def start_server(base: str) -> subprocess.Popen:
    """Start serve.sh on the port of ``base`` and wait until it answers."""
    port = urlsplit(base).port or 80
    env = dict(os.environ, HELPDESK_PORT=str(port))
    proc = subprocess.Popen([str(HERE / "serve.sh")], env=env, start_new_session=True)
    for _ in range(120):
        try:
            if httpx.get(f"{base}/helpdesk/login/", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit("serve.sh exited before answering")
        time.sleep(0.5)
    stop_server(proc)
    raise SystemExit("server did not answer within 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    """Stop the uvicorn process group started by start_server."""
    import signal

    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def main(argv: list[str] | None = None) -> int:
    """Parse options, optionally start the server, run both measurements, print JSON and a table."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base", default="http://127.0.0.1:8100")
    p.add_argument("--serve", action="store_true", help="start serve.sh for the run and stop it afterwards")
    p.add_argument("--requests", type=int, default=200, help="timed list-page views (200)")
    p.add_argument("--warmup", type=int, default=20, help="untimed list-page views first (20)")
    p.add_argument("--list-budget", type=float, default=900.0, help="max seconds of timed list views (900)")
    p.add_argument("--duration", type=float, default=20.0, help="seconds of ticket creation per path (20)")
    p.add_argument("--clients", type=int, default=4, help="concurrent creating clients (4)")
    p.add_argument("--create-paths", default="api,form", help="comma list of api,form (api is reported first)")
    args = p.parse_args(argv)

    host = urlsplit(args.base).hostname or ""
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise SystemExit("--base must be a loopback address")

    tickets, followups, queues = ticket_counts()
    proc = start_server(args.base) if args.serve else None
    try:
        listing = measure_list(args.base, args.requests, args.warmup, args.list_budget)
        creates = {}
        for kind in [k.strip() for k in args.create_paths.split(",") if k.strip()]:
            creates[kind] = measure_create(args.base, args.duration, args.clients, kind, queues)
    finally:
        if proc:
            stop_server(proc)

    paths = {
        "api": "POST /helpdesk/api/tickets/ (DRF, session auth + CSRF header)",
        "form": "GET+POST /helpdesk/tickets/submit/ (staff form)",
    }
    first = next(iter(creates), None)
    result = {
        "peer": f"django-helpdesk {version('django-helpdesk')}",
        "django": version("django"),
        "server": f"uvicorn {version('uvicorn')} ASGI, {os.environ.get('HELPDESK_WORKERS', '2')} workers",
        "database": os.environ.get("HELPDESK_DB", "helpdesk_bench"),
        "tickets": tickets,
        "followups": followups,
        "open_tickets": listing["open_tickets"],
        "list_page_ms": {k: listing["total"][k] for k in ("p50", "p95", "p99")},
        "list_page_detail_ms": {"html": listing["html"], "json": listing["json"], "total": listing["total"]},
        "list_requests": listing["n"],
        "create_per_s": creates[first]["per_s"] if first else None,
        "create_path": paths[first] if first else None,
        "create_clients": args.clients,
        "create_detail": {k: dict(v, path=paths[k]) for k, v in creates.items()},
    }
    if "form" in creates:
        result["create_form_per_s"] = creates["form"]["per_s"]
    print(json.dumps(result, ensure_ascii=False, indent=2))

    err = sys.stderr
    print(f"\n{result['peer']} on Django {result['django']}, {result['server']}", file=err)
    print(
        f"database {result['database']}: {tickets:,} tickets, {followups:,} follow-ups, "
        f"{listing['open_tickets']:,} open",
        file=err,
    )
    print(f"{'ticket list (first 25 open)':<34} {'p50':>9} {'p95':>9} {'p99':>9}  ms, n={listing['n']}", file=err)
    for key, label in (("total", "  HTML + JSON"), ("html", "  HTML page"), ("json", "  JSON rows")):
        s = listing[key]
        print(f"{label:<34} {s['p50']:>9.1f} {s['p95']:>9.1f} {s['p99']:>9.1f}", file=err)
    for kind, c in creates.items():
        print(
            f"create via {kind:<5} {c['per_s']:>8.1f} tickets/s  ({c['created']} in {c['seconds']} s, "
            f"{args.clients} clients, {c['failed']} failed)  {paths[kind]}",
            file=err,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
