"""The rows `make bench` prints, and the interface every bench module offers the runner.

A bench module (bench/<name>.py) that the runner (bench/run.py) picks up exposes

    def measure(*, quick: bool) -> list[report.Row]: ...

It is called in a fresh Python process of its own, from the repository root, with the
repository on sys.path and DATABASE_URL / REDIS_URL as `make bench` was given them. It measures
its figures and, in the same run, the reference each is compared with, and returns one Row per
line of the table. It may print progress to stderr; stdout is ignored.
"""

import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Better(StrEnum):
    """Which way the ratio has to go for the goal: figures like req/s grow, times shrink."""

    HIGHER = "higher"
    LOWER = "lower"


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the table: a figure, the reference measured in the same run, their ratio,
    and the goal, which is either a ratio (`goal_ratio`) or an absolute figure (`goal`)."""

    name: str
    figure: float | None
    unit: str
    reference_name: str = ""
    reference: float | None = None
    better: Better = Better.HIGHER
    goal: float | None = None  # in the figure's unit
    goal_ratio: float | None = None  # figure / reference
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.figure is None or not self.reference:
            return None
        return self.figure / self.reference

    @property
    def verdict(self) -> str:
        """Return "met", "MISSED", "—" (no goal) or "not yet measured"."""
        if self.figure is None:
            return "not yet measured"
        checks = []
        if self.goal is not None:
            checks.append(_meets(self.figure, self.goal, self.better))
        if self.goal_ratio is not None:
            ratio = self.ratio
            checks.append(ratio is not None and _meets(ratio, self.goal_ratio, self.better))
        if not checks:
            return "—"
        return "met" if all(checks) else "MISSED"

    @property
    def goal_text(self) -> str:
        sign = "≥" if self.better is Better.HIGHER else "≤"
        parts = []
        if self.goal is not None:
            parts.append(f"{sign} {_number(self.goal)} {self.unit}")
        if self.goal_ratio is not None:
            parts.append(f"{sign} {_number(self.goal_ratio)}x ref")
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Row":
        return cls(**{**data, "better": Better(data["better"])})


def _meets(value: float, goal: float, better: Better) -> bool:
    return value >= goal if better is Better.HIGHER else value <= goal


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 0.1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def dump(rows: list[Row]) -> str:
    return json.dumps([row.to_json() for row in rows])


def load(text: str) -> list[Row]:
    return [Row.from_json(item) for item in json.loads(text)]


COLUMNS = ("row", "figure", "reference (same run)", "ref figure", "ratio", "goal", "verdict")


def cells(row: Row) -> tuple[str, ...]:
    figure = "—" if row.figure is None else f"{_number(row.figure)} {row.unit}"
    ratio = row.ratio
    return (
        row.name,
        figure,
        row.reference_name or "—",
        "—" if row.reference is None else _number(row.reference),
        "—" if ratio is None else f"{_number(ratio)}x",
        row.goal_text or "—",
        row.verdict,
    )


def text_table(sections: list[tuple[str, list[Row]]]) -> str:
    """The table as aligned plain text, a heading per section, then every row's note."""
    widths = [len(column) for column in COLUMNS]
    for _title, rows in sections:
        for row in rows:
            widths = [max(w, len(c)) for w, c in zip(widths, cells(row), strict=True)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    notes = []
    for title, rows in sections:
        lines.append(f"[{title}]")
        for row in rows:
            lines.append(
                "  ".join(c.ljust(w) for c, w in zip(cells(row), widths, strict=True)).rstrip()
            )
            if row.note:
                notes.append(f"- {row.name}: {row.note}")
    if notes:
        lines += ["", "Notes:", *notes]
    return "\n".join(lines)


def markdown_table(sections: list[tuple[str, list[Row]]]) -> str:
    """The same table in Markdown, for docs/performance.md."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    for title, rows in sections:
        lines.append(f"| **{title}** |" + " |" * (len(COLUMNS) - 1))
        for row in rows:
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells(row)) + " |")
    return "\n".join(lines)
