"""Small helpers shared by the workspace views: cheap paging, durations, htmx."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from beskontakt.subscribers.models import AccessRestriction

PAGE_SIZE = 25


@dataclass
class PeekPage:
    """One page of rows, found without counting the whole result.

    The query asks for ``page_size + 1`` rows: the extra one only says that
    there is a next page. Counting millions of cases for "page 3 of 120 000"
    would cost more than showing the page.
    """

    number: int
    rows: list[Any] = field(default_factory=list)
    has_next: bool = False

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1


def peek_page(queryset: QuerySet[Any], page: Any, page_size: int = PAGE_SIZE, max_page: int = 4000) -> PeekPage:
    """The rows of page ``page`` (1-based; bad values mean page 1) of ``queryset``."""
    try:
        number = int(page)
    except (TypeError, ValueError):
        number = 1
    number = min(max(number, 1), max_page)
    start = (number - 1) * page_size
    rows = list(queryset[start : start + page_size + 1])
    return PeekPage(number=number, rows=rows[:page_size], has_next=len(rows) > page_size)


def restricted_subscriber_ids(subscriber_ids: Iterable[int | None]) -> set[int]:
    """Which of these subscribers have an access restriction in force now (one indexed query).

    Asked for the rows of one page after they are fetched: as a subquery of the
    page query the planner would weigh it against every matching case.
    """
    ids = {pk for pk in subscriber_ids if pk is not None}
    if not ids:
        return set()
    now = timezone.now()
    today = timezone.localdate(now)
    return set(
        AccessRestriction.objects.filter(
            Q(lifted_at__isnull=True) | Q(lifted_at__gt=now),
            Q(valid_until__isnull=True) | Q(valid_until__gte=today),
            subscriber_id__in=ids,
            valid_from__lte=today,
        ).values_list("subscriber_id", flat=True)
    )


def format_duration(seconds: float | None) -> str:
    """A short human duration: ``2 h 05 min``, ``15 min``, ``−1 d 3 h`` for overdue."""
    if seconds is None:
        return "—"
    sign = "−" if seconds < 0 else ""
    total = int(abs(seconds)) // 60
    days, rest = divmod(total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        text = _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    elif hours:
        text = _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
    else:
        text = _("%(m)d min") % {"m": minutes}
    return sign + text


def wants_partial(request: HttpRequest) -> bool:
    """Whether an htmx request asks for a fragment (not a history restore, which needs the page)."""
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.history_restore_request
