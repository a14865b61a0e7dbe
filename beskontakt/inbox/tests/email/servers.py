"""Real mail servers for the e-mail tests and the benchmark: Debian's dovecot (IMAP) and aiosmtpd (SMTP).

Both listen on loopback on a free port in 18200-18299. Dovecot gets a
minimal configuration in a temporary folder of its own (plaintext login,
a passwd-file, maildir storage, no SSL) and runs in the foreground as a
child process; it is stopped by its process id.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from imapclient import IMAPClient

DOVECOT = "/usr/sbin/dovecot"
# Half of the range per pytest-xdist worker, so two workers never race for the same port.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0) % 2
PORTS = range(18200 + 50 * _WORKER, 18250 + 50 * _WORKER)
USER = "care"
PASSWORD = "care-secret-1"

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = bk-mail-{port}
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {login_user}
mail_location = maildir:{root}/mail/%u
mail_uid = {user}
mail_gid = {group}
first_valid_uid = 1
mail_max_userip_connections = 100
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
"""


def free_port(skip: set[int] | None = None) -> int:
    """A port of 18200-18299 nothing listens on now."""
    for port in PORTS:
        if skip and port in skip:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18200-18299")


def _existing_user(*names: str) -> pwd.struct_passwd:
    for name in names:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError(f"none of the users {names} exists")


class Dovecot:
    """A private dovecot IMAP server on loopback (one user, ``care``)."""

    def __init__(self) -> None:
        if not os.path.exists(DOVECOT):
            raise RuntimeError(
                f"dovecot is not installed ({DOVECOT} missing): run `apt-get install dovecot-imapd` "
                "(the e-mail tests and bench/email_intake.py need a real IMAP server)"
            )
        self.root = Path(tempfile.mkdtemp(prefix="bk-dovecot-"))
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.user = USER
        self.password = PASSWORD

    def start(self) -> Dovecot:
        """Write the configuration, start dovecot and wait until it answers."""
        internal = _existing_user("dovecot", "mail")
        login = _existing_user("dovenull", "nobody")
        os.chmod(self.root, 0o755)  # noqa: S103 - dovecot's own users must reach the folder
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir()
        os.chown(self.root / "mail", internal.pw_uid, internal.pw_gid)
        passwd = self.root / "passwd"
        passwd.write_text(f"{USER}:{{PLAIN}}{PASSWORD}:::::\n")
        passwd.chmod(0o644)
        for _attempt in range(5):
            self.port = free_port()
            config = self.root / "dovecot.conf"
            config.write_text(
                CONFIG.format(
                    root=self.root,
                    port=self.port,
                    user=internal.pw_name,
                    group=_group_name(internal.pw_gid),
                    login_user=login.pw_name,
                )
            )
            self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
                [DOVECOT, "-F", "-c", str(config)],
                stdout=subprocess.DEVNULL,
                stderr=open(self.root / "stderr.log", "wb"),  # noqa: SIM115 - kept open for the child
            )
            if self._wait_ready():
                return self
            self.stop(keep_files=True)
        raise RuntimeError(f"dovecot did not start; see {self.root}/dovecot.log and stderr.log")

    def _wait_ready(self, seconds: float = 15) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                return False
            try:
                client = self.client()
            except (OSError, Exception):
                time.sleep(0.1)
                continue
            client.logout()
            return True
        return False

    def client(self, folder: str | None = None) -> IMAPClient:
        """A logged-in IMAP client (with ``folder`` selected, if given)."""
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=30)
        client.login(self.user, self.password)
        if folder:
            client.select_folder(folder)
        return client

    def stop(self, keep_files: bool = False) -> None:
        """Stop dovecot (its master process, by pid) and remove its folder."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None
        if not keep_files:
            shutil.rmtree(self.root, ignore_errors=True)


def _group_name(gid: int) -> str:
    import grp

    return grp.getgrgid(gid).gr_name


# --- SMTP ---------------------------------------------------------------------------


@dataclass
class Received:
    """One e-mail the SMTP server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass
class RecordingHandler:
    """Keeps every accepted envelope; refuses recipients as told (by address substring)."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        for needle, answer in self.refuse.items():
            if needle.lower() in address.lower():
                return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        with self.lock:
            self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), content))
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd's Controller on loopback recording what it receives."""

    def __init__(self) -> None:
        self.handler = RecordingHandler()
        self.port = free_port()
        self.controller: Any = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def clear(self) -> None:
        """Forget what was received and every refusal rule."""
        with self.handler.lock:
            self.handler.received.clear()
        self.handler.refuse.clear()

    @property
    def received(self) -> list[Received]:
        return self.handler.received
