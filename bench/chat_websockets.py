"""Portal live chat: many concurrent subscriber WebSockets, delivery latency of agents' replies.

    .venv/bin/python bench/chat_websockets.py [--db bk_rt_bench] [--sockets 2000] [--workers 2]
        [--rate 20] [--seconds 60] [--port 18350]

Prepares a PostgreSQL database (created and migrated when missing) with ``--sockets``
subscribers, each with a portal login, a session and an open chat case. Starts
uvicorn (``--workers`` processes; the Redis channel layer and cache, so an event
published by one process reaches sockets held by another) and opens one
authenticated chat WebSocket per subscriber from this one asyncio process (the
``websockets`` client library). Then an agent answers: ``--rate`` replies per second
to random subscribers, on channel "chat", posted to the case page's reply form over
HTTP with a verified staff session (``--via http``, the default: the server's view
calls ``cases.actions.reply``; message, events, SLA and outbox rows are written and
the change is published when the transaction commits). Latency is measured from
just before the reply is posted until its text arrives on that subscriber's socket
(``reply_http_ms`` is the agent's own wait for the form's redirect). Every reply
must arrive exactly once. Target (issue 3): p95 < 200 ms with 2,000 sockets open.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import threading
import time
from typing import Any

from common import PYTHON, ROOT, percentiles, server, setup_django

REDIS_URL = "redis://127.0.0.1:6379/7"


def ensure_database(name: str) -> None:
    """Create and migrate the benchmark database when it is missing."""
    if not name.replace("_", "").isalnum():
        raise SystemExit("--db: letters, digits and _ only")
    query = f"SELECT 1 FROM pg_database WHERE datname='{name}'"  # noqa: S608 - checked above
    exists = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", query],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    env = dict(os.environ, BESKONTAKT_DB="postgres", BESKONTAKT_DB_NAME=name, BESKONTAKT_LOG_LEVEL="WARNING")
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)


def prepare(count: int) -> list[tuple[int, int, str]]:
    """``count`` subscribers with a portal login, a session and a chat case: (subscriber, case, session key)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import transaction

    from beskontakt.accounts.models import User
    from beskontakt.cases import actions
    from beskontakt.cases.models import Case
    from beskontakt.subscribers.models import Channel, Subscriber

    prefix = "chatbench-"
    have = Subscriber.objects.filter(contract_number__startswith=prefix).count()
    if have < count:
        password = make_password(None)
        with transaction.atomic():
            users = User.objects.bulk_create(
                [
                    User(username=f"{prefix}{n:05d}", role="subscriber", password=password, first_name="Абонент")
                    for n in range(have, count)
                ]
            )
            subscribers = []
            for n, user in zip(range(have, count), users, strict=True):
                sub = Subscriber(
                    contract_number=f"{prefix}{n:05d}",
                    last_name="Тестова",
                    first_name="Анна",
                    portal_user=user,
                    preferred_channel=Channel.CHAT,
                )
                sub.search_text = sub.build_search_text()
                subscribers.append(sub)
            Subscriber.objects.bulk_create(subscribers)
    subscribers = list(
        Subscriber.objects.filter(contract_number__startswith=prefix)
        .select_related("portal_user")
        .order_by("contract_number")[:count]
    )
    with_case = dict(
        Case.objects.filter(subscriber__in=subscribers, channel=Channel.CHAT, status__in=["new", "open"])
        .order_by("subscriber_id", "-pk")
        .values_list("subscriber_id", "pk")
    )
    for sub in subscribers:
        if sub.pk not in with_case:
            case = actions.open_case(
                subject="Чат", subscriber=sub, channel=Channel.CHAT, body="Здравствуйте!", external_id=f"bench-{sub.pk}"
            )
            with_case[sub.pk] = case.pk
    rows = []
    for sub in subscribers:
        user = sub.portal_user
        assert user is not None
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        rows.append((sub.pk, with_case[sub.pk], str(store.session_key)))
    return rows


class Listener:
    """One subscriber's chat socket: records when each tagged reply arrives."""

    def __init__(self, subscriber_id: int, case_id: int, session: str) -> None:
        self.subscriber_id = subscriber_id
        self.case_id = case_id
        self.session = session
        self.socket: Any = None


