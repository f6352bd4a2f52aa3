"""Server-rendered SVG bar charts: no chart library, no JavaScript, readable by screen readers."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape


@dataclass(frozen=True)
class Bar:
    label: str
    value: int


def bar_chart(bars: Sequence[Bar], *, title: str, width: int = 640, bar_height: int = 22) -> str:
    """A horizontal bar chart as inline SVG, with the numbers written beside the bars and a
    title and description for assistive technology. Labels are escaped."""
    label_width = 220
    gap = 6
    plot = width - label_width - 60
    height = max(1, len(bars)) * (bar_height + gap) + gap
    top = max((bar.value for bar in bars), default=0) or 1
    rows = []
    for index, bar in enumerate(bars):
        y = gap + index * (bar_height + gap)
        length = round(plot * bar.value / top)
        rows.append(
            f'<text x="{label_width - 8}" y="{y + bar_height * 0.7:.1f}" text-anchor="end" '
            f'class="chart-label">{escape(bar.label[:38])}</text>'
            f'<rect x="{label_width}" y="{y}" width="{max(length, 1)}" height="{bar_height}" '
            f'class="chart-bar"><title>{escape(bar.label)}: {bar.value}</title></rect>'
            f'<text x="{label_width + length + 6}" y="{y + bar_height * 0.7:.1f}" '
            f'class="chart-value">{bar.value}</text>'
        )
    description = "; ".join(f"{bar.label}: {bar.value}" for bar in bars) or "no data"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="chart-title chart-desc" class="chart">'
        f'<title id="chart-title">{escape(title)}</title>'
        f'<desc id="chart-desc">{escape(description)}</desc>{"".join(rows)}</svg>'
    )
