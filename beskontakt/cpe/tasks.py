"""Celery tasks of the ACS's registry: expire old tasks, prune the session log.

Schedule (``CELERY_BEAT_SCHEDULE``): ``cpe.expire_tasks`` every minute, ``cpe.prune_sessions``
hourly. Retention: ``CPE_SESSION_RETENTION_DAYS`` (default 7), finished tasks
``CPE_TASK_RETENTION_DAYS`` (default 90).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from .models import DeviceSession, DeviceTask

SENT_TIMEOUT = timedelta(minutes=10)  # a task "sent" this long ago lost its session (ACS restart)
DELETE_CHUNK = 5000


@shared_task(name="beskontakt.cpe.tasks.expire_tasks")
def expire_tasks() -> dict[str, int]:
    """Queued tasks past ``expires_at`` → expired; tasks stuck "sent" (their ACS died) → queued again."""
    now = timezone.now()
    expired = DeviceTask.objects.filter(
        status=DeviceTask.Status.QUEUED, expires_at__isnull=False, expires_at__lte=now
    ).update(status=DeviceTask.Status.EXPIRED, finished_at=now)
    requeued = DeviceTask.objects.filter(status=DeviceTask.Status.SENT, sent_at__lt=now - SENT_TIMEOUT).update(
        status=DeviceTask.Status.QUEUED
    )
    return {"expired": expired, "requeued": requeued}


@shared_task(name="beskontakt.cpe.tasks.prune_sessions")
def prune_sessions() -> dict[str, int]:
    """Delete session logs and finished tasks older than their retention, in chunks."""
    now = timezone.now()
    session_cutoff = now - timedelta(days=settings.CPE_SESSION_RETENTION_DAYS)
    task_cutoff = now - timedelta(days=settings.CPE_TASK_RETENTION_DAYS)
    sessions = _delete_in_chunks(DeviceSession.objects.filter(started_at__lt=session_cutoff))
    tasks = _delete_in_chunks(DeviceTask.objects.filter(status__in=DeviceTask.FINAL, created_at__lt=task_cutoff))
    return {"sessions": sessions, "tasks": tasks}


def _delete_in_chunks(queryset: QuerySet[Any]) -> int:
    total = 0
    while True:
        pks = list(queryset.values_list("pk", flat=True)[:DELETE_CHUNK])
        if not pks:
            return total
        total += queryset.model.objects.filter(pk__in=pks).delete()[0]