async def open_sockets(base: str, rows: list[tuple[int, int, str]], arrived: dict[str, float]) -> list[Listener]:
    """Open one chat socket per row (100 handshakes at a time) and read them all in the background."""
    import websockets

    url = base.replace("http://", "ws://") + "/ws/chat/"
    origin = base
    listeners = [Listener(*row) for row in rows]
    semaphore = asyncio.Semaphore(100)

    async def reader(listener: Listener) -> None:
        async for raw in listener.socket:
            frame = json.loads(raw)
            if frame.get("type") == "message" and frame.get("direction") == "out":
                tag = frame["body"].rsplit(" ", 1)[-1]
                if tag.startswith("#b"):
                    now = time.perf_counter()
                    if tag in arrived:
                        arrived[f"dup:{tag}"] = now
                    else:
                        arrived[tag] = now

    async def connect(listener: Listener) -> None:
        async with semaphore:
            for attempt in range(5):
                try:
                    listener.socket = await websockets.connect(
                        url,
                        origin=origin,
                        additional_headers={"Cookie": f"sessionid={listener.session}"},
                        open_timeout=30,
                        ping_interval=None,
                        max_queue=None,
                    )
                    break
                except Exception:
                    if attempt == 4:
                        raise
                    await asyncio.sleep(0.5 * (attempt + 1))
            # The hello and history frames.
            while True:
                frame = json.loads(await listener.socket.recv())
                if frame.get("type") == "history":
                    break
        asyncio.get_running_loop().create_task(reader(listener))

    started = time.perf_counter()
    await asyncio.gather(*(connect(listener) for listener in listeners))
    print(f"opened {len(listeners)} chat sockets in {time.perf_counter() - started:.1f} s", flush=True)
    return listeners


def action_replies(
    targets: list[tuple[int, int]],
    rate: float,
    seconds: float,
    sent: dict[str, float],
    published: dict[str, float],
    threads: int = 4,
) -> None:
    """``--via action``: write ``rate`` replies per second with ``cases.actions.reply`` in this process (blocking).

    Publishing goes through one long-lived event loop here (as in the server, whose
    views publish over a kept Redis connection); ``published`` gets the moment each
    reply's change was handed to the channel layer (after its transaction committed),
    so the real-time layer's own share of the latency can be told apart.
    """
    from channels.layers import get_channel_layer
    from django.db import close_old_connections

    from beskontakt.accounts.models import User
    from beskontakt.cases import actions
    from beskontakt.cases.models import Case
    from beskontakt.inbox import realtime

    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    layer = get_channel_layer()
    current = threading.local()

    def send_now(group: str, event: dict[str, Any]) -> None:
        if event.get("type") == "subscriber.changed" and event.get("kind") == "message_out":
            published[current.tag] = time.perf_counter()
        asyncio.run_coroutine_threadsafe(layer.group_send(group, event), loop).result()

    realtime.send_now = send_now  # type: ignore[assignment]
    agent, _ = User.objects.get_or_create(username="chatbench-agent", defaults={"role": "agent", "first_name": "Ольга"})
    interval = threads / rate
    stop_at = time.perf_counter() + seconds
    lock = threading.Lock()
    counter = [0]

    def work(index: int) -> None:
        rng = random.Random(index)
        next_at = time.perf_counter() + index * (1 / rate)
        try:
            while next_at < stop_at:
                delay = next_at - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                _subscriber_id, case_id = rng.choice(targets)
                with lock:
                    counter[0] += 1
                    tag = f"#b{counter[0]}"
                current.tag = tag
                case = Case.objects.get(pk=case_id)
                sent[tag] = time.perf_counter()
                actions.reply(case, by=agent, body=f"Проверяю вашу линию, минуту {tag}", channel="chat")
                next_at += interval
        finally:
            close_old_connections()

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    loop.call_soon_threadsafe(loop.stop)


