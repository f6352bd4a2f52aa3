"""Reading bulk-issue spreadsheets (CSV and XLSX) into plain rows, and writing templates.

Pure: bytes in, rows out. Whether a row is acceptable is decided by credentials.bulk.

Both formats are read as a stream, one row at a time, and every read is on a work budget
(Limits): the header is checked as soon as the first row is read, and reading stops at the
first cap exceeded — cells in a row, cells in the file, characters, rows — so any file under
the upload size cap is answered with little memory and CPU. XLSX sheets are not handed to
openpyxl, which builds a whole row (and pads gaps) before it can be counted: their XML is
parsed here with expat, chunk by chunk, with no DTD and no entities allowed.
"""

import csv
import io
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import IO, Final, NoReturn
from xml.parsers import expat
from zipfile import BadZipFile, ZipFile, ZipInfo

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

COLUMNS: Final = ("name", "email", "awarded_date", "grade", "evidence_url", "evidence_narrative")
REQUIRED: Final = ("name", "email", "awarded_date")
# Defaults of settings.MESHE_SPREADSHEET_MAX_*.
MAX_ROWS: Final = 50_000
MAX_INFLATED_BYTES: Final = 100 * 1024 * 1024
MAX_COLUMNS: Final = 16  # the header may name at most this many columns
MAX_ROW_CELLS: Final = 64  # cells read in any one row, empty ones included
MAX_CELLS: Final = 400_000  # cells read in the whole file; an empty row counts as one
MAX_TEXT_CHARS: Final = 20_000_000  # characters kept, as many as the largest CSV upload holds
# Fixed by the formats rather than by policy.
MAX_CELL_CHARS: Final = 32_767  # what Excel itself allows in a cell
MAX_CSV_ROW_CHARS: Final = 100_000  # a CSV row: six cells, the longest 10,000 characters
MAX_ZIP_MEMBERS: Final = 1_000  # a workbook has a dozen parts, a few hundred with many sheets
MAX_ZIP_RATIO: Final = 100  # inflated ÷ compressed, for parts over RATIO_FLOOR bytes
RATIO_FLOOR: Final = 1024 * 1024
MAX_PART_ELEMENTS: Final = 250_000  # in the workbook, its relationships and its styles
CHUNK: Final = 64 * 1024
EXAMPLE: Final = ("Ana Kowalska", "ana.kowalska@example.eu", "2026-06-30", "8.5", "", "")


class SpreadsheetError(ValueError):
    """The file as a whole cannot be read; the message says why, in plain words."""


@dataclass(frozen=True)
class SheetRow:
    number: int  # as the spreadsheet program shows it: the header is row 1
    values: dict[str, str]


@dataclass(frozen=True)
class Limits:
    """The work budget of one read; see settings.MESHE_SPREADSHEET_MAX_*."""

    rows: int = MAX_ROWS
    inflated_bytes: int = MAX_INFLATED_BYTES
    columns: int = MAX_COLUMNS
    row_cells: int = MAX_ROW_CELLS
    cells: int = MAX_CELLS
    text_chars: int = MAX_TEXT_CHARS
    zip_members: int = MAX_ZIP_MEMBERS
    zip_ratio: int = MAX_ZIP_RATIO


def read_rows(
    content: bytes,
    *,
    filename: str,
    max_rows: int = MAX_ROWS,
    max_inflated_bytes: int = MAX_INFLATED_BYTES,
    limits: Limits | None = None,
) -> list[SheetRow]:
    """The data rows of a CSV or XLSX file; raises SpreadsheetError for an unreadable file,
    missing or unknown columns, or any cap of `limits` exceeded (max_rows and
    max_inflated_bytes are shorthands for limits.rows and limits.inflated_bytes)."""
    if limits is None:
        limits = Limits(rows=max_rows, inflated_bytes=max_inflated_bytes)
    if filename.lower().endswith(".xlsx"):
        source: Iterator[tuple[int, list[str], int]] = _xlsx_rows(content, limits)
    elif filename.lower().endswith(".csv"):
        source = _csv_rows(content, limits)
    else:
        raise SpreadsheetError(_("Upload a .csv or .xlsx file."))
    try:
        return _collect(source, limits)
    except SpreadsheetError:
        raise
    except (
        BadZipFile,
        EOFError,
        IndexError,
        KeyError,
        NotImplementedError,  # zipfile's word for a compression method it lacks
        OSError,
        OverflowError,
        RuntimeError,
        ValueError,
        expat.ExpatError,
        struct.error,
        zlib.error,
    ):
        # The library's own words never reach the page.
        raise _unreadable() from None


