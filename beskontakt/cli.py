"""The ``beskontakt`` command: Django management plus ``serve`` and ``acs``.

``beskontakt serve --with-worker`` runs the web server (uvicorn), a Celery
worker and the Celery beat scheduler together, which is what ``make demo``
uses: one command, no broker server (the filesystem transport).
``--with-acs`` adds the TR-069 ACS (``beskontakt acs``, port 7547) and the demo's
simulated routers (``manage.py cpe_simulate --demo``).
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
    parser.add_argument(
        "--with-acs", action="store_true", help="also run the TR-069 ACS and the demo's simulated devices"
    )
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
    if args.with_acs:
        from django.conf import settings

        from beskontakt.cpe.acs.backend import configured_bootstrap_password

        children.append(subprocess.Popen(_acs_command(settings.ACS_HOST, settings.ACS_PORT, 1)))  # noqa: S603
        children.append(
            subprocess.Popen(  # noqa: S603 - fixed argument list
                [sys.executable, "manage.py", "cpe_simulate", "--demo", "--acs", settings.ACS_URL,
                 "--password", configured_bootstrap_password(), "--stats-every", "0", "--wan-octet", "127"],
                cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
            )
        )  # fmt: skip
        print(f"The ACS is at {settings.ACS_URL}", flush=True)
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


def _acs_command(host: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "beskontakt.cpe.acs.app:application",
        "--host", host, "--port", str(port), "--workers", str(workers),
        "--log-level", "warning", "--no-access-log", "--timeout-keep-alive", "30",
    ]  # fmt: skip


def _acs(argv: list[str]) -> int:
    """``beskontakt acs``: the TR-069 ACS (uvicorn running the ACS's ASGI app, in this process)."""
    parser = argparse.ArgumentParser(prog="beskontakt acs", description="Run the TR-069 ACS.")
    parser.add_argument("--host", default=None, help="address to listen on (ACS_HOST)")
    parser.add_argument("--port", type=int, default=None, help="port (ACS_PORT, 7547)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (each with its own caches)")
    args = parser.parse_args(argv)

    import django

    django.setup()
    from django.conf import settings

    command = _acs_command(args.host or settings.ACS_HOST, args.port or settings.ACS_PORT, max(1, args.workers))
    print(f"The ACS listens on {args.host or settings.ACS_HOST}:{args.port or settings.ACS_PORT}", flush=True)
    os.execv(sys.executable, command)  # noqa: S606 - uvicorn takes over this process (signals reach it)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beskontakt.settings")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "serve":
        return _serve(argv[1:])
    if argv and argv[0] == "acs":
        return _acs(argv[1:])
    from django.core.management import execute_from_command_line

    execute_from_command_line(["beskontakt", *argv])
    return 0


if __name__ == "__main__":
    sys.exit(main())
