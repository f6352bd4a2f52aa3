import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from credentials.exceptions import CredentialError
from credentials.issuing import services, spreadsheets, verifier
from credentials.models import BulkIssueJob, BulkIssueRow, IssuedCredential
from institutions.models import Role
from tests.conftest import wait_for
from tests.factories import MembershipFactory, MicroCredentialFactory, issue

pytestmark = pytest.mark.django_db

HEADER = "name,email,awarded_date,grade,evidence_url,evidence_narrative\n"


def roster(rows: int = 50, *, bad: bool = True) -> bytes:
    """`rows` learners; with `bad`, rows 5, 6 and 7 of the sheet carry one problem each."""
    lines = [f"Learner {n},learner{n}@example.eu,2026-06-30,8.5,," for n in range(rows)]
    if bad:
        lines[3] = "Bad Mail,not-an-address,2026-06-30,,,"
        lines[4] = f"Future,future@example.eu,{timezone.localdate() + timedelta(days=30)},,,"
        lines[5] = "Twice,learner0@example.eu,2026-06-30,,,"
    return (HEADER + "\n".join(lines) + "\n").encode()


def upload(micro_credential, content: bytes, filename: str = "roster.csv") -> BulkIssueJob:
    return services.bulk_job_create(
        actor=MembershipFactory(institution=micro_credential.institution).user,
        institution=micro_credential.institution,
        micro_credential=micro_credential,
        filename=filename,
        content=content,
    )


def test_a_csv_with_a_bom_and_semicolons_reads_like_any_other():
    content = "\ufeffname;email;awarded_date\nAna;ana@example.eu;2026-06-30\n".encode()
    (row,) = spreadsheets.read_rows(content, filename="roster.csv")
    assert row.number == 2
    assert row.values["email"] == "ana@example.eu"
    assert row.values["grade"] == ""


def test_an_xlsx_with_real_date_cells_reads_as_iso_dates():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["name", "email", "awarded_date", "grade"])
    sheet.append(["Ana", "ana@example.eu", date(2026, 6, 30), 8])
    out = io.BytesIO()
    workbook.save(out)
    (row,) = spreadsheets.read_rows(out.getvalue(), filename="roster.xlsx")
    assert row.values["awarded_date"] == "2026-06-30"
    assert row.values["grade"] == "8"