async def http_replies(
    base: str,
    targets: list[tuple[int, int]],
    rate: float,
    seconds: float,
    sent: dict[str, float],
    answered: list[float],
) -> int:
    """``--via http``: an agent (verified session) posts ``rate`` replies per second to the case pages' reply
    form, as the browser does; returns how many were not answered with the redirect."""
    import httpx
    from common import verified_session

    session = await asyncio.to_thread(verified_session, "chatbench-agent")
    failures = 0
    rng = random.Random(7)
    async with httpx.AsyncClient(base_url=base, cookies={"sessionid": session}, timeout=60) as http:
        await http.get("/")
        token = http.cookies.get("csrftoken") or ""
        headers = {"X-CSRFToken": token, "Referer": base + "/"}
        # Warm-up (not measured): the workers' first requests load templates and fill the pool.
        for n in range(20):
            await http.post(
                f"/cases/{targets[n % len(targets)][1]}/reply/",
                data={"body": f"Разогрев {n}", "channel": "chat"},
                headers=headers,
            )

        async def post(tag: str, case_id: int) -> None:
            nonlocal failures
            sent[tag] = time.perf_counter()
            response = await http.post(
                f"/cases/{case_id}/reply/",
                data={"body": f"Проверяю вашу линию, минуту {tag}", "channel": "chat"},
                headers=headers,
            )
            if response.status_code != 302:
                failures += 1
                sent.pop(tag, None)
            elif tag.startswith("#b"):
                answered.append((time.perf_counter() - sent[tag]) * 1000)

        tasks = []
        started = time.perf_counter()
        n = 0
        while time.perf_counter() - started < seconds:
            n += 1
            tasks.append(asyncio.get_running_loop().create_task(post(f"#b{n}", rng.choice(targets)[1])))
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
        await asyncio.gather(*tasks)
    return failures


async def run(args: argparse.Namespace, base: str, rows: list[tuple[int, int, str]]) -> dict[str, Any]:
    arrived: dict[str, float] = {}
    sent: dict[str, float] = {}
    listeners = await open_sockets(base, rows, arrived)
    targets = [(row[0], row[1]) for row in rows]
    failures = 0
    answered: list[float] = []
    published: dict[str, float] = {}
    if args.via == "http":
        failures = await http_replies(base, targets, args.rate, args.seconds, sent, answered)
    else:
        await asyncio.to_thread(action_replies, targets, args.rate, args.seconds, sent, published)
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline and any(tag not in arrived for tag in sent):
        await asyncio.sleep(0.1)
    latencies = [(arrived[tag] - at) * 1000 for tag, at in sent.items() if tag in arrived]
    after_commit = [(arrived[tag] - at) * 1000 for tag, at in published.items() if tag in arrived]
    open_now = sum(1 for listener in listeners if listener.socket.state.name == "OPEN")
    for listener in listeners:
        await listener.socket.close()
    return {
        "sockets": len(listeners),
        "still_open": open_now,
        "replies": len(sent),
        "reply_errors": failures,
        "delivered": len(latencies),
        "lost": len(sent) - len(latencies),
        "duplicates": sum(1 for key in arrived if key.startswith("dup:")),
        "latency_ms": percentiles(latencies) if latencies else {},
        "reply_http_ms": percentiles(answered) if answered else {},
        "commit_to_socket_ms": percentiles(after_commit) if after_commit else {},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="bk_rt_bench")
    parser.add_argument("--sockets", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=20, help="agent replies per second")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--port", type=int, default=18350)
    parser.add_argument(
        "--via",
        choices=["http", "action"],
        default="http",
        help="http: the agent posts the case page's reply form to the server; action: cases.actions.reply "
        "in this process (also reports commit-to-socket latency)",
    )
    args = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, args.sockets * 2 + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    # The server and this process share the Redis channel layer and cache.
    os.environ["BESKONTAKT_REDIS_URL"] = REDIS_URL
    # Outbox delivery tasks are not measured here: keep them in memory, off any shared queue
    # (the chat sees a reply from its case event, not from the outbox worker).
    os.environ["BESKONTAKT_BROKER_URL"] = "memory://"
    ensure_database(args.db)
    setup_django(args.db)
    started = time.perf_counter()
    rows = prepare(args.sockets)
    print(f"prepared {len(rows)} subscribers with sessions in {time.perf_counter() - started:.1f} s", flush=True)

    with server(args.db, workers=args.workers, port=args.port) as base:
        result = asyncio.run(run(args, base, rows))
    command = " ".join([".venv/bin/python", "bench/chat_websockets.py", *sys.argv[1:]])
    print(json.dumps({"command": command, "workers": args.workers, "rate_per_s": args.rate, **result}, indent=2))
    p95 = result["latency_ms"].get("p95")
    ok = result["lost"] == 0 and result["duplicates"] == 0 and result["reply_errors"] == 0
    ok = ok and p95 is not None and p95 < 200
    print("target p95 < 200 ms, none lost or doubled:", "MET" if ok else "NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