def _collect(source: Iterator[tuple[int, list[str], int]], limits: Limits) -> list[SheetRow]:
    header: list[str] | None = None
    rows: list[SheetRow] = []
    cells = 0
    text = 0
    for number, cells_read, count in source:
        cells += max(1, count)
        if cells > limits.cells:
            raise SpreadsheetError(
                _("The file has more than %(limit)s cells; split it.") % {"limit": limits.cells}
            )
        if any("\x00" in cell for cell in cells_read):
            raise SpreadsheetError(
                _(
                    "The file contains NUL characters, which no spreadsheet cell holds; save it again."
                )
            )
        if header is None:
            header = _header(cells_read if number == 1 else [], limits)
            continue
        values = {
            name: (cells_read[i].strip() if i < len(cells_read) else "")
            for i, name in enumerate(header)
        }
        if not any(values.values()):
            continue
        text += sum(len(value) for value in values.values())
        if text > limits.text_chars:
            raise _too_much_text(limits.text_chars)
        rows.append(
            SheetRow(number=number, values={name: values.get(name, "") for name in COLUMNS})
        )
        if len(rows) > limits.rows:
            raise _too_many_rows(limits.rows)
    if header is None:
        raise SpreadsheetError(_("The file is empty."))
    if not rows:
        raise SpreadsheetError(_("The file has a header but no rows."))
    return rows


def _header(cells: list[str], limits: Limits) -> list[str]:
    header = [cell.strip().lower().replace(" ", "_") for cell in cells]
    while header and not header[-1]:
        header.pop()
    if len(header) > limits.columns:
        raise _too_many_columns(limits.columns)
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
    return header


def _unreadable() -> SpreadsheetError:
    return SpreadsheetError(
        _("The file cannot be read: it is not a readable spreadsheet (.xlsx or .csv).")
    )


def _too_many_rows(limit: int) -> SpreadsheetError:
    return SpreadsheetError(
        _("The file has more than %(limit)s rows; split it.") % {"limit": limit}
    )


def _too_many_columns(limit: int) -> SpreadsheetError:
    return SpreadsheetError(
        _("The first row names more than %(limit)s columns; only %(columns)s are known.")
        % {"limit": limit, "columns": ", ".join(COLUMNS)}
    )


def _too_many_row_cells(row: int, limit: int) -> SpreadsheetError:
    return SpreadsheetError(
        _("Row %(row)s has more than %(limit)s cells; a row may hold at most %(limit)s.")
        % {"row": row, "limit": limit}
    )


def _too_long_cell(row: int, limit: int) -> SpreadsheetError:
    return SpreadsheetError(
        _("Row %(row)s has a cell longer than %(limit)s characters.") % {"row": row, "limit": limit}
    )


def _too_much_text(limit: int) -> SpreadsheetError:
    return SpreadsheetError(
        _("The file holds more than %(limit)s characters of text; split it.") % {"limit": limit}
    )


# CSV -----------------------------------------------------------------------------------------


