"""Background work of the intake channels: delivery, sweeps, polling, presence."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="beskontakt.inbox.tasks.deliver", ignore_result=True, acks_late=True)
def deliver(item_id: int) -> str | None:
    """Deliver one outbox item (a no-op if it is not due or another worker has it)."""
    from . import outbox

    return outbox.deliver(item_id)


@shared_task(name="beskontakt.inbox.tasks.sweep_outbox", ignore_result=True)
def sweep_outbox(limit: int = 500) -> int:
    """Deliver what is due: retries after back-off and items a dead worker left behind."""
    from . import outbox

    done = 0
    for item_id in outbox.due_ids(limit):
        if outbox.deliver(item_id) is not None:
            done += 1
    return done


@shared_task(name="beskontakt.inbox.tasks.expire_presence", ignore_result=True)
def expire_presence() -> int:
    """Mark staff offline whose live connection has not been heard from for a while."""
    from . import presence

    return presence.expire()


@shared_task(name="beskontakt.inbox.tasks.follow_up_callbacks", ignore_result=True)
def follow_up_callbacks() -> int:
    """Reopen missed callbacks whose follow-up time has come; give up after the last attempt."""
    from . import callbacks

    return callbacks.follow_up_due()


@shared_task(name="beskontakt.inbox.tasks.process_telegram_updates", ignore_result=True)
def process_telegram_updates(rounds: int = 50) -> dict[str, int]:
    """Handle stored Telegram updates until none are pending (or ``rounds`` batches)."""
    from beskontakt.backlog import drain

    from .telegram import updates

    return drain(updates.process_pending, rounds)


@shared_task(name="beskontakt.inbox.tasks.poll_mailbox", ignore_result=True)
def poll_mailbox() -> int:
    """Fetch new e-mail from the IMAP mailbox into cases (nothing to do when IMAP is not configured)."""
    from django.conf import settings

    if not settings.IMAP_HOST:
        return 0
    from .email import poller

    return poller.poll_once()
