"""Every write the portal makes on the subscriber's behalf.

Views parse the form and call one of these. The domain writes themselves are
the owning apps' actions (``cases.actions``, ``subscribers.actions``,
``inbox.callbacks``); these add what is particular to the portal: the
subscriber's login user, the audit entry of a sign-in, idempotent form
submissions (a double-clicked "Send" stores one message) and the rule that a
subscriber may lift only what they declared themselves.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from django.contrib import auth
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from beskontakt.accounts import actions as account_actions
from beskontakt.accounts.models import AuditEntry, User
from beskontakt.accounts.roles import Role
from beskontakt.cases import actions as case_actions
from beskontakt.cases import attachments as case_files
from beskontakt.cases.models import Case, Category, Message
from beskontakt.subscribers import actions as subscriber_actions
from beskontakt.subscribers.models import AccessRestriction, Channel, Subscriber

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# Stored at the start of the reason of every restriction a subscriber declares in the portal,
# so agents see where it came from (and the subscriber may lift it again).
DECLARED_MARKER = "Заявлено абонентом в личном кабинете"
# What a subscriber may declare about themselves (a vulnerable person is recorded by staff).
DECLARABLE_KINDS = (
    AccessRestriction.Kind.QUARANTINE,
    AccessRestriction.Kind.SELF_ISOLATION,
    AccessRestriction.Kind.CONTACTLESS_ONLY,
    AccessRestriction.Kind.NO_ENTRY,
)
# Kinds that need an end date, and how far ahead it may be.
DATED_KINDS = (AccessRestriction.Kind.QUARANTINE, AccessRestriction.Kind.SELF_ISOLATION)
MAX_DECLARED_DAYS = 90
TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")


def ensure_portal_user(subscriber: Subscriber) -> User:
    """The subscriber's portal login, created on first sign-in (role ``subscriber``, no usable password)."""
    if subscriber.portal_user_id is not None:
        return User.objects.get(pk=subscriber.portal_user_id)
    with transaction.atomic():
        locked = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if locked.portal_user_id is None:
            user = User(
                username=f"subscriber-{locked.pk}",
                role=Role.SUBSCRIBER,
                first_name=locked.first_name[:150],
                last_name=(locked.last_name or locked.company_name)[:150],
                language=locked.preferred_language,
                available=False,
            )
            user.set_unusable_password()
            user.save()
            Subscriber.objects.filter(pk=locked.pk).update(portal_user=user)
            locked.portal_user = user
        subscriber.portal_user = locked.portal_user
    assert subscriber.portal_user is not None
    return subscriber.portal_user


def log_in(request: HttpRequest, subscriber: Subscriber, *, channel: str = "") -> User:
    """Open a portal session as the subscriber (after their one-time code was accepted).

    ``django.contrib.auth.login`` gives the session a new key (no fixation).
    A login linked to a staff account, or a disabled one, is refused: staff
    never sign in through the portal.
    """
    user = ensure_portal_user(subscriber)
    if user.role != Role.SUBSCRIBER or not user.is_active:
        account_actions.record_audit(
            AuditEntry.Action.LOGIN_FAILED, request=request, actor=user, step="portal", reason="not a subscriber login"
        )
        raise PermissionDenied(_("This account cannot sign in to the subscriber portal. Please call us."))
    auth.login(request, user, backend=MODEL_BACKEND)
    account_actions.record_audit(
        AuditEntry.Action.LOGIN,
        request=request,
        actor=user,
        step="portal",
        contract=subscriber.contract_number,
        channel=channel,
    )
    return user


def log_out(request: HttpRequest) -> None:
    """End the portal session (audited)."""
    user = request.user if request.user.is_authenticated else None
    if isinstance(user, User):
        account_actions.record_audit(AuditEntry.Action.LOGOUT, request=request, actor=user, step="portal")
    auth.logout(request)


# --- access restrictions ------------------------------------------------------------


def is_own_declaration(restriction: AccessRestriction, user: User) -> bool:
    """Whether the subscriber declared ``restriction`` in the portal (so they may lift it)."""
    if restriction.recorded_by_id is not None:
        return restriction.recorded_by_id == user.pk
    return restriction.reason.startswith(DECLARED_MARKER)


def _restriction_actor(user: User) -> User | None:
    """Who the restriction actions are told did it: the subscriber's own portal login
    (``subscribers.actions`` accepts it for the subscriber's own record)."""
    return user


