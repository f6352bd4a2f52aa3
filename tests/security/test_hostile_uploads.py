"""Hostile input through the staff forms and the bulk upload: awkward text, CSV and XLSX files
that are malformed, oversized or compressed to explode. Each is refused with a message on the
page, never a 500, and nothing is stored half-way."""

import io
import zipfile
from collections.abc import Iterator, Sequence

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import given
from openpyxl import Workbook

from credentials.issuing import services, spreadsheets, verifier
from credentials.models import (
    BulkIssueJob,
    BulkIssueRow,
    CredentialEvent,
    IssuedCredential,
    MicroCredential,
    MicroCredentialVersion,
    StatusList,
)
from institutions.models import AuditEvent
from tests.factories import MembershipFactory, MicroCredentialFactory
from tests.security import hostile

pytestmark = pytest.mark.django_db

ROWS = (
    IssuedCredential,
    CredentialEvent,
    MicroCredentialVersion,
    StatusList,
    BulkIssueJob,
    BulkIssueRow,
    AuditEvent,
)
HEADER = "name,email,awarded_date,grade,evidence_url,evidence_narrative\n"


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    with hostile.nothing_logged_at_error(caplog):
        yield


@pytest.fixture
def staff():
    micro_credential = MicroCredentialFactory()
    membership = MembershipFactory(institution=micro_credential.institution)
    client = hostile.quiet_client()
    client.force_login(membership.user)
    return client, micro_credential


# The issue form ------------------------------------------------------------------------------


def post_issue(client, micro_credential: MicroCredential, **fields: str):
    url = reverse("credentials:issue", kwargs={"slug": micro_credential.institution.slug})
    data = {
        "micro_credential": micro_credential.pk,
        "holder_name": "Ana Kowalska",
        "holder_email": "ana@example.eu",
        "awarded_date": "2026-01-20",
        "confirm": "1",
        **fields,
    }
    return client.post(url, data)


@pytest.mark.parametrize("field", ["holder_name", "grade", "evidence_narrative"])
@pytest.mark.parametrize("text", [*hostile.AWKWARD_TEXTS, hostile.XSS])
def test_the_issue_form_issues_awkward_text_that_verifies_or_says_why_not(staff, field, text):
    client, micro_credential = staff
    before = hostile.counts(*ROWS)
    response = post_issue(client, micro_credential, **{field: text})
    if response.status_code == 302:
        credential = IssuedCredential.objects.order_by("-pk").first()
        assert credential is not None
        assert verifier.verify(credential.document)["verified"]
    else:
        assert response.status_code == 200
        assert response.context["form"].errors
        assert hostile.counts(*ROWS) == before


@hostile.BOUNDED
@given(name=hostile.hostile_text, narrative=hostile.hostile_text)
def test_the_issue_form_never_fails_with_a_500_whatever_the_text(staff, name, narrative):
    client, micro_credential = staff
    before = hostile.counts(*ROWS)
    response = post_issue(client, micro_credential, holder_name=name, evidence_narrative=narrative)
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert hostile.counts(*ROWS) == before


@pytest.mark.parametrize("text", ["Data\x07Literacy", "Data\x00Literacy", "Data\u202eLiteracy"])
def test_a_specification_with_a_control_character_cannot_reach_a_signature(staff, text):
    client, micro_credential = staff
    url = reverse(
        "credentials:micro_credential_edit",
        kwargs={"slug": micro_credential.institution.slug, "public_id": micro_credential.public_id},
    )
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["form"]
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and not isinstance(value, list | dict)
    }
    data.update(
        {
            "title": text,
            "outcomes-TOTAL_FORMS": "1",
            "outcomes-INITIAL_FORMS": "0",
            "outcomes-MIN_NUM_FORMS": "1",
            "outcomes-MAX_NUM_FORMS": "1000",
            "outcomes-0-text": "Interpret statistics.",
            "translations-TOTAL_FORMS": "0",
            "translations-INITIAL_FORMS": "0",
            "translations-MIN_NUM_FORMS": "0",
            "translations-MAX_NUM_FORMS": "1000",
        }
    )
    response = client.post(url, data)
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        # Saved: issuing under it must still work, or be refused in words.
        micro_credential.refresh_from_db()
        assert micro_credential.title == text
        issued = post_issue(client, micro_credential)
        assert issued.status_code in (200, 302)
        if issued.status_code == 302:
            credential = IssuedCredential.objects.order_by("-pk").first()
            assert credential is not None
            assert verifier.verify(credential.document)["verified"]


# Bulk upload ---------------------------------------------------------------------------------


def bulk_post(client, micro_credential: MicroCredential, upload: SimpleUploadedFile):
    url = reverse("credentials:bulk_upload", kwargs={"slug": micro_credential.institution.slug})
    return client.post(url, {"micro_credential": micro_credential.pk, "spreadsheet": upload})


