"""A server-rendered SVG line chart of daily progress (cumulative submitted and confirmed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape

WIDTH = 640
HEIGHT = 240
MARGIN_LEFT = 48
MARGIN_RIGHT = 16
MARGIN_TOP = 16
MARGIN_BOTTOM = 40


@dataclass(frozen=True, slots=True)
class Series:
    """A named line: cumulative counts per day."""

    label: str
    color: str
    daily: Mapping[dt.date, int]


def cumulative(daily: Mapping[dt.date, int], days: list[dt.date]) -> list[int]:
    """Running totals over ``days`` (counts before the first day are included in it)."""
    total = sum(n for day, n in daily.items() if day < days[0]) if days else 0
    out = []
    for day in days:
        total += daily.get(day, 0)
        out.append(total)
    return out


def _nice_max(value: int) -> int:
    if value <= 5:
        return 5
    magnitude = int(10 ** (len(str(value)) - 1))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def line_chart(series: list[Series], start: dt.date, end: dt.date, title: str) -> str:
    """An accessible ``<svg>`` (with ``<title>``) from ``start`` to ``end`` inclusive."""
    if end < start:
        end = start
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    lines = [cumulative(s.daily, days) for s in series]
    top = _nice_max(max((max(v) for v in lines if v), default=0))
    top = -(-top // 4) * 4  # four equal gridline steps
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

    def x(i: int) -> float:
        return MARGIN_LEFT + (plot_w * i / max(len(days) - 1, 1))

    def y(v: int) -> float:
        return MARGIN_TOP + plot_h - plot_h * v / top

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" class="chart" aria-labelledby="chart-title">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<rect x="{MARGIN_LEFT}" y="{MARGIN_TOP}" width="{plot_w}" height="{plot_h}" '
        'fill="#fff" stroke="#ccc"/>',
    ]
    for k in range(5):
        value = top * k // 4
        yy = y(value)
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{yy:.1f}" y2="{yy:.1f}" '
            'stroke="#eee"/>'
        )
        parts.append(
            f'<text x="{MARGIN_LEFT - 6}" y="{yy + 4:.1f}" font-size="11" '
            f'text-anchor="end">{value}</text>'
        )
    ticks = sorted({0, len(days) - 1, *range(0, len(days), max(len(days) // 5, 1))})
    for i in ticks:
        parts.append(
            f'<text x="{x(i):.1f}" y="{HEIGHT - MARGIN_BOTTOM + 16}" font-size="11" '
            f'text-anchor="middle">{days[i]:%m-%d}</text>'
        )
    for s, values in zip(series, lines, strict=True):
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(
            f'<polyline fill="none" stroke="{s.color}" stroke-width="2" points="{points}">'
            f"<title>{escape(s.label)}：{values[-1] if values else 0}</title></polyline>"
        )
    for n, s in enumerate(series):
        lx = MARGIN_LEFT + n * 140
        ly = HEIGHT - 8
        parts.append(
            f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{s.color}"/>'
            f'<text x="{lx + 14}" y="{ly}" font-size="12">{escape(s.label)}（累计）</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
