"""The transactional outbox: every outbound message and notice goes through here.

``enqueue`` writes an :class:`OutboundMessage` inside the caller's transaction
(so a reply and its delivery order commit or roll back together) and asks a
worker to deliver once the transaction commits. ``deliver`` claims one row,
calls the channel's notifier outside any transaction and records the outcome;
temporary failures are retried with exponential back-off, and a row a dead
worker left in "sending" is taken back by the sweep once its lease runs out.
The outcome is mirrored on the case message (delivered / failed with the
reason), where the agent sees it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from beskontakt.cases.models import Case, Event, Message
from beskontakt.subscribers.models import Channel, ContactPoint, Subscriber

from . import realtime
from .models import OutboundMessage
from .notifiers import AddressRefused, DeliveryError, PermanentFailure, TemporaryFailure, notifier_for

log = logging.getLogger(__name__)

Status = OutboundMessage.Status
MAX_ATTEMPTS = 8
# Channels that deliver inside the product (the portal and its chat): no address needed.
IN_APP = frozenset({Channel.PORTAL, Channel.CHAT})
# Which contact channel carries an outbound message on each channel.
CONTACT_CHANNELS: dict[str, tuple[str, ...]] = {
    Channel.EMAIL: (Channel.EMAIL,),
    Channel.TELEGRAM: (Channel.TELEGRAM,),
    Channel.SMS: (Channel.SMS, Channel.PHONE),
    Channel.PHONE: (Channel.SMS, Channel.PHONE),
}
# The order notices try when the subscriber has no preferred channel.
NOTICE_ORDER = (Channel.TELEGRAM, Channel.EMAIL, Channel.SMS, Channel.PHONE)


def lease() -> timedelta:
    """How long a claimed delivery belongs to its worker before the sweep may take it back."""
    return timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


def backoff(attempts: int) -> timedelta:
    """Wait before retry number ``attempts``: 15 s, 30 s, 1 min ... capped at one hour."""
    return timedelta(seconds=min(15 * 2 ** max(attempts - 1, 0), 3600))


def _address(channel: str, subscriber: Subscriber | None, case: Case | None) -> tuple[str, str]:
    """(address, reason it is missing) for an outbound message on ``channel``.

    The subscriber's consented contact on the channel (preferred first); for a
    sender not matched to a subscriber, the address the case's last inbound
    message on that channel came from. An opt-out wins over everything.
    """
    if channel in IN_APP:
        if subscriber is None:
            return "", _("The portal needs a subscriber; this case has none.")
        return f"subscriber:{subscriber.pk}", ""
    kinds = CONTACT_CHANNELS.get(channel, (channel,))
    if subscriber is not None:
        contacts = sorted(
            ContactPoint.objects.filter(subscriber=subscriber, channel__in=kinds),
            key=lambda c: (kinds.index(c.channel), not c.preferred, c.pk),
        )
        consented = [c for c in contacts if c.consent]
        if consented:
            return consented[0].value, ""
        if contacts:
            return "", _("The subscriber opted out of messages on this channel.")
    if case is not None:
        last = (
            Message.objects.filter(case=case, direction=Message.Direction.INBOUND, channel=channel)
            .exclude(sender="")
            .order_by("-created_at", "-id")
            .values_list("sender", flat=True)
            .first()
        )
        if last:
            return last, ""
    return "", _("No address for this channel: add the subscriber's contact or choose another channel.")


def reply_channels(case: Case) -> list[tuple[str, str]]:
    """Channels an agent can answer this case on: its own channel first, then every
    channel the subscriber has a consented contact on (and the portal if they log in)."""
    found: list[str] = [case.channel]
    subscriber = case.subscriber
    if subscriber is not None:
        kinds = ContactPoint.objects.filter(subscriber=subscriber, consent=True).values_list("channel", flat=True)
        for kind in kinds:
            found.append(Channel.SMS if kind == Channel.PHONE else kind)
        if subscriber.portal_user_id is not None:
            found += [Channel.CHAT, Channel.PORTAL]
    unique = list(dict.fromkeys(found))
    return [(value, str(Channel(value).label)) for value in unique]


def make_key(*parts: Any) -> str:
    """A stable idempotency key from the parts that identify one delivery."""
    raw = ":".join(str(p) for p in parts)
    return raw if len(raw) <= 120 else hashlib.sha256(raw.encode()).hexdigest()


def enqueue(
    *,
    channel: str,
    body: str,
    subscriber: Subscriber | None = None,
    case: Case | None = None,
    message: Message | None = None,
    address: str | None = None,
    subject: str = "",
    kind: str = OutboundMessage.Kind.NOTICE,
    key: str | None = None,
    payload: dict[str, Any] | None = None,
) -> OutboundMessage:
    """Write one outbound item in the current transaction; delivery starts on commit.

    A repeated ``key`` returns the stored item unchanged. Without an address
    the item is kept as *suppressed* with the reason (opt-out, no contact), and
    the case message shows it.
    """
    if subscriber is None and case is not None:
        subscriber = case.subscriber
    if key is None:
        key = make_key("msg", message.pk) if message is not None else make_key("notice", timezone.now().timestamp())
    existing = OutboundMessage.objects.filter(key=key).first()
    if existing is not None:
        return existing
    reason = ""
    if not address:
        address, reason = _address(channel, subscriber, case)
    item = OutboundMessage.objects.create(
        key=key,
        kind=kind,
        channel=channel,
        address=address,
        subscriber=subscriber,
        case=case,
        message=message,
        subject=subject[:300],
        body=body,
        payload=payload or {},
        status=Status.SUPPRESSED if reason else Status.PENDING,
        last_error=reason,
    )
    if reason:
        _mirror(item)
    else:
        transaction.on_commit(lambda: _schedule(item.pk))
    return item


def enqueue_reply(message: Message) -> OutboundMessage:
    """Queue delivery of an agent's reply (a case message) on its channel."""
    case = message.case
    attachments = [a.pk for a in message.attachments.all()] if message.pk else []
    return enqueue(
        channel=message.channel,
        body=message.body,
        case=case,
        message=message,
        subject=case.subject,
        kind=OutboundMessage.Kind.REPLY,
        key=make_key("msg", message.pk),
        payload={"attachments": attachments} if attachments else None,
    )


