"""A Celery worker killed (SIGKILL) in the middle of a bulk job: a new worker finishes the job
and every row is issued exactly once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from credentials.issuing import services
from credentials.models import BulkIssueJob, IssuedCredential
from tests.factories import MicroCredentialFactory
from tests.faults import jobs, processes

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 400  # two chunks (services.BULK_CHUNK = 250): the kill lands in the second


def test_a_worker_killed_mid_job_leaves_a_job_a_new_worker_finishes_exactly_once():
    job = jobs.validated_job(MicroCredentialFactory(), rows=ROWS)
    with processes.private_workers() as workers:
        first = workers.start()
        services.bulk_job_start(actor=job.created_by, job=job)
        assert jobs.poll(lambda: jobs.progress(job)[1] > 0, timeout=120), "no chunk committed"
        workers.kill(first)
        status, issued = jobs.progress(job)
        assert status == BulkIssueJob.Status.RUNNING and 0 < issued < ROWS, (status, issued)
        assert IssuedCredential.objects.count() == issued, "a half chunk was kept"

        # The killed worker's message is gone (the file broker) or held unacknowledged for
        # the visibility timeout (Redis); the periodic sweep finds the stalled job.
        assert services.bulk_jobs_resume(stalled_after=timedelta(0)) == 1
        workers.start()
        assert jobs.poll(lambda: jobs.progress(job)[0] == BulkIssueJob.Status.DONE, timeout=180), (
            jobs.progress(job)
        )
    jobs.assert_issued_exactly_once(job)


def test_the_sweep_leaves_a_job_that_is_moving_alone():
    job = jobs.validated_job(MicroCredentialFactory(), rows=3)
    jobs.mark_running(job)
    BulkIssueJob.objects.filter(pk=job.pk).update(
        started_at=timezone.now() - timedelta(hours=1), progressed_at=timezone.now()
    )
    assert services.bulk_jobs_resume(stalled_after=timedelta(minutes=10)) == 0
    BulkIssueJob.objects.filter(pk=job.pk).update(
        progressed_at=timezone.now() - timedelta(minutes=11)
    )
    with processes.private_workers():
        # Enqueued to a queue nobody consumes: only the count matters here.
        assert services.bulk_jobs_resume(stalled_after=timedelta(minutes=10)) == 1
