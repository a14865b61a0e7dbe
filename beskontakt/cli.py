"""The ``beskontakt`` command: Django management plus ``serve``.

``beskontakt serve --with-worker`` runs the web server (uvicorn), a Celery
worker and the Celery beat scheduler together, which is what ``make demo``
uses: one command, no broker server (the filesystem transport).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time


def _serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="beskontakt serve", description="Run the web UI (and a worker).")
    parser.add_argument("--host", default=os.environ.get("BESKONTAKT_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("BESKONTAKT_PORT", "8000")))
    parser.add_argument("--with-worker", action="store_true", help="also run a Celery worker with the beat scheduler")
    args = parser.parse_args(argv)

    import django

    django.setup()
    from beskontakt.celery import ensure_filesystem_transport_folders

    ensure_filesystem_transport_folders()
    children: list[subprocess.Popen[bytes]] = []
    if args.with_worker:
        children.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "beskontakt",
                    "worker",
                    "--beat",
                    "--concurrency",
                    "1",
                    "--loglevel",
                    "INFO",
                    "--without-gossip",
                    "--without-mingle",
                ],
                # Background work yields the CPU to the pages agents are waiting for (see benchmarks.md).
                preexec_fn=lambda: os.nice(10),
            )
        )
    children.append(
        subprocess.Popen(  # noqa: S603 - fixed argument list
            [
                sys.executable,
                "-m",
                "uvicorn",
                "beskontakt.asgi:application",
                "--host",
                args.host,
                "--port",
                str(args.port),
                "--log-level",
                "warning",
            ]
        )
    )
    print(f"Beskontakt is at http://{args.host}:{args.port}/ (Ctrl+C stops it)", flush=True)

    def stop(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
    return max((child.returncode or 0) for child in children)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beskontakt.settings")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "serve":
        return _serve(argv[1:])
    from django.core.management import execute_from_command_line

    execute_from_command_line(["beskontakt", *argv])
    return 0


if __name__ == "__main__":
    sys.exit(main())