def declare_restriction(
    subscriber: Subscriber,
    *,
    by: User,
    kind: str,
    valid_until: dt.date | None,
    note: str = "",
    contactless: bool = False,
) -> list[AccessRestriction]:
    """Record what the subscriber declared: "I am in quarantine until …, contactless only".

    Only the kinds in ``DECLARABLE_KINDS``; quarantine and self-isolation need
    an end date within ``MAX_DECLARED_DAYS`` days. ``contactless`` adds a
    "contactless service only" restriction for the same period. The reason
    agents see starts with ``DECLARED_MARKER``.
    """
    today = timezone.localdate()
    if kind not in DECLARABLE_KINDS:
        raise ValidationError({"kind": _("Choose what applies to you from the list.")})
    if kind in DATED_KINDS and valid_until is None:
        raise ValidationError({"valid_until": _("Give the date your quarantine or self-isolation ends.")})
    if valid_until is not None and valid_until < today:
        raise ValidationError({"valid_until": _("The date is in the past: give today or a later date.")})
    if valid_until is not None and valid_until > today + dt.timedelta(days=MAX_DECLARED_DAYS):
        raise ValidationError(
            {"valid_until": _("Give a date within %(days)d days from today.") % {"days": MAX_DECLARED_DAYS}}
        )
    note = (note or "").strip()[:500]
    reason = f"{DECLARED_MARKER}: {note}" if note else DECLARED_MARKER
    kinds = [kind]
    if contactless and kind != AccessRestriction.Kind.CONTACTLESS_ONLY:
        kinds.append(AccessRestriction.Kind.CONTACTLESS_ONLY)
    with transaction.atomic():
        return [
            subscriber_actions.record_restriction(
                subscriber, each, reason, valid_until=valid_until, by=_restriction_actor(by)
            )
            for each in kinds
        ]


def lift_declaration(subscriber: Subscriber, restriction_id: Any, *, by: User) -> AccessRestriction:
    """Lift a restriction the subscriber declared themselves (others only staff may lift)."""
    try:
        pk = int(restriction_id)
    except (TypeError, ValueError):
        raise ValidationError({"restriction": _("No such restriction.")}) from None
    restriction = AccessRestriction.objects.filter(pk=pk, subscriber=subscriber).first()
    if restriction is None:
        raise ValidationError({"restriction": _("No such restriction.")})
    if not is_own_declaration(restriction, by):
        raise ValidationError(
            {"restriction": _("This restriction was recorded by our staff; call us or write to us to change it.")}
        )
    return subscriber_actions.lift_restriction(restriction, by=_restriction_actor(by))


# --- cases --------------------------------------------------------------------------


def _external_id(subscriber: Subscriber, token: str) -> str:
    if not TOKEN_RE.match(token or ""):
        raise ValidationError({"token": _("The form has expired. Reload the page and send it again.")})
    return f"portal:{subscriber.pk}:{token}"


def _sender(subscriber: Subscriber) -> str:
    return f"subscriber:{subscriber.pk}"


def open_portal_case(
    subscriber: Subscriber,
    *,
    category: Category | None,
    description: str,
    photos: Sequence[Any] = (),
    token: str,
) -> Case:
    """Open a case from the portal form with the description as its first message and the photos on it.

    ``token`` identifies the form (sent with it): the same form sent twice opens one case.
    """
    external_id = _external_id(subscriber, token)
    repeat = Message.objects.filter(channel=Channel.PORTAL, external_id=external_id).select_related("case").first()
    if repeat is not None:
        return repeat.case
    case_files.check_files(photos)
    body = (description or "").strip()
    first_line = body.splitlines()[0].strip() if body else ""
    subject = f"{category.name}: {first_line}" if category is not None else first_line
    with transaction.atomic():
        case = case_actions.open_case(
            subject=subject[:200] or _("Request from the portal"),
            channel=Channel.PORTAL,
            subscriber=subscriber,
            category=category,
            by=None,
        )
        case_actions.receive_message_with_attachments(
            attachments=list(photos),
            channel=Channel.PORTAL,
            external_id=external_id,
            body=body,
            case=case,
            subscriber=subscriber,
            sender=_sender(subscriber),
        )
    return case


def write_on_case(case: Case, subscriber: Subscriber, *, body: str, photos: Sequence[Any] = (), token: str) -> Message:
    """Add the subscriber's message (and photos) to their own case; a merged case forwards to its target."""
    if case.subscriber_id != subscriber.pk:
        raise PermissionDenied(_("This is not your request."))
    target = case
    while target.merged_into_id is not None:
        target = Case.objects.get(pk=target.merged_into_id)
    message, _created = case_actions.receive_message_with_attachments(
        attachments=list(photos),
        channel=Channel.PORTAL,
        external_id=_external_id(subscriber, token),
        body=body,
        case=target,
        subscriber=subscriber,
        sender=_sender(subscriber),
    )
    return message
