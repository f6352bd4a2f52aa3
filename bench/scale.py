"""Cost as data grows: the same bulk job and the same four pages on the demo database, then on
one that holds 1,000,000 issued credentials more, for each variant (embedded, and PostgreSQL +
Redis when DATABASE_URL and REDIS_URL are set).

    python bench/scale.py [--credentials 1000000] [--rows 10000] [--quick]

The credentials are seeded in bulk, not issued one by one: one real credential per published
specification of the institution is issued and signed, and rows are copied from it in batches
(each its own learner, e-mail and issue date over the last two years; about 1 % revoked, 0.5 %
suspended, a third taken into a wallet), with their status-list indexes allocated the way
issuing allocates them, so the lists fill and new ones are published as they would be. A
learner holds 500 of them from the start. Everything goes to the institution the bulk job issues for: its
staff list and its dashboard are the worst case.

Rows: the bulk job of `--rows` learners via the Celery worker (goal ≤ 8 s), against the same job
on the demo database in the same run; and the p95 of the staff credentials list with a search,
the dashboard, a wallet of 500 and a catalogue search (goal ≤ 50 ms), each against the same page
before the seeding, with their query counts, which must not grow.
"""

import argparse
import json
import random
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[1]
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

from bench import harness  # noqa: E402
from bench.bulk_issue import timed_job  # noqa: E402
from bench.pages import GOAL_P95_MS, p95  # noqa: E402
from bench.report import Better, Row  # noqa: E402

BULK_GOAL_SECONDS = 8.0
WALLET = 500
BATCH = 5_000
SPECIFICATION = "Data Literacy for Public Administration"


def measure(*, quick: bool) -> list[Row]:
    """Each variant in its own process, since Django is configured once per process."""
    arguments = ["--credentials", "100000"] if quick else []
    return harness.run_each_variant(Path(__file__).resolve(), arguments, title="at scale")


def seed(count: int, *, institution: Any, holder: Any = None) -> float:
    """Add `count` issued credentials to `institution` in bulk, held by `holder` if given;
    returns the seconds it took."""
    from django.db import transaction
    from django.utils import timezone

    from credentials.issuing import services
    from credentials.models import CredentialStatus, IssuedCredential, MicroCredential

    started = time.perf_counter()
    templates = []
    for specification in MicroCredential.objects.filter(
        institution=institution, status=MicroCredential.Status.PUBLISHED
    ):
        (issued,) = services.credential_issue_many(
            actor=None,
            institution=institution,
            micro_credential=specification,
            recipients=[
                services.Recipient(
                    holder_name="Template Learner",
                    holder_email="template@example.eu",
                    awarded_date=timezone.localdate(),
                )
            ],
        )
        templates.append(issued)
    copied = [
        field.attname
        for field in IssuedCredential._meta.concrete_fields
        if field.attname not in {"id", "public_id"}
    ]
    chooser = random.Random(20261207)  # noqa: S311 (repeatable bench data, not a secret)
    now = timezone.now()
    done = 0
    while done < count:
        size = min(BATCH, count - done)
        with transaction.atomic():
            revocation = services._allocate_indexes(institution, "revocation", size)
            suspension = services._allocate_indexes(institution, "suspension", size)
            batch = []
            for offset in range(size):
                number = done + offset
                template = templates[number % len(templates)]
                values = {name: getattr(template, name) for name in copied}
                issued_at = now - timedelta(minutes=chooser.randrange(2 * 365 * 24 * 60))
                draw = chooser.random()
                values.update(
                    holder_name=f"Learner {number}",
                    holder_email=f"learner{number}@example.eu",
                    issued_at=issued_at,
                    valid_from=issued_at,
                    awarded_date=issued_at.date(),
                    status=(
                        CredentialStatus.REVOKED
                        if draw < 0.01
                        else CredentialStatus.SUSPENDED
                        if draw < 0.015
                        else CredentialStatus.ISSUED
                    ),
                    revocation_list_id=revocation[offset][0].pk,
                    revocation_index=revocation[offset][1],
                    suspension_list_id=suspension[offset][0].pk,
                    suspension_index=suspension[offset][1],
                    holder_id=holder.pk if holder else None,
                    claimed_at=issued_at if holder or draw > 0.66 else None,
                    claim_token_hash="",
                )
                batch.append(IssuedCredential(public_id=uuid.uuid4(), **values))
            IssuedCredential.objects.bulk_create(batch, batch_size=1_000)
        done += size
        if done % 100_000 == 0 or done == count:
            harness.progress(f"seeded {done:,} credentials")
    return time.perf_counter() - started


