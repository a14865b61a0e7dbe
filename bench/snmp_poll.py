"""SNMP polling benchmark: poll >= 10,000 interfaces on simulated switches and time it.

Starts several snmpsim processes (``make snmp`` installs snmpsim) serving the recorded
switches of snmpsim-data, then polls enough node targets (each a full IF-MIB walk:
status, counters, names, speeds) to cover the wanted number of ports, with the same
client and concurrency the Celery poller uses. Prints ports/s, total seconds, failures.

    .venv/bin/python bench/snmp_poll.py [--ports 10000] [--processes 2] [--concurrency 64] [--full]

By default each node gets the regular 5-minute poll (status and counters: ten IF-MIB
columns); ``--full`` adds the names and speeds read on a node's first poll and hourly.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from beskontakt.network.snmp.client import Credentials, Target, poll_many
from beskontakt.network.tests.agents import RECORDINGS, start_snmpsim


async def _count_ports(port: int) -> dict[str, int]:
    targets = [Target("127.0.0.1", port, Credentials(community=r), key=r) for r in RECORDINGS]
    return {r.target.key: len(r.interfaces) for r in await poll_many(targets)}


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--ports", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=2, help="snmpsim processes")
    parser.add_argument("--concurrency", type=int, default=64, help="nodes polled at once")
    parser.add_argument("--timeout", type=float, default=5.0, help="per-request timeout, seconds")
    parser.add_argument(
        "--full", action="store_true", help="also read names and speeds (the hourly full poll) on every node"
    )
    args = parser.parse_args()

    started = time.monotonic()
    agents = [start_snmpsim() for _ in range(args.processes)]
    ready = time.monotonic() - started
    print(f"{len(agents)} snmpsim processes ready in {ready:.1f} s (ports {[a.port for a in agents]})")
    try:
        sizes = asyncio.run(_count_ports(agents[0].port))
        print("interfaces per recording:", sizes)
        targets: list[Target] = []
        total = 0
        pairs = itertools.cycle([(a, r) for r in RECORDINGS for a in agents])
        while total < args.ports:
            agent, recording = next(pairs)
            creds = Credentials(community=recording)
            targets.append(Target("127.0.0.1", agent.port, creds, timeout=args.timeout, retries=1, key=len(targets)))
            total += sizes[recording]
        t0 = time.monotonic()
        readings = asyncio.run(poll_many(targets, concurrency=args.concurrency, full=args.full))
        seconds = time.monotonic() - t0
        ok = [r for r in readings if r.ok]
        ports = sum(len(r.interfaces) for r in ok)
        failures = len(readings) - len(ok)
        slowest = max((r.seconds for r in readings), default=0.0)
        print(f"nodes polled: {len(readings)}, failures: {failures}")
        print(
            f"ports polled: {ports} in {seconds:.1f} s = {ports / seconds:.0f} ports/s (slowest node {slowest:.1f} s)"
        )
        verdict = "PASS" if ports >= args.ports and seconds <= 60 and failures == 0 else "FAIL"
        print(f"target: {args.ports} ports within 60 s -> {verdict}")
        return 0 if verdict == "PASS" else 1
    finally:
        for agent in agents:
            agent.stop()


if __name__ == "__main__":
    raise SystemExit(main())
