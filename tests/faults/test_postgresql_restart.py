"""PostgreSQL restarted while a real worker runs a bulk job: the job resumes by itself and
every row is issued exactly once. Only against PostgreSQL (CI's second step)."""

import pytest
from django.db import connections

from credentials.issuing import services
from credentials.models import BulkIssueJob, IssuedCredential
from tests.factories import MicroCredentialFactory
from tests.faults import jobs, processes

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not processes.uses_postgresql(),
        reason="restarts PostgreSQL: runs when DATABASE_URL is a postgres:// URL (CI step 2)",
    ),
]

ROWS = 2000  # eight chunks, so the restart lands mid-job, mid-chunk


def test_a_bulk_job_resumes_after_postgresql_restarts_and_issues_each_row_once(tmp_path):
    job = jobs.validated_job(MicroCredentialFactory(), rows=ROWS)
    log = tmp_path / "worker.log"
    with processes.private_workers() as workers:
        workers.start(log=log)
        services.bulk_job_start(actor=job.created_by, job=job)
        assert jobs.poll(lambda: jobs.progress(job)[1] > 0, timeout=120), "no chunk committed"
        status, issued = jobs.progress(job)
        assert status == BulkIssueJob.Status.RUNNING and issued < ROWS, (status, issued)
        # The test's own connection dies with the server too: drop it before, reopen after.
        connections.close_all()
        processes.postgresql_restart()
        connections.close_all()
        # No sweep here: the task retries the lost connection itself.
        assert jobs.poll(
            lambda: jobs.progress(job)[0] == BulkIssueJob.Status.DONE, timeout=240, interval=0.5
        ), jobs.progress(job)
        # The job's follow-up work (the learners' e-mails) runs on these workers too; let it
        # finish before they stop and the test's tables are truncated.
        assert jobs.poll(
            lambda: not IssuedCredential.objects.filter(notified_at__isnull=True).exists(),
            timeout=240,
            interval=0.5,
        )
    jobs.assert_issued_exactly_once(job)
    # The restart did cut the job's connection, and the task retried.
    assert "retry" in log.read_text().lower(), log.read_text()[-2000:]
