"""Every write to a subscriber's record goes through here.

Each action validates its input, writes inside one transaction and records a
:class:`~beskontakt.subscribers.models.SubscriberEvent`. Bad input raises
:class:`django.core.exceptions.ValidationError` with messages keyed by the
field that was wrong, so views and the API can answer with a 4xx that says what
to send instead. Reading goes through :func:`access_subscriber`, which applies
permissions.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from beskontakt.accounts.roles import Role, user_can

from .models import AccessRestriction, Channel, ContactPoint, Subscriber, SubscriberEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from beskontakt.accounts.models import User

TELEGRAM_RE = re.compile(r"^(@[A-Za-z0-9_]{5,32}|-?\d{1,20})$")
BALANCE_LIMIT = Decimal("10") ** 10  # max_digits=12, decimal_places=2


def access_subscriber(user: User | AnonymousUser | None, subscriber_id: int | str) -> Subscriber:
    """The subscriber ``subscriber_id`` if ``user`` may see it.

    Staff holding ``subscriber.view`` see every subscriber; a portal user (role
    ``subscriber``) sees only the record linked to their login. Anyone else gets
    :class:`PermissionDenied`; an unknown id (or another subscriber's id, for a
    portal user, so ids cannot be probed) gets :class:`Http404`.
    """
    try:
        pk = int(subscriber_id)
    except (TypeError, ValueError):
        raise Http404(_("No such subscriber.")) from None
    if user is None or not user.is_authenticated or not user.is_active:
        raise PermissionDenied(_("Log in to see subscribers."))
    if user_can(user, "subscriber.view"):
        try:
            return Subscriber.objects.select_related("address__district").get(pk=pk)
        except Subscriber.DoesNotExist:
            raise Http404(_("No such subscriber.")) from None
    if getattr(user, "role", None) == Role.SUBSCRIBER:
        try:
            return Subscriber.objects.select_related("address__district").get(pk=pk, portal_user=user)
        except Subscriber.DoesNotExist:
            raise Http404(_("No such subscriber.")) from None
    raise PermissionDenied(_("You may not see subscribers."))


def _check_can(by: User | None, capability: str) -> None:
    """Refuse an action to a user who lacks ``capability`` (``None`` means the system itself)."""
    if by is not None and not user_can(by, capability):
        raise PermissionDenied(_("You may not do this."))


def _check_restrict(subscriber: Subscriber, by: User | None) -> None:
    """Staff with ``restriction.record``, or the subscriber's own portal login, may record restrictions."""
    if by is not None and not (user_can(by, "restriction.record") or subscriber.portal_user_id == by.pk):
        raise PermissionDenied(_("You may not do this."))


def _event(subscriber: Subscriber, event_kind: str, by: User | None, **data: Any) -> SubscriberEvent:
    return SubscriberEvent.objects.create(subscriber=subscriber, kind=event_kind, actor=by, data=data)


