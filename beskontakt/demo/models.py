"""A record of the generated dataset in the database, so loading is idempotent."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DemoLoad(models.Model):
    """One generated demo operator: which size and seed it came from and how long it took.

    ``load_demo`` writes this row first (``finished_at`` empty) and stamps it at
    the end; a second run with the same size and seed sees a finished row and
    does nothing, an unfinished one means an interrupted load (use ``--reset``).
    """

    size = models.CharField(_("size"), max_length=20)
    seed = models.BigIntegerField(_("seed"))
    subscribers = models.PositiveIntegerField(_("subscribers"))
    anchor = models.DateTimeField(_("anchor moment"))
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    counts = models.JSONField(_("rows per table"), default=dict, blank=True)
    seconds = models.FloatField(_("seconds"), null=True, blank=True)

    class Meta:
        verbose_name = _("demo dataset")
        verbose_name_plural = _("demo datasets")

    def __str__(self) -> str:
        return f"{self.size} seed={self.seed} ({self.subscribers})"
