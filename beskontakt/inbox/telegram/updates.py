"""Telegram updates: stored first, handled after.

Whatever brings an update (the webhook or long polling) calls :func:`store`
(or :func:`store_many`), which only validates the shape and writes a
``TelegramUpdate`` row — a repeated ``update_id`` is a no-op. Handling happens
later in :func:`process_pending` (a Celery task, or the polling command):
pending rows are claimed one at a time with ``SELECT … FOR UPDATE SKIP
LOCKED`` (PostgreSQL; SQLite serialises writers anyway), in ``update_id``
order, and fed to the aiogram dispatcher inside the same transaction. The
handlers' writes and the row's new state commit together: a crash in the
middle leaves the update pending, and the next run handles it again (case
messages are idempotent on ``chat_id:message_id``, so nothing doubles).
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from pydantic import ValidationError as ShapeError

from beskontakt.inbox.models import TelegramUpdate

log = logging.getLogger(__name__)

State = TelegramUpdate.State
# Attempts before an update whose handling keeps failing is marked failed.
MAX_ATTEMPTS = 5
MAX_UPDATE_ID = 2**63 - 1


def validate(payload: Any) -> int:
    """The ``update_id`` of a Bot API update; raises ``ValidationError`` saying what is wrong."""
    if not isinstance(payload, dict):
        raise ValidationError(
            _('A Telegram update must be a JSON object with an integer "update_id".'), code="not_object"
        )
    update_id = payload.get("update_id")
    if isinstance(update_id, bool) or not isinstance(update_id, int):
        raise ValidationError(_('The update has no integer "update_id".'), code="update_id")
    if not 0 <= update_id <= MAX_UPDATE_ID:
        raise ValidationError(_('"update_id" is out of range.'), code="update_id")
    return update_id


def schedule_processing() -> None:
    """Ask a Celery worker to handle what is pending (the periodic sweep does it if the broker is down)."""
    try:
        from beskontakt.inbox.tasks import process_telegram_updates

        process_telegram_updates.delay()
    except Exception:
        log.warning("telegram: could not queue processing; the periodic task will", exc_info=True)


def store(payload: Any, *, schedule: bool = True) -> bool:
    """Store one update; ``False`` if its ``update_id`` was stored before.

    Raises ``ValidationError`` when the payload is not an update. With
    ``schedule``, processing is queued once the transaction commits.
    """
    update_id = validate(payload)
    if TelegramUpdate.objects.filter(update_id=update_id).exists():
        return False
    try:
        with transaction.atomic():
            TelegramUpdate.objects.create(update_id=update_id, payload=payload)
    except IntegrityError:  # stored by a concurrent request a moment ago
        return False
    if schedule:
        transaction.on_commit(schedule_processing)
    return True


def store_many(payloads: list[dict[str, Any]]) -> int:
    """Store validated updates in one statement (repeats ignored); returns how many were given.

    Used by the webhook's coalescing writer; callers validate each payload first.
    """
    rows = [TelegramUpdate(update_id=p["update_id"], payload=p) for p in payloads]
    with transaction.atomic():
        TelegramUpdate.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


@dataclass
class _Claim:
    """A pending update locked by this worker, with the transaction it is handled in."""

    row: TelegramUpdate
    outer: transaction.Atomic
    inner: transaction.Atomic


def _claim_next(tried: list[int]) -> _Claim | None:
    """Open a transaction and lock the oldest pending update not tried in this run (None: nothing left)."""
    outer = transaction.atomic()
    outer.__enter__()
    try:
        row = (
            TelegramUpdate.objects.select_for_update(skip_locked=True)
            .filter(state=State.PENDING)
            .exclude(pk__in=tried)
            .order_by("update_id")
            .first()
        )
        if row is None:
            outer.__exit__(None, None, None)
            return None
        inner = transaction.atomic()
        inner.__enter__()
    except BaseException:
        outer.__exit__(*sys.exc_info())
        raise
    tried.append(row.pk)
    return _Claim(row, outer, inner)


def _finish(claim: _Claim, error: BaseException | None) -> bool:
    """Keep (or roll back) the handlers' writes, record the outcome and commit; True if handled."""
    row = claim.row
    try:
        if error is None:
            claim.inner.__exit__(None, None, None)
        else:
            claim.inner.__exit__(type(error), error, error.__traceback__)
        row.attempts += 1
        if error is None:
            row.state, row.error = State.DONE, ""
        else:
            row.error = f"{error.__class__.__name__}: {error}"[:2000]
            permanent = isinstance(error, ShapeError)
            row.state = State.FAILED if permanent or row.attempts >= MAX_ATTEMPTS else State.PENDING
        row.save(update_fields=["state", "attempts", "error"])
    except BaseException:
        claim.outer.__exit__(*sys.exc_info())
        raise
    claim.outer.__exit__(None, None, None)
    return error is None


async def _run(limit: int) -> tuple[int, int]:
    from aiogram.types import Update

    from . import bot as bot_module
    from . import client

    dispatcher = bot_module.dispatcher()
    bot = client.make_bot()
    done = failed = 0
    tried: list[int] = []
    claim_next = sync_to_async(_claim_next)
    finish = sync_to_async(_finish)
    try:
        for _ in range(limit):
            claim = await claim_next(tried)
            if claim is None:
                break
            error: BaseException | None = None
            try:
                update = Update.model_validate(claim.row.payload, context={"bot": bot})
                await dispatcher.feed_update(bot, update)
            except Exception as exc:
                log.warning("telegram: update %s failed: %r", claim.row.update_id, exc)
                error = exc
            except BaseException as exc:  # cancelled: roll back, leave it pending, stop
                await finish(claim, exc)
                raise
            if await finish(claim, error):
                done += 1
            else:
                failed += 1
    finally:
        await bot.session.close()
    return done, failed


def process_pending(limit: int = 200) -> tuple[int, int]:
    """Handle up to ``limit`` stored updates in ``update_id`` order; returns (handled, failed).

    A failed update stays pending for the next run until ``MAX_ATTEMPTS``
    (an update aiogram cannot parse fails at once); its error is kept on the row.
    Must be called from synchronous code (a Celery task, a management command).
    """
    if not TelegramUpdate.objects.filter(state=State.PENDING).exists():
        return 0, 0
    if not settings.TELEGRAM_BOT_TOKEN:
        log.warning("telegram: updates are waiting but TELEGRAM_BOT_TOKEN is not set")
        return 0, 0
    return async_to_sync(_run)(limit)
