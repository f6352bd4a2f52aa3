"""Work budgets of the bulk-upload spreadsheet reader: hostile XLSX and CSV files, each under
the upload and inflated-size caps, are refused with the cap they exceed, within a CPU and a
memory budget. The files are written here, their XML streamed straight into the zip, so the
suite stays cheap; CPU is process time (stable on a loaded machine), memory the tracemalloc
peak of the read."""

import io
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from credentials.issuing import spreadsheets
from credentials.issuing.spreadsheets import Limits, SpreadsheetError, read_rows
from credentials.models import BulkIssueJob
from tests.factories import MembershipFactory, MicroCredentialFactory
from tests.security import hostile
from tests.security.poisons import pure_read_within_budget

# Seconds of process CPU for one read. The costliest refusal (a 90 MB sharedStrings.xml read to its
# last string) took under 1 s when the budget was set and 1.3-2.1 s on 2026-12-07, on a machine
# whose reference signer ran about half as fast (docs/security.md); the budget keeps that margin.
CPU_BUDGET = 3.0
MEMORY_BUDGET = 200 * 1024 * 1024  # bytes, peak of the read
MB = 1024 * 1024
# Lets a file through the compression-ratio check, to reach the cap behind it.
NO_RATIO = Limits(zip_ratio=10**9)

HEADER_ROW = (
    b'<row r="1">'
    + b"".join(
        b'<c t="inlineStr"><is><t>' + name.encode() + b"</t></is></c>"
        for name in spreadsheets.COLUMNS
    )
    + b"</row>"
)
CELL = b'<c t="inlineStr"><is><t>x</t></is></c>'


MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = b"http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CONTENT = b"application/vnd.openxmlformats-officedocument.spreadsheetml"


def base_parts() -> dict[str, bytes]:
    """The parts of a minimal workbook, with shared strings."""
    return {
        "[Content_Types].xml": b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        b'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
        b'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        b'<Override PartName="/xl/workbook.xml" ContentType="' + CONTENT + b'.sheet.main+xml"/>'
        b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="'
        + CONTENT
        + b'.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="'
        + CONTENT
        + b'.sharedStrings+xml"/></Types>',
        "_rels/.rels": b'<Relationships xmlns="'
        + RELS
        + b'"><Relationship Id="rId1" Type="'
        + OFFICE
        + b'/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": b'<workbook xmlns="' + MAIN + b'" xmlns:r="' + OFFICE + b'"><sheets>'
        b'<sheet name="Learners" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": b'<Relationships xmlns="' + RELS + b'">'
        b'<Relationship Id="rId1" Type="' + OFFICE + b'/worksheet" Target="worksheets/sheet1.xml"/>'
        b'<Relationship Id="rId2" Type="' + OFFICE + b'/sharedStrings" Target="sharedStrings.xml"/>'
        b"</Relationships>",
        "xl/worksheets/sheet1.xml": b'<worksheet xmlns="' + MAIN + b'"><sheetData/></worksheet>',
        "xl/sharedStrings.xml": b'<sst xmlns="' + MAIN + b'"/>',
    }