def notify(
    subscriber: Subscriber,
    *,
    body: str,
    key: str,
    subject: str = "",
    case: Case | None = None,
    channel: str | None = None,
    exclude: Iterable[str] = (),
) -> OutboundMessage:
    """Send a notice on ``channel``, or on the subscriber's preferred consented channel.

    Opt-outs are respected: a channel without a consented contact is skipped;
    with none left, the notice goes to the portal (where the subscriber sees it
    on login).
    """
    if channel is None:
        channel = preferred_channel(subscriber, exclude=exclude)
    return enqueue(channel=channel, body=body, subscriber=subscriber, case=case, subject=subject, key=key)


def preferred_channel(subscriber: Subscriber, *, exclude: Iterable[str] = ()) -> str:
    """The channel a notice to ``subscriber`` should use (a consented contact; portal otherwise)."""
    skip = set(exclude)
    contacts = [
        c
        for c in ContactPoint.objects.filter(subscriber=subscriber, consent=True).order_by("-preferred", "pk")
        if c.channel not in skip
    ]
    by_channel = {c.channel for c in contacts}
    chosen = subscriber.preferred_channel
    if chosen and chosen not in skip and (chosen in by_channel or chosen in IN_APP):
        return Channel.SMS if chosen == Channel.PHONE else chosen
    if contacts and contacts[0].preferred:
        return Channel.SMS if contacts[0].channel == Channel.PHONE else contacts[0].channel
    for channel in NOTICE_ORDER:
        if channel in by_channel:
            return Channel.SMS if channel == Channel.PHONE else channel
    return Channel.PORTAL


def _schedule(item_id: int) -> None:
    from .tasks import deliver

    try:
        deliver.delay(item_id)
    except Exception:  # the broker is down: the sweep delivers it
        log.warning("outbox: could not queue delivery of %s; the sweep will", item_id, exc_info=True)


def _claim(item_id: int, now: datetime) -> OutboundMessage | None:
    """Take one due item for delivery (a lease, so a dead worker's item comes back)."""
    with transaction.atomic():
        item = (
            OutboundMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=item_id, next_attempt_at__lte=now)
            .filter(Q(status=Status.PENDING) | Q(status=Status.SENDING))
            .first()
        )
        if item is None:
            return None
        item.status = Status.SENDING
        item.attempts += 1
        item.next_attempt_at = now + lease()
        item.save(update_fields=["status", "attempts", "next_attempt_at"])
        return item


