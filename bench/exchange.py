"""1,000 credentials from node A to node B, end to end: two real nodes on loopback (the
two-node test harness, tests/twonode/nodes.py), each with gunicorn (2 workers), a Celery
worker (prefork, concurrency 2, with beat) and an exchange worker (8 threads, queue
`exchange`), as docker-compose.yml runs them, its own database and broker, HTTPS with a
throw-away CA. Against the goal of 20 s on this machine, and of 1 s for queueing the batch.

    python bench/exchange.py [--quick] [--count 1000]

A's staff send the credentials in one batch (`deliveries_create_batch`, as the batch send form
does); the clock runs from that call until B has stored every one of them, each verified on
arrival (proof, issuer key, A's status lists read over HTTPS), and, apart, until A has recorded
B's signed acknowledgement of each. The reference, measured in the same run after the
exchange, is the verification alone: `verifier.verify` over the same 1,000 documents in one
process on B, status lists fetched from A for each; the ratio is what the protocol, the queue
and the HTTP add to it.

Queueing is timed on A around the `deliveries_create_batch` call alone (its commit, and the
messages it publishes on commit, included): the batch's rows, audit events and messages. Its
reference, measured just before on A, is the same credentials queued one by one with
`delivery_create` in a transaction that is then rolled back (so nothing is sent, and its
messages, published only on commit, are not counted).

The nodes run with production settings but for the exchange rate limits, lifted: the default
of 600 requests a minute per partner would cap any exchange at 10 credentials a second (see
the row's note). The embedded default is SQLite and the filesystem broker; with DATABASE_URL
and REDIS_URL set (see bench/harness.py) PostgreSQL + Redis too: each node gets the database
`<name>_bench_a`/`_bench_b` (re-created; the name must contain "bench") and Redis databases
10 and 11 (emptied).
"""

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[1]
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

from bench import harness  # noqa: E402
from bench.report import Better, Row  # noqa: E402
from tests.twonode.nodes import Node, make_certificates  # noqa: E402

GOAL_SECONDS = 20.0
QUEUEING_GOAL_SECONDS = 1.0
COUNT = 1000
QUICK_COUNT = 200
REDIS_DBS = (10, 11)
ENVIRONMENT = {
    # Bulk exchange between two agreed partners is what is measured, not the abuse limits.
    "MESHE_RATE_LIMITS": json.dumps({"exchange": "off", "exchange_ip": "off"}),
    "LOG_LEVEL": "WARNING",
}

# Polled four times a second with one count each: the bench's own queries take CPU from the
# nodes it measures. The rest is read once, when done.
STORED_AT_B = """
rows = IncomingCredential.objects.filter(credential_id__in=ids)
result = {"stored": rows.count()}
done = result["stored"] >= len(ids)
if done:
    result["verified"] = rows.filter(verified=True).count()
    result["credentials"] = rows.values("credential_id").distinct().count()
"""

DELIVERED_AT_A = """
rows = Delivery.objects.filter(public_id__in=deliveries)
result = {"delivered": rows.filter(status="delivered").count()}
done = result["delivered"] >= len(deliveries)
if done:
    result["attempts"] = sum(rows.values_list("attempts", flat=True))
    result["statuses"] = sorted(set(rows.values_list("last_status", flat=True)))
"""

VERIFY_ALL = """
import json, time
from credentials.issuing import verifier
from credentials.models import IssuedCredential

started = time.perf_counter()
verdicts = [verifier.verify(document)["verified"] for document in documents]
result = {"seconds": time.perf_counter() - started, "verified": sum(verdicts)}
"""

NOTIFIED = """
from credentials.models import IssuedCredential

result = IssuedCredential.objects.filter(public_id__in=public_ids, notified_at__isnull=False).count()
done = result == len(public_ids)
"""

