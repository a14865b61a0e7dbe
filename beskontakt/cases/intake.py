"""Queued intake: accept inbound messages fast and durably, process them in workers.

``accept`` validates a batch, writes every new item as a ``PendingInbound`` row
in one INSERT (a repeat of a stored channel id is reported as a replay and
ignored) and asks a worker to process once the transaction commits.
``process_pending`` claims rows with ``FOR UPDATE SKIP LOCKED`` so any number
of workers can share the backlog, and stores each through
``actions.receive_message`` — itself idempotent, so a row processed twice
after a worker crash still makes one message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from beskontakt.subscribers.models import Subscriber

from . import actions
from .access import visible_cases
from .models import PendingInbound

MAX_ATTEMPTS = 5


def accept(user: Any, items: list[dict[str, Any]]) -> list[str]:
    """Store valid, shape-checked items; returns "accepted" or "replayed" per item, in order.

    ``items`` carry ``channel``, ``external_id``, ``body`` and optionally
    ``subscriber`` (id or contract number), ``case``, ``subject``, ``sender``,
    ``sent_at`` (an aware datetime).
    """
    keys = [(i["channel"], i["external_id"]) for i in items]
    stored = set(
        PendingInbound.objects.filter(external_id__in={k[1] for k in keys}).values_list("channel", "external_id")
    )
    seen: set[tuple[str, str]] = set()
    rows, outcome = [], []
    now = timezone.now()
    for item, key in zip(items, keys, strict=True):
        if key in stored or key in seen:
            outcome.append("replayed")
            continue
        seen.add(key)
        payload = {k: v for k, v in item.items() if k not in ("channel", "external_id") and v not in (None, "")}
        if payload.get("sent_at") is not None:
            payload["sent_at"] = payload["sent_at"].isoformat()
        rows.append(
            PendingInbound(channel=key[0], external_id=key[1], payload=payload, submitted_by=user, received_at=now)
        )
        outcome.append("accepted")
    with transaction.atomic():
        PendingInbound.objects.bulk_create(rows, ignore_conflicts=True)
        if rows:
            from .tasks import process_inbound

            transaction.on_commit(lambda: process_inbound.delay())
    return outcome


def _store(row: PendingInbound) -> None:
    """Turn one pending row into a case message (raises ValidationError when it cannot be)."""
    data = row.payload
    subscriber = None
    ref = data.get("subscriber")
    if isinstance(ref, int):
        subscriber = Subscriber.objects.filter(pk=ref).first()
    elif isinstance(ref, str):
        subscriber = Subscriber.objects.filter(contract_number=ref).first()
    if ref is not None and subscriber is None:
        raise ValidationError({"subscriber": _("No such subscriber.")})
    case = None
    if data.get("case") is not None:
        case = visible_cases(row.submitted_by).filter(pk=data["case"]).first()
        if case is None:
            raise ValidationError({"case": _("No case with this id.")})
        while case.merged_into_id is not None and case.merged_into is not None:
            case = case.merged_into
    sent_at = data.get("sent_at")
    message, _created = actions.receive_message(
        channel=row.channel,
        external_id=row.external_id,
        body=data.get("body", ""),
        case=case,
        subscriber=subscriber or (case.subscriber if case else None),
        subject=data.get("subject") or None,
        sender=data.get("sender") or "",
        at=datetime.fromisoformat(sent_at) if sent_at else None,
        by=row.submitted_by,
    )
    row.message = message


def process_pending(limit: int = 200) -> tuple[int, int]:
    """Process up to ``limit`` pending rows; returns (done, failed)."""
    done = failed = 0
    with transaction.atomic():
        rows = list(
            PendingInbound.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state=PendingInbound.State.PENDING)
            .select_related("submitted_by")
            .order_by("received_at", "id")[:limit]
        )
        for row in rows:
            row.attempts += 1
            try:
                with transaction.atomic():
                    _store(row)
                row.state = PendingInbound.State.DONE
                row.error = ""
                done += 1
            except ValidationError as exc:
                row.state = PendingInbound.State.FAILED
                row.error = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
                failed += 1
            except Exception as exc:  # a transient fault: retried until MAX_ATTEMPTS
                row.error = f"{type(exc).__name__}: {exc}"[:1000]
                if row.attempts >= MAX_ATTEMPTS:
                    row.state = PendingInbound.State.FAILED
                    failed += 1
            row.processed_at = timezone.now()
            row.save(update_fields=["attempts", "state", "error", "message", "processed_at"])
    return done, failed