def deliver(item_id: int) -> str | None:
    """Deliver one item if it is due; returns its new status (None if not due or taken)."""
    now = timezone.now()
    item = _claim(item_id, now)
    if item is None:
        return None
    try:
        provider_id = notifier_for(item.channel).send(item)
    except AddressRefused as exc:
        _finish(item, Status.FAILED, str(exc))
        _withdraw_consent(item)
    except PermanentFailure as exc:
        _finish(item, Status.FAILED, str(exc))
    except TemporaryFailure as exc:
        if item.attempts >= MAX_ATTEMPTS:
            reason = _("Gave up after %(n)d attempts: %(reason)s") % {"n": item.attempts, "reason": exc}
            _finish(item, Status.FAILED, reason)
        else:
            OutboundMessage.objects.filter(pk=item.pk).update(
                status=Status.PENDING, last_error=str(exc), next_attempt_at=timezone.now() + backoff(item.attempts)
            )
            item.status = Status.PENDING
    except DeliveryError as exc:
        _finish(item, Status.FAILED, str(exc))
    except Exception as exc:  # a bug or an unexpected library error: retry, keep the reason
        log.exception("outbox: delivery of %s failed unexpectedly", item.pk)
        OutboundMessage.objects.filter(pk=item.pk).update(
            status=Status.PENDING, last_error=repr(exc)[:1000], next_attempt_at=timezone.now() + backoff(item.attempts)
        )
        item.status = Status.PENDING
    else:
        item.provider_id = str(provider_id or "")[:200]
        _finish(item, Status.DELIVERED, "")
    return item.status


def _withdraw_consent(item: OutboundMessage) -> None:
    """Record the opt-out a refusing address means, on the subscriber's contact(s) at that address."""
    from beskontakt.subscribers.actions import set_contact_consent

    if item.subscriber_id is None or not item.address:
        return
    kinds = CONTACT_CHANNELS.get(item.channel, (item.channel,))
    for contact in ContactPoint.objects.filter(subscriber_id=item.subscriber_id, channel__in=kinds, consent=True):
        if ContactPoint.normalize(contact.channel, contact.value) == ContactPoint.normalize(
            contact.channel, item.address
        ):
            set_contact_consent(contact, False)


def mark_failed(item: OutboundMessage, reason: str) -> None:
    """Record that an item did not reach the subscriber after all (e.g. an e-mail bounced)."""
    _finish(item, Status.FAILED, reason)


def _finish(item: OutboundMessage, status: str, reason: str) -> None:
    item.status = status
    item.last_error = reason
    item.delivered_at = timezone.now() if status == Status.DELIVERED else None
    with transaction.atomic():
        item.save(update_fields=["status", "last_error", "delivered_at", "provider_id"])
        _mirror(item)


def _mirror(item: OutboundMessage) -> None:
    """Show the delivery outcome on the case message and the case timeline."""
    if item.message_id is None:
        if item.case_id is not None and item.status in (Status.FAILED, Status.SUPPRESSED):
            Event.objects.create(
                case_id=item.case_id,
                kind=Event.Kind.DELIVERY_FAILED,
                data={"outbound": item.pk, "channel": item.channel, "reason": item.last_error},
            )
            realtime.case_changed(item.case_id, Event.Kind.DELIVERY_FAILED)
        return
    delivered = item.status == Status.DELIVERED
    Message.objects.filter(pk=item.message_id).update(
        delivery=Message.Delivery.DELIVERED if delivered else Message.Delivery.FAILED,
        delivery_error="" if delivered else item.last_error,
    )
    if not delivered and item.case_id is not None:
        Event.objects.create(
            case_id=item.case_id,
            kind=Event.Kind.DELIVERY_FAILED,
            data={"message": item.message_id, "channel": item.channel, "reason": item.last_error},
        )
    if item.case_id is not None:
        realtime.case_changed(item.case_id, "delivery")


def due_ids(limit: int = 500) -> list[int]:
    """Items whose delivery (or retry, or a dead worker's lease) is due now."""
    return list(
        OutboundMessage.objects.filter(status__in=[Status.PENDING, Status.SENDING], next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
