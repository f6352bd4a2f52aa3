"""The exchange between two real nodes when things go wrong: B down, B failing, requests that
were replayed, tampered with, stale or signed by a stranger's key, and A's worker killed while
it is sending.

What the delivery guarantees of docs/exchange.md promise is checked in both databases: every
credential arrives exactly once, transient failures are retried, each at the next try A's
delivery log shows, and permanent ones are not, and B stores nothing it should refuse.
"""

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from tests.conftest import wait_for
from tests.twonode.faults import FaultProxy, Mode
from tests.twonode.nodes import Node, http_request

# Seconds a message between the nodes may take, worker pick-up and retries included.
CARRIED = 60.0
SWEEP_SECONDS = 1
INBOX = "/exchange/v1/uni-b/inbox"


@pytest.fixture(scope="module")
def node_env() -> dict[str, str]:
    return {
        "MESHE_DELIVERY_RETRY_BASE_SECONDS": "1",
        "MESHE_DELIVERY_RETRY_CAP_SECONDS": "2",
        "MESHE_OUTBOX_SWEEP_SECONDS": str(SWEEP_SECONDS),
        # A hundred deliveries and their retries in a few seconds are not abuse here.
        "MESHE_RATE_LIMITS": json.dumps({"exchange": "100000/m", "exchange_ip": "100000/m"}),
    }


@pytest.fixture(scope="module")
def specification(node_a: Node, node_b: Node) -> str:
    """uni-a and uni-b agreed partners, and a specification of uni-a's to issue under."""
    node_a.partner_with(node_b)
    return node_a.publish_specification("uni-a", title="Data Literacy")


DELIVERIES_AT_A = """
from exchange.models import Delivery

rows = list(Delivery.objects.filter(public_id__in=deliveries))
result = {
    "statuses": sorted({row.status for row in rows}),
    "attempts": sorted({row.attempts for row in rows}),
    "last_statuses": sorted({str(row.last_status) for row in rows}),
    "last_errors": sorted({row.last_error.split(":")[0] for row in rows}),
    "failed_at": [str(row.failed_at) for row in rows if row.failed_at],
}
done = len(rows) == len(deliveries) and all(eval(condition, {}, {"row": row}) for row in rows)
"""

INCOMING_AT_B = """
from django.db.models import Count
from exchange.models import IncomingCredential, SeenNonce
from institutions.models import AuditEvent

rows = IncomingCredential.objects.filter(credential_id__in=credential_ids)
result = {
    "rows": rows.count(),
    "credentials": rows.values("credential_id").distinct().count(),
    "copies": sorted(
        set(rows.values("credential_id").annotate(n=Count("pk")).values_list("n", flat=True))
    ),
    "verified": sorted({row.verified for row in rows}),
    "all_rows": IncomingCredential.objects.count(),
    "nonces": SeenNonce.objects.count(),
    "received_events": AuditEvent.objects.filter(action="incoming.received").count(),
}
done = result["rows"] >= expected
"""


def deliveries_at_a(node_a: Node, deliveries: list[str], *, until: str, timeout: float) -> dict:
    """What A's rows say once `until` (a Python expression on `row`) holds for each one."""
    return dict(
        node_a.wait(
            DELIVERIES_AT_A,
            deliveries=deliveries,
            condition=until,
            timeout=timeout,
            interval=0.5,
        )
    )


def incoming_at_b(node_b: Node, credential_ids: list[str], *, expected: int = 0) -> dict:
    """B's incoming rows of those credentials (and its totals), once at least `expected`."""
    return dict(node_b.wait(INCOMING_AT_B, credential_ids=credential_ids, expected=expected))


def issue(node_a: Node, specification: str, count: int, holder: str) -> tuple[list, list]:
    """(public ids, credential ids) of `count` new credentials of uni-a."""
    issued = node_a.issue_credentials(specification, count, holder_name=holder)
    return [c["public_id"] for c in issued], [c["credential_id"] for c in issued]


# ---------------------------------------------------------------- B unreachable or failing


