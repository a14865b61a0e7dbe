"""A throw-away PostgreSQL 15 server of the test's own (so it can be restarted without disturbing anyone)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PORTS = range(18530, 18560)


def free_port(ports: range = PORTS) -> int:
    """The first port of ``ports`` nothing listens on."""
    for port in ports:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports}")


class PostgresInstance:
    """initdb + pg_ctl in a temporary folder, trust auth on 127.0.0.1, run as the ``postgres`` OS user when root."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="bk-fault-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")

    @staticmethod
    def available() -> bool:
        """Whether PostgreSQL 15's server programs are installed."""
        return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists()

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_postgres else []
        return subprocess.run(  # noqa: S603 - fixed programs
            [*prefix, *args], check=True, capture_output=True, text=True, timeout=timeout, cwd=self.root
        )

    def init(self) -> PostgresInstance:
        """Create the cluster and start it."""
        self._run(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
            "--locale=C", "--no-sync",
        )  # fmt: skip
        self.start()
        return self

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        """Stop the server the way an operator restarting it would (``-m fast``: sessions are cut)."""
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        """``pg_ctl restart -m fast``."""
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "restart")

    def create_database(self, name: str) -> None:
        """CREATE DATABASE ``name``."""
        self._run(str(PG_BIN.parent / "bin" / "psql"), *self.psql_args(), "-c", f'CREATE DATABASE "{name}"')

    def psql_args(self) -> list[str]:
        """Connection arguments for psql."""
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-v", "ON_ERROR_STOP=1"]

    def destroy(self) -> None:
        """Stop the server (if running) and remove its folder."""
        with contextlib.suppress(Exception):
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)
