"""How fast workers turn queued inbound messages into case messages.

    .venv/bin/python bench/inbound_drain.py --db beskontakt_bench [--seconds 30]

Processes the ``PendingInbound`` backlog left by ``inbound_throughput.py`` in
this process (one worker's worth of work, without broker overhead) for
``--seconds`` and prints messages per second. Run several in parallel to see
how it scales with workers (rows are claimed with SKIP LOCKED).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from common import setup_django


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="beskontakt_bench")
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    setup_django(args.db)
    from beskontakt.cases import intake
    from beskontakt.cases.models import PendingInbound

    backlog = PendingInbound.objects.filter(state="pending").count()
    started = time.monotonic()
    done = failed = 0
    while time.monotonic() - started < args.seconds:
        d, f = intake.process_pending(limit=100)
        done, failed = done + d, failed + f
        if d + f == 0:
            break
    elapsed = time.monotonic() - started
    report = {
        "backlog": backlog,
        "processed": done,
        "failed": failed,
        "seconds": round(elapsed, 1),
        "per_s": round((done + failed) / elapsed, 1),
    }
    print(json.dumps(report))
    print(f"one worker: {report['per_s']} messages/s into cases ({done} done, {failed} failed)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