def test_with_b_down_a_hundred_deliveries_wait_and_all_arrive_exactly_once_when_b_is_back(
    node_a: Node, node_b: Node, specification: str, proxy_b: FaultProxy
) -> None:
    public_ids, credential_ids = issue(node_a, specification, 100, "Offline learner")
    node_b.stop_web()

    deliveries = node_a.deliver(node_b, public_ids, note="Sent while B was down")
    waiting = deliveries_at_a(
        node_a,
        deliveries,
        until="row.status == 'queued' and row.attempts >= 1 and row.last_status == 502",
        timeout=CARRIED,
    )
    # Each one tried, refused as retryable (the reverse proxy's 502), queued again.
    assert waiting["statuses"] == ["queued"]
    assert waiting["last_errors"] == ["http-502"]
    assert waiting["failed_at"] == []
    assert proxy_b.count(INBOX, status=502) >= 100
    assert proxy_b.count(INBOX, status=201) == 0

    node_b.start_web()
    arrived = deliveries_at_a(
        node_a, deliveries, until="row.status == 'delivered'", timeout=2 * CARRIED
    )
    assert arrived["last_statuses"] == ["201"]

    at_b = incoming_at_b(node_b, credential_ids, expected=100)
    assert at_b["rows"] == at_b["credentials"] == 100
    assert at_b["copies"] == [1]
    assert at_b["verified"] == [True]
    # Each credential was accepted once: no delivery needed a second successful POST.
    assert proxy_b.count(INBOX, status=201) == 100
    assert proxy_b.count(INBOX, status=200) == 0


def test_while_b_answers_500_a_delivery_is_retried_and_arrives_once_b_recovers(
    node_a: Node, node_b: Node, specification: str, proxy_b: FaultProxy
) -> None:
    (public_id,), credential_ids = issue(node_a, specification, 1, "Patient learner")
    proxy_b.mode = Mode.ERROR_500

    deliveries = node_a.deliver(node_b, [public_id])
    retrying = deliveries_at_a(
        node_a, deliveries, until="row.status == 'queued' and row.attempts >= 3", timeout=CARRIED
    )
    assert retrying["last_statuses"] == ["500"]
    assert retrying["last_errors"] == ["http-500"]
    assert proxy_b.count(INBOX, status=500) >= 3
    assert incoming_at_b(node_b, credential_ids)["rows"] == 0

    proxy_b.pass_through()
    arrived = deliveries_at_a(
        node_a, deliveries, until="row.status == 'delivered'", timeout=CARRIED
    )
    assert arrived["last_statuses"] == ["201"]
    assert incoming_at_b(node_b, credential_ids, expected=1)["rows"] == 1
    assert proxy_b.count(INBOX, status=201) == 1


def test_when_b_answers_400_the_delivery_fails_at_once_with_the_reason_and_is_never_retried(
    node_a: Node, node_b: Node, specification: str, proxy_b: FaultProxy
) -> None:
    (public_id,), credential_ids = issue(node_a, specification, 1, "Refused learner")
    proxy_b.mode = Mode.ERROR_400

    deliveries = node_a.deliver(node_b, [public_id])
    failed = deliveries_at_a(node_a, deliveries, until="row.status == 'failed'", timeout=CARRIED)
    assert failed["attempts"] == [1]
    assert failed["last_statuses"] == ["400"]
    # What A's admins see: the proxy's 400 is unsigned, so it is named by its status and not
    # believed further; only 429 and 5xx are retried.
    assert failed["last_errors"] == ["http-400"]
    assert len(failed["failed_at"]) == 1

    # Several sweeps later, nothing was sent again.
    time.sleep(4 * SWEEP_SECONDS + 1)
    assert proxy_b.count(INBOX) == 1
    again = deliveries_at_a(node_a, deliveries, until="row.status == 'failed'", timeout=5)
    assert again["attempts"] == [1]
    assert incoming_at_b(node_b, credential_ids)["rows"] == 0
    # The institution's admins were told, with the reason.
    assert wait_for(lambda: mails_about(node_a, "could not be delivered") >= 1, timeout=30)


def mails_about(node: Node, text: str) -> int:
    folder = node.var_dir / "mail"
    if not folder.exists():
        return 0
    return sum(text in path.read_text(errors="replace") for path in folder.iterdir())


# ---------------------------------------------------------------- retries on time

# A's sweep runs this rarely while the retry timing is measured: what arrives is sent by the
# retries themselves, at their own time, and not by a sweep.
SLOW_SWEEP_SECONDS = 600
# Backoff of the first retry: 15 s to 45 s with the jitter, long enough that each delivery's
# first retry is still ahead when B comes back and its time is read.
RETRY_BASE_SECONDS = 30
# How late a retry may arrive at B after the next try A recorded: the worker picking it up and
# one signed POST, verified by B, on a loaded machine; far below the sweep interval and its
# grace (2 sweeps).
RETRY_MARGIN = timedelta(seconds=15)
# How early: A's worker accepts a message a second before the row's time (outbox.EARLY_TOLERANCE).
RETRY_EARLY = timedelta(seconds=1)


