"""Small inline SVG charts drawn on the server (work offline, no JavaScript)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT, PAD = 600, 120, 4


def line_chart(
    points: Sequence[tuple[datetime, float | None]],
    *,
    series_label: str,
    ceiling: float | None = None,
    colour: str = "#2b6cb0",
    bars: bool = False,
) -> SafeString:
    """An SVG polyline (or bars) of ``points`` over time; gaps where a value is ``None``."""
    known = [(t, v) for t, v in points if v is not None]
    if not known:
        return SafeString("")
    start, end = points[0][0].timestamp(), points[-1][0].timestamp()
    span = max(end - start, 1.0)
    top = ceiling if ceiling else max(v for _t, v in known) or 1.0

    def xy(moment: datetime, value: float) -> tuple[float, float]:
        x = PAD + (moment.timestamp() - start) / span * (WIDTH - 2 * PAD)
        y = HEIGHT - PAD - min(value / top, 1.0) * (HEIGHT - 2 * PAD)
        return round(x, 1), round(y, 1)

    if bars:
        shapes = format_html_join(
            "",
            '<rect x="{}" y="{}" width="3" height="{}" fill="{}"/>',
            ((x, y, round(HEIGHT - PAD - y, 1), colour) for x, y in (xy(t, v) for t, v in known if v)),
        )
    else:
        runs: list[list[tuple[float, float]]] = [[]]
        for moment, value in points:
            if value is None:
                runs.append([])
            else:
                runs[-1].append(xy(moment, value))
        shapes = format_html_join(
            "",
            '<polyline fill="none" stroke="{}" stroke-width="1.5" points="{}"/>',
            ((colour, " ".join(f"{x},{y}" for x, y in run)) for run in runs if run),
        )
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" width="100%" height="{h}" role="img" aria-label="{label}">'
        '<rect x="0" y="0" width="{w}" height="{h}" fill="#f7f9fb" stroke="#dde3ea"/>{shapes}</svg>',
        w=WIDTH,
        h=HEIGHT,
        label=series_label,
        shapes=shapes,
    )