def _csv_rows(content: bytes, limits: Limits) -> Iterator[tuple[int, list[str], int]]:
    """Rows as they are read; a row is refused once its physical lines hold more than
    MAX_CSV_ROW_CHARS characters, before the csv module splits it into cells."""
    sample = content[: 4 * 4096].decode("utf-8-sig", errors="ignore")[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    stream = io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig", newline="")
    pending = [0]  # characters read towards the row being parsed
    numbers = [1]

    def lines() -> Iterator[str]:
        while line := stream.readline(MAX_CSV_ROW_CHARS + 1):
            pending[0] += len(line)
            if pending[0] > MAX_CSV_ROW_CHARS:
                raise SpreadsheetError(
                    _("Row %(row)s holds more than %(limit)s characters.")
                    % {"row": numbers[0], "limit": MAX_CSV_ROW_CHARS}
                )
            yield line

    reader = csv.reader(lines(), dialect)
    try:
        for cells in reader:
            number = numbers[0]
            pending[0] = 0
            numbers[0] += 1
            if len(cells) > limits.row_cells:
                raise _too_many_row_cells(number, limits.row_cells)
            if any(len(cell) > MAX_CELL_CHARS for cell in cells):
                raise _too_long_cell(number, MAX_CELL_CHARS)
            yield number, cells, len(cells)
    except UnicodeDecodeError:
        raise SpreadsheetError(
            _("The CSV file is not UTF-8 text. Save it as “CSV UTF-8”.")
        ) from None
    except csv.Error:
        raise _unreadable() from None


# XLSX ----------------------------------------------------------------------------------------

Event = tuple[str, str, dict[str, str]]  # ("start" | "end" | "text", local name, attributes)


def _refuse_dtd(*_args: object) -> NoReturn:
    raise expat.ExpatError("a DTD")


def _parser(*, namespaces: bool = False) -> "expat.XMLParserType":
    """An expat parser that refuses any DTD, and so any entity."""
    parser = expat.ParserCreate(namespace_separator=" " if namespaces else None)
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.UnparsedEntityDeclHandler = _refuse_dtd
    parser.ExternalEntityRefHandler = _refuse_dtd
    return parser


def _events(stream: IO[bytes], *, budget: int = MAX_PART_ELEMENTS) -> Iterator[Event]:
    """The elements and text of an XML stream, chunk by chunk; names lose their namespace
    (parts are looked up by position, not by prefix). A DTD, and so any entity, is refused."""
    parser = _parser(namespaces=True)
    pending: list[Event] = []
    none: dict[str, str] = {}

    def local(name: str) -> str:
        return name.rpartition(" ")[2]

    elements = [0]

    def start(name: str, attrs: dict[str, str]) -> None:
        elements[0] += 1
        if elements[0] > budget:
            raise SpreadsheetError(
                _(
                    "The XLSX file has parts larger than any spreadsheet needs (more than "
                    "%(limit)s elements); save it again or as CSV."
                )
                % {"limit": budget}
            )
        pending.append(("start", local(name), attrs))

    def end(name: str) -> None:
        pending.append(("end", local(name), none))

    def text(data: str) -> None:
        pending.append(("text", data, none))

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    while True:
        chunk = stream.read(CHUNK)
        parser.Parse(chunk, not chunk)
        yield from pending
        pending.clear()
        if not chunk:
            return


def _attr(attrs: dict[str, str], name: str) -> str | None:
    """An attribute by local name, whatever its namespace."""
    if name in attrs:
        return attrs[name]
    for key, value in attrs.items():
        if key.rpartition(" ")[2] == name:
            return value
    return None


def _member_count(content: bytes) -> int:
    """The number of parts the zip's end record declares, read before zipfile builds an
    entry for each of them; a zip64 archive reports 0xFFFF."""
    end = content.rfind(b"PK\x05\x06", max(0, len(content) - 22 - 65_535))
    if end < 0 or len(content) < end + 22:
        raise BadZipFile
    return int(struct.unpack("<H", content[end + 10 : end + 12])[0])


def _open_zip(content: bytes, limits: Limits) -> ZipFile:
    if _member_count(content) > limits.zip_members:
        raise SpreadsheetError(
            _("The XLSX file holds more than %(limit)s parts; save it again or as CSV.")
            % {"limit": limits.zip_members}
        )
    archive = ZipFile(io.BytesIO(content))
    members = archive.infolist()
    if len(members) > limits.zip_members:
        raise SpreadsheetError(
            _("The XLSX file holds more than %(limit)s parts; save it again or as CSV.")
            % {"limit": limits.zip_members}
        )
    # Reading stops at the declared sizes, so the directory bounds the work.
    if sum(member.file_size for member in members) > limits.inflated_bytes:
        raise SpreadsheetError(
            _(
                "The XLSX file would be larger than %(limit)s MB uncompressed; "
                "remove formatting or unused sheets, or save it as CSV."
            )
            % {"limit": limits.inflated_bytes // (1024 * 1024)}
        )
    for member in members:
        if member.file_size > RATIO_FLOOR and member.file_size > limits.zip_ratio * max(
            member.compress_size, 1
        ):
            raise SpreadsheetError(
                _(
                    "The XLSX file is compressed more than %(limit)s to 1, which no "
                    "spreadsheet needs; save it again or as CSV."
                )
                % {"limit": limits.zip_ratio}
            )
    return archive


def _member(archive: ZipFile, path: str) -> ZipInfo | None:
    try:
        return archive.getinfo(path.lstrip("/"))
    except KeyError:
        return None


def _workbook_parts(archive: ZipFile) -> tuple[str, str | None, str | None, datetime]:
    """The first sheet, the shared strings and the styles parts, and the date epoch."""
    sheet_id = None
    epoch = CALENDAR_WINDOWS_1900
    with archive.open("xl/workbook.xml") as stream:
        for kind, name, attrs in _events(stream):
            if kind != "start":
                continue
            if name == "workbookPr" and _attr(attrs, "date1904") in ("1", "true"):
                epoch = CALENDAR_MAC_1904
            elif name == "sheet":
                sheet_id = _attr(attrs, "id")
                break
    targets: dict[str, str] = {}
    by_type: dict[str, str] = {}
    rels = _member(archive, "xl/_rels/workbook.xml.rels")
    if rels is not None:
        with archive.open(rels) as stream:
            for kind, name, attrs in _events(stream):
                if kind == "start" and name == "Relationship":
                    target = attrs.get("Target", "")
                    target = target[1:] if target.startswith("/") else f"xl/{target}"
                    targets[attrs.get("Id", "")] = target
                    by_type.setdefault(attrs.get("Type", "").rpartition("/")[2], target)
    sheet = targets.get(sheet_id or "", "xl/worksheets/sheet1.xml")
    shared = by_type.get("sharedStrings", "xl/sharedStrings.xml")
    styles = by_type.get("styles", "xl/styles.xml")
    return (
        sheet,
        shared if _member(archive, shared) else None,
        styles if _member(archive, styles) else None,
        epoch,
    )


def _date_styles(archive: ZipFile, path: str | None) -> tuple[set[int], set[int]]:
    """The cell styles (xf indices) that show dates, and those that show durations."""
    if path is None:
        return set(), set()
    codes = dict(BUILTIN_FORMATS)
    dates: set[int] = set()
    durations: set[int] = set()
    in_cell_xfs = False
    index = 0
    with archive.open(path) as stream:
        for kind, name, attrs in _events(stream):
            if kind == "start" and name == "numFmt":
                if len(codes) < 10_000:
                    codes[int(attrs.get("numFmtId", "0"))] = attrs.get("formatCode", "")
            elif name == "cellXfs":
                in_cell_xfs = kind == "start"
                if not in_cell_xfs:
                    break  # the rest of the styles says nothing about dates
            elif kind == "start" and name == "xf" and in_cell_xfs:
                code = codes.get(int(attrs.get("numFmtId", "0")), "")
                if is_timedelta_format(code):
                    durations.add(index)
                elif is_date_format(code):
                    dates.add(index)
                index += 1
    return dates, durations


class _SharedStrings:
    """The workbook's shared strings, read only as far as the cells read so far need them,
    with as many strings as the cell cap and as much text as the text cap allow."""

    def __init__(self, archive: ZipFile, path: str | None, limits: Limits) -> None:
        self.items: list[str] = []
        self.stream = archive.open(path) if path else None
        self.parser = _parser()
        parts: list[str] = []
        state = {"in_si": False, "in_t": False, "phonetic": 0, "length": 0, "chars": 0}
        items = self.items

        def local(name: str) -> str:
            return name.rpartition(":")[2]

        def start(name: str, _attrs: dict[str, str]) -> None:
            tag = local(name)
            if tag == "si":
                state["in_si"] = True
                state["length"] = 0
                parts.clear()
            elif tag == "t":
                state["in_t"] = True
            elif tag == "rPh":
                state["phonetic"] += 1

        def end(name: str) -> None:
            tag = local(name)
            if tag == "t":
                state["in_t"] = False
            elif tag == "rPh":
                state["phonetic"] -= 1
            elif tag == "si" and state["in_si"]:
                state["in_si"] = False
                items.append("".join(parts))
                if len(items) > limits.cells:
                    raise SpreadsheetError(
                        _("The file has more than %(limit)s cells; split it.")
                        % {"limit": limits.cells}
                    )

        def text(data: str) -> None:
            if state["in_si"] and state["in_t"] and not state["phonetic"]:
                parts.append(data)
                state["length"] += len(data)
                state["chars"] += len(data)
                if state["length"] > MAX_CELL_CHARS:
                    raise SpreadsheetError(
                        _("The XLSX file holds a text longer than %(limit)s characters.")
                        % {"limit": MAX_CELL_CHARS}
                    )
                if state["chars"] > limits.text_chars:
                    raise _too_much_text(limits.text_chars)

        self.parser.StartElementHandler = start
        self.parser.EndElementHandler = end
        self.parser.CharacterDataHandler = text
        self.finished = self.stream is None

    def get(self, index: int) -> str:
        while len(self.items) <= index and not self.finished:
            assert self.stream is not None
            chunk = self.stream.read(CHUNK)
            self.parser.Parse(chunk, not chunk)
            self.finished = not chunk
        return self.items[index]  # IndexError: not a readable workbook

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()


def _xlsx_rows(content: bytes, limits: Limits) -> Iterator[tuple[int, list[str], int]]:
    archive = _open_zip(content, limits)
    with archive:
        sheet_path, shared_path, styles_path, epoch = _workbook_parts(archive)
        dates, durations = _date_styles(archive, styles_path)
        shared = _SharedStrings(archive, shared_path, limits)
        try:
            with archive.open(sheet_path.lstrip("/")) as stream:
                yield from _sheet_rows(
                    stream,
                    limits,
                    lambda kind, raw, style: _cell_value(
                        kind, raw, style, shared.get, epoch, dates, durations
                    ),
                )
        finally:
            shared.close()


_LETTERS: Final = {chr(65 + n): n + 1 for n in range(26)}
_DIGITS: Final = "0123456789"
# Elements of a sheet the reader acts on, by local name.
_ROW, _CELL, _VALUE, _INLINE, _TEXT, _PHONETIC = range(1, 7)
_SHEET_TAGS: Final = {
    "row": _ROW,
    "c": _CELL,
    "v": _VALUE,
    "is": _INLINE,
    "t": _TEXT,
    "rPh": _PHONETIC,
}


def _column_of(letters: str) -> int:
    """The 0-based column of a reference's letters, such as "C" of "C7"."""
    if not 1 <= len(letters) <= 3:
        raise ValueError(letters)
    index = 0
    for letter in letters.upper():
        index = index * 26 + _LETTERS[letter]  # KeyError: not a readable sheet
    return index - 1


def _sheet_rows(
    stream: IO[bytes], limits: Limits, value_of: Callable[[str, str, int], str]
) -> Iterator[tuple[int, list[str], int]]:
    """Each <row> as its number, its cells up to the header's width, and how many cells it
    had. The XML is parsed chunk by chunk by expat handlers that keep nothing but the row at
    hand, and a row is refused at its first cell past the cap, so a row of millions of cells
    costs no more than one of limits.row_cells."""
    done: list[tuple[int, list[str], int]] = []
    tags: dict[str, int] = dict(_SHEET_TAGS)
    columns: dict[str, int] = {}
    row_cells = limits.row_cells
    width = row_cells  # the header's width once it is known; cells past it are only counted
    number = 0
    cells: dict[int, str] = {}
    count = 0
    col = -1
    kind = ""
    style = 0
    raw: list[str] = []
    length = 0
    collecting = False
    inline = 0
    phonetic = 0

    def tag(name: str) -> int:
        code = tags.get(name)
        if code is None:
            code = _SHEET_TAGS.get(name.rpartition(":")[2], 0)
            if len(tags) < 1_000:
                tags[name] = code
        return code

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal number, cells, count, col, kind, style, raw, length, collecting, inline
        nonlocal phonetic
        code = tag(name)
        if code == _CELL:
            count += 1
            if count > row_cells:
                raise _too_many_row_cells(number, row_cells)
            ref = attrs.get("r")
            if ref:
                letters = ref.rstrip(_DIGITS)
                known = columns.get(letters)
                if known is None:
                    known = _column_of(letters)
                    if len(columns) < 1_000:
                        columns[letters] = known
                col = known
            else:
                col += 1
            kind = attrs.get("t", "n")
            style = int(attrs.get("s") or 0)
            raw = []
            length = 0
        elif code == _VALUE or (code == _TEXT and inline):
            collecting = True
        elif code == _ROW:
            r = attrs.get("r")
            number = int(r) if r and r.isdigit() and int(r) > number else number + 1
            cells = {}
            count = 0
            col = -1
        elif code == _INLINE:
            inline += 1
        elif code == _PHONETIC:
            phonetic += 1

    def end(name: str) -> None:
        nonlocal collecting, inline, phonetic, width
        code = tag(name)
        if code == _CELL:
            if raw and (col < width or number == 1):
                value = value_of(kind, "".join(raw), style)
                if len(value) > MAX_CELL_CHARS:
                    raise _too_long_cell(number, MAX_CELL_CHARS)
                if number == 1 and col >= limits.columns and value.strip():
                    raise _too_many_columns(limits.columns)
                if col < width:
                    cells[col] = value
        elif code in (_VALUE, _TEXT):
            collecting = False
        elif code == _ROW:
            row = [""] * (max(cells) + 1 if cells else 0)
            for index, value in cells.items():
                row[index] = value
            if number == 1:
                width = len(row)
            done.append((number, row, count))
        elif code == _INLINE:
            inline -= 1
        elif code == _PHONETIC:
            phonetic -= 1

    def text(data: str) -> None:
        nonlocal length
        if collecting and not phonetic:
            raw.append(data)
            length += len(data)
            if length > MAX_CELL_CHARS:
                raise _too_long_cell(number, MAX_CELL_CHARS)

    parser = _parser()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    while True:
        chunk = stream.read(CHUNK)
        parser.Parse(chunk, not chunk)
        yield from done
        done.clear()
        if not chunk:
            return


def _cell_value(
    kind: str,
    raw: str,
    style: int,
    shared: Callable[[int], str],
    epoch: datetime,
    dates: set[int],
    durations: set[int],
) -> str:
    if kind == "s":
        return shared(int(raw))
    if kind in ("inlineStr", "str", "e"):
        return raw
    if kind == "b":
        return str(bool(int(raw)))
    if kind == "d":
        return _cell_text(datetime.fromisoformat(raw.strip().rstrip("Z")))
    number: float | int = float(raw) if any(c in raw for c in ".eE") else int(raw)
    if style in dates or style in durations:
        return _cell_text(from_excel(number, epoch, timedelta=style in durations))
    return _cell_text(number)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
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