@pytest.fixture
def node_a_slow_sweep(node_a: Node) -> Iterator[Node]:
    """Node A with its worker and beat restarted to sweep every 10 minutes, with a 30 s
    backoff; back as the module has it afterwards."""
    before = dict(node_a.env)
    node_a.stop_worker()
    node_a.env.update(
        MESHE_OUTBOX_SWEEP_SECONDS=str(SLOW_SWEEP_SECONDS),
        MESHE_DELIVERY_RETRY_BASE_SECONDS=str(RETRY_BASE_SECONDS),
        MESHE_DELIVERY_RETRY_CAP_SECONDS=str(RETRY_BASE_SECONDS),
    )
    node_a.start_worker(beat=True)
    try:
        yield node_a
    finally:
        node_a.stop_worker()
        node_a.env.clear()
        node_a.env.update(before)
        node_a.start_worker(beat=True)


# One look at A's rows, once none is being sent: which are waiting, and for when.
SCHEDULE_AT_A = """
from exchange.models import Delivery

rows = list(Delivery.objects.filter(public_id__in=deliveries).select_related("credential"))
result = {
    str(row.public_id): {
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at.isoformat() if row.next_attempt_at else None,
        "credential_id": row.credential.credential_id,
    }
    for row in rows
}
done = len(rows) == len(deliveries) and all(row.status != "sending" for row in rows)
"""

ARRIVALS_AT_B = """
from exchange.models import IncomingCredential

result = {
    row.credential_id: row.received_at.isoformat()
    for row in IncomingCredential.objects.filter(credential_id__in=credential_ids)
}
"""


def test_after_b_comes_back_each_queued_delivery_arrives_at_its_own_next_try(
    node_a_slow_sweep: Node, node_b: Node, specification: str, proxy_b: FaultProxy
) -> None:
    node_a = node_a_slow_sweep
    public_ids, credential_ids = issue(node_a, specification, 5, "Punctual learner")
    proxy_b.mode = Mode.ERROR_503

    deliveries = node_a.deliver(node_b, public_ids)
    deliveries_at_a(
        node_a,
        deliveries,
        until="row.status == 'queued' and row.attempts >= 1 and row.last_status == 503",
        timeout=CARRIED,
    )
    proxy_b.pass_through()
    # Read after B is back and while nothing is in flight: each row's next try is the one
    # that goes through.
    schedule = node_a.wait(SCHEDULE_AT_A, deliveries=deliveries, timeout=CARRIED)
    assert {row["status"] for row in schedule.values()} == {"queued"}, schedule
    assert {row["attempts"] for row in schedule.values()} == {1}, schedule
    assert proxy_b.count(INBOX, status=503) == 5

    arrived = deliveries_at_a(
        node_a, deliveries, until="row.status == 'delivered'", timeout=2 * CARRIED
    )
    # One more try each, the one at its time: no sweep sent it (the next is minutes away).
    assert arrived["attempts"] == [2]
    assert proxy_b.count(INBOX, status=201) == 5
    at_b = node_b.run(ARRIVALS_AT_B, credential_ids=credential_ids)
    assert len(at_b) == 5
    for delivery, row in schedule.items():
        next_try = datetime.fromisoformat(row["next_attempt_at"])
        arrival = datetime.fromisoformat(at_b[row["credential_id"]])
        assert next_try - RETRY_EARLY <= arrival <= next_try + RETRY_MARGIN, (
            f"delivery {delivery}: next try {next_try}, arrived at B {arrival}"
        )


# ---------------------------------------------------------------- requests B must refuse


def post(node_b: Node, headers: dict[str, str] | tuple, body: bytes):
    """POSTs to B's inbox from the test process, as A (or anyone) could."""
    return http_request(
        node_b.url(INBOX),
        method="POST",
        body=body,
        headers=dict(headers),
        certificates=node_b.certificates,
    )


def refused(response, status: int, reason: str) -> bool:
    assert response.headers["content-type"] == "application/problem+json", response
    assert (response.status, response.json()["reason"]) == (status, reason), response.json()
    return True


def test_a_replayed_request_is_refused_and_stores_nothing(
    node_a: Node, node_b: Node, specification: str, proxy_b: FaultProxy
) -> None:
    (public_id,), credential_ids = issue(node_a, specification, 1, "Replayed learner")
    deliveries = node_a.deliver(node_b, [public_id])
    deliveries_at_a(node_a, deliveries, until="row.status == 'delivered'", timeout=CARRIED)
    (sent,) = proxy_b.requests(INBOX)
    assert sent.status == 201
    before = incoming_at_b(node_b, credential_ids, expected=1)

    # The very request A's worker sent, headers and body as they went over the wire.
    replay = post(node_b, sent.headers, sent.body)

    assert refused(replay, 401, "replayed-nonce")
    after = incoming_at_b(node_b, credential_ids, expected=1)
    assert after == before  # no row, no nonce, no audit event more


