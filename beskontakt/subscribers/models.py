"""Subscribers: who they are, where they live, what they pay for and what is at home."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from beskontakt.history import Happening


class Channel(models.TextChoices):
    """A way to reach a subscriber (and the way a case came in)."""

    PHONE = "phone", _("Phone call")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    TELEGRAM = "telegram", _("Telegram")
    PORTAL = "portal", _("Self-care portal")
    CHAT = "chat", _("Live chat")


def fold_search_text(value: str) -> str:
    """Lower-case ``value`` and fold ``ё`` into ``е`` (how search text is stored and queried)."""
    return value.lower().replace("ё", "е")


class District(models.Model):
    """An administrative district of the city (Арбат, Хамовники...)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    okrug = models.CharField(_("administrative okrug"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Address(models.Model):
    """A place where service is delivered: down to the apartment."""

    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="addresses", verbose_name=_("district")
    )
    street = models.CharField(_("street"), max_length=150)
    building = models.CharField(_("building"), max_length=20)
    entrance = models.CharField(_("entrance"), max_length=10, blank=True)
    floor = models.SmallIntegerField(_("floor"), null=True, blank=True)
    apartment = models.CharField(_("apartment"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        indexes = [models.Index(fields=["street", "building"])]

    def __str__(self) -> str:
        building, entrance, floor, apartment = _("bld."), _("entr."), _("fl."), _("apt.")
        parts = [f"{self.street}, {building} {self.building}"]
        if self.entrance:
            parts.append(f"{entrance} {self.entrance}")
        if self.floor is not None:
            parts.append(f"{floor} {self.floor}")
        if self.apartment:
            parts.append(f"{apartment} {self.apartment}")
        return ", ".join(str(p) for p in parts)


class Tariff(models.Model):
    """An item of the operator's catalogue: an internet plan, a TV package,
    an online-cinema add-on or a bundle of them, with its monthly price."""

    class Kind(models.TextChoices):
        INTERNET = "internet", _("Internet")
        TV = "tv", _("TV package")
        CINEMA = "cinema", _("Online cinema add-on")
        BUNDLE = "bundle", _("Bundle")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    download_mbps = models.PositiveIntegerField(_("download speed, Mbit/s"), null=True, blank=True)
    upload_mbps = models.PositiveIntegerField(_("upload speed, Mbit/s"), null=True, blank=True)
    tv_channels = models.PositiveIntegerField(_("TV channels"), null=True, blank=True)
    includes = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="included_in", verbose_name=_("bundle includes")
    )
    monthly_price = models.DecimalField(_("monthly price, RUB"), max_digits=10, decimal_places=2)
    active = models.BooleanField(_("on sale"), default=True)

    class Meta:
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        ordering = ["kind", "monthly_price"]

    def __str__(self) -> str:
        return self.name


class Subscriber(models.Model):
    """A customer of the operator, identified by the contract number.

    A person or a company; the segment feeds SLA policies (business customers
    and vulnerable people get faster clocks). ``search_text`` is a lower-case
    copy of the contract, name and address that the subscriber search indexes
    (a trigram index on PostgreSQL).
    """

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        COMPANY = "company", _("Company")

    class Segment(models.TextChoices):
        MASS = "mass", _("Residential")
        VIP = "vip", _("VIP")
        BUSINESS = "business", _("Business")

    class BillingStatus(models.TextChoices):
        ACTIVE = "active", _("Active")
        BLOCKED_DEBT = "blocked_debt", _("Blocked for debt")
        SUSPENDED = "suspended", _("Voluntarily suspended")
        TERMINATED = "terminated", _("Contract terminated")

    contract_number = models.CharField(_("contract number"), max_length=32, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERSON)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    middle_name = models.CharField(_("patronymic"), max_length=100, blank=True)
    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    address = models.ForeignKey(
        Address, null=True, blank=True, on_delete=models.SET_NULL, related_name="subscribers", verbose_name=_("address")
    )
    segment = models.CharField(_("segment"), max_length=10, choices=Segment.choices, default=Segment.MASS)
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, default="ru"
    )
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=10, choices=Channel.choices, default=Channel.PHONE
    )
    balance = models.DecimalField(_("balance, RUB"), max_digits=12, decimal_places=2, default=Decimal("0"))
    billing_status = models.CharField(
        _("billing status"), max_length=16, choices=BillingStatus.choices, default=BillingStatus.ACTIVE
    )
    portal_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subscriber",
        verbose_name=_("portal login"),
    )
    search_text = models.TextField(_("search text"), blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        ordering = ["contract_number"]

    def __str__(self) -> str:
        return f"{self.contract_number} {self.display_name}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.search_text = self.build_search_text()
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def display_name(self) -> str:
        if self.kind == self.Kind.COMPANY and self.company_name:
            return self.company_name
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    def build_search_text(self) -> str:
        """The text subscriber search matches against (kept in ``search_text``)."""
        parts = [self.contract_number, self.display_name, self.company_name]
        if self.address_id is not None and self.address is not None:
            # The same text whatever language the request is in ("д. 12, кв. 5").
            with translation.override(settings.LANGUAGE_CODE):
                parts.append(str(self.address))
        return fold_search_text(" ".join(p for p in parts if p))

    def active_restrictions(self) -> list[AccessRestriction]:
        now = timezone.now()
        return [r for r in self.restrictions.all() if r.is_active_at(now)]


def normalize_phone(value: str) -> str:
    """Digits of a Russian phone number in the form 7XXXXXXXXXX (8... and +7... alike)."""
    digits = re.sub(r"\D", "", value)
    if len(digits) == 11 and digits.startswith("8"):
        digits = "7" + digits[1:]
    if len(digits) == 10:
        digits = "7" + digits
    return digits


class ContactPoint(models.Model):
    """One way to reach a subscriber (a phone number, an e-mail, a Telegram chat),
    with the subscriber's consent to be contacted there."""

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("subscriber")
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    value = models.CharField(_("value"), max_length=200)
    normalized = models.CharField(_("normalized value"), max_length=200, editable=False, db_index=True)
    consent = models.BooleanField(_("consent to contact"), default=True)
    consent_changed_at = models.DateTimeField(_("consent changed"), default=timezone.now)
    preferred = models.BooleanField(_("preferred"), default=False)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "channel", "normalized"], name="contact_unique_per_subscriber"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.value}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.normalized = self.normalize(self.channel, self.value)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @staticmethod
    def normalize(channel: str, value: str) -> str:
        if channel in (Channel.PHONE, Channel.SMS):
            return normalize_phone(value)
        return value.strip().lower()


