"""Bulk jobs for the fault tests, and the checks that each row was issued exactly once."""

import time
from collections.abc import Callable

from django.db import connections
from django.db.models import Count
from django.utils import timezone

from credentials.issuing import services
from credentials.models import (
    BulkIssueJob,
    BulkIssueRow,
    CredentialEvent,
    IssuedCredential,
    MicroCredential,
)
from institutions.models import AuditEvent
from tests.factories import MembershipFactory

HEADER = "name,email,awarded_date\n"


def validated_job(
    micro_credential: MicroCredential, *, rows: int, prefix: str = "l"
) -> BulkIssueJob:
    content = HEADER + "".join(
        f"Learner {n},{prefix}{n}@example.eu,2026-01-20\n" for n in range(rows)
    )
    return services.bulk_job_create(
        actor=MembershipFactory(institution=micro_credential.institution).user,
        institution=micro_credential.institution,
        micro_credential=micro_credential,
        filename="roster.csv",
        content=content.encode(),
    )


def mark_running(job: BulkIssueJob) -> None:
    """Confirms the job as bulk_job_start does, without enqueueing it: the test runs it."""
    BulkIssueJob.objects.filter(pk=job.pk).update(
        status=BulkIssueJob.Status.RUNNING, started_at=timezone.now()
    )


def poll(condition: Callable[[], bool], *, timeout: float, interval: float = 0.05) -> bool:
    """Polls the database until `condition()`; survives the database going away meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except Exception:  # the database restarting: reconnect and poll on
            connections.close_all()
        time.sleep(interval)
    return False


def progress(job: BulkIssueJob) -> tuple[str, int]:
    job.refresh_from_db(fields=["status", "issued_count"])
    return job.status, job.issued_count


def assert_issued_exactly_once(*jobs: BulkIssueJob) -> None:
    """Every valid row of every job became one credential, with one issued event and one audit
    entry, and no two credentials share a status index."""
    expected = sum(job.valid_rows for job in jobs)
    for job in jobs:
        job.refresh_from_db()
        assert job.status == BulkIssueJob.Status.DONE, (job.status, job.error)
        assert job.issued_count == job.valid_rows
        assert not job.rows.filter(status=BulkIssueRow.Status.PENDING).exists()
        assert job.rows.filter(credential__isnull=False).count() == job.valid_rows
    credentials = IssuedCredential.objects.filter(
        pk__in=BulkIssueRow.objects.filter(job__in=jobs).values("credential")
    )
    assert credentials.count() == expected
    assert IssuedCredential.objects.count() == expected, "a credential belongs to no row"
    duplicates = (
        IssuedCredential.objects.values("version", "holder_email")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    assert not duplicates.exists(), list(duplicates)
    for list_field, index_field in (
        ("revocation_list", "revocation_index"),
        ("suspension_list", "suspension_index"),
    ):
        indexes = set(IssuedCredential.objects.values_list(list_field, index_field))
        assert len(indexes) == expected, f"{index_field} collides"
    assert CredentialEvent.objects.filter(action=CredentialEvent.Action.ISSUED).count() == expected
    assert AuditEvent.objects.filter(action="credential.issued").count() == expected
