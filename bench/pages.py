"""Server time of two pages that grow with the data: the learner's wallet with 500 credentials,
and a catalogue search over 5,000 published offers; p95 against the 50 ms goal, and their
query counts, which must not grow with the data.

    python bench/pages.py [--quick]

Each figure is the p95 of full requests through Django's test client in this process (every
middleware, the session, the queries, the template): the server's time, without a network.
The reference, in the same run, is the same page for small data: a wallet of 10 credentials,
and the same search over the demo catalogue before 5,000 offers are added. Production
settings (DEBUG off); PostgreSQL + Redis when DATABASE_URL and REDIS_URL are set.
"""

import argparse
import sys
import time
import uuid
from datetime import date
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

from bench import harness  # noqa: E402
from bench.report import Better, Row  # noqa: E402

GOAL_P95_MS = 50.0
WALLET_SMALL, WALLET_LARGE = 10, 500
OFFERS = 5_000
SEARCH = "/catalogue/?q=data"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def measure(*, quick: bool) -> list[Row]:
    renders = 20 if quick else 60
    variant = harness.services()[-1]
    workdir = harness.scratch()
    environment = harness.production_environment(variant, workdir=workdir)
    environment["ALLOWED_HOSTS"] = f"{harness.HOST},testserver"
    harness.reset_services(variant)
    harness.setup_django(environment)
    harness.migrate_and_seed()

    from allauth.account.models import EmailAddress
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from credentials.issuing import services
    from credentials.models import MicroCredential
    from learners import services as learner_services
    from learners.models import ImportedCredential

    published = list(
        MicroCredential.objects.filter(status=MicroCredential.Status.PUBLISHED).select_related(
            "institution"
        )
    )

    def client() -> Client:
        return Client(HTTP_X_FORWARDED_PROTO="https", HTTP_HOST=harness.HOST)

    def timed(browser: Client, path: str) -> tuple[float, int]:
        """Return the p95 ms of `renders` requests and the queries of one."""
        assert browser.get(path).status_code == 200  # warm-up
        with CaptureQueriesContext(connection) as captured:
            browser.get(path)
        queries = len(captured)
        times = []
        for _ in range(renders):
            started = time.perf_counter()
            response = browser.get(path)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        return p95(times), queries

    def learner_with(count: int) -> User:
        """A learner holding `count` credentials of every published specification, a tenth
        of them imported from elsewhere."""
        email = f"wallet{count}@example.eu"
        user = User.objects.create_user(email, "bench-password", name=f"Learner {count}")
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        imports = count // 10
        by_institution: dict[int, list[services.Recipient]] = {}
        for n in range(count - imports):
            specification = published[n % len(published)]
            by_institution.setdefault(specification.pk, []).append(
                services.Recipient(
                    holder_name=user.name,
                    holder_email=email,
                    awarded_date=date(2026, 1 + n % 12, 1 + n % 28),
                )
            )
        for specification in published:
            recipients = by_institution.get(specification.pk)
            if recipients:
                services.credential_issue_many(
                    actor=None,
                    institution=specification.institution,
                    micro_credential=specification,
                    recipients=recipients,
                )
        learner_services.credentials_attach(user=user)
        ImportedCredential.objects.bulk_create(
            ImportedCredential(
                owner=user,
                format="vc",
                document="{}",
                digest=f"{count}-{n}",
                title=f"Imported course {n}",
                issuer_id="did:web:elsewhere.example",
                issuer_name="University Elsewhere",
                verification={"verified": True, "checks": [], "errors": [], "warnings": []},
            )
            for n in range(imports)
        )
        return user

    wallet = {}
    for size in (WALLET_SMALL, WALLET_LARGE):
        browser = client()
        browser.force_login(learner_with(size))
        wallet[size] = timed(browser, "/wallet/")
        harness.progress(f"wallet {size}: p95 {wallet[size][0]:.1f} ms, {wallet[size][1]} queries")

    anonymous = client()
    small_catalogue = MicroCredential.objects.filter(
        status=MicroCredential.Status.PUBLISHED
    ).count()
    search_small = timed(anonymous, SEARCH)
    offers = []
    for n in range(OFFERS):
        template = published[n % len(published)]
        template.pk = None
        template.public_id = uuid.uuid4()
        template.title = f"{template.title.split(' #')[0]} #{n}"
        offers.append(
            MicroCredential(
                **{
                    field.attname: getattr(template, field.attname)
                    for field in MicroCredential._meta.concrete_fields
                }
            )
        )
    MicroCredential.objects.bulk_create(offers, batch_size=500)
    catalogue_size = MicroCredential.objects.filter(status=MicroCredential.Status.PUBLISHED).count()
    search_large = timed(anonymous, SEARCH)
    harness.progress(
        f"catalogue search: p95 {search_small[0]:.1f} ms over {small_catalogue} offers,"
        f" {search_large[0]:.1f} ms over {catalogue_size}"
    )
    label = "embedded" if variant.database_url is None else "PostgreSQL + Redis"
    return [
        Row(
            f"wallet page, {WALLET_LARGE} credentials, p95, {label}",
            wallet[WALLET_LARGE][0],
            "ms",
            reference_name=f"wallet of {WALLET_SMALL}",
            reference=wallet[WALLET_SMALL][0],
            better=Better.LOWER,
            goal=GOAL_P95_MS,
            note=f"test client, {renders} renders, a tenth of the credentials imported",
        ),
        Row(
            f"  … queries, wallet of {WALLET_LARGE}",
            wallet[WALLET_LARGE][1],
            "queries",
            reference_name=f"wallet of {WALLET_SMALL}",
            reference=wallet[WALLET_SMALL][1],
            better=Better.LOWER,
            goal_ratio=1.0,
        ),
        Row(
            f"catalogue search over {catalogue_size:,} offers, p95, {label}",
            search_large[0],
            "ms",
            reference_name=f"same search, {small_catalogue} offers",
            reference=search_small[0],
            better=Better.LOWER,
            goal=GOAL_P95_MS,
            note=f"GET {SEARCH} (title, description or institution contains 'data'), page 1",
        ),
        Row(
            f"  … queries, catalogue of {catalogue_size:,}",
            search_large[1],
            "queries",
            reference_name=f"catalogue of {small_catalogue}",
            reference=search_small[1],
            better=Better.LOWER,
            goal_ratio=1.0,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    from bench import report

    print(report.text_table([("pages", measure(quick=args.quick))]))


if __name__ == "__main__":
    main()