def test_a_tampered_body_is_refused_and_stores_nothing(
    node_a: Node, node_b: Node, specification: str, proxy_b: FaultProxy
) -> None:
    (public_id,), credential_ids = issue(node_a, specification, 1, "Honest learner")
    payload = node_a.inbox_payload(public_id)
    headers, body = node_a.sign_request(node_b.url(INBOX), payload)
    before = incoming_at_b(node_b, credential_ids)
    assert before["rows"] == 0

    # The body changed after signing; the Content-Digest is the signed one.
    tampered = body.replace(b"Honest learner", b"Dishonest learner")
    assert refused(post(node_b, headers, tampered), 401, "digest-mismatch")
    # The body changed and its Content-Digest recomputed: the signature covers the digest.
    redigested = {**headers, "Content-Digest": content_digest(tampered)}
    assert refused(post(node_b, redigested, tampered), 401, "bad-signature")
    assert incoming_at_b(node_b, credential_ids) == before

    # The untouched request is accepted: it was the tampering that was refused.
    assert post(node_b, headers, body).status == 201
    assert incoming_at_b(node_b, credential_ids, expected=1)["rows"] == 1


def content_digest(body: bytes) -> str:
    import base64
    import hashlib

    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def test_a_request_signed_ten_minutes_ago_is_refused_as_stale_and_stores_nothing(
    node_a: Node, node_b: Node, specification: str, proxy_b: FaultProxy
) -> None:
    (public_id,), credential_ids = issue(node_a, specification, 1, "Late learner")
    payload = node_a.inbox_payload(public_id)
    headers, body = node_a.sign_request(node_b.url(INBOX), payload, created_offset=-600)
    before = incoming_at_b(node_b, credential_ids)

    assert refused(post(node_b, headers, body), 401, "clock-skew")
    assert incoming_at_b(node_b, credential_ids) == before
    assert before["rows"] == 0


PARTNER_AT_B = """
from exchange.models import Partner

partner = Partner.objects.get(institution__slug="uni-b", did=did_a)
result = {"pinned": [key["id"] for key in partner.pinned_keys], "alert": partner.key_alert}
"""


def test_a_request_signed_by_a_key_a_did_document_does_not_list_is_refused_and_alerts_b(
    node_a: Node, node_b: Node, specification: str, proxy_b: FaultProxy
) -> None:
    (public_id,), credential_ids = issue(node_a, specification, 1, "Impersonated learner")
    did_a = node_a.institutions["uni-a"]
    payload = node_a.inbox_payload(public_id)
    headers, body = node_a.sign_request(node_b.url(INBOX), payload, fresh_key_id="key-99")
    assert f'keyid="{did_a}#key-99"' in headers["Signature-Input"]
    before = incoming_at_b(node_b, credential_ids)
    pinned = node_b.run(PARTNER_AT_B, did_a=did_a)["pinned"]

    assert refused(post(node_b, headers, body), 401, "unknown-key")

    assert incoming_at_b(node_b, credential_ids) == before
    assert before["rows"] == 0
    # B looked in A's DID document (a rotation would be there), did not pin the stranger's
    # key, and shows its admins an alert.
    at_b = node_b.run(PARTNER_AT_B, did_a=did_a)
    assert at_b["pinned"] == pinned
    assert f"{did_a}#key-99" in at_b["alert"]


# ---------------------------------------------------------------- A's worker lost mid-send


def test_a_worker_killed_mid_delivery_is_sent_again_after_its_lease_and_stored_once(
    node_a: Node, node_b: Node, specification: str, proxy_b: FaultProxy
) -> None:
    (public_id,), credential_ids = issue(node_a, specification, 1, "Interrupted learner")
    proxy_b.hold(4)

    deliveries = node_a.deliver(node_b, [public_id])
    # A's worker has POSTed and waits for B's answer, which the proxy holds back.
    assert wait_for(lambda: proxy_b.arrived(INBOX) == 1, timeout=CARRIED)
    node_a.kill_worker()
    node_a.start_worker(beat=True)
    proxy_b.pass_through()  # the held request still goes through when its time is up

    # The row stays claimed until its lease runs out (twice the 10 s send timeout); then the
    # sweep sends it again, and B, which stored the first POST, acknowledges the second.
    arrived = deliveries_at_a(node_a, deliveries, until="row.status == 'delivered'", timeout=60)
    assert arrived["attempts"] == [2]
    assert arrived["last_statuses"] == ["200"]
    assert [seen.status for seen in proxy_b.requests(INBOX)] == [201, 200]
    assert incoming_at_b(node_b, credential_ids, expected=1)["rows"] == 1
