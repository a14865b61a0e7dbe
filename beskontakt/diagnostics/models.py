"""Diagnosis runs: what was checked on a subscriber's line and device, what was found, what to do next."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CheckStatus(models.TextChoices):
    """What one check found."""

    OK = "ok", _("OK")
    WARNING = "warning", _("Warning")
    FAULT = "fault", _("Fault")
    UNKNOWN = "unknown", _("Unknown")
    SKIPPED = "skipped", _("Not applicable")


class DiagnosisRun(models.Model):
    """One press of "Diagnose" (or a subscriber's "check my connection"): all checks run in parallel on
    one subscriber's line and device, with the verdict, its severity and the recommended next step.

    The run keeps every check's result and raw evidence, so the verdict can be explained later; a
    run made from a case also appears on that case's timeline.
    """

    class Origin(models.TextChoices):
        AGENT = "agent", _("Agent")
        PORTAL = "portal", _("Portal")
        TELEGRAM = "telegram", _("Telegram")
        API = "api", _("API")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Severity(models.TextChoices):
        OK = "ok", _("Healthy")
        WARNING = "warning", _("Degraded")
        FAULT = "fault", _("Fault")
        UNKNOWN = "unknown", _("Inconclusive")

    class NextStep(models.TextChoices):
        REMOTE_FIX = "remote_fix", _("Remote fix")
        PLAYBOOK = "playbook", _("Contactless playbook")
        VISIT = "visit", _("Technician visit")
        BILLING = "billing", _("Billing")
        NONE = "none", _("Nothing to do")

    subscriber = models.ForeignKey(
        "subscribers.Subscriber", on_delete=models.CASCADE, related_name="diagnoses", verbose_name=_("subscriber")
    )
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="diagnoses",
        verbose_name=_("case"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices, default=Origin.AGENT)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration, ms"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    verdict = models.CharField(_("verdict"), max_length=40, blank=True)
    verdict_params = models.JSONField(_("verdict parameters"), default=dict, blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.UNKNOWN)
    next_step = models.CharField(_("next step"), max_length=12, choices=NextStep.choices, default=NextStep.NONE)
    recommended_fix = models.CharField(_("recommended remote fix"), max_length=20, blank=True)
    applied_fix = models.CharField(
        _("remote fix applied automatically"),
        max_length=20,
        blank=True,
        help_text=_("Set when a subscriber's self-check applied a safe fix (e.g. a Wi-Fi channel change)."),
    )
    fix_outcome = models.JSONField(_("outcome of the fix"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("diagnosis")
        verbose_name_plural = _("diagnoses")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["subscriber", "started_at"], name="diagnosis_subscriber_started"),
            models.Index(fields=["case", "started_at"], name="diagnosis_case_started"),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk} {self.started_at:%d.%m %H:%M}"


class CheckResult(models.Model):
    """What one check of a run found: a status, the facts for its one-line summary, the raw evidence
    (readings, samples, timings) and how long it took. A check that timed out, failed or lacked data
    is ``unknown`` with the reason in ``error`` — never a failure of the run."""

    run = models.ForeignKey(DiagnosisRun, on_delete=models.CASCADE, related_name="checks", verbose_name=_("run"))
    check_code = models.CharField(_("check"), max_length=30)
    status = models.CharField(_("status"), max_length=10, choices=CheckStatus.choices)
    summary = models.JSONField(_("summary parameters"), default=dict, blank=True)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration, ms"), default=0)
    error = models.TextField(_("error"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("check result")
        verbose_name_plural = _("check results")
        ordering = ["run", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "check_code"], name="check_result_unique_per_run")]

    def __str__(self) -> str:
        return f"{self.check_code}: {self.status}"
