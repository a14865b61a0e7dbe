"""Telegram webhook ingest and processing: updates/s accepted, p95 latency, then updates/s into cases.

    .venv/bin/python bench/telegram_webhook.py --db bk_tg_bench [--updates 20000] [--clients 64] [--chats 2000]

Prepares ``--chats`` subscribers with linked Telegram chats (once), starts a
local Bot API server (for the bot's answers) and uvicorn with one worker,
then many concurrent clients POST realistic message updates to
``/inbox/telegram/webhook/`` with the secret header, as Telegram does. It
prints the accepted updates/s and the request latency, checks every update was
stored exactly once (a replayed sample stores nothing), then handles the
stored updates with ``updates.process_pending`` in this process (one worker,
as a Celery worker would) and prints updates/s into case messages.
Target (issue 3): ingest ≥ 500 updates/s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import aiohttp
from common import PYTHON, ROOT, bench_env, percentiles, setup_django

TOKEN = "123456:BENCH-token"  # noqa: S105 - the local test server's token
SECRET = "bench-secret"  # noqa: S105 - a throwaway webhook secret for the benchmark
CHAT_BASE = 910_000_000
TEXTS = [
    "Здравствуйте, пропал интернет, роутер мигает красным.",
    "Не показывает телевизор, пишет «нет сигнала».",
    "Скорость упала до 5 Мбит/с вечером, тариф 500.",
    "Прошу перезвонить, не могу оплатить через приложение.",
    "Спасибо, всё заработало!",
    "Когда починят? Третий день без интернета, работаю из дома.",
    "Я на карантине до 15-го, мастера впустить не могу.",
]


@contextlib.contextmanager
def webhook_server(db: str, port: int, settings_module: str, api_url: str, app: str) -> Iterator[str]:
    """uvicorn with one worker and the bot configured for webhook mode."""
    env = bench_env(db)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": settings_module,
            "BESKONTAKT_TELEGRAM_TOKEN": TOKEN,
            "BESKONTAKT_TELEGRAM_WEBHOOK_SECRET": SECRET,
            "BESKONTAKT_TELEGRAM_API_URL": api_url,
        }
    )
    # Processing requests go nowhere unless a broker is given: this measures ingest only.
    env.setdefault("BESKONTAKT_BROKER_URL", "memory://")
    args = ["-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        [PYTHON, *args, "--workers", "1", "--log-level", "warning", "--no-access-log"], cwd=ROOT, env=env
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            time.sleep(0.2)
        else:
            raise RuntimeError("uvicorn did not start within 60 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def prepare_chats(count: int) -> list[int]:
    """Subscribers ``TGB000001``… with linked chats (created on the first run)."""
    from django.db import transaction
    from django.utils import timezone

    from beskontakt.inbox.models import TelegramChat
    from beskontakt.subscribers.models import Subscriber

    have = set(
        TelegramChat.objects.filter(chat_id__gte=CHAT_BASE, chat_id__lt=CHAT_BASE + count).values_list(
            "chat_id", flat=True
        )
    )
    missing = [n for n in range(count) if CHAT_BASE + n not in have]
    with transaction.atomic():
        for n in missing:
            subscriber, _ = Subscriber.objects.get_or_create(
                contract_number=f"TGB{n:06d}", defaults={"last_name": "Тестов", "first_name": f"Абонент {n}"}
            )
            TelegramChat.objects.create(
                chat_id=CHAT_BASE + n, subscriber=subscriber, language="ru", linked_at=timezone.now()
            )
    return [CHAT_BASE + n for n in range(count)]


def make_updates(total: int, chats: list[int], first_id: int, seed: int = 1) -> list[dict[str, object]]:
    """Message updates as Telegram sends them: random linked chats, Russian texts, increasing ids."""
    rng = random.Random(seed)
    now = int(time.time())
    per_chat: dict[int, int] = {}
    out = []
    for n in range(total):
        chat = rng.choice(chats)
        per_chat[chat] = per_chat.get(chat, 0) + 1
        out.append(
            {
                "update_id": first_id + n,
                "message": {
                    "message_id": first_id + n,
                    "date": now + n // 1000,
                    "chat": {"id": chat, "type": "private", "first_name": "Абонент"},
                    "from": {"id": chat, "is_bot": False, "first_name": "Абонент", "language_code": "ru"},
                    "text": rng.choice(TEXTS),
                },
            }
        )
    return out


async def post_all(base: str, payloads: list[dict[str, object]], clients: int) -> tuple[float, list[float], int]:
    """POST every update with ``clients`` concurrent connections; (seconds, latencies ms, errors)."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for payload in payloads:
        queue.put_nowait(json.dumps(payload).encode())
    latencies: list[float] = []
    errors = 0
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    url = f"{base}/inbox/telegram/webhook/"
    connector = aiohttp.TCPConnector(limit=clients)

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        while not queue.empty():
            body = queue.get_nowait()
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    errors += 1
                    if errors <= 3:
                        print(f"{response.status} {await response.text()}", file=sys.stderr)
            latencies.append((time.perf_counter() - started) * 1000)

    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return elapsed, latencies, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="bk_tg_bench")
    parser.add_argument("--updates", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--chats", type=int, default=2000)
    parser.add_argument("--process", type=int, default=5000, help="how many stored updates to handle (0: none)")
    parser.add_argument("--port", type=int, default=18150)
    parser.add_argument("--api-port", type=int, default=18151)
    parser.add_argument("--settings", default="beskontakt.settings", help="Django settings module of the server")
    parser.add_argument("--app", default="beskontakt.asgi:application", help="ASGI application to serve")
    parser.add_argument("--migrate", action="store_true", help="migrate the benchmark database first")
    args = parser.parse_args()
    setup_django(args.db)
    from django.conf import settings
    from django.core.management import call_command
    from django.db.models import Max

    if args.migrate:
        call_command("migrate", verbosity=0)
    from beskontakt.cases.models import Message
    from beskontakt.inbox.models import TelegramUpdate
    from beskontakt.inbox.telegram import updates
    from beskontakt.inbox.tests.telegram.fake_bot_api import FakeBotApi

    chats = prepare_chats(args.chats)
    # Anything a previous run left pending is not this run's work.
    TelegramUpdate.objects.filter(state=TelegramUpdate.State.PENDING).update(state=TelegramUpdate.State.FAILED)
    first_id = (TelegramUpdate.objects.aggregate(m=Max("update_id"))["m"] or 0) + 1
    payloads = make_updates(args.updates, chats, first_id)
    api = FakeBotApi(TOKEN, port=args.api_port).start()
    with webhook_server(args.db, args.port, args.settings, api.url, args.app) as base:
        asyncio.run(post_all(base, make_updates(200, chats, first_id + args.updates + 10, seed=2), 16))  # warm-up
        elapsed, latencies, errors = asyncio.run(post_all(base, payloads, args.clients))
        ids = [int(str(p["update_id"])) for p in payloads]
        stored = TelegramUpdate.objects.filter(update_id__gte=ids[0], update_id__lte=ids[-1]).count()
        asyncio.run(post_all(base, payloads[:500], 16))  # replayed: stores nothing
        stored_after = TelegramUpdate.objects.filter(update_id__gte=ids[0], update_id__lte=ids[-1]).count()
    report: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d"),
        "updates": args.updates,
        "clients": args.clients,
        "web_workers": 1,
        "seconds": round(elapsed, 2),
        "updates_per_s": round(args.updates / elapsed, 1),
        "latency_ms": percentiles(latencies),
        "errors": errors,
        "stored": stored,
        "stored_after_replay": stored_after,
    }
    # Processing: the stored updates into case messages (one worker, as a Celery worker would).
    if args.process:
        settings.TELEGRAM_BOT_TOKEN = TOKEN
        settings.TELEGRAM_API_URL = api.url
        keep = ids[: args.process]
        # Only the first --process updates of this run are handled (the warm-up and the rest are set aside).
        TelegramUpdate.objects.filter(state=TelegramUpdate.State.PENDING).exclude(update_id__in=keep).update(
            state=TelegramUpdate.State.FAILED
        )
        started = time.perf_counter()
        done = failed = 0
        while True:
            d, f = updates.process_pending(limit=200)
            done, failed = done + d, failed + f
            if d + f == 0:
                break
        seconds = time.perf_counter() - started
        external = [f"{p['message']['chat']['id']}:{p['message']['message_id']}" for p in payloads[: len(keep)]]  # type: ignore[index]
        messages = Message.objects.filter(channel="telegram", external_id__in=external).count()
        report["processing"] = {
            "updates": len(keep),
            "handled": done,
            "failed": failed,
            "seconds": round(seconds, 2),
            "updates_per_s": round(done / seconds, 1) if seconds else 0,
            "case_messages": messages,
        }
    api.stop()
    print(json.dumps(report, indent=2))
    lost = stored != args.updates or stored_after != stored
    print(
        f"webhook: {report['updates_per_s']} updates/s, p95 {report['latency_ms']['p95']} ms "  # type: ignore[index]
        f"({args.clients} clients, 1 uvicorn worker); stored {stored} of {args.updates}"
        + (" — LOST OR DUPLICATED" if lost else ", none lost or duplicated"),
        file=sys.stderr,
    )
    return 1 if lost or errors or float(str(report["updates_per_s"])) < 500 else 0


if __name__ == "__main__":
    sys.exit(main())
