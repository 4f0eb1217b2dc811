"""Bar charts as inline SVG, drawn on the server: no script, nothing fetched, readable offline.

Each chart is an image with a title and a description (role="img", aria-labelledby) and a
<title> per bar; the page puts the same numbers in a table next to it, which is what screen
readers and keyboard users read. Colours keep 3:1 against white (WCAG 1.4.11)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

# Fill colours of the series, in order: dark teal, burnt orange, slate; each >= 4.5:1 on white.
COLOURS = ("#1f6f78", "#a34700", "#4a5568")
_TEXT = "#1a1a1a"
_GRID = "#c8c8c8"


@dataclass(frozen=True)
class Series:
    """One named row of values, one value per label."""

    name: str
    values: Sequence[float]


def _nice_max(value: float, whole: bool) -> float:
    """A round top for an axis of four steps, each step 1, 2 or 5 × 10^n (at least 1 for
    counts, so their gridlines fall on whole numbers)."""
    raw_step = value / 4
    if raw_step <= 0 or (whole and raw_step <= 1):
        return 4.0
    magnitude = 10.0 ** math.floor(math.log10(raw_step))
    step = next(f * magnitude for f in (1, 2, 5, 10) if f * magnitude >= raw_step)
    return 4 * step


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    number: Callable[[float], str],
    *,
    whole: bool = True,
) -> Markup:
    """Grouped vertical bars: one group per label, one bar per series, an axis with four
    gridlines and a legend."""
    width, height = 520, 260
    left, right, top, bottom = 56, 8, 36, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_max(max((v for s in series for v in s.values), default=0), whole)
    parts = [
        f'<svg class="chart" id="{chart_id}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    for step in range(5):
        value = peak * step / 4
        y = top + plot_h - plot_h * step / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{_GRID}" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="13" '
            f'fill="{_TEXT}">{escape(number(value))}</text>'
        )
    group_w = plot_w / max(len(labels), 1)
    bar_w = min(40.0, group_w * 0.8 / max(len(series), 1))
    for index, label in enumerate(labels):
        group_x = left + group_w * index + (group_w - bar_w * len(series)) / 2
        for number_in_group, item in enumerate(series):
            value = item.values[index]
            bar_h = plot_h * value / peak
            x = group_x + bar_w * number_in_group
            y = top + plot_h - bar_h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{bar_h:.1f}" '
                f'fill="{COLOURS[number_in_group % len(COLOURS)]}">'
                f"<title>{escape(f'{label}: {item.name} {number(value)}')}</title></rect>"
            )
        parts.append(
            f'<text x="{left + group_w * (index + 0.5):.1f}" y="{height - bottom + 18}" '
            f'text-anchor="middle" font-size="13" fill="{_TEXT}">{escape(label)}</text>'
        )
    x = left
    for number_in_group, item in enumerate(series):
        colour = COLOURS[number_in_group % len(COLOURS)]
        parts.append(
            f'<rect x="{x}" y="10" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="21" font-size="13" fill="{_TEXT}">{escape(item.name)}</text>'
        )
        x += 28 + 7 * len(item.name)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above


def horizontal_bars(
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    values: Sequence[float],
    number: Callable[[float], str],
) -> Markup:
    """One horizontal bar per label (long names such as län read better across)."""
    row_h, left, right, top = 24, 170, 60, 8
    width = 520
    height = top * 2 + row_h * max(len(labels), 1)
    plot_w = width - left - right
    peak = _nice_max(max(values, default=0), True)
    parts = [
        f'<svg class="chart" id="{chart_id}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + row_h * index
        bar_w = plot_w * value / peak
        parts.append(
            f'<text x="{left - 6}" y="{y + 15}" text-anchor="end" font-size="13" '
            f'fill="{_TEXT}">{escape(label)}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{bar_w:.1f}" height="{row_h - 6}" '
            f'fill="{COLOURS[0]}"><title>{escape(f"{label}: {number(value)}")}</title></rect>'
            f'<text x="{left + bar_w + 4:.1f}" y="{y + 15}" font-size="13" '
            f'fill="{_TEXT}">{escape(number(value))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
