"""Bulk issuing end to end through the Celery job: 10,000 spreadsheet rows validated (as the
upload view does), confirmed, and issued by a real `celery -A meshe worker --concurrency=2`
(the production worker command), against the 8 s goal (issue 20) on this 2-core machine; then the
worker's memory across repeated jobs.

    python bench/bulk_issue.py [--rows 10000] [--jobs 3] [--quick]

It runs on the embedded default (SQLite, filesystem broker), and again on PostgreSQL + Redis
when DATABASE_URL and REDIS_URL are set (see bench/harness.py). The reference, measured in the
same process just before, is the signing alone: signing.Signer (fast path) over as many
realistic credentials, on one core. Each job is timed from the upload's validation to the job's
DONE as the worker writes it; the e-mails to holders (notify_holders tasks, queued per chunk
and run by the worker's other process meanwhile) are timed to the last one apart.
"""

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[1]
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

from bench import harness  # noqa: E402
from bench.report import Better, Row  # noqa: E402

TARGET_SECONDS = 8.0
# Growth of the worker's resident memory allowed between the first job and the last one.
GROWTH_LIMIT = 1.05


def measure(*, quick: bool) -> list[Row]:
    """Each variant in its own process, since Django is configured once per process."""
    arguments = ["--quick"] if quick else []
    return harness.run_each_variant(Path(__file__).resolve(), arguments, title="bulk issue")


def reference_signing(count: int) -> float:
    """Seconds to sign `count` realistic credentials with one Signer (fast path), one core."""
    from bench import sample
    from credentials.standards import canonical_templates, signing
    from institutions.models import SigningKey

    key = SigningKey.objects.filter(status="active").first()
    assert key is not None
    documents = sample.credentials(64, issuer_did=key.institution.did)
    signer = signing.Signer(
        private_key=key.private_key,
        verification_method=key.verification_method,
        created="2026-06-30T12:00:00Z",
        canonicalizer=canonical_templates.canonicalize_fast,
    )
    for document in documents:
        signer.sign(document)  # compile the shape, as the worker does on its first chunk
    started = time.perf_counter()
    for number in range(count):
        signer.sign(documents[number % len(documents)])
    return time.perf_counter() - started


def timed_job(micro_credential: Any, actor: Any, *, rows: int, tag: str) -> Any:
    """Validate a spreadsheet of `rows` learners as the upload view does, start the job and wait
    for the worker to finish it; returns the job, DONE with every row issued."""
    from credentials.issuing import services
    from credentials.models import BulkIssueJob

    content = (
        "name,email,awarded_date,grade,evidence_url,evidence_narrative\n"
        + "\n".join(
            f"Learner {n},{tag}-{n}@example.eu,2026-06-30,{n % 10}.5,," for n in range(rows)
        )
    ).encode()
    job = services.bulk_job_create(
        actor=actor,
        institution=micro_credential.institution,
        micro_credential=micro_credential,
        filename="bench.csv",
        content=content,
    )
    assert job.valid_rows == rows, job.valid_rows
    services.bulk_job_start(actor=actor, job=job)
    harness.wait_until(
        lambda: BulkIssueJob.objects.filter(pk=job.pk, status__in=["done", "failed"]).exists(),
        timeout=600,
    )
    job.refresh_from_db()
    assert job.status == BulkIssueJob.Status.DONE, job.error
    assert job.issued_count == rows, job.issued_count
    return job


def run_variant(number: int, *, rows: int, jobs: int) -> list[Row]:
    variant = harness.services()[number]
    workdir = harness.scratch()
    environment = harness.production_environment(variant, workdir=workdir)
    harness.reset_services(variant)
    harness.setup_django(environment)
    harness.migrate_and_seed()
    harness.progress(f"bulk issue, {variant.label}: seeded in {workdir}")

    from credentials.models import BulkIssueRow, IssuedCredential, MicroCredential

    reference = reference_signing(rows)
    harness.progress(f"reference: {rows:,} signatures in {reference:.2f} s")

    worker = harness.celery_worker(environment, log=workdir / "celery.log", name="bench")
    try:
        micro_credential = MicroCredential.objects.get(
            title="Data Literacy for Public Administration"
        )
        actor = micro_credential.institution.memberships.first().user  # type: ignore[union-attr]
        times, notified, worker_rss, main_rss = [], [], [], []
        for job_number in range(1, jobs + 1):
            started = time.perf_counter()
            job = timed_job(micro_credential, actor, rows=rows, tag=f"bench{job_number}")
            times.append(time.perf_counter() - started)
            # The memory of the process that ran the job, read as the job is DONE (its holders'
            # e-mails may still be going out from the other process).
            worker_rss.append(max(harness.rss_mb(pid) for pid in harness.children(worker.pid)))
            main_rss.append(harness.rss_mb(worker.pid))
            if job_number == 1:
                issued = IssuedCredential.objects.filter(
                    pk__in=BulkIssueRow.objects.filter(job=job).values("credential")
                )
                harness.wait_until(
                    lambda issued=issued: not issued.filter(notified_at__isnull=True).exists(),
                    timeout=1200,
                    every=0.25,
                )
                notified.append(time.perf_counter() - started)
            harness.progress(
                f"job {job_number}: done in {times[-1]:.2f} s; worker children max RSS"
                f" {worker_rss[-1]:.0f} MB"
            )
    finally:
        harness.stop(worker)

    short = "embedded" if variant.database_url is None else "PostgreSQL + Redis"
    return [
        Row(
            f"bulk issue {rows:,} rows via Celery, {short}",
            times[0],
            "s",
            reference_name=f"Signer alone, {rows:,} signatures, 1 core",
            reference=reference,
            better=Better.LOWER,
            goal=TARGET_SECONDS,
            note=(
                "upload validation + job on `celery worker --concurrency=2`, to DONE; jobs: "
                + ", ".join(f"{value:.1f} s" for value in times)
            ),
        ),
        Row(
            f"  … and every holder e-mailed, {short}",
            notified[0],
            "s",
            reference_name="the job alone",
            reference=times[0],
            better=Better.LOWER,
            note="notify_holders tasks on the mail queue (one per 250-row chunk, each one"
            " transaction over one mail connection) run on the worker's second process while"
            " the job runs",
        ),
        Row(
            f"RSS Celery worker process after job {jobs}, {short}",
            worker_rss[-1],
            "MB",
            reference_name="after job 1",
            reference=worker_rss[0],
            better=Better.LOWER,
            goal_ratio=GROWTH_LIMIT,
            note="largest prefork child, read as each job is DONE: "
            + ", ".join(f"{value:.0f}" for value in worker_rss)
            + f" MB (main process {main_rss[-1]:.0f} MB)",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, help="repeated jobs, for the memory rows (3)")
    parser.add_argument("--quick", action="store_true", help="two jobs")
    parser.add_argument("--variant", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    jobs = args.jobs or (2 if args.quick else 3)
    if args.variant is None:
        from bench import report

        rows = measure(quick=args.quick)
        print(report.text_table([("bulk issue", rows)]))
        return
    rows = run_variant(args.variant, rows=args.rows, jobs=jobs)
    if args.json:
        print(json.dumps([row.to_json() for row in rows]))


if __name__ == "__main__":
    main()
