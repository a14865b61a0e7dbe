"""Real SNMP agents for the tests and the bench: snmpsim with recorded switches, and Debian's snmpd."""

from __future__ import annotations

import asyncio
import bz2
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from beskontakt.network.snmp.client import Credentials, Target, poll_one

ROOT = Path(__file__).resolve().parents[3]
SNMPSIM_VENV = ROOT / "var" / "snmpsim-venv"
SNMPSIM = SNMPSIM_VENV / "bin" / "snmpsim-command-responder"
SNMPD = Path("/usr/sbin/snmpd")
RECORDINGS = ("cisco-c3560", "dlink-des3200", "zte-zxr10-5250", "bdcom-s5612")
V3_USER, V3_AUTH, V3_PRIV = "bkv3", "bk-auth-pass", "bk-priv-pass"
V2C_COMMUNITY = "bk-test"


def free_udp_port() -> int:
    """A UDP port on loopback that is free right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _data_source() -> Path | None:
    lib = SNMPSIM_VENV / "lib"
    for candidate in lib.glob("python3*/site-packages/snmpsim_data/data/network/switch"):
        return candidate
    return None


@dataclass
class Agent:
    """A running agent process: where it listens and how to stop it."""

    process: subprocess.Popen[bytes]
    port: int
    workdir: Path

    def stop(self) -> None:
        """Terminate the agent and remove its files."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        shutil.rmtree(self.workdir, ignore_errors=True)


def _wait_until_answers(target: Target, process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the SNMP agent exited with {process.returncode}")
        reading = asyncio.run(poll_one(target, [1], deadline=2))
        if reading.ok:
            return
        time.sleep(0.2)
    raise RuntimeError("the SNMP agent did not answer in time")


def start_snmpsim(recordings: dict[str, str] | None = None, port: int | None = None) -> Agent:
    """Start snmpsim serving ``{community: recording}`` (default: each recording under its own name)."""
    source = _data_source()
    if not SNMPSIM.exists() or source is None:
        raise FileNotFoundError("snmpsim is not installed: run 'make snmp'")
    recordings = recordings or {name: name for name in RECORDINGS}
    workdir = Path(tempfile.mkdtemp(prefix="bk-snmpsim-"))
    data, cache = workdir / "data", workdir / "cache"
    data.mkdir()
    cache.mkdir()
    for community, recording in recordings.items():
        with bz2.open(source / f"{recording}.snmprec.bz2") as packed:
            (data / f"{community}.snmprec").write_bytes(packed.read())
    for path in (workdir, data, *data.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
    cache.chmod(0o777)
    port = port or free_udp_port()
    command = [
        str(SNMPSIM),
        f"--data-dir={data}",
        f"--cache-dir={cache}",
        f"--agent-udpv4-endpoint=127.0.0.1:{port}",
        "--logging-method=null",
    ]
    if os.geteuid() == 0:
        command += ["--process-user=nobody", "--process-group=nogroup"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    agent = Agent(process, port, workdir)
    first = next(iter(recordings))
    try:
        _wait_until_answers(
            Target("127.0.0.1", port, Credentials(community=first), timeout=0.5, retries=0), process, 60
        )
    except Exception:
        agent.stop()
        raise
    return agent


def start_snmpd(port: int | None = None) -> Agent:
    """Start Debian's snmpd on loopback with a v2c community and a v3 user (SHA/AES) of our own."""
    if not SNMPD.exists():
        raise FileNotFoundError("snmpd is not installed: run 'make snmp'")
    workdir = Path(tempfile.mkdtemp(prefix="bk-snmpd-"))
    port = port or free_udp_port()
    config = workdir / "snmpd.conf"
    config.write_text(
        f"agentAddress udp:127.0.0.1:{port}\n"
        f"rocommunity {V2C_COMMUNITY} 127.0.0.1\n"
        f'createUser {V3_USER} SHA "{V3_AUTH}" AES "{V3_PRIV}"\n'
        f"rouser {V3_USER} priv\n"
    )
    env = {**os.environ, "SNMP_PERSISTENT_DIR": str(workdir), "MIBS": "", "MIBDIRS": str(workdir)}
    process = subprocess.Popen(  # noqa: S603
        [str(SNMPD), "-f", "-Lf", str(workdir / "snmpd.log"), "-C", "-c", str(config), "-p", str(workdir / "pid")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    agent = Agent(process, port, workdir)
    try:
        creds = Credentials(community=V2C_COMMUNITY)
        _wait_until_answers(Target("127.0.0.1", port, creds, timeout=0.5, retries=0), process, 20)
    except Exception:
        agent.stop()
        raise
    return agent