def xlsx(
    sheet_data: Iterable[bytes],
    *,
    shared: Iterable[bytes] | None = None,
    extra: dict[str, Iterable[bytes]] | None = None,
) -> bytes:
    """A workbook whose first sheet holds `sheet_data`, streamed into the zip."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, data in base_parts().items():
            if name == "xl/worksheets/sheet1.xml":
                head = b'<worksheet xmlns="' + MAIN + b'"><sheetData>'
                write(archive, name, [head, *sheet_data, b"</sheetData></worksheet>"])
            elif name == "xl/sharedStrings.xml" and shared is not None:
                write(archive, name, shared)
            else:
                archive.writestr(name, data)
        for name, chunks in (extra or {}).items():
            write(archive, name, chunks)
    return out.getvalue()


def write(archive: zipfile.ZipFile, name: str, chunks: Iterable[bytes]) -> None:
    with archive.open(name, "w", force_zip64=True) as member:
        for chunk in chunks:
            member.write(chunk)


def repeated(piece: bytes, times: int, *, batch: int = 10_000) -> Iterator[bytes]:
    block = piece * batch
    for _ in range(times // batch):
        yield block
    yield piece * (times % batch)


def measured(
    read: Callable[[], object], *, budget: float = CPU_BUDGET
) -> tuple[BaseException | object, int]:
    """What `read` returns or raises, failing the test past `budget` seconds of CPU, and its peak
    traced memory."""

    def outcome() -> BaseException | object:
        try:
            return read()
        except SpreadsheetError as exc:
            return exc

    return pure_read_within_budget(outcome, cpu=budget)


def refused(read: Callable[[], object], words: str) -> None:
    outcome, peak = measured(read)
    assert isinstance(outcome, SpreadsheetError), outcome
    assert words in str(outcome), str(outcome)
    assert peak < MEMORY_BUDGET, peak


# The file of the report: 2.6 million inline-string cells in one row, 95 MB once inflated.
@pytest.fixture(scope="module")
def wide_row() -> bytes:
    content = xlsx([b'<row r="1">', *repeated(CELL, 2_600_000), b"</row>"])
    assert len(content) < 2 * MB
    return content


def test_a_row_of_millions_of_cells_is_refused_by_its_compression(wide_row):
    refused(lambda: read_rows(wide_row, filename="r.xlsx"), "compressed more than 100 to 1")


def test_a_row_of_millions_of_cells_is_refused_at_the_column_cap_of_the_header(wide_row):
    refused(
        lambda: read_rows(wide_row, filename="r.xlsx", limits=NO_RATIO),
        "The first row names more than 16 columns",
    )


def test_a_header_of_millions_of_empty_cells_is_refused_at_the_cell_cap_of_a_row():
    content = xlsx([b'<row r="1">', *repeated(b'<c s="1"/>', 2_600_000), b"</row>"])
    refused(
        lambda: read_rows(content, filename="r.xlsx", limits=NO_RATIO),
        "Row 1 has more than 64 cells",
    )


def test_a_wide_data_row_is_refused_at_the_cell_cap_of_a_row():
    content = xlsx(
        [HEADER_ROW, b'<row r="2">', *repeated(b"<c><v>1</v></c>", 1_000_000), b"</row>"]
    )
    refused(
        lambda: read_rows(content, filename="r.xlsx", limits=NO_RATIO),
        "Row 2 has more than 64 cells",
    )


def test_a_header_naming_too_many_columns_is_refused_with_the_cap():
    row = b"".join(
        b'<c t="inlineStr"><is><t>c%d</t></is></c>' % n
        for n in range(len(spreadsheets.COLUMNS), 40)
    )
    content = xlsx([HEADER_ROW[:-6] + row + b"</row>"])
    refused(lambda: read_rows(content, filename="r.xlsx"), "names more than 16 columns")


def test_huge_shared_strings_are_refused():
    # 90 MB of shared strings, as many as 5.6 million, one cell pointing at the last.
    strings = 5_600_000
    shared = [
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">',
        *repeated(b"<si><t>x</t></si>", strings),
        b"</sst>",
    ]
    sheet = [HEADER_ROW, b'<row r="2"><c t="s"><v>%d</v></c></row>' % (strings - 1)]
    content = xlsx(sheet, shared=shared)
    refused(lambda: read_rows(content, filename="r.xlsx"), "compressed more than 100 to 1")
    refused(
        lambda: read_rows(content, filename="r.xlsx", limits=NO_RATIO),
        f"more than {spreadsheets.MAX_CELLS} cells",
    )


def test_shared_strings_are_capped_by_their_text():
    shared = [b"<sst>", *repeated(b"<si><t>" + b"y" * 30_000 + b"</t></si>", 800), b"</sst>"]
    sheet = [HEADER_ROW, b'<row r="2"><c t="s"><v>799</v></c></row>']
    content = xlsx(sheet, shared=shared)
    refused(
        lambda: read_rows(content, filename="r.xlsx", limits=NO_RATIO),
        "more than 20000000 characters",
    )


def test_a_zip_bomb_part_is_refused_before_it_is_inflated():
    bomb = xlsx([HEADER_ROW], extra={"xl/media/image1.png": repeated(b"\x00" * 1024, 90 * 1024)})
    assert len(bomb) < MB
    refused(lambda: read_rows(bomb, filename="r.xlsx"), "compressed more than 100 to 1")


def test_a_zip_of_many_parts_is_refused_before_its_directory_is_read():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for n in range(5_000):
            archive.writestr(f"{n}", b"")
    content = out.getvalue()
    refused(lambda: read_rows(content, filename="r.xlsx"), "more than 1000 parts")


def test_many_rows_of_many_cells_are_refused_at_the_cell_cap_of_the_file():
    row = b"<row>" + b"<c><v>1</v></c>" * 40 + b"</row>"
    content = xlsx([HEADER_ROW, *repeated(row, 12_000, batch=100)])
    refused(
        lambda: read_rows(content, filename="r.xlsx", limits=NO_RATIO),
        f"more than {spreadsheets.MAX_CELLS} cells",
    )


def test_a_wrong_header_is_refused_before_the_body_is_read():
    body = b'<row><c t="inlineStr"><is><t>Ana</t></is></c><c><v>1</v></c></row>'
    sheet = [b'<row r="1"><c t="inlineStr"><is><t>shoe_size</t></is></c></row>']
    content = xlsx([*sheet, *repeated(body, 1_500_000, batch=1000)])
    # The body, 90 MB inflated, is never read: a fraction of the budget.
    outcome, peak = measured(
        lambda: read_rows(content, filename="r.xlsx", limits=NO_RATIO), budget=0.5
    )
    assert isinstance(outcome, SpreadsheetError)
    assert "unknown column(s): shoe_size" in str(outcome)
    assert peak < 20 * MB, peak


def test_a_long_cell_is_refused_with_the_cap():
    cell = b'<c t="inlineStr"><is><t>' + b"z" * 40_000 + b"</t></is></c>"
    content = xlsx([HEADER_ROW, b'<row r="2">' + cell + b"</row>"])
    refused(lambda: read_rows(content, filename="r.xlsx"), "longer than 32767 characters")


def test_a_document_type_declaration_is_refused_in_our_own_words():
    parts = base_parts()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in parts.items():
            if name == "xl/workbook.xml":
                data = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>' + data.split(b"?>", 1)[-1]
            archive.writestr(name, data)
    refused(
        lambda: read_rows(out.getvalue(), filename="r.xlsx"),
        "The file cannot be read: it is not a readable spreadsheet (.xlsx or .csv).",
    )


# CSV -----------------------------------------------------------------------------------------

CSV_HEADER = ",".join(spreadsheets.COLUMNS).encode() + b"\n"


def test_a_csv_line_of_millions_of_cells_is_refused_before_it_is_split():
    content = CSV_HEADER + b"," * (19 * MB) + b"\n"
    refused(lambda: read_rows(content, filename="r.csv"), "Row 2 holds more than 100000 characters")


def test_a_csv_row_of_too_many_cells_is_refused():
    content = CSV_HEADER + b"a," * 100 + b"\n"
    refused(lambda: read_rows(content, filename="r.csv"), "Row 2 has more than 64 cells")


def test_a_csv_of_many_rows_of_many_cells_is_refused_at_the_cell_cap():
    content = CSV_HEADER + (b"1," * 50 + b"\n") * 10_000
    refused(
        lambda: read_rows(content, filename="r.csv"), f"more than {spreadsheets.MAX_CELLS} cells"
    )


def test_a_csv_of_blank_lines_is_refused_at_the_cell_cap():
    content = CSV_HEADER + b"\n" * 2 * spreadsheets.MAX_CELLS
    refused(
        lambda: read_rows(content, filename="r.csv"), f"more than {spreadsheets.MAX_CELLS} cells"
    )


def test_a_csv_with_a_wrong_header_is_refused_before_its_body_is_read():
    content = b"shoe_size\n" + b"Ana,ana@example.eu,2026-01-02,,,\n" * 500_000
    outcome, _peak = measured(lambda: read_rows(content, filename="r.csv"), budget=0.2)
    assert isinstance(outcome, SpreadsheetError)
    assert "unknown column(s): shoe_size" in str(outcome)


# What still works ----------------------------------------------------------------------------


def test_the_largest_allowed_spreadsheet_is_read_within_budget():
    rows = 50_000
    content = xlsx(
        [
            HEADER_ROW,
            *(
                b'<row><c t="inlineStr"><is><t>Learner %d</t></is></c>'
                b'<c t="inlineStr"><is><t>learner%d@example.eu</t></is></c>'
                b'<c t="inlineStr"><is><t>2026-01-02</t></is></c>'
                b"<c><v>8.5</v></c></row>" % (n, n * 7919 % 100_003)
                for n in range(rows)
            ),
        ]
    )
    # 200,000 cells, each a few Python calls: twice the budget of a refusal.
    outcome, peak = measured(lambda: read_rows(content, filename="r.xlsx"), budget=2 * CPU_BUDGET)
    assert isinstance(outcome, list) and len(outcome) == rows
    assert outcome[-1].number == rows + 1
    assert outcome[-1].values["grade"] == "8.5"
    assert peak < MEMORY_BUDGET, peak


def openpyxl_rows(content: bytes) -> list[list[str]]:
    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    rows = [
        [spreadsheets._cell_text(value) for value in row]
        for row in workbook.worksheets[0].iter_rows(values_only=True)
    ]
    workbook.close()
    return rows


def test_cells_read_as_openpyxl_reads_them():
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(spreadsheets.COLUMNS))
    sheet.append(["Ana", "ana@example.eu", date(2026, 1, 2), 8.5, "", "Said “hé” & <b>"])
    sheet.append(["Ben", "ben@example.eu", datetime(2026, 1, 2, 13, 30), 9, None, True])
    sheet.append(["Cleo", "cleo@example.eu", "2026-01-03", 7.0, "https://example.eu/e", 1e21])
    sheet["F6"] = "after a gap"
    out = io.BytesIO()
    workbook.save(out)
    content = out.getvalue()
    expected = openpyxl_rows(content)
    rows = read_rows(content, filename="r.xlsx")
    assert [row.number for row in rows] == [2, 3, 4, 6]
    for row in rows:
        cells = expected[row.number - 1]
        assert [row.values[name] for name in spreadsheets.COLUMNS] == [
            (cells[i] if i < len(cells) else "").strip() for i in range(len(spreadsheets.COLUMNS))
        ]
    assert rows[0].values["awarded_date"] == "2026-01-02"
    assert rows[1].values["awarded_date"] == "2026-01-02T13:30:00"


@pytest.mark.django_db
def test_a_hostile_upload_is_refused_on_the_page_with_the_cap(settings):
    micro_credential = MicroCredentialFactory()
    membership = MembershipFactory(institution=micro_credential.institution)
    client = hostile.quiet_client()
    client.force_login(membership.user)
    settings.MESHE_SPREADSHEET_MAX_ROW_CELLS = 10
    content = CSV_HEADER + b"a," * 20 + b"\n"
    url = reverse("credentials:bulk_upload", kwargs={"slug": micro_credential.institution.slug})
    response = client.post(
        url,
        {
            "micro_credential": micro_credential.pk,
            "spreadsheet": SimpleUploadedFile("r.csv", content),
        },
    )
    assert response.status_code == 200
    assert "Row 2 has more than 10 cells" in response.content.decode()
    assert not BulkIssueJob.objects.exists()


def test_the_budgets_are_settings_with_the_documented_defaults():
    from django.conf import settings

    assert settings.MESHE_SPREADSHEET_MAX_COLUMNS == spreadsheets.MAX_COLUMNS == 16
    assert settings.MESHE_SPREADSHEET_MAX_ROW_CELLS == spreadsheets.MAX_ROW_CELLS == 64
    assert settings.MESHE_SPREADSHEET_MAX_CELLS == spreadsheets.MAX_CELLS == 400_000
    assert settings.MESHE_SPREADSHEET_MAX_TEXT_CHARS == spreadsheets.MAX_TEXT_CHARS == 20_000_000
