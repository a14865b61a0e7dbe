"""Beskontakt side by side with django-helpdesk: list page latency and creation throughput.

    bench/peer_helpdesk/setup.sh                       # once: the peer's own virtualenv and database
    (cd bench/peer_helpdesk && ../../.venv-helpdesk/bin/python load.py --tickets 3000000 --followups)
    .venv/bin/python bench/compare_helpdesk.py --db beskontakt_bench

Both systems hold the same number of tickets/cases in their own PostgreSQL
database on the same server and are served the same way (uvicorn, 2 workers).
They are measured one after the other in this run with the same method:
the list page an agent opens (200 sequential samples after 20 warm-ups) and
creation in a closed loop by 4 clients for 20 s, both through the REST API
and through the staff web form. Ratios: peer latency / ours, ours / peer rate.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import threading
import time

import httpx
from common import ROOT, api_token, percentiles, server, setup_django, verified_session

PEER_DIR = ROOT / "bench" / "peer_helpdesk"
PEER_PYTHON = ROOT / ".venv-helpdesk" / "bin" / "python"
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def measure_list(client: httpx.Client, n: int, warmup: int) -> dict[str, float]:
    samples = []
    for i in range(warmup + n):
        start = time.perf_counter()
        response = client.get("/?tab=all")
        elapsed = (time.perf_counter() - start) * 1000
        response.raise_for_status()
        if i >= warmup:
            samples.append(elapsed)
    return percentiles(samples)


def measure_create(base: str, kind: str, seconds: float, clients: int, session: str, token: str) -> dict[str, object]:
    created = [0] * clients
    failed = [0] * clients

    def worker(k: int) -> None:
        stop = time.monotonic() + seconds
        if kind == "api":
            http = httpx.Client(base_url=base, headers={"Authorization": f"Token {token}"}, timeout=60)
        else:
            http = httpx.Client(base_url=base, cookies={"sessionid": session}, timeout=60)
        with http:
            i = 0
            while time.monotonic() < stop:
                i += 1
                subject = f"Нет интернета, клиент {k}-{i}"
                body = "Здравствуйте! С утра не работает интернет, роутер мигает красным."
                if kind == "api":
                    r = http.post("/api/v1/cases/", json={"subject": subject, "body": body, "channel": "phone"})
                    ok = r.status_code == 201
                else:
                    page = http.get("/cases/new/")
                    match = CSRF_RE.search(page.text)
                    token_value = match.group(1) if match else ""
                    r = http.post(
                        "/cases/new/",
                        data={"csrfmiddlewaretoken": token_value, "subject": subject, "body": body, "channel": "phone"},
                        headers={"Referer": f"{base}/cases/new/"},
                    )
                    ok = r.status_code in (302, 303)
                if ok:
                    created[k] += 1
                else:
                    failed[k] += 1
                    if failed[k] <= 2:
                        print(f"  create via {kind}: {r.status_code} {r.text[:200]}", file=sys.stderr)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return {
        "created": sum(created),
        "failed": sum(failed),
        "seconds": round(elapsed, 1),
        "per_s": round(sum(created) / elapsed, 1),
    }


def run_peer(args: argparse.Namespace) -> dict[str, object]:
    if not PEER_PYTHON.exists():
        raise SystemExit("the peer is not set up: run bench/peer_helpdesk/setup.sh and load.py first")
    out = subprocess.run(
        [
            str(PEER_PYTHON),
            "measure.py",
            "--serve",
            "--requests",
            str(args.requests),
            "--warmup",
            str(args.warmup),
            "--duration",
            str(args.seconds),
            "--clients",
            str(args.clients),
            "--list-budget",
            str(args.peer_list_budget),
        ],
        cwd=PEER_DIR,
        check=True,
        capture_output=True,
        text=True,
    )
    sys.stderr.write(out.stderr)
    return dict(json.loads(out.stdout))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="beskontakt_bench")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--peer-list-budget", type=float, default=300, help="seconds the peer's list samples may take in all"
    )
    args = parser.parse_args()
    setup_django(args.db)
    from beskontakt.accounts.models import User
    from beskontakt.cases.models import Case, Message

    agent = User.objects.filter(role="agent", available=True).order_by("pk").first()
    session = verified_session(agent.username if agent else "bench-agent")
    token = api_token("bench-creator", role="agent")
    ours: dict[str, object] = {"cases": Case.objects.count(), "messages": Message.objects.count()}
    with server(args.db) as base:
        with httpx.Client(base_url=base, cookies={"sessionid": session}, timeout=60) as web:
            ours["list_page_ms"] = measure_list(web, args.requests, args.warmup)
        ours["create_api"] = measure_create(base, "api", args.seconds, args.clients, session, token)
        ours["create_form"] = measure_create(base, "form", args.seconds, args.clients, session, token)
    peer = run_peer(args)
    peer_list = peer["list_page_ms"]
    ours_list = ours["list_page_ms"]
    assert isinstance(peer_list, dict) and isinstance(ours_list, dict)
    detail = peer.get("create_detail", {})
    assert isinstance(detail, dict)

    def rate(d: object) -> float:
        return float(d["per_s"]) if isinstance(d, dict) and d.get("per_s") else 0.0

    ratios = {
        "list_p50_peer_over_ours": round(peer_list["p50"] / ours_list["p50"], 2),
        "list_p95_peer_over_ours": round(peer_list["p95"] / ours_list["p95"], 2),
        "create_api_ours_over_peer": round(rate(ours["create_api"]) / max(rate(detail.get("api")), 0.01), 2),
        "create_form_ours_over_peer": round(rate(ours["create_form"]) / max(rate(detail.get("form")), 0.01), 2),
    }
    report = {"date": time.strftime("%Y-%m-%d"), "beskontakt": ours, "peer": peer, "ratios": ratios}
    print(json.dumps(report, ensure_ascii=False, indent=2))
    print(
        f"list page p95: Beskontakt {ours_list['p95']} ms, {peer['peer']} {peer_list['p95']} ms "
        f"(×{ratios['list_p95_peer_over_ours']}); create via API: {rate(ours['create_api'])}/s vs "
        f"{rate(detail.get('api'))}/s (×{ratios['create_api_ours_over_peer']}); via form: "
        f"{rate(ours['create_form'])}/s vs {rate(detail.get('form'))}/s (×{ratios['create_form_ours_over_peer']})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
