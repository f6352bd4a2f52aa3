"""Cells for CSV files that people open in spreadsheets.

A cell that starts with = + - @, a tab or a carriage return is a formula to Excel, LibreOffice
and Google Sheets ("CSV injection"): a learner named =HYPERLINK(…) would run in the reader's
spreadsheet. Such cells get a leading apostrophe, which spreadsheets show as text.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Final

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The value as text that no spreadsheet will run; None is an empty cell."""
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def safe_row(values: Iterable[object]) -> list[str]:
    return [safe_cell(value) for value in values]