def test_the_templates_read_back_as_one_example_row():
    for content, name in (
        (spreadsheets.template_csv(), "t.csv"),
        (spreadsheets.template_xlsx(), "t.xlsx"),
    ):
        (row,) = spreadsheets.read_rows(content, filename=name)
        assert row.values["email"] == spreadsheets.EXAMPLE[1]


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"name,email\nAna,ana@example.eu\n", "r.csv", "missing column(s): awarded_date"),
        (b"name,email,awarded_date,shoe_size\n", "r.csv", "unknown column(s): shoe_size"),
        (b"", "r.csv", "The file is empty."),
        (HEADER.encode(), "r.csv", "no rows"),
        (
            "name,email,awarded_date\nÅsa,a@b.eu,2026-01-01\n".encode("latin-1"),
            "r.csv",
            "not UTF-8",
        ),
        (b"PK\x03\x04 not really a workbook", "r.xlsx", "cannot be read"),
        (b"name,email", "r.pdf", "Upload a .csv or .xlsx file."),
    ],
    ids=["missing-column", "unknown-column", "empty", "no-rows", "latin-1", "broken-xlsx", "pdf"],
)
def test_an_unreadable_file_is_refused_with_a_plain_reason(content, filename, message):
    with pytest.raises(
        spreadsheets.SpreadsheetError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        spreadsheets.read_rows(content, filename=filename)


@pytest.mark.date_sensitive
def test_every_row_is_checked_and_problems_carry_their_row_numbers():
    job = upload(MicroCredentialFactory(), roster())
    assert (job.total_rows, job.valid_rows) == (50, 47)
    problems = {
        row.number: row.errors for row in job.rows.filter(status=BulkIssueRow.Status.INVALID)
    }
    assert problems == {
        5: ["“not-an-address” is not an e-mail address."],
        6: ["The date of achievement is in the future."],
        7: ["The same e-mail address as row 2."],
    }
    assert IssuedCredential.objects.count() == 0


@pytest.mark.date_sensitive
def test_a_learner_who_already_holds_the_version_is_flagged_with_the_brussels_day_of_issue(
    time_machine,
):
    micro_credential = MicroCredentialFactory()
    # 22:30 UTC on 31 March 2027 is 00:30 on 1 April in Brussels (summer time, UTC+2).
    time_machine.move_to(datetime(2027, 3, 31, 22, 30, tzinfo=UTC), tick=False)
    issue(micro_credential, holder_email="learner1@example.eu")
    job = upload(micro_credential, roster(5, bad=False))
    row = job.rows.get(email="learner1@example.eu")
    assert row.status == BulkIssueRow.Status.INVALID
    assert row.errors[0] == "Already holds this micro-credential (issued 2027-04-01)."


def test_the_duplicate_check_asks_for_the_sheets_addresses_only():
    """It reads the credentials of the sheet's addresses, not every one of the version, so its
    cost follows the sheet; addresses compare whatever their case."""
    micro_credential = MicroCredentialFactory()
    issue(micro_credential, holder_email="Learner3@Example.EU")
    upload(micro_credential, roster(5, bad=False))  # the version, and every query warm
    with CaptureQueriesContext(connection) as few_held:
        first = upload(micro_credential, roster(5, bad=False))
    for number in range(30):
        issue(micro_credential, holder_email=f"someone{number}@example.eu")
    with CaptureQueriesContext(connection) as many_held:
        second = upload(micro_credential, roster(5, bad=False))

    assert len(many_held) == len(few_held)
    (check,) = [
        query["sql"]
        for query in many_held
        if 'FROM "credentials_issuedcredential"' in query["sql"]
        and "learner4@example.eu" in query["sql"]
    ]
    assert "someone" not in check
    for job in (first, second):
        flagged = job.rows.filter(status=BulkIssueRow.Status.INVALID)
        assert list(flagged.values_list("email", flat=True)) == ["learner3@example.eu"]


def test_confirmed_rows_are_issued_and_the_report_lists_every_row(
    eager_celery, django_capture_on_commit_callbacks
):
    micro_credential = MicroCredentialFactory()
    job = upload(micro_credential, roster())
    with django_capture_on_commit_callbacks(execute=True):
        services.bulk_job_start(actor=job.created_by, job=job)
    job.refresh_from_db()
    assert job.status == BulkIssueJob.Status.DONE
    assert job.issued_count == 47
    credentials = IssuedCredential.objects.filter(version__micro_credential=micro_credential)
    assert credentials.count() == 47
    assert all(verifier.verify(c.document)["verified"] for c in credentials[:3])
    assert job.rows.filter(status=BulkIssueRow.Status.ISSUED, credential__isnull=True).count() == 0


def test_a_job_that_dies_midway_resumes_without_issuing_anything_twice(monkeypatch):
    job = upload(MicroCredentialFactory(), roster(30, bad=False))
    services.bulk_job_start(actor=job.created_by, job=job)  # not run: no commit in this test
    monkeypatch.setattr(services, "BULK_CHUNK", 7)
    real_issue_many = services._issue_many
    calls = {"n": 0}

    def dies_on_the_third_chunk(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise SystemExit("worker killed")
        return real_issue_many(**kwargs)

    monkeypatch.setattr(services, "_issue_many", dies_on_the_third_chunk)
    with pytest.raises(SystemExit):
        services.bulk_job_run(job_id=job.pk)
    assert IssuedCredential.objects.count() == 14
    monkeypatch.setattr(services, "_issue_many", real_issue_many)
    services.bulk_job_run(job_id=job.pk)  # the task is delivered again
    job.refresh_from_db()
    assert job.status == BulkIssueJob.Status.DONE
    assert IssuedCredential.objects.count() == 30
    assert len(set(IssuedCredential.objects.values_list("holder_email", flat=True))) == 30


def test_a_job_stops_cleanly_when_the_micro_credential_is_retired_meanwhile():
    micro_credential = MicroCredentialFactory()
    job = upload(micro_credential, roster(5, bad=False))
    services.bulk_job_start(actor=job.created_by, job=job)
    services.micro_credential_set_status(
        actor=None, micro_credential=micro_credential, status="retired"
    )
    services.bulk_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == BulkIssueJob.Status.FAILED
    assert "Only published" in job.error
    assert IssuedCredential.objects.count() == 0


def test_a_file_with_no_valid_row_cannot_be_started():
    job = upload(MicroCredentialFactory(), (HEADER + "X,nope,2026-13-40,,,\n").encode())
    with pytest.raises(CredentialError, match="nothing to issue"):
        services.bulk_job_start(actor=job.created_by, job=job)


def test_staff_upload_check_and_confirm_through_the_pages(
    logged_in, eager_celery, django_capture_on_commit_callbacks
):
    membership = MembershipFactory(role=Role.ISSUER)
    micro_credential = MicroCredentialFactory(institution=membership.institution)
    client = logged_in(membership.user)
    slug = membership.institution.slug
    response = client.post(
        reverse("credentials:bulk_upload", kwargs={"slug": slug}),
        {
            "micro_credential": micro_credential.pk,
            "spreadsheet": SimpleUploadedFile("roster.csv", roster()),
        },
        follow=True,
    )
    assert "47 of 50 rows are valid." in response.text
    assert "is not an e-mail address" in response.text
    job = BulkIssueJob.objects.get()
    job_url = reverse("credentials:bulk_job", kwargs={"slug": slug, "public_id": job.public_id})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(job_url)
    progress = client.get(
        reverse("credentials:bulk_progress", kwargs={"slug": slug, "public_id": job.public_id})
    ).json()
    assert progress == {"status": "done", "issued": 47, "total": 47, "percent": 100, "error": ""}
    report = client.get(
        reverse("credentials:bulk_report", kwargs={"slug": slug, "public_id": job.public_id})
    )
    lines = list(csv.reader(io.StringIO(report.content.decode())))
    assert lines[0] == ["row", "name", "email", "result", "detail"]
    assert len(lines) == 51
    assert lines[4][3] == "Not valid"
    assert lines[1][3] == "Issued"
    assert lines[1][4].startswith("http")


def test_a_bad_upload_is_explained_on_the_form(logged_in):
    membership = MembershipFactory(role=Role.ISSUER)
    micro_credential = MicroCredentialFactory(institution=membership.institution)
    response = logged_in(membership.user).post(
        reverse("credentials:bulk_upload", kwargs={"slug": membership.institution.slug}),
        {
            "micro_credential": micro_credential.pk,
            "spreadsheet": SimpleUploadedFile("r.csv", b"a,b\n1,2\n"),
        },
    )
    assert response.status_code == 200
    assert "missing column(s)" in response.text
    assert BulkIssueJob.objects.count() == 0


@pytest.mark.parametrize(
    ("role", "expected"), [(Role.VIEWER, 403), (None, 404)], ids=["viewer", "other-institution"]
)
def test_who_may_not_upload(logged_in, role, expected):
    micro_credential = MicroCredentialFactory()
    member = (
        MembershipFactory(institution=micro_credential.institution, role=role)
        if role
        else MembershipFactory()
    )
    url = reverse("credentials:bulk_upload", kwargs={"slug": micro_credential.institution.slug})
    assert logged_in(member.user).get(url).status_code == expected


def test_another_institutions_job_is_404(logged_in):
    job = upload(MicroCredentialFactory(), roster(3, bad=False))
    outsider = MembershipFactory()
    url = reverse(
        "credentials:bulk_job",
        kwargs={"slug": outsider.institution.slug, "public_id": job.public_id},
    )
    assert logged_in(outsider.user).get(url).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_issues_a_confirmed_job(celery_worker_process):
    job = upload(MicroCredentialFactory(), roster(20, bad=False))
    services.bulk_job_start(actor=job.created_by, job=job)

    def finished() -> bool:
        job.refresh_from_db()
        return job.status == BulkIssueJob.Status.DONE

    assert wait_for(finished), f"job still {job.status} with {job.issued_count} issued"
    assert IssuedCredential.objects.count() == 20
    credential = IssuedCredential.objects.first()
    assert credential is not None
    assert verifier.verify(credential.document)["verified"]
    # The job's follow-up work (e-mails to the learners) runs on the worker too; let it finish
    # before the test's tables are truncated under it.
    assert wait_for(lambda: not IssuedCredential.objects.filter(notified_at__isnull=True).exists())


def test_an_evidence_link_longer_than_a_credential_holds_is_flagged():
    long_link = "https://example.eu/" + "a" * 300
    content = (HEADER + f"Ana,ana@example.eu,2026-06-30,,{long_link},\n").encode()
    job = upload(MicroCredentialFactory(), content)
    (row,) = job.rows.all()
    assert row.errors == ["The evidence link is longer than 200 characters."]