def run_variant(number: int, *, credentials: int, rows: int, renders: int) -> list[Row]:
    variant = harness.services()[number]
    workdir = harness.scratch()
    environment = harness.production_environment(variant, workdir=workdir)
    environment["ALLOWED_HOSTS"] = f"{harness.HOST},testserver"
    harness.reset_services(variant)
    harness.setup_django(environment)
    harness.migrate_and_seed()

    from allauth.account.models import EmailAddress
    from django.db import connection
    from django.test import Client

    from accounts.models import User
    from credentials.models import IssuedCredential, MicroCredential
    from institutions.models import Membership

    specification = MicroCredential.objects.select_related("institution").get(title=SPECIFICATION)
    institution = specification.institution
    admin = Membership.objects.filter(institution=institution, role="admin").first()
    assert admin is not None
    learner = User.objects.create_user("wallet@example.eu", "bench-password", name="Wallet")
    EmailAddress.objects.create(user=learner, email=learner.email, verified=True, primary=True)
    slug = institution.slug
    pages = {
        "staff credentials list, search": (
            admin.user,
            f"/staff/{slug}/credentials/?q=Learner+4242",
        ),
        "dashboard": (admin.user, f"/staff/{slug}/dashboard/"),
        f"wallet of {WALLET}": (learner, "/wallet/"),
        "catalogue search": (None, "/catalogue/?q=data"),
    }

    def timed(user: Any, path: str) -> tuple[float, int]:
        """The p95 ms of `renders` requests and the queries of one."""
        browser = Client(HTTP_X_FORWARDED_PROTO="https", HTTP_HOST=harness.HOST)
        if user is not None:
            browser.force_login(user)
        assert browser.get(path).status_code == 200  # warm-up
        queries: list[str] = []

        def counted(run: Any, sql: str, *rest: Any) -> Any:
            queries.append(sql)
            return run(sql, *rest)

        with connection.execute_wrapper(counted):
            browser.get(path)
        times = []
        for _ in range(renders):
            started = time.perf_counter()
            response = browser.get(path)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        return p95(times), len(queries)

    def measured(label: str) -> tuple[float, dict[str, tuple[float, int]]]:
        worker = harness.celery_worker(environment, log=workdir / f"celery-{label}.log", name=label)
        try:
            started = time.perf_counter()
            timed_job(specification, admin.user, rows=rows, tag=f"scale-{label}")
            seconds = time.perf_counter() - started
        finally:
            harness.stop(worker)
        figures = {name: timed(user, path) for name, (user, path) in pages.items()}
        harness.progress(
            f"{label}: job {seconds:.1f} s; "
            + "; ".join(
                f"{name} {ms:.1f} ms/{queries} q" for name, (ms, queries) in figures.items()
            )
        )
        return seconds, figures

    seed(WALLET, institution=institution, holder=learner)
    small = IssuedCredential.objects.count()
    before = measured("before")
    seeding = seed(credentials, institution=institution)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    large = IssuedCredential.objects.count()
    after = measured("after")

    short = "embedded" if variant.database_url is None else "PostgreSQL + Redis"
    at = f"{large:,} credentials"
    result = [
        Row(
            f"bulk issue {rows:,} rows at {at}, {short}",
            after[0],
            "s",
            reference_name=f"same job at {small:,}",
            reference=before[0],
            better=Better.LOWER,
            goal=BULK_GOAL_SECONDS,
            note=f"{credentials:,} seeded in bulk in {seeding:.0f} s; worker --concurrency=2",
        )
    ]
    for name in pages:
        result += [
            Row(
                f"  {name} at {at}, p95, {short}",
                after[1][name][0],
                "ms",
                reference_name=f"at {small:,}",
                reference=before[1][name][0],
                better=Better.LOWER,
                goal=GOAL_P95_MS,
                note=f"{pages[name][1]}; test client, {renders} renders",
            ),
            Row(
                f"    … queries, {name}",
                after[1][name][1],
                "queries",
                reference_name=f"at {small:,}",
                reference=before[1][name][1],
                better=Better.LOWER,
                goal_ratio=1.0,
            ),
        ]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credentials", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--renders", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="100,000 credentials")
    parser.add_argument("--variant", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant is None:
        from bench import report

        print(report.text_table([("at scale", measure(quick=args.quick))]))
        return
    credentials = 100_000 if args.quick else args.credentials
    rows = run_variant(args.variant, credentials=credentials, rows=args.rows, renders=args.renders)
    if args.json:
        print(json.dumps([row.to_json() for row in rows]))


if __name__ == "__main__":
    main()
