"""Staff users, their skills and availability, and the security audit log."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from .roles import STAFF_ROLES, Role


class Skill(models.Model):
    """Something an agent is trained for (TV, business internet, English...).

    Queues require a skill; automatic assignment only picks agents who have it.
    """

    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Presence(models.TextChoices):
    """Whether a staff member is at the workspace right now (kept by the live connection)."""

    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class User(AbstractUser):
    """A person who logs in: operator staff in one of the roles, or a subscriber.

    Staff must confirm every login with a TOTP code. ``available`` and
    ``max_open_cases`` drive automatic assignment.
    """

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)
    skills = models.ManyToManyField(Skill, blank=True, related_name="users", verbose_name=_("skills"))
    available = models.BooleanField(_("available for assignment"), default=False)
    max_open_cases = models.PositiveIntegerField(_("maximum open cases"), default=25)
    # Kept by the case actions on every assignment and status change (and
    # recounted hourly), so automatic assignment never counts millions of cases.
    open_cases = models.PositiveIntegerField(_("active cases assigned"), default=0, editable=False)
    language = models.CharField(_("interface language"), max_length=8, choices=settings.LANGUAGES, default="ru")
    # Kept by the workspace's live connection: automatic assignment picks online people first.
    presence = models.CharField(_("presence"), max_length=8, choices=Presence.choices, default=Presence.OFFLINE)
    presence_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def is_operator_staff(self) -> bool:
        """Whether the user works for the operator (as opposed to a subscriber)."""
        return self.role in STAFF_ROLES

    def display_name(self) -> str:
        return self.get_full_name() or self.username


class AuditEntry(models.Model):
    """A security-relevant happening: a login, a failed login, a 2FA change, an import.

    Case changes are audited as case events; this log holds what is not about one case.
    """

    class Action(models.TextChoices):
        LOGIN = "login", _("Logged in")
        LOGIN_FAILED = "login_failed", _("Failed login")
        LOGIN_LOCKED = "login_locked", _("Login refused: too many attempts")
        LOGOUT = "logout", _("Logged out")
        OTP_ENROLLED = "otp_enrolled", _("Two-factor device enrolled")
        TOKEN_ISSUED = "token_issued", _("API token issued")
        BILLING_IMPORT = "billing_import", _("Billing import")

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("actor")
    )
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    username = models.CharField(_("username given"), max_length=150, blank=True)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()} {self.username}"
