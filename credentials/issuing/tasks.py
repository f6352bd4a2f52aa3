from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError


# A mail server or database that fails midway is retried; the service records each message
# as it goes, so a retry sends only the rest.
@shared_task(
    autoretry_for=(OSError, OperationalError, InterfaceError), retry_backoff=True, max_retries=5
)
def notify_holders(credential_ids: list[int]) -> None:
    from credentials.issuing import services

    services.holders_notify(credential_ids=credential_ids)


# Acknowledged late: a worker lost mid-job leaves the message queued, and the service
# resumes from the rows it had not committed. A database that restarts or fails over mid-job
# (a lost connection) is retried with backoff; bulk_jobs_resume catches whatever else stops one.
@shared_task(
    acks_late=True,
    time_limit=3600,
    soft_time_limit=3500,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=20,
)
def run_bulk_issue(job_id: int) -> None:
    from credentials.issuing import services

    services.bulk_job_run(job_id=job_id)


# On the "pdf" queue when settings.MESHE_PDF_QUEUE names it, where a worker recycled every few
# hundred tasks consumes it: weasyprint keeps growing by about 0.3 MB per PDF.
@shared_task(
    acks_late=True,
    time_limit=120,
    soft_time_limit=90,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=3,
)
def render_certificate(credential_id: int) -> None:
    from credentials.issuing import certificate_services

    certificate_services.certificate_render(credential_id=credential_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def resend_claim_link(credential_id: int) -> None:
    from credentials.issuing import services

    services.holder_notify(credential_id=credential_id, resend=True)


@shared_task
def bulk_jobs_resume() -> None:
    from credentials.issuing import services

    services.bulk_jobs_resume(stalled_after=timedelta(seconds=settings.MESHE_BULK_STALL_SECONDS))


@shared_task
def holders_notify_sweep() -> None:
    from credentials.issuing import services

    services.holders_notify_sweep(older_than=timedelta(seconds=settings.MESHE_WORK_SWEEP_SECONDS))


# Daily; each endorsement is checked on its own, so one unreachable endorser delays no other.
@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700)
def endorsements_recheck() -> None:
    from credentials.issuing import services

    services.endorsements_recheck()
