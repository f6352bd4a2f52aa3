"""Bulk issuing: 10,000 spreadsheet rows validated, then issued, on the embedded default
(SQLite, no services), against the target of 20 s for both on this 2-core machine.

    python bench/bulk_issue.py [--rows 10000]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 20.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="meshe-bench-")
    os.environ.update(
        {
            "DEBUG": "true",
            "MESHE_VAR_DIR": workdir,
            "DATABASE_URL": f"sqlite:///{workdir}/bench.sqlite3",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "DJANGO_SETTINGS_MODULE": "meshe.settings",
        }
    )
    sys.path.insert(0, str(ROOT))
    import warnings

    warnings.simplefilter("ignore")
    import django

    django.setup()
    from django.core.management import call_command

    from credentials import services
    from credentials.models import IssuedCredential, MicroCredential

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    micro_credential = MicroCredential.objects.get(title="Data Literacy for Public Administration")
    rows = "\n".join(
        f"Learner {n},bench{n}@example.eu,2026-06-30,{n % 10}.5,," for n in range(args.rows)
    )
    content = ("name,email,awarded_date,grade,evidence_url,evidence_narrative\n" + rows).encode()
    actor = micro_credential.institution.memberships.first().user  # type: ignore[union-attr]

    started = time.perf_counter()
    job = services.bulk_job_create(
        actor=actor,
        institution=micro_credential.institution,
        micro_credential=micro_credential,
        filename="bench.csv",
        content=content,
    )
    validated = time.perf_counter()
    services.bulk_job_start(actor=actor, job=job)
    services.bulk_job_run(job_id=job.pk)
    issued = time.perf_counter()

    count = IssuedCredential.objects.filter(version__micro_credential=micro_credential).count()
    total = issued - started
    print(f"rows: {args.rows}, valid: {job.valid_rows}, issued: {count - 1}")
    print(
        f"validate: {validated - started:6.2f} s  ({args.rows / (validated - started):,.0f} rows/s)"
    )
    print(
        f"issue:    {issued - validated:6.2f} s  ({job.valid_rows / (issued - validated):,.0f} credentials/s)"
    )
    print(
        f"total:    {total:6.2f} s  = {total / TARGET_SECONDS:.2f} x the {TARGET_SECONDS:.0f} s target"
    )


if __name__ == "__main__":
    main()