# The batch as the batch send form queues it, timed around the service call alone.
QUEUE_BATCH = """
import time
from credentials.models import IssuedCredential
from exchange import deliveries
from exchange.models import Partner

partner = Partner.objects.select_related("institution").get(
    institution__slug=slug, did=remote_did
)
admin = partner.institution.memberships.order_by("pk").first().user
by_id = {
    str(c.public_id): c for c in IssuedCredential.objects.filter(public_id__in=credentials)
}
batch = [by_id[public_id] for public_id in credentials]
started = time.perf_counter()
sent = deliveries.deliveries_create_batch(
    credentials=batch, partner=partner, actor=admin, note=note
)
result = {
    "seconds": time.perf_counter() - started,
    "deliveries": [str(delivery.public_id) for delivery in sent],
}
"""

# The reference: the same credentials queued one by one, then rolled back.
QUEUE_ONE_BY_ONE = """
import time
from django.db import transaction
from credentials.models import IssuedCredential
from exchange import deliveries
from exchange.models import Delivery, Partner


class RolledBack(Exception):
    pass


partner = Partner.objects.select_related("institution").get(
    institution__slug=slug, did=remote_did
)
admin = partner.institution.memberships.order_by("pk").first().user
by_id = {
    str(c.public_id): c for c in IssuedCredential.objects.filter(public_id__in=credentials)
}
batch = [by_id[public_id] for public_id in credentials]
started = time.perf_counter()
try:
    with transaction.atomic():
        for credential in batch:
            deliveries.delivery_create(
                credential=credential, partner=partner, actor=admin, by_learner=False, note=note
            )
        seconds = time.perf_counter() - started
        raise RolledBack
except RolledBack:
    pass
assert not Delivery.objects.exists()
result = {"seconds": seconds}
"""

DOCUMENTS = """
from credentials.models import IssuedCredential

result = list(
    IssuedCredential.objects.filter(public_id__in=public_ids).values_list("document", flat=True)
)
"""


def _launch(node: Node, institution: tuple[str, str, str]) -> None:
    node.prepare()
    node.start_web(workers=2)
    # As docker-compose.yml runs them: a worker for issuing and e-mail, and one of threads
    # for the signed messages to partners, which mostly wait for the partner's answer.
    node.start_worker(beat=True, pool="prefork", concurrency=2, exchange_threads=8)
    node.seed_institution(*institution)


def run_variant(variant: harness.Services, *, count: int) -> list[Row]:
    """Both nodes from scratch, partnered for real, then the exchange and the reference."""
    workdir = harness.scratch()
    database_url = variant.database_url or ""
    if database_url and "bench" not in database_url.rsplit("/", 1)[-1]:
        raise SystemExit("refusing to use a database whose name does not contain 'bench'")
    certificates = make_certificates(workdir / "tls")
    nodes = [
        Node(
            name,
            var_dir=workdir / name,
            certificates=certificates,
            database_url=database_url,
            redis_url=variant.redis_url or "",
            redis_db=redis_db,
            env=ENVIRONMENT,
        )
        for name, redis_db in zip(("bench-a", "bench-b"), REDIS_DBS, strict=True)
    ]
    node_a, node_b = nodes
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            started = [
                pool.submit(_launch, node_a, ("uni-a", "Universiteit A", "BE")),
                pool.submit(_launch, node_b, ("uni-b", "Université B", "FR")),
            ]
        for future in started:
            future.result()
        node_a.partner_with(node_b)
        harness.progress(f"exchange, {variant.label}: nodes up and partnered in {workdir}")

        specification = node_a.publish_specification("uni-a")
        issued = node_a.issue_credentials(specification, count)
        public_ids = [c["public_id"] for c in issued]
        ids = [c["credential_id"] for c in issued]
        # The learners' e-mails go out first, so that the worker does nothing else meanwhile.
        node_a.wait(NOTIFIED, public_ids=public_ids, timeout=600, interval=0.2)
        harness.progress(f"{count:,} credentials issued on A")

        slug, _did = node_a.institution()
        _other_slug, remote_did = node_b.institution()
        batch: dict[str, Any] = {
            "slug": slug,
            "remote_did": remote_did,
            "credentials": public_ids,
            "note": "bench",
        }
        one_by_one = node_a.run(QUEUE_ONE_BY_ONE, timeout=600, **batch)
        harness.progress(
            f"reference: {count:,} queued one by one in {one_by_one['seconds']:.2f} s (rolled back)"
        )

        started_at = time.perf_counter()
        queueing = node_a.run(QUEUE_BATCH, timeout=600, **batch)
        queued = time.perf_counter() - started_at
        deliveries = queueing["deliveries"]
        at_b = node_b.wait(
            "from exchange.models import IncomingCredential\n" + STORED_AT_B,
            ids=ids,
            timeout=1200,
            interval=0.25,
        )
        stored = time.perf_counter() - started_at
        at_a = node_a.wait(
            "from exchange.models import Delivery\n" + DELIVERED_AT_A,
            deliveries=deliveries,
            timeout=600,
            interval=0.25,
        )
        acknowledged = time.perf_counter() - started_at
        if not at_b["stored"] == at_b["verified"] == at_b["credentials"] == count:
            raise SystemExit(f"B did not store each credential once, verified: {at_b}")
        harness.progress(
            f"batch queued in {queueing['seconds']:.2f} s ({queued:.2f} s with loading it);"
            f" stored at B after {stored:.1f} s, acknowledged at A after {acknowledged:.1f} s"
            f" ({at_a['attempts']} attempts, answers {at_a['statuses']})"
        )

        documents = node_a.run(DOCUMENTS, public_ids=public_ids)
        reference = node_b.run(VERIFY_ALL, documents=documents, timeout=1200)
        if reference["verified"] != count:
            raise SystemExit(f"the reference verified {reference['verified']} of {count}")
        harness.progress(
            f"reference: {count:,} verified in one process on B in {reference['seconds']:.1f} s"
        )
    finally:
        for node in nodes:
            node.stop()

    label = f"{count:,} credentials A → B, {variant.label}"
    reference_name = f"verify {count:,} on B, one process"
    goal = GOAL_SECONDS * count / COUNT
    note = (
        f"batch queued in {queueing['seconds']:.2f} s ({queued:.2f} s with loading the"
        f" credentials); every one stored and verified at B after {stored:.1f} s, acknowledged"
        f" at A after {acknowledged:.1f} s ({at_a['attempts']} attempts); exchange rate limits"
        f" lifted (at the default 6,000/min per partner, {count:,} need at least"
        f" {count / 100:.0f} s)"
    )
    return [
        Row(
            f"queueing {count:,} deliveries in one batch, {variant.label}",
            queueing["seconds"],
            "s",
            reference_name="the same one by one (delivery_create), rolled back",
            reference=one_by_one["seconds"],
            better=Better.LOWER,
            goal=QUEUEING_GOAL_SECONDS * count / COUNT,
        ),
        Row(
            f"exchange of {label}",
            stored,
            "s",
            reference_name=reference_name,
            reference=reference["seconds"],
            better=Better.LOWER,
            goal=goal,
            note=note,
        ),
        Row(
            f"exchange throughput, {variant.label}",
            count / stored,
            "credentials/s",
            reference_name=reference_name,
            reference=count / reference["seconds"],
            better=Better.HIGHER,
            goal=COUNT / GOAL_SECONDS,
        ),
    ]


def measure(*, quick: bool) -> list[Row]:
    count = QUICK_COUNT if quick else COUNT
    rows: list[Row] = []
    for variant in harness.services():
        try:
            rows += run_variant(variant, count=count)
        except Exception as exc:  # one variant failing still reports the other
            harness.progress(f"exchange, {variant.label}: {type(exc).__name__}: {exc}")
            rows.append(Row(f"exchange, {variant.label}", None, "s", note=f"failed: {exc}"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_COUNT} credentials")
    parser.add_argument("--count", type=int, help=f"credentials to send ({COUNT})")
    args = parser.parse_args()
    from bench import report

    if args.count:
        rows = [
            row for variant in harness.services() for row in run_variant(variant, count=args.count)
        ]
    else:
        rows = measure(quick=args.quick)
    print(report.text_table([("exchange between two nodes", rows)]))


if __name__ == "__main__":
    os.chdir(REPOSITORY)
    main()