def _as_date(value: dt.date | str | None, field: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError({field: _("Enter a date as YYYY-MM-DD.")}) from None


def record_restriction(
    subscriber: Subscriber,
    kind: str,
    reason: str,
    valid_until: dt.date | str | None = None,
    valid_from: dt.date | str | None = None,
    *,
    by: User | None = None,
) -> AccessRestriction:
    """Record that the operator may serve ``subscriber`` in person only within a limit.

    For example a quarantine until a date, "no entry to the home" or "contactless
    only". The reason is required (the next agent must understand it);
    ``valid_from`` defaults to today and ``valid_until`` (empty: until lifted)
    may not be before it. Requires the ``restriction.record`` capability.
    """
    _check_restrict(subscriber, by)
    errors: dict[str, str] = {}
    if kind not in AccessRestriction.Kind.values:
        errors["kind"] = _("Choose one of: %(choices)s.") % {"choices": ", ".join(AccessRestriction.Kind.values)}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _("Say why the restriction is needed.")
    try:
        start = _as_date(valid_from, "valid_from") or timezone.localdate()
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
        start = timezone.localdate()
    try:
        until = _as_date(valid_until, "valid_until")
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
        until = None
    if until is not None and until < start:
        errors["valid_until"] = _("The end date must not be before the start date (%(start)s).") % {
            "start": start.isoformat()
        }
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        restriction = AccessRestriction.objects.create(
            subscriber=subscriber, kind=kind, reason=reason, valid_from=start, valid_until=until, recorded_by=by
        )
        _event(
            subscriber,
            SubscriberEvent.Kind.RESTRICTION_RECORDED,
            by,
            restriction=restriction.pk,
            kind=kind,
            valid_from=start.isoformat(),
            valid_until=until.isoformat() if until else None,
            reason=reason,
        )
    return restriction


def lift_restriction(restriction: AccessRestriction, by: User | None = None) -> AccessRestriction:
    """End an access restriction now (the row stays, stamped with who lifted it and when)."""
    _check_restrict(restriction.subscriber, by)
    with transaction.atomic():
        locked = AccessRestriction.objects.select_for_update().get(pk=restriction.pk)
        if locked.lifted_at is not None:
            raise ValidationError({"restriction": _("This restriction has already been lifted.")})
        locked.lifted_at = timezone.now()
        locked.lifted_by = by
        locked.save(update_fields=["lifted_at", "lifted_by"])
        _event(locked.subscriber, SubscriberEvent.Kind.RESTRICTION_LIFTED, by, restriction=locked.pk, kind=locked.kind)
    restriction.lifted_at, restriction.lifted_by = locked.lifted_at, locked.lifted_by
    return restriction


def validate_contact(channel: str, value: str) -> str:
    """Check a contact value for its channel and return it normalised (raises ValidationError)."""
    value = (value or "").strip()
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Choose one of: %(choices)s.") % {"choices": ", ".join(Channel.values)}})
    if not value:
        raise ValidationError({"value": _("Enter the contact value.")})
    if channel in (Channel.PHONE, Channel.SMS):
        normalized = ContactPoint.normalize(channel, value)
        if len(normalized) != 11 or not normalized.startswith("7"):
            raise ValidationError({"value": _("Enter a Russian phone number, like +7 495 123-45-67.")})
        return normalized
    if channel == Channel.EMAIL:
        try:
            validate_email(value)
        except ValidationError:
            raise ValidationError({"value": _("Enter a valid e-mail address.")}) from None
    elif channel == Channel.TELEGRAM and not TELEGRAM_RE.match(value):
        raise ValidationError({"value": _("Enter a Telegram chat id (digits) or @username.")})
    return ContactPoint.normalize(channel, value)


def add_contact(
    subscriber: Subscriber,
    channel: str,
    value: str,
    *,
    consent: bool = True,
    preferred: bool = False,
    by: User | None = None,
) -> ContactPoint:
    """Add a way to reach the subscriber (phone, e-mail, Telegram...) with their consent.

    The value is checked for its channel; the same number or address twice on
    one subscriber is refused. A preferred contact replaces the previous
    preferred one. Requires ``subscriber.edit`` (or a portal user adding to their own record).
    """
    if by is not None and not (user_can(by, "subscriber.edit") or subscriber.portal_user_id == by.pk):
        raise PermissionDenied(_("You may not do this."))
    normalized = validate_contact(channel, value)
    with transaction.atomic():
        if ContactPoint.objects.filter(subscriber=subscriber, channel=channel, normalized=normalized).exists():
            raise ValidationError({"value": _("The subscriber already has this contact.")})
        if preferred:
            subscriber.contacts.filter(preferred=True).update(preferred=False)
        contact = ContactPoint.objects.create(
            subscriber=subscriber, channel=channel, value=value.strip(), consent=consent, preferred=preferred
        )
        _event(
            subscriber, SubscriberEvent.Kind.CONTACT_ADDED, by, contact=contact.pk, channel=channel, value=contact.value
        )
    return contact


def set_contact_consent(contact: ContactPoint, consent: bool, *, by: User | None = None) -> ContactPoint:
    """Record that the subscriber gave or withdrew consent to be contacted at ``contact``.

    Setting the consent it already has changes nothing (and records nothing).
    """
    if not isinstance(consent, bool):
        raise ValidationError({"consent": _("Send true or false.")})
    if by is not None and not (user_can(by, "subscriber.edit") or contact.subscriber.portal_user_id == by.pk):
        raise PermissionDenied(_("You may not do this."))
    with transaction.atomic():
        locked = ContactPoint.objects.select_for_update().get(pk=contact.pk)
        if locked.consent == consent:
            return locked
        before = locked.consent
        locked.consent = consent
        locked.consent_changed_at = timezone.now()
        locked.save(update_fields=["consent", "consent_changed_at"])
        _event(
            locked.subscriber,
            SubscriberEvent.Kind.CONSENT_CHANGED,
            by,
            contact=locked.pk,
            before=before,
            after=consent,
        )
    contact.consent, contact.consent_changed_at = locked.consent, locked.consent_changed_at
    return contact


def parse_amount(value: Decimal | int | str, field: str = "balance", limit: Decimal = BALANCE_LIMIT) -> Decimal:
    """Parse a money amount (``1234.50``, ``-12,5``, ``1 234,50``) into a Decimal with kopecks."""
    if isinstance(value, float | bool):
        raise ValidationError({field: _('Send the amount as a string or an integer, like "1234.50".')})
    text = str(value).strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValidationError({field: _("Enter an amount in roubles, like 1234.50.")}) from None
    if not amount.is_finite():
        raise ValidationError({field: _("Enter an amount in roubles, like 1234.50.")})
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValidationError({field: _("Use at most two digits after the decimal point.")})
    if abs(amount) >= limit:
        raise ValidationError({field: _("The amount is too large.")})
    return amount.quantize(Decimal("0.01"))


def update_balance(
    subscriber: Subscriber,
    balance: Decimal | int | str,
    *,
    billing_status: str | None = None,
    by: User | None = None,
) -> Subscriber:
    """Set the subscriber's balance (and optionally billing status) as billing reports it."""
    _check_can(by, "subscriber.edit")
    errors: dict[str, str] = {}
    try:
        amount = parse_amount(balance)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if billing_status is not None and billing_status not in Subscriber.BillingStatus.values:
        errors["billing_status"] = _("Choose one of: %(choices)s.") % {
            "choices": ", ".join(Subscriber.BillingStatus.values)
        }
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        before = {"balance": str(locked.balance), "billing_status": locked.billing_status}
        locked.balance = amount
        if billing_status is not None:
            locked.billing_status = billing_status
        after = {"balance": str(locked.balance), "billing_status": locked.billing_status}
        if before != after:
            locked.save(update_fields=["balance", "billing_status", "updated_at"])
            _event(locked, SubscriberEvent.Kind.BALANCE_UPDATED, by, before=before, after=after)
    subscriber.balance, subscriber.billing_status = locked.balance, locked.billing_status
    return subscriber
