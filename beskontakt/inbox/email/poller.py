"""Reading the care mailbox over IMAP (``imapclient``) into cases.

:func:`poll_once` connects with the ``IMAP_*`` settings, selects the folder and
reads only the messages after the :class:`~beskontakt.inbox.models.MailboxCursor`:
UIDs above ``last_uid`` while the folder's UIDVALIDITY is the one the cursor
saw (a new UIDVALIDITY means the UIDs were renumbered: everything is read
again, and the Message-IDs make the repeats no-ops). Messages are fetched in
batches with ``BODY.PEEK[]`` (not marked read yet) and taken in by
:class:`~beskontakt.inbox.email.intake.Intake` (on ``EMAIL_INTAKE_THREADS``
threads, e-mails of one thread of conversation in order on one of them); the
cursor moves past a batch only once every e-mail of it is stored, so a crash
at any moment loses nothing (the repeats after a restart are no-ops); the batch
is then flagged ``\\Seen``.
Messages larger than the limit are not downloaded: their header is read and
they are kept refused as too large.

:func:`idle_loop` keeps a connection open and waits with IMAP IDLE when the
server has it (woken the moment mail arrives), or polls every
``poll_seconds`` otherwise; it reconnects with back-off after errors.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from beskontakt.inbox.models import MailboxCursor

from . import intake
from .parse import MAX_MESSAGE_BYTES

log = logging.getLogger(__name__)

BATCH = 100
SEEN = b"\\Seen"
IDLE_REFRESH = 25 * 60  # RFC 2177: re-issue IDLE at least every 29 minutes
NETWORK_ERRORS = (IMAPClientError, OSError, TimeoutError, ssl.SSLError)


def cursor_name(folder: str | None = None) -> str:
    """The cursor's name for the configured mailbox and ``folder``."""
    return f"{settings.IMAP_USER}@{settings.IMAP_HOST}:{settings.IMAP_PORT}/{folder or settings.IMAP_FOLDER}"


def connect() -> IMAPClient:
    """A logged-in IMAP connection with the ``IMAP_*`` settings."""
    client = IMAPClient(
        settings.IMAP_HOST,
        port=settings.IMAP_PORT,
        ssl=settings.IMAP_SSL,
        timeout=float(getattr(settings, "IMAP_TIMEOUT", 60)),
    )
    try:
        client.login(settings.IMAP_USER, settings.IMAP_PASSWORD)
    except BaseException:
        _close(client)
        raise
    return client


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:
        with contextlib.suppress(Exception):
            client.shutdown()


def _cursor(folder: str, uidvalidity: int) -> MailboxCursor:
    cursor, _created = MailboxCursor.objects.get_or_create(name=cursor_name(folder)[:200])
    if cursor.uidvalidity != uidvalidity:
        if cursor.uidvalidity is not None:
            log.warning(
                "mail: UIDVALIDITY of %s changed (%s -> %s): reading the folder again",
                cursor.name,
                cursor.uidvalidity,
                uidvalidity,
            )
        cursor.uidvalidity = uidvalidity
        cursor.last_uid = 0
        cursor.save(update_fields=["uidvalidity", "last_uid"])
    return cursor


def drain(client: IMAPClient, folder: str | None = None) -> int:
    """Store every message after the cursor in ``folder``; returns how many were read."""
    folder = folder or settings.IMAP_FOLDER
    selected = client.select_folder(folder)
    uidvalidity = int(selected[b"UIDVALIDITY"])
    cursor = _cursor(folder, uidvalidity)
    last = cursor.last_uid
    # "n:*" always matches the newest message, even when its UID is below n.
    uids = sorted(u for u in client.search(["UID", f"{last + 1}:*"]) if u > last)
    done = 0
    for start in range(0, len(uids), BATCH):
        batch = uids[start : start + BATCH]
        done += _read_batch(client, cursor, batch)
        try:
            client.add_flags(batch, [SEEN], silent=True)
        except IMAPClientError as exc:  # a read-only folder: the cursor is what counts
            log.info("mail: could not flag %d messages seen: %s", len(batch), exc)
    MailboxCursor.objects.filter(pk=cursor.pk).update(polled_at=timezone.now(), error="")
    return done


