"""The case: one problem of one subscriber, from first contact to closing."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beskontakt.subscribers.models import Channel, Subscriber


class CaseStatus(models.TextChoices):
    """Where a case is in its life. Waiting states pause the SLA clocks."""

    NEW = "new", _("New")
    OPEN = "open", _("Open")
    WAITING_SUBSCRIBER = "waiting_subscriber", _("Waiting for subscriber")
    WAITING_FIELD = "waiting_field", _("Waiting for field work")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


ACTIVE_STATUSES = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.WAITING_SUBSCRIBER, CaseStatus.WAITING_FIELD)
DONE_STATUSES = (CaseStatus.RESOLVED, CaseStatus.CLOSED)
_ACTIVE = Q(status__in=[str(s) for s in ACTIVE_STATUSES])


class Priority(models.IntegerChoices):
    """How urgent a case is; higher sorts first."""

    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class Queue(models.Model):
    """A line of work with its own team skill and business calendar
    (technical support, billing, TV, business customers...)."""

    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    skill = models.ForeignKey(
        "accounts.Skill",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="queues",
        verbose_name=_("required skill"),
    )
    calendar = models.ForeignKey(
        "cases.BusinessCalendar",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="queues",
        verbose_name=_("business calendar"),
    )
    auto_assign = models.BooleanField(_("assign new cases automatically"), default=True)

    class Meta:
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    """What a case is about (no internet, slow speed, TV, billing...), with the queue it goes to."""

    code = models.SlugField(_("code"), unique=True)
    name_ru = models.CharField(_("name (Russian)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    default_queue = models.ForeignKey(
        Queue, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("default queue")
    )
    default_priority = models.SmallIntegerField(
        _("default priority"), choices=Priority.choices, default=Priority.NORMAL
    )

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "ru").startswith("en") else self.name_ru


class Tag(models.Model):
    """A free label on cases (a district outage, a campaign...)."""

    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Case(models.Model):
    """One problem or request of a subscriber, worked by the operator until closed.

    Every change to a case is an ``Event``: the timeline and the audit trail
    are the same data. ``next_due_at`` and ``sla_state`` mirror the running
    SLA clocks so queue pages can sort and filter by urgency with one index.
    """

    class SlaState(models.TextChoices):
        NONE = "none", _("No SLA")
        OK = "ok", _("On time")
        WARNING = "warning", _("Breaching soon")
        BREACHED = "breached", _("Breached")
        PAUSED = "paused", _("Paused")
        MET = "met", _("Met")

    subject = models.CharField(_("subject"), max_length=200)
    subscriber = models.ForeignKey(
        Subscriber, null=True, blank=True, on_delete=models.PROTECT, related_name="cases", verbose_name=_("subscriber")
    )
    status = models.CharField(_("status"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.NEW)
    priority = models.SmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases", verbose_name=_("category")
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.PHONE)
    queue = models.ForeignKey(
        Queue, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases", verbose_name=_("queue")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
        verbose_name=_("assignee"),
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="cases", verbose_name=_("tags"))
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children", verbose_name=_("parent case")
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_cases",
        verbose_name=_("merged into"),
    )
    related = models.ManyToManyField("self", blank=True, verbose_name=_("related cases"))
    sla_policy = models.ForeignKey(
        "cases.SlaPolicy",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
        verbose_name=_("SLA policy"),
    )
    sla_state = models.CharField(_("SLA state"), max_length=10, choices=SlaState.choices, default=SlaState.NONE)
    next_due_at = models.DateTimeField(_("next SLA deadline"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    last_inbound_at = models.DateTimeField(_("last message from subscriber"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_due_at"], name="case_status_due"),
            # The queue tabs: active cases in deadline order, whole, per agent, unassigned, per queue.
            models.Index(fields=["next_due_at", "-priority", "id"], condition=_ACTIVE, name="case_active_due"),
            models.Index(
                fields=["assignee", "next_due_at", "-priority", "id"],
                condition=_ACTIVE,
                name="case_active_assignee_due",
            ),
            models.Index(
                fields=["next_due_at", "-priority", "id"],
                condition=_ACTIVE & Q(assignee__isnull=True),
                name="case_active_unassigned_due",
            ),
            models.Index(
                fields=["queue", "next_due_at", "-priority", "id"], condition=_ACTIVE, name="case_active_queue_due"
            ),
            models.Index(fields=["subscriber", "-created_at"], name="case_subscriber_created"),
            models.Index(fields=["-created_at"], name="case_created"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def reference(self) -> str:
        """The number the subscriber quotes (shown in subjects: [#123])."""
        return f"#{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES
