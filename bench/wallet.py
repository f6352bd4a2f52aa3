"""The learner's wallet page: render time with 10, 100 and 500 credentials, on the embedded
default (SQLite, no services). The page must cost the same per credential however full the
wallet is: the figure to watch is the ratio of the time per credential at 500 to that at 10.

    python bench/wallet.py [--renders 40]

Each size is a different learner of the demo data, holding signed credentials of every
published demo specification (both institutions) and a tenth as many imports. Times are the
median of --renders (40) full requests through Django's test client (middleware, session, the
template, and the queries), after one warm-up request.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (10, 100, 500)
# One credential: the page with its filters and totals, to tell the fixed cost from the cards'.
BASELINE = 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--renders", type=int, default=40)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="meshe-bench-")
    os.environ.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-secret-key-that-is-long-enough-for-django-0123456789",
            "MESHE_KEY_ENCRYPTION_SECRET": "bench-only-key-encryption-secret-0123456789",
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "false",
            "MESHE_SECURE_COOKIES": "false",
            "MESHE_STATIC_MANIFEST": "false",
            "MESHE_VAR_DIR": workdir,
            "DATABASE_URL": f"sqlite:///{workdir}/bench.sqlite3",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "DJANGO_SETTINGS_MODULE": "meshe.settings",
            "LOG_LEVEL": "WARNING",
        }
    )
    sys.path.insert(0, str(ROOT))
    import warnings

    warnings.simplefilter("ignore")
    import django

    django.setup()
    from allauth.account.models import EmailAddress
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from credentials.issuing import services
    from credentials.models import MicroCredential
    from learners import services as learner_services
    from learners.models import ImportedCredential

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    specifications = list(
        MicroCredential.objects.filter(status=MicroCredential.Status.PUBLISHED).select_related(
            "institution"
        )
    )

    def learner_with(count: int) -> User:
        email = f"wallet{count}@example.eu"
        user = User.objects.create_user(email, "bench-password", name=f"Learner {count}")
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        imports = count // 10  # a tenth imported: 0, 1, 10 and 50
        for n in range(count - imports):
            specification = specifications[n % len(specifications)]
            services.credential_issue(
                actor=None,
                institution=specification.institution,
                micro_credential=specification,
                holder_name=user.name,
                holder_email=email,
                awarded_date=date(2026, 1 + n % 12, 1 + n % 28),
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

    def render(client: Client) -> float:
        started = time.perf_counter()
        response = client.get("/wallet/")
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        return elapsed

    print(f"wallet page, median of {args.renders} renders (SQLite, DEBUG off)")
    print(
        f"{'credentials':>11}  {'queries':>7}  {'render ms':>9}  {'ms/credential':>13}"
        f"  {'marginal ms/credential':>22}"
    )
    medians = {}
    for size in (BASELINE, *SIZES):
        user = learner_with(size)
        client = Client()
        client.force_login(user)
        render(client)  # warm-up: template loading, first connection
        with CaptureQueriesContext(connection) as captured:
            render(client)
        queries = len(captured)  # now: the log is read lazily and later requests reset it
        medians[size] = statistics.median(render(client) for _ in range(args.renders))
        if size == BASELINE:
            print(f"{size:>11}  {queries:>7}  {medians[size] * 1000:>9.1f}")
            continue
        per = medians[size] * 1000 / size
        marginal = (medians[size] - medians[BASELINE]) * 1000 / (size - BASELINE)
        print(
            f"{size:>11}  {queries:>7}  {medians[size] * 1000:>9.1f}  {per:>13.3f}  {marginal:>22.3f}"
        )
    small, large = SIZES[0], SIZES[-1]
    ratio = (medians[large] / large) / (medians[small] / small)
    marginal_ratio = ((medians[large] - medians[BASELINE]) / (large - BASELINE)) / (
        (medians[small] - medians[BASELINE]) / (small - BASELINE)
    )
    print(f"time per credential at {large} vs at {small}: {ratio:.2f} (fixed costs included)")
    print(
        f"marginal time per credential at {large} vs at {small}: {marginal_ratio:.2f} "
        "(near 1: each card costs the same however full the wallet; no per-card queries)"
    )


if __name__ == "__main__":
    main()
