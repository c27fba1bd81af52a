"""Small server-rendered SVG charts for the staff dashboard (no JavaScript, no CDN).

Each chart is paired with a data table on the page, so that the figures are also
readable by screen readers and copyable.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

PALETTE = ["#1f6f61", "#b5542b", "#3d5a98", "#8a6d00", "#7a3e8e", "#4f5f66"]


# The charts are drawn narrow and scaled to their card: drawn at the width of a phone's card,
# their text stays at least the size of the admin's small print there, and grows only a
# little on a desktop, where the dashboard's style caps their width.
FONT = 14
SMALL = 13


def bar_chart(*, title: str, bars: Sequence[tuple[str, int]], width: int = 320) -> SafeString:
    """Horizontal bars, one per (label, value), scaled to the largest value.

    Each label sits above its bar, so that long labels never squeeze the bars.
    """
    row = 44
    top = max((value for _label, value in bars), default=0) or 1
    scale = (width - 48) / top
    rows = format_html_join(
        "",
        '<text x="0" y="{}" font-size="{}" fill="#1d2a2f">{}</text>'
        '<rect x="0" y="{}" width="{}" height="14" rx="2" fill="{}"></rect>'
        '<text x="{}" y="{}" font-size="{}" font-weight="700" fill="#1d2a2f">{}</text>',
        (
            (
                index * row + 15,
                FONT,
                label,
                index * row + 22,
                max(round(value * scale, 1), 2),
                PALETTE[0],
                max(round(value * scale, 1), 2) + 6,
                index * row + 34,
                FONT,
                value,
            )
            for index, (label, value) in enumerate(bars)
        ),
    )
    return format_html(
        '<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" '
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
    width: int = 320,
    height: int = 200,
) -> SafeString:
    """One line per series over the same labels (days or weeks), with a legend below."""
    pad, per_row, legend_row = 40, 2, 22
    values = [value for points in series.values() for value in points]
    low, high = min([0, *values]), max([1, *values])
    step = (width - pad - 8) / max(len(labels) - 1, 1)
    column = (width - pad) / per_row
    legend = legend_row * -(-len(series) // per_row)

    def y(value: float) -> float:
        return round(height - pad - (value - low) * (height - pad - 12) / (high - low), 1)

    lines = format_html_join(
        "",
        '<polyline fill="none" stroke="{}" stroke-width="2.5" points="{}"></polyline>'
        '<rect x="{}" y="{}" width="12" height="12" fill="{}"></rect>'
        '<text x="{}" y="{}" font-size="{}" fill="#1d2a2f">{}</text>',
        (
            (
                PALETTE[index % len(PALETTE)],
                " ".join(f"{round(pad + i * step, 1)},{y(v)}" for i, v in enumerate(points)),
                round(pad + (index % per_row) * column, 1),
                height + (index // per_row) * legend_row,
                PALETTE[index % len(PALETTE)],
                round(pad + (index % per_row) * column + 18, 1),
                height + (index // per_row) * legend_row + 11,
                SMALL,
                name,
            )
            for index, (name, points) in enumerate(series.items())
        ),
    )
    axis = format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#4f5f66"></line>'
        '<text x="{}" y="{}" font-size="{}" fill="#4f5f66" text-anchor="end">{}</text>'
        '<text x="{}" y="{}" font-size="{}" fill="#4f5f66" text-anchor="end">{}</text>'
        '<text x="{}" y="{}" font-size="{}" fill="#4f5f66">{}</text>'
        '<text x="{}" y="{}" font-size="{}" fill="#4f5f66" text-anchor="end">{}</text>',
        pad,
        y(low),
        width - 8,
        y(low),
        pad - 6,
        y(high) + 4,
        SMALL,
        round(high),
        pad - 6,
        y(low) + 4,
        SMALL,
        round(low),
        pad,
        height - pad + 18,
        SMALL,
        labels[0] if labels else "",
        width - 8,
        height - pad + 18,
        SMALL,
        labels[-1] if labels else "",
    )
    return format_html(
        '<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" '
        'xmlns="http://www.w3.org/2000/svg"><title>{}</title>{}{}</svg>',
        title,
        width,
        height + legend,
        title,
        axis,
        lines,
    )