class Subscription(models.Model):
    """A tariff a subscriber has (or had) from a date."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        ENDED = "ended", _("Ended")

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="subscriptions", verbose_name=_("subscriber")
    )
    tariff = models.ForeignKey(Tariff, on_delete=models.PROTECT, related_name="subscriptions", verbose_name=_("tariff"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    started_on = models.DateField(_("started"), default=timezone.localdate)
    ended_on = models.DateField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["-started_on"]

    def __str__(self) -> str:
        return f"{self.tariff} ({self.get_status_display()})"


class Equipment(models.Model):
    """A device at the subscriber's home: a router, an ONT or a set-top box."""

    class Kind(models.TextChoices):
        ROUTER = "router", _("Router")
        ONT = "ont", _("Optical terminal (ONT)")
        STB = "stb", _("Set-top box")

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="equipment", verbose_name=_("subscriber")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    vendor = models.CharField(_("vendor"), max_length=100, blank=True)
    model = models.CharField(_("model"), max_length=100)
    serial_number = models.CharField(_("serial number"), max_length=64, unique=True)
    mac_address = models.CharField(_("MAC address"), max_length=17, blank=True)
    installed_on = models.DateField(_("installed"), null=True, blank=True)

    class Meta:
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.vendor} {self.model} ({self.serial_number})"


class AccessRestriction(models.Model):
    """A limit on how the operator may serve a subscriber in person.

    Quarantine or self-isolation until a date, no entry to the home,
    contactless service only, or a vulnerable person at the address. Rows are
    never deleted: lifting a restriction stamps ``lifted_at``, so the history
    of who recorded what and why stays visible.
    """

    class Kind(models.TextChoices):
        QUARANTINE = "quarantine", _("Quarantine")
        SELF_ISOLATION = "self_isolation", _("Self-isolation")
        NO_ENTRY = "no_entry", _("No entry to the home")
        CONTACTLESS_ONLY = "contactless_only", _("Contactless service only")
        VULNERABLE = "vulnerable", _("Vulnerable person")

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="restrictions", verbose_name=_("subscriber")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    valid_from = models.DateField(_("from"), default=timezone.localdate)
    valid_until = models.DateField(_("until"), null=True, blank=True, help_text=_("Empty: until lifted."))
    reason = models.TextField(_("reason"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("lifted by"),
    )

    class Meta:
        verbose_name = _("access restriction")
        verbose_name_plural = _("access restrictions")
        ordering = ["-recorded_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="restriction_until_after_from",
            )
        ]

    def __str__(self) -> str:
        if self.valid_until:
            until = _("until")
            return f"{self.get_kind_display()} {until} {self.valid_until:%d.%m.%Y}"
        return str(self.get_kind_display())

    def is_active_at(self, moment: datetime | None = None) -> bool:
        """Whether the restriction applies at ``moment`` (now by default)."""
        now = moment if moment is not None else timezone.now()
        today = timezone.localdate(now) if timezone.is_aware(now) else now.date()
        if self.lifted_at is not None and self.lifted_at <= now:
            return False
        if self.valid_from > today:
            return False
        return self.valid_until is None or self.valid_until >= today


class SubscriberEvent(Happening):
    """Something that happened to a subscriber's record: who, when, what, before and after.

    Written by the actions in ``subscribers/actions.py`` (a restriction recorded
    or lifted, a contact added, a consent given or withdrawn, a balance changed),
    so the subscriber card can show the history next to the data.
    """

    class Kind(models.TextChoices):
        RESTRICTION_RECORDED = "restriction_recorded", _("Access restriction recorded")
        RESTRICTION_LIFTED = "restriction_lifted", _("Access restriction lifted")
        CONTACT_ADDED = "contact_added", _("Contact added")
        CONSENT_CHANGED = "consent_changed", _("Consent to contact changed")
        BALANCE_UPDATED = "balance_updated", _("Balance updated")

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="events", verbose_name=_("subscriber")
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)

    class Meta(Happening.Meta):
        verbose_name = _("subscriber event")
        verbose_name_plural = _("subscriber events")
        indexes = [models.Index(fields=["subscriber", "at"], name="subscriber_event_at")]
