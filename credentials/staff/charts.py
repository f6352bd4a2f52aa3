"""Bar charts as plain HTML: no chart library, no JavaScript, read by screen readers as a list of
names and numbers. Each label is written whole above its bar, so it wraps on a phone instead of
being cut, and the bars take the brand colour from the stylesheet."""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    value: int


@dataclass(frozen=True)
class ChartRow:
    label: str
    value: int
    percent: float  # of the longest bar, from 0 to 100


@dataclass(frozen=True)
class BarChart:
    title: str
    rows: tuple[ChartRow, ...]


def bar_chart(bars: Sequence[Bar], *, title: str) -> BarChart:
    """The rows of a horizontal bar chart, each bar's length a share of the longest; a bar
    above zero is never drawn shorter than 1 %, so it stays visible."""
    top = max((bar.value for bar in bars), default=0) or 1
    return BarChart(
        title=title,
        rows=tuple(
            ChartRow(
                label=bar.label,
                value=bar.value,
                percent=max(round(100 * bar.value / top, 1), 1.0 if bar.value else 0.0),
            )
            for bar in bars
        ),
    )