def refused_with(response) -> str:
    assert response.status_code == 200, response.status_code
    errors = response.context["form"].errors
    assert errors, "the upload was not refused"
    return " ".join(str(message) for messages in errors.values() for message in messages)


def xlsx(rows: Sequence[Sequence[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xlsx_bomb(*, inflated_bytes: int) -> bytes:
    """A real workbook whose sheet XML is padded with whitespace to `inflated_bytes`: a few
    KiB on the wire, far more once inflated."""
    source = zipfile.ZipFile(io.BytesIO(xlsx([["name", "email", "awarded_date"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                with bomb.open(item.filename, "w", force_zip64=True) as sheet:
                    head, tail = data.split(b"<sheetData>")
                    sheet.write(head + b"<sheetData>")
                    chunk = b" " * (1024 * 1024)
                    for _ in range(inflated_bytes // len(chunk)):
                        sheet.write(chunk)
                    sheet.write(tail)
            else:
                bomb.writestr(item, data)
    return out.getvalue()


def test_an_xlsx_zip_bomb_is_refused_before_it_is_inflated(staff, settings):
    client, micro_credential = staff
    bomb = xlsx_bomb(inflated_bytes=600 * 1024 * 1024)
    assert len(bomb) < 2 * 1024 * 1024
    before = hostile.counts(*ROWS)
    message = refused_with(bulk_post(client, micro_credential, SimpleUploadedFile("r.xlsx", bomb)))
    limit_mb = settings.MESHE_SPREADSHEET_MAX_INFLATED_BYTES // (1024 * 1024)
    assert f"{limit_mb} MB" in message
    assert hostile.counts(*ROWS) == before


def test_the_inflated_size_limit_is_a_setting(staff, settings):
    client, micro_credential = staff
    settings.MESHE_SPREADSHEET_MAX_INFLATED_BYTES = 1024
    workbook = xlsx([["name", "email", "awarded_date"], ["Ana", "a@example.eu", "2026-01-02"]])
    message = refused_with(
        bulk_post(client, micro_credential, SimpleUploadedFile("r.xlsx", workbook))
    )
    assert "uncompressed" in message


def test_an_xlsx_with_more_rows_than_the_limit_is_refused(staff, settings):
    client, micro_credential = staff
    settings.MESHE_SPREADSHEET_MAX_ROWS = 30
    rows: list[list[object]] = [["name", "email", "awarded_date"]]
    rows += [[f"L{n}", f"l{n}@example.eu", "2026-01-02"] for n in range(40)]
    before = hostile.counts(*ROWS)
    message = refused_with(
        bulk_post(client, micro_credential, SimpleUploadedFile("r.xlsx", xlsx(rows)))
    )
    assert "more than 30 rows" in message
    assert hostile.counts(*ROWS) == before


def test_a_csv_with_more_rows_than_the_limit_is_refused(staff, settings):
    client, micro_credential = staff
    settings.MESHE_SPREADSHEET_MAX_ROWS = 30
    content = HEADER + "".join(f"L{n},l{n}@example.eu,2026-01-02,,,\n" for n in range(31))
    message = refused_with(
        bulk_post(client, micro_credential, SimpleUploadedFile("r.csv", content.encode()))
    )
    assert "more than 30 rows" in message


def test_an_upload_over_the_size_limit_is_refused_with_the_limit(staff, settings):
    client, micro_credential = staff
    settings.MESHE_SPREADSHEET_MAX_BYTES = 1024 * 1024
    content = (HEADER + "Ana,ana@example.eu,2026-01-02,,,\n" * 40_000).encode()
    before = hostile.counts(*ROWS)
    message = refused_with(
        bulk_post(client, micro_credential, SimpleUploadedFile("r.csv", content))
    )
    assert "larger than 1 MB" in message
    assert hostile.counts(*ROWS) == before


@pytest.mark.parametrize(
    ("filename", "content", "words"),
    [
        ("r.xlsx", b"PK\x03\x04 not really a zip", "cannot be read"),
        ("r.xlsx", b"", "empty"),
        ("r.xlsx", HEADER.encode(), "cannot be read"),
        ("r.csv", b"\xff\xfe\x00n\x00a", "UTF-8"),
        ("r.csv", b"name,email,awarded_date\n\x00\x00\x00", "NUL characters"),
        ("r.csv", b'name,email,awarded_date\n"Ana,ana@example.eu', "no rows"),
        ("r.csv", b"=cmd|' /C calc'!A0,email\n", "column"),
        ("r.exe", b"MZ", ".csv or .xlsx"),
        (
            "r.csv",
            ("name,email,awarded_date\n" + "x" * 200_000 + ",a@b.eu,2026-01-01\n").encode(),
            "",
        ),
    ],
    ids=[
        "fake-zip",
        "empty",
        "csv-as-xlsx",
        "utf16",
        "nul",
        "open-quote",
        "formula-header",
        "exe",
        "huge-cell",
    ],
)
def test_malformed_spreadsheets_are_refused_in_plain_words(staff, filename, content, words):
    client, micro_credential = staff
    before = hostile.counts(*ROWS)
    response = bulk_post(client, micro_credential, SimpleUploadedFile(filename, content))
    if response.status_code == 302:
        # Read, with every row's problems listed on the job page; nothing is issued yet.
        job = BulkIssueJob.objects.get()
        assert job.valid_rows == 0
        assert IssuedCredential.objects.count() == before["IssuedCredential"]
        return
    assert words in refused_with(response)
    assert hostile.counts(*ROWS) == before


@hostile.BOUNDED
@given(name=hostile.hostile_text, narrative=hostile.hostile_text, grade=hostile.hostile_text)
def test_hostile_cells_are_flagged_or_issued_and_a_job_never_stops_half_way(
    staff, name, narrative, grade
):
    client, micro_credential = staff
    before = hostile.counts(IssuedCredential)
    rows = [["name", "email", "awarded_date", "grade", "evidence_narrative"]]
    rows.append([name, "ana@example.eu", "2026-01-02", grade, narrative])
    rows.append(["Ben", "ben@example.eu", "2026-01-02", "", ""])
    try:
        content = xlsx(rows)
    except Exception:  # openpyxl refuses some characters itself
        return
    response = bulk_post(client, micro_credential, SimpleUploadedFile("r.xlsx", content))
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert hostile.counts(IssuedCredential) == before
        return
    job = BulkIssueJob.objects.order_by("-pk").first()
    assert job is not None
    if job.valid_rows:
        services.bulk_job_start(actor=None, job=job)
        services.bulk_job_run(job_id=job.pk)  # what the task enqueued on commit does
        job.refresh_from_db()
        assert job.status == BulkIssueJob.Status.DONE, job.error
        assert job.issued_count == job.valid_rows
        assert hostile.counts(IssuedCredential)["IssuedCredential"] == (
            before["IssuedCredential"] + job.valid_rows
        )
    IssuedCredential.objects.filter(holder_email__in=["ana@example.eu", "ben@example.eu"]).update(
        status="revoked"
    )


@pytest.mark.parametrize("text", ["Ana\x07", "Ana\x1b[31m", "Ana\x0bK", "Ana\x7f"])
def test_a_row_with_a_control_character_is_flagged_not_left_to_fail_the_job(staff, text):
    _client, micro_credential = staff
    content = (HEADER + f"{text},ana@example.eu,2026-01-02,,,{text}\n").encode()
    job = services.bulk_job_create(
        actor=MembershipFactory(institution=micro_credential.institution).user,
        institution=micro_credential.institution,
        micro_credential=micro_credential,
        filename="r.csv",
        content=content,
    )
    (row,) = job.rows.all()
    assert row.status == BulkIssueRow.Status.INVALID
    assert any("control character" in error for error in row.errors)


def test_a_job_that_meets_unsignable_text_stops_with_a_message_and_keeps_no_partial_chunk():
    micro_credential = MicroCredentialFactory()
    actor = MembershipFactory(institution=micro_credential.institution).user
    job = services.bulk_job_create(
        actor=actor,
        institution=micro_credential.institution,
        micro_credential=micro_credential,
        filename="r.csv",
        content=(
            HEADER + "Ana,ana@example.eu,2026-01-02,,,\nBen,ben@example.eu,2026-01-02,,,\n"
        ).encode(),
    )
    # Text that got past validation (an older row, a direct database edit) must not crash
    # the worker: the job stops, says why, and its chunk leaves nothing behind.
    BulkIssueRow.objects.filter(job=job, number=3).update(name="Ben\x07")
    before = hostile.counts(IssuedCredential, StatusList, MicroCredentialVersion)
    services.bulk_job_start(actor=actor, job=job)
    services.bulk_job_run(job_id=job.pk)  # what the task enqueued on commit does
    job.refresh_from_db()
    assert job.status == BulkIssueJob.Status.FAILED
    assert "could not be signed" in job.error
    assert hostile.counts(IssuedCredential, StatusList, MicroCredentialVersion) == before


def test_the_limits_are_settings_with_sensible_defaults():
    from django.conf import settings

    assert settings.MESHE_SPREADSHEET_MAX_BYTES == 20 * 1024 * 1024
    assert settings.MESHE_SPREADSHEET_MAX_ROWS == spreadsheets.MAX_ROWS == 50_000
    assert settings.MESHE_SPREADSHEET_MAX_INFLATED_BYTES == 100 * 1024 * 1024
