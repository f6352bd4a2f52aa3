"""Reading bulk-issue spreadsheets (CSV and XLSX) into plain rows, and writing templates.

Pure: bytes in, rows out. Whether a row is acceptable is decided by credentials.bulk.
"""

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final
from zipfile import BadZipFile, ZipFile

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

COLUMNS: Final = ("name", "email", "awarded_date", "grade", "evidence_url", "evidence_narrative")
REQUIRED: Final = ("name", "email", "awarded_date")
# Defaults of settings.MESHE_SPREADSHEET_MAX_ROWS and MESHE_SPREADSHEET_MAX_INFLATED_BYTES.
MAX_ROWS: Final = 50_000
MAX_INFLATED_BYTES: Final = 100 * 1024 * 1024
EXAMPLE: Final = ("Ana Kowalska", "ana.kowalska@example.eu", "2026-06-30", "8.5", "", "")


class SpreadsheetError(ValueError):
    """The file as a whole cannot be read; the message says why, in plain words."""


@dataclass(frozen=True)
class SheetRow:
    number: int  # as the spreadsheet program shows it: the header is row 1
    values: dict[str, str]


def read_rows(
    content: bytes,
    *,
    filename: str,
    max_rows: int = MAX_ROWS,
    max_inflated_bytes: int = MAX_INFLATED_BYTES,
) -> list[SheetRow]:
    """The data rows of a CSV or XLSX file; raises SpreadsheetError for an unreadable file,
    missing or unknown columns, more than max_rows rows, or an XLSX that would inflate to
    more than max_inflated_bytes."""
    if filename.lower().endswith(".xlsx"):
        table = _xlsx_table(content, max_rows=max_rows, max_inflated_bytes=max_inflated_bytes)
    elif filename.lower().endswith(".csv"):
        table = _csv_table(content)
    else:
        raise SpreadsheetError(_("Upload a .csv or .xlsx file."))
    if not table:
        raise SpreadsheetError(_("The file is empty."))
    if any("\x00" in cell for row in table for cell in row):
        raise SpreadsheetError(
            _("The file contains NUL characters, which no spreadsheet cell holds; save it again.")
        )
    header = [cell.strip().lower().replace(" ", "_") for cell in table[0]]
    while header and not header[-1]:
        header.pop()
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in REQUIRED if name not in header]
    if unknown or missing:
        problems = []
        if missing:
            problems.append(_("missing column(s): %(names)s") % {"names": ", ".join(missing)})
        if unknown:
            problems.append(_("unknown column(s): %(names)s") % {"names": ", ".join(unknown)})
        raise SpreadsheetError(
            _("The first row must name the columns (%(columns)s); %(problems)s.")
            % {"columns": ", ".join(COLUMNS), "problems": "; ".join(problems)}
        )
    rows = []
    for offset, cells in enumerate(table[1:], start=2):
        values = {
            name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)
        }
        if not any(values.values()):
            continue
        rows.append(
            SheetRow(number=offset, values={name: values.get(name, "") for name in COLUMNS})
        )
        if len(rows) > max_rows:
            raise _too_many_rows(max_rows)
    if not rows:
        raise SpreadsheetError(_("The file has a header but no rows."))
    return rows


def _csv_table(content: bytes) -> list[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpreadsheetError(
            _("The CSV file is not UTF-8 text. Save it as “CSV UTF-8”.")
        ) from None
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:
        raise SpreadsheetError(
            _("The CSV file cannot be read: %(problem)s.") % {"problem": exc}
        ) from None


def _too_many_rows(limit: int) -> SpreadsheetError:
    return SpreadsheetError(
        _("The file has more than %(limit)s rows; split it.") % {"limit": limit}
    )


def _inflated_size(content: bytes) -> int:
    """What the zip's members add up to once inflated, as its directory declares; reading
    stops at the declared size, so the declaration bounds the work."""
    try:
        with ZipFile(io.BytesIO(content)) as archive:
            return sum(member.file_size for member in archive.infolist())
    except (BadZipFile, OSError, ValueError):
        return 0  # not a zip: openpyxl says so in its own words below


def _xlsx_table(content: bytes, *, max_rows: int, max_inflated_bytes: int) -> list[list[str]]:
    if _inflated_size(content) > max_inflated_bytes:
        raise SpreadsheetError(
            _(
                "The XLSX file would be larger than %(limit)s MB uncompressed; "
                "remove formatting or unused sheets, or save it as CSV."
            )
            % {"limit": max_inflated_bytes // (1024 * 1024)}
        )
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError) as exc:
        raise SpreadsheetError(
            _("The XLSX file cannot be read: %(problem)s.") % {"problem": exc}
        ) from None
    sheet = workbook.worksheets[0]
    table = []
    for index, row in enumerate(sheet.iter_rows(values_only=True)):
        if index > max_rows + 1:
            raise _too_many_rows(max_rows)
        table.append([_cell_text(value) for value in row])
    workbook.close()
    return table


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def template_csv() -> bytes:
    """A CSV template with the header and one example row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerow(EXAMPLE)
    return out.getvalue().encode("utf-8")


def template_xlsx() -> bytes:
    """The same template as an Excel workbook."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook always has one sheet
    sheet.title = "Learners"
    sheet.append(list(COLUMNS))
    sheet.append(list(EXAMPLE))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
