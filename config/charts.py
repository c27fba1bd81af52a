"""Small server-rendered SVG charts for the staff dashboard (no JavaScript, no CDN).

Each chart is paired with a data table on the page, so that the figures are also
readable by screen readers and copyable.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

PALETTE = ["#1f6f61", "#b5542b", "#3d5a98", "#8a6d00", "#7a3e8e", "#4f5f66"]


def bar_chart(*, title: str, bars: Sequence[tuple[str, int]], width: int = 560) -> SafeString:
    """Horizontal bars, one per (label, value), scaled to the largest value."""
    row, label_width = 28, 170
    top = max((value for _label, value in bars), default=0) or 1
    scale = (width - label_width - 60) / top
    rows = format_html_join(
        "",
        '<text x="0" y="{}" font-size="13" fill="#1d2a2f">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="18" fill="{}"></rect>'
        '<text x="{}" y="{}" font-size="13" fill="#1d2a2f">{}</text>',
        (
            (
                index * row + 14,
                label,
                label_width,
                index * row + 1,
                round(value * scale, 1),
                PALETTE[0],
                label_width + round(value * scale, 1) + 6,
                index * row + 14,
                value,
            )
            for index, (label, value) in enumerate(bars)
        ),
    )
    return format_html(
        '<svg role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" '
        'xmlns="http://www.w3.org/2000/svg"><title>{}</title>{}</svg>',
        title,
        width,
        len(bars) * row,
        title,
        rows,
    )


def line_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    width: int = 560,
    height: int = 220,
) -> SafeString:
    """One line per series over the same labels (days or weeks), with a legend."""
    pad, legend = 36, 22
    values = [value for points in series.values() for value in points]
    low, high = min([0, *values]), max([1, *values])
    step = (width - 2 * pad) / max(len(labels) - 1, 1)

    def y(value: float) -> float:
        return round(height - pad - (value - low) * (height - 2 * pad) / (high - low), 1)

    lines = format_html_join(
        "",
        '<polyline fill="none" stroke="{}" stroke-width="2" points="{}"></polyline>'
        '<rect x="{}" y="{}" width="12" height="12" fill="{}"></rect>'
        '<text x="{}" y="{}" font-size="12" fill="#1d2a2f">{}</text>',
        (
            (
                PALETTE[index % len(PALETTE)],
                " ".join(f"{round(pad + i * step, 1)},{y(v)}" for i, v in enumerate(points)),
                pad + index * 110,
                height + 4,
                PALETTE[index % len(PALETTE)],
                pad + index * 110 + 16,
                height + 14,
                name,
            )
            for index, (name, points) in enumerate(series.items())
        ),
    )
    axis = format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#4f5f66"></line>'
        '<text x="0" y="{}" font-size="11" fill="#4f5f66">{}</text>'
        '<text x="0" y="{}" font-size="11" fill="#4f5f66">{}</text>'
        '<text x="{}" y="{}" font-size="11" fill="#4f5f66">{}</text>'
        '<text x="{}" y="{}" font-size="11" fill="#4f5f66" text-anchor="end">{}</text>',
        pad,
        y(low),
        width - pad,
        y(low),
        y(high) + 4,
        round(high),
        y(low),
        round(low),
        pad,
        height - pad + 16,
        labels[0] if labels else "",
        width - pad,
        height - pad + 16,
        labels[-1] if labels else "",
    )
    return format_html(
        '<svg role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" '
        'xmlns="http://www.w3.org/2000/svg"><title>{}</title>{}{}</svg>',
        title,
        width,
        height + legend,
        title,
        axis,
        lines,
    )