def workers() -> int:
    """Threads that take in one batch (``EMAIL_INTAKE_THREADS``; one on SQLite, which writes one at a time)."""
    configured = getattr(settings, "EMAIL_INTAKE_THREADS", None)
    if configured is not None:
        return max(1, int(configured))
    return 1 if connection.vendor == "sqlite" else 2


def _read_batch(client: IMAPClient, cursor: MailboxCursor, batch: list[int]) -> int:
    """Store one batch of UIDs; the cursor moves past them only once all of them are stored."""
    sizes = client.fetch(batch, ["RFC822.SIZE"])
    small = [u for u in batch if int(sizes.get(u, {}).get(b"RFC822.SIZE", 0)) <= MAX_MESSAGE_BYTES]
    large = [u for u in batch if u not in set(small)]
    fetched = client.fetch(small, ["BODY.PEEK[]"]) if small else {}
    heads = client.fetch(large, ["BODY.PEEK[HEADER]"]) if large else {}
    present = [u for u in small if u in fetched]
    vanished = len(small) - len(present)
    if vanished:  # expunged between SEARCH and FETCH
        log.info("mail: %d message(s) vanished before they were read", vanished)
    taken = intake.Intake([fetched[u].get(b"BODY[]") or b"" for u in present])
    taken.ingest_all([str(u) for u in present], workers=workers())
    for uid in large:
        head = heads.get(uid, {}).get(b"BODY[HEADER]") or b""
        intake.reject_oversized(head, int(sizes[uid][b"RFC822.SIZE"]), uid=str(uid))
    MailboxCursor.objects.filter(pk=cursor.pk).update(last_uid=batch[-1])
    cursor.last_uid = batch[-1]
    return len(batch)


def _record_error(exc: BaseException) -> None:
    with contextlib.suppress(DatabaseError):
        MailboxCursor.objects.filter(name=cursor_name()[:200]).update(
            error=f"{exc.__class__.__name__}: {exc}"[:1000], polled_at=timezone.now()
        )


def poll_once() -> int:
    """Connect, read everything new from the configured folder, disconnect; returns how many were read.

    Returns 0 at once when ``IMAP_HOST`` is empty (e-mail intake switched off).
    """
    if not settings.IMAP_HOST:
        return 0
    try:
        client = connect()
    except NETWORK_ERRORS as exc:
        _record_error(exc)
        raise
    try:
        return drain(client)
    except NETWORK_ERRORS as exc:
        _record_error(exc)
        raise
    finally:
        _close(client)


def idle_loop(
    stop: threading.Event | None = None,
    *,
    poll_seconds: float = 60,
    on_round: Callable[[int], Any] | None = None,
) -> None:
    """Read mail as it arrives until ``stop`` is set: IMAP IDLE when the server has it, else polling.

    ``on_round`` is called with the count after every read. Network errors are
    logged and the loop reconnects after a growing pause (up to 5 minutes).
    """
    stop = stop or threading.Event()
    pause = 1.0
    while not stop.is_set():
        client: IMAPClient | None = None
        try:
            client = connect()
            count = drain(client)
            if on_round:
                on_round(count)
            pause = 1.0
            if b"IDLE" in client.capabilities():
                _idle(client, stop, on_round)
            else:
                while not stop.wait(poll_seconds):
                    count = drain(client)
                    if on_round:
                        on_round(count)
        except NETWORK_ERRORS as exc:
            log.warning("mail: %s; reconnecting in %.0f s", exc, pause)
            _record_error(exc)
            stop.wait(pause)
            pause = min(pause * 2, 300.0)
        except DatabaseError as exc:
            log.warning("mail: database error %s; retrying in %.0f s", exc, pause)
            connection.close()
            stop.wait(pause)
            pause = min(pause * 2, 300.0)
        finally:
            if client is not None:
                _close(client)


def _idle(client: IMAPClient, stop: threading.Event, on_round: Callable[[int], Any] | None) -> None:
    """Wait in IDLE; read the folder whenever the server reports new messages (and every refresh)."""
    while not stop.is_set():
        client.idle()
        started = time.monotonic()
        news = False
        try:
            while not stop.is_set() and time.monotonic() - started < IDLE_REFRESH:
                responses = client.idle_check(timeout=1)
                if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                    news = True
                    break
        finally:
            client.idle_done()
        if stop.is_set():
            return
        if news or time.monotonic() - started >= IDLE_REFRESH:
            count = drain(client)
            if on_round:
                on_round(count)
