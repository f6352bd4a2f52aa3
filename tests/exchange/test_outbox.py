import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from exchange import deliveries, outbox, tasks, transport
from exchange.models import (
    Delivery,
    DeliveryAttempt,
    Notice,
    NoticeKind,
    OutboxStatus,
    Partner,
    PartnerStatus,
)
from institutions.models import AuditEvent, Role
from tests.exchange.partners import issue, partner_row, two_partners
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


class FakeTransport:
    """Stands in for exchange.transport.signed_request: answers from a list, records calls."""

    def __init__(self, *answers: object) -> None:
        self.answers = list(answers)
        self.calls: list[dict] = []

    def __call__(self, **kwargs):
        self.calls.append(kwargs)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def ok(status: int = 201) -> transport.Reply:
    return transport.Reply(status=status, headers={}, body=b"{}", latency_ms=12)


def down(status: int = 503, retry_after: int | None = None) -> transport.TransportError:
    return transport.TransportError(
        reason=f"http-{status}",
        detail="down",
        status=status,
        retryable=True,
        latency_ms=7,
        retry_after=retry_after,
    )


def refused() -> transport.TransportError:
    return transport.TransportError(
        reason="invalid-message", detail="no", status=400, retryable=False, latency_ms=5
    )


@pytest.fixture
def fake(monkeypatch):
    def install(*answers: object) -> FakeTransport:
        fake = FakeTransport(*answers)
        monkeypatch.setattr(transport, "signed_request", fake)
        return fake

    return install


@pytest.fixture
def world():
    uni_a, uni_b, a_to_b, _b_to_a = two_partners()
    return uni_a, uni_b, a_to_b, issue(uni_a)


def queued_delivery(world) -> Delivery:
    _uni_a, _uni_b, a_to_b, credential = world
    return Delivery.objects.create(
        partner=a_to_b, credential=credential, consent_note="Please", next_attempt_at=None
    )


def seeded(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311  # reproducible jitter, not a secret


@pytest.fixture
def clock(time_machine):
    """The clock stopped at the current whole second (whatever the day); `move_to` moves it."""
    time_machine.move_to(datetime.now(UTC).replace(microsecond=0), tick=False)
    return time_machine


@dataclass(frozen=True)
class Message:
    task: str
    args: tuple
    eta: datetime | None


@pytest.fixture
def broker(monkeypatch) -> list[Message]:
    """The outbox's task messages, recorded instead of sent (so none runs unless the test
    runs it); each with its ETA, None for "at once"."""
    messages: list[Message] = []
    for task in (tasks.deliver, tasks.deliver_batch, tasks.notice_send):

        def apply_async(args=None, kwargs=None, *, name=task.name, eta=None, **options):
            messages.append(Message(name, tuple(args or ()), eta))

        monkeypatch.setattr(task, "apply_async", apply_async)
    return messages


def fail_once(world, fake, capture) -> Delivery:
    """A delivery whose first try met a 503 and whose retry message is recorded, not run."""
    fake(down(503), ok())
    delivery = queued_delivery(world)
    with capture(execute=True):
        outbox.outgoing_send(kind="delivery", pk=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == OutboxStatus.QUEUED and delivery.attempts == 1
    return delivery


def test_the_backoff_doubles_from_the_base_up_to_the_cap_with_jitter(settings):
    settings.MESHE_DELIVERY_RETRY_BASE_SECONDS = 30
    settings.MESHE_DELIVERY_RETRY_CAP_SECONDS = 3600
    rng = seeded(42)
    delays = [outbox.retry_delay(attempts=n, rng=rng) for n in (1, 2, 3, 10)]
    expected_rng = seeded(42)
    expected = [
        30 * expected_rng.uniform(0.5, 1.5),
        60 * expected_rng.uniform(0.5, 1.5),
        120 * expected_rng.uniform(0.5, 1.5),
        3600 * expected_rng.uniform(0.5, 1.5),
    ]
    assert delays == pytest.approx(expected)
    for attempts, delay in zip((1, 2, 3, 10), delays, strict=True):
        nominal = min(3600, 30 * 2 ** (attempts - 1))
        assert 0.5 * nominal <= delay <= 1.5 * nominal


def test_a_longer_retry_after_wins_over_the_backoff(settings):
    settings.MESHE_DELIVERY_RETRY_BASE_SECONDS = 30
    assert outbox.retry_delay(attempts=1, retry_after=600, rng=seeded(1)) == 600
    assert outbox.retry_delay(attempts=1, retry_after=1, rng=seeded(1)) > 1


def test_a_delivered_row_records_the_attempt_and_the_partners_health(world, fake):
    calls = fake(ok())
    delivery = queued_delivery(world)
    outbox.outgoing_send(kind="delivery", pk=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == OutboxStatus.DELIVERED
    assert delivery.delivered_at is not None and delivery.attempts == 1
    assert delivery.last_status == 201 and delivery.lease_until is None
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert (attempt.http_status, attempt.latency_ms, attempt.error) == (201, 12, "")
    assert Partner.objects.get(pk=delivery.partner_id).last_success_at is not None
    call = calls.calls[0]
    assert call["url"].endswith("/exchange/v1/uni-b/inbox")
    assert call["payload"]["learner"] == {"name": "Ana Kowalska"}
    assert call["payload"]["note"] == "Please"
    assert call["payload"]["delivery"] == str(delivery.public_id)
    assert call["payload"]["credential"]["id"] == delivery.credential.credential_id
    assert AuditEvent.objects.filter(action="delivery.delivered").count() == 1


def test_sending_a_delivered_row_again_does_nothing(world, fake):
    calls = fake(ok())
    delivery = queued_delivery(world)
    outbox.outgoing_send(kind="delivery", pk=delivery.pk)
    outbox.outgoing_send(kind="delivery", pk=delivery.pk)
    assert len(calls.calls) == 1
    assert DeliveryAttempt.objects.count() == 1


def test_a_retryable_failure_queues_the_row_again_with_seeded_backoff(
    world, fake, settings, monkeypatch, frozen_clock
):
    settings.MESHE_DELIVERY_RETRY_BASE_SECONDS = 30
    monkeypatch.setattr(outbox, "_random", seeded(7))
    fake(down(503))
    delivery = queued_delivery(world)
    before = timezone.now()
    outbox.outgoing_send(kind="delivery", pk=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == OutboxStatus.QUEUED
    assert delivery.attempts == 1 and delivery.last_status == 503
    expected = 30 * seeded(7).uniform(0.5, 1.5)
    assert delivery.next_attempt_at is not None
    waited = (delivery.next_attempt_at - before).total_seconds()
    assert waited == pytest.approx(expected, abs=0.001)
    partner = Partner.objects.get(pk=delivery.partner_id)
    assert partner.last_failure_at is not None and "http-503" in partner.last_failure
    assert DeliveryAttempt.objects.get(delivery=delivery).http_status == 503


def queued_batch(world, count: int) -> list[Delivery]:
    uni_a, _uni_b, a_to_b, _credential = world
    return [
        Delivery.objects.create(partner=a_to_b, credential=issue(uni_a), next_attempt_at=None)
        for _ in range(count)
    ]


def test_a_batch_message_sends_its_deliveries_in_one_session_in_order(world, fake):
    calls = fake(ok()).calls
    rows = queued_batch(world, 3)
    tasks.deliver_batch([row.pk for row in rows])
    assert [call["payload"]["delivery"] for call in calls] == [str(r.public_id) for r in rows]
    sessions = {id(call["session"]) for call in calls}
    assert len(sessions) == 1 and isinstance(calls[0]["session"], transport.Session)
    assert set(Delivery.objects.values_list("status", flat=True)) == {OutboxStatus.DELIVERED}


def test_a_batch_claims_each_delivery_only_as_it_is_about_to_send_it(world, monkeypatch):
    rows = queued_batch(world, 3)
    first, second, third = (row.pk for row in rows)
    seen = []

    def answer(**kwargs):
        seen.append(
            dict(Delivery.objects.filter(pk__in=[first, second, third]).values_list("pk", "status"))
        )
        return ok()

    monkeypatch.setattr(transport, "signed_request", answer)
    tasks.deliver_batch([first, second, third])
    queued, sending, delivered = OutboxStatus.QUEUED, OutboxStatus.SENDING, OutboxStatus.DELIVERED
    assert seen == [
        {first: sending, second: queued, third: queued},
        {first: delivered, second: sending, third: queued},
        {first: delivered, second: delivered, third: sending},
    ]
    assert set(Delivery.objects.values_list("status", "attempts")) == {(delivered, 1)}


def test_a_batch_writes_the_partners_last_success_once_not_per_delivery(world, fake):
    fake(ok())
    rows = queued_batch(world, 3)
    with CaptureQueriesContext(connection) as queries:
        tasks.deliver_batch([row.pk for row in rows])
    partner_updates = [
        q["sql"] for q in queries if q["sql"].startswith('UPDATE "exchange_partner"')
    ]
    assert len(partner_updates) == 1
    assert Partner.objects.get(pk=rows[0].partner_id).last_success_at is not None


def test_a_batch_message_skips_rows_that_are_gone_done_or_claimed(world, fake, frozen_clock):
    calls = fake(ok()).calls
    gone, done, leased, due = queued_batch(world, 4)
    Delivery.objects.filter(pk=done.pk).update(status=OutboxStatus.DELIVERED)
    Delivery.objects.filter(pk=leased.pk).update(
        status=OutboxStatus.SENDING, attempts=1, lease_until=timezone.now() + timedelta(seconds=5)
    )
    missing = gone.pk
    gone.delete()
    tasks.deliver_batch([missing, done.pk, leased.pk, due.pk])
    assert [call["payload"]["delivery"] for call in calls] == [str(due.public_id)]


def test_when_a_batch_meets_a_partner_that_does_not_answer_each_is_queued_again_alone(
    world, fake, broker, django_capture_on_commit_callbacks
):
    calls = fake(down(503)).calls
    rows = queued_batch(world, 3)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.deliver_batch([row.pk for row in rows])
    assert len(calls) == 3
    retried = list(Delivery.objects.filter(pk__in=[row.pk for row in rows]).order_by("pk"))
    assert {(row.status, row.attempts, row.last_status) for row in retried} == {
        (OutboxStatus.QUEUED, 1, 503)
    }
    assert [(m.task, m.args, m.eta) for m in broker] == [
        ("exchange.tasks.deliver", (row.pk,), row.next_attempt_at) for row in retried
    ]
    # The batch's message again (a copy) sends nothing before their next tries.
    tasks.deliver_batch([row.pk for row in rows])
    assert len(calls) == 3


def test_retry_after_from_the_partner_is_honoured(world, fake, frozen_clock):
    fake(down(429, retry_after=900))
    delivery = queued_delivery(world)
    outbox.outgoing_send(kind="delivery", pk=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.next_attempt_at is not None
    assert (delivery.next_attempt_at - timezone.now()).total_seconds() == 900


def test_a_refusal_fails_the_row_at_once_and_tells_the_admins(
    world, fake, django_capture_on_commit_callbacks
):
    uni_a = world[0]
    admin = MembershipFactory(institution=uni_a, role=Role.ADMIN).user
    MembershipFactory(institution=uni_a, role=Role.VIEWER)
    fake(refused())
    delivery = queued_delivery(world)
    with django_capture_on_commit_callbacks(execute=True):
        outbox.outgoing_send(kind="delivery", pk=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == OutboxStatus.FAILED and delivery.failed_at is not None
    assert delivery.last_error.startswith("invalid-message")
    event = AuditEvent.objects.get(action="delivery.failed")
    assert event.detail["reason"].startswith("invalid-message")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [admin.email]


def test_a_row_is_given_up_once_the_give_up_time_passed(world, fake, settings):
    settings.MESHE_DELIVERY_GIVE_UP_SECONDS = 3600
    fake(down(503))
    delivery = queued_delivery(world)
    Delivery.objects.filter(pk=delivery.pk).update(
        created_at=timezone.now() - timedelta(seconds=3601)
    )
    outbox.outgoing_send(kind="delivery", pk=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == OutboxStatus.FAILED
    assert AuditEvent.objects.filter(action="delivery.failed").count() == 1


def test_a_row_leased_to_another_worker_is_left_alone(world, fake, frozen_clock):
    calls = fake(ok())
    delivery = queued_delivery(world)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=OutboxStatus.SENDING, attempts=1, lease_until=timezone.now() + timedelta(seconds=20)
    )
    outbox.outgoing_send(kind="delivery", pk=delivery.pk)
    assert calls.calls == []
    assert Delivery.objects.get(pk=delivery.pk).status == OutboxStatus.SENDING


def test_a_row_whose_lease_ran_out_is_sent_again_by_the_sweep(world, fake):
    calls = fake(ok())
    delivery = queued_delivery(world)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=OutboxStatus.SENDING, attempts=1, lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert outbox.outbox_sweep() == 1
    delivery.refresh_from_db()
    assert delivery.status == OutboxStatus.DELIVERED and delivery.attempts == 2
    assert len(calls.calls) == 1


def test_the_sweep_sends_rows_overdue_by_the_grace_and_leaves_the_others(world, fake, clock):
    calls = fake(ok())
    now = timezone.now()
    overdue = queued_delivery(world)
    Delivery.objects.filter(pk=overdue.pk).update(
        next_attempt_at=now - outbox.sweep_grace() - timedelta(seconds=1)
    )
    # Due a moment ago: its own retry message is on its way, and the sweep leaves it to it.
    just_due = Delivery.objects.create(
        partner=overdue.partner, credential=issue(world[0]), next_attempt_at=now
    )
    waiting = Delivery.objects.create(
        partner=overdue.partner,
        credential=issue(world[0]),
        next_attempt_at=now + timedelta(hours=1),
    )
    assert outbox.outbox_sweep() == 1
    assert Delivery.objects.get(pk=overdue.pk).status == OutboxStatus.DELIVERED
    assert Delivery.objects.get(pk=just_due.pk).status == OutboxStatus.QUEUED
    assert Delivery.objects.get(pk=waiting.pk).status == OutboxStatus.QUEUED
    assert len(calls.calls) == 1


def test_the_grace_is_two_sweeps_and_at_least_a_minute(settings):
    settings.MESHE_OUTBOX_SWEEP_SECONDS = 600
    assert outbox.sweep_grace() == timedelta(seconds=1200)
    settings.MESHE_OUTBOX_SWEEP_SECONDS = 1
    assert outbox.sweep_grace() == timedelta(seconds=60)


# Retries go at their own time: a task message with an ETA, not the next sweep.


def test_a_failed_attempt_schedules_its_retry_for_its_next_try(
    world, fake, settings, monkeypatch, clock, broker, django_capture_on_commit_callbacks
):
    settings.MESHE_DELIVERY_RETRY_BASE_SECONDS = 30
    monkeypatch.setattr(outbox, "_random", seeded(7))
    delivery = fail_once(world, fake, django_capture_on_commit_callbacks)
    expected = timezone.now() + timedelta(seconds=30 * seeded(7).uniform(0.5, 1.5))
    assert delivery.next_attempt_at == expected
    assert broker == [Message("exchange.tasks.deliver", (delivery.pk,), expected)]


def test_a_retry_after_longer_than_the_backoff_sets_the_eta(
    world, fake, clock, broker, django_capture_on_commit_callbacks
):
    fake(down(429, retry_after=900))
    delivery = queued_delivery(world)
    with django_capture_on_commit_callbacks(execute=True):
        outbox.outgoing_send(kind="delivery", pk=delivery.pk)
    assert broker == [
        Message("exchange.tasks.deliver", (delivery.pk,), timezone.now() + timedelta(seconds=900))
    ]


def test_a_failed_notice_schedules_its_retry_the_same_way(
    world, fake, clock, broker, django_capture_on_commit_callbacks
):
    fake(down(503))
    with django_capture_on_commit_callbacks(execute=True):
        notice = outbox.notice_enqueue(
            partner=world[2], kind=NoticeKind.STATUS, payload={"type": "status"}
        )
    assert broker == [Message("exchange.tasks.notice_send", (notice.pk,), None)]
    with django_capture_on_commit_callbacks(execute=True):
        tasks.notice_send(notice.pk)
    notice.refresh_from_db()
    assert notice.status == OutboxStatus.QUEUED and notice.attempts == 1
    assert notice.next_attempt_at is not None and notice.next_attempt_at > timezone.now()
    assert broker[1:] == [
        Message("exchange.tasks.notice_send", (notice.pk,), notice.next_attempt_at)
    ]


def test_a_delivered_or_refused_attempt_schedules_nothing(
    world, fake, clock, broker, django_capture_on_commit_callbacks
):
    fake(ok(), refused())
    first = queued_delivery(world)
    second = Delivery.objects.create(partner=first.partner, credential=issue(world[0]))
    with django_capture_on_commit_callbacks(execute=True):
        outbox.outgoing_send(kind="delivery", pk=first.pk)
        outbox.outgoing_send(kind="delivery", pk=second.pk)
    assert Delivery.objects.get(pk=first.pk).status == OutboxStatus.DELIVERED
    assert Delivery.objects.get(pk=second.pk).status == OutboxStatus.FAILED
    assert broker == []


def test_a_retry_message_that_comes_early_does_nothing_and_the_one_on_time_sends(
    world, fake, clock, broker, django_capture_on_commit_callbacks
):
    delivery = fail_once(world, fake, django_capture_on_commit_callbacks)
    calls = fake(ok())
    assert delivery.next_attempt_at is not None
    clock.move_to(delivery.next_attempt_at - timedelta(seconds=5))
    tasks.deliver(delivery.pk)  # early: a copy, or a message of an earlier schedule
    assert calls.calls == []
    early = Delivery.objects.get(pk=delivery.pk)
    assert (early.status, early.attempts) == (OutboxStatus.QUEUED, 1)
    assert early.next_attempt_at == delivery.next_attempt_at

    clock.move_to(delivery.next_attempt_at)
    tasks.deliver(delivery.pk)
    assert len(calls.calls) == 1
    sent = Delivery.objects.get(pk=delivery.pk)
    assert (sent.status, sent.attempts) == (OutboxStatus.DELIVERED, 2)


def test_a_duplicate_retry_message_sends_the_row_once(
    world, fake, clock, broker, django_capture_on_commit_callbacks
):
    delivery = fail_once(world, fake, django_capture_on_commit_callbacks)
    calls = fake(down(503))
    assert delivery.next_attempt_at is not None
    clock.move_to(delivery.next_attempt_at)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.deliver(delivery.pk)
        tasks.deliver(delivery.pk)  # the same message again (e.g. Redis's redelivery)
    assert len(calls.calls) == 1
    again = Delivery.objects.get(pk=delivery.pk)
    assert (again.status, again.attempts) == (OutboxStatus.QUEUED, 2)
    # One retry scheduled by each attempt that was made, none by the copy.
    assert [message.eta for message in broker] == [delivery.next_attempt_at, again.next_attempt_at]


def test_the_sweep_leaves_a_scheduled_retry_to_its_message(
    world, fake, clock, broker, django_capture_on_commit_callbacks
):
    delivery = fail_once(world, fake, django_capture_on_commit_callbacks)
    assert delivery.next_attempt_at is not None
    clock.move_to(delivery.next_attempt_at + outbox.sweep_grace() - timedelta(seconds=1))
    assert outbox.outbox_sweep() == 0
    assert len(broker) == 1  # only the retry the failure scheduled


def test_the_sweep_resends_a_row_whose_retry_message_was_lost(
    world, fake, clock, broker, django_capture_on_commit_callbacks
):
    delivery = fail_once(world, fake, django_capture_on_commit_callbacks)
    calls = fake(ok())
    broker.clear()  # the retry message is lost, say with the worker that held it
    assert delivery.next_attempt_at is not None
    clock.move_to(delivery.next_attempt_at + outbox.sweep_grace() + timedelta(seconds=1))
    assert outbox.outbox_sweep() == 1
    assert broker == [Message("exchange.tasks.deliver", (delivery.pk,), None)]
    # Due now, as the delivery log says; the next sweeps leave it to the message just sent.
    assert Delivery.objects.get(pk=delivery.pk).next_attempt_at == timezone.now()
    clock.shift(outbox.sweep_grace() - timedelta(seconds=1))
    assert outbox.outbox_sweep() == 0
    tasks.deliver(delivery.pk)
    assert len(calls.calls) == 1
    assert Delivery.objects.get(pk=delivery.pk).status == OutboxStatus.DELIVERED


def test_a_suspended_partnership_holds_deliveries_queued_and_looks_again_later(
    world, fake, settings, clock, broker, django_capture_on_commit_callbacks
):
    settings.MESHE_OUTBOX_SWEEP_SECONDS = 60
    calls = fake(ok())
    delivery = queued_delivery(world)
    Partner.objects.filter(pk=delivery.partner_id).update(status=PartnerStatus.SUSPENDED)
    with django_capture_on_commit_callbacks(execute=True):
        outbox.outgoing_send(kind="delivery", pk=delivery.pk)
    delivery.refresh_from_db()
    assert calls.calls == []
    assert delivery.status == OutboxStatus.QUEUED and delivery.attempts == 0
    again = timezone.now() + timedelta(seconds=60)
    assert delivery.next_attempt_at == again
    assert broker == [Message("exchange.tasks.deliver", (delivery.pk,), again)]


def test_an_ended_partnership_fails_waiting_deliveries(world, fake):
    calls = fake(ok())
    delivery = queued_delivery(world)
    Partner.objects.filter(pk=delivery.partner_id).update(status=PartnerStatus.ENDED)
    outbox.outgoing_send(kind="delivery", pk=delivery.pk)
    delivery.refresh_from_db()
    assert calls.calls == [] and delivery.status == OutboxStatus.FAILED
    assert delivery.last_error.startswith("not-a-partner")


def test_partnership_notices_go_even_when_the_partnership_is_not_agreed(
    world, fake, django_capture_on_commit_callbacks
):
    calls = fake(ok(200))
    partner = world[2]
    Partner.objects.filter(pk=partner.pk).update(status=PartnerStatus.REQUESTED)
    partner.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        notice = outbox.notice_enqueue(
            partner=partner, kind=NoticeKind.PARTNERSHIP, payload={"type": "request"}
        )
    notice.refresh_from_db()
    assert notice.status == OutboxStatus.DELIVERED
    assert calls.calls[0]["url"].endswith("/exchange/v1/uni-b/partnership")
    assert calls.calls[0]["payload"] == {"type": "request"}


def test_decision_notices_go_to_the_notices_endpoint(
    world, fake, django_capture_on_commit_callbacks
):
    calls = fake(ok(200))
    with django_capture_on_commit_callbacks(execute=True):
        notice = outbox.notice_enqueue(
            partner=world[2], kind=NoticeKind.DECISION, payload={"type": "decision"}
        )
    assert Notice.objects.get(pk=notice.pk).status == OutboxStatus.DELIVERED
    assert calls.calls[0]["url"].endswith("/exchange/v1/uni-b/notices")


def test_a_failed_notice_is_audited_as_a_notice(world, fake, django_capture_on_commit_callbacks):
    fake(refused())
    with django_capture_on_commit_callbacks(execute=True):
        outbox.notice_enqueue(partner=world[2], kind=NoticeKind.STATUS, payload={"type": "status"})
    assert AuditEvent.objects.filter(action="notice.failed").count() == 1


def test_a_partner_without_the_endpoint_fails_the_row(world, fake):
    calls = fake(ok())
    delivery = queued_delivery(world)
    Partner.objects.filter(pk=delivery.partner_id).update(endpoints={})
    outbox.outgoing_send(kind="delivery", pk=delivery.pk)
    delivery.refresh_from_db()
    assert calls.calls == [] and delivery.status == OutboxStatus.FAILED
    assert delivery.last_error.startswith("no-endpoint")


# Against a real HTTP server: what the transport makes of a 500 and a 400.


class _Answers(BaseHTTPRequestHandler):
    status = 500
    hits = 0

    def do_POST(self) -> None:
        type(self).hits += 1
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"error": "nope"}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def target(settings):
    settings.MESHE_OUTBOUND_ALLOW_LOOPBACK = True

    def start(status: int) -> tuple[str, type[_Answers]]:
        handler = type("Handler", (_Answers,), {"status": status, "hits": 0})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", handler

    servers: list[ThreadingHTTPServer] = []
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_partner_answering_500_is_retried(
    target, time_machine, django_capture_on_commit_callbacks
):
    url, handler = target(500)
    uni_a, uni_b, _a_to_b, _b_to_a = two_partners()
    partner = Partner.objects.get(institution=uni_a)
    Partner.objects.filter(pk=partner.pk).delete()
    partner = partner_row(uni_a, uni_b, base_url=url)
    credential = issue(uni_a)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = deliveries.delivery_create(
            credential=credential, partner=partner, actor=None, by_learner=False, note=""
        )
    delivery.refresh_from_db()
    # The retry message ran at once here (tasks run inline), before its time: it did nothing.
    assert handler.hits == 1
    assert delivery.status == OutboxStatus.QUEUED and delivery.last_status == 500
    assert delivery.next_attempt_at is not None
    time_machine.move_to(delivery.next_attempt_at)
    tasks.deliver(delivery.pk)  # the retry message, on time
    delivery.refresh_from_db()
    assert handler.hits == 2 and delivery.attempts == 2
    assert delivery.status == OutboxStatus.QUEUED
    assert DeliveryAttempt.objects.filter(delivery=delivery, http_status=500).count() == 2


def test_a_partner_answering_400_is_not_retried(target, django_capture_on_commit_callbacks):
    url, handler = target(400)
    uni_a, uni_b, _a_to_b, _b_to_a = two_partners()
    Partner.objects.filter(institution=uni_a).delete()
    partner = partner_row(uni_a, uni_b, base_url=url)
    credential = issue(uni_a)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = deliveries.delivery_create(
            credential=credential, partner=partner, actor=None, by_learner=False, note=""
        )
    delivery.refresh_from_db()
    assert delivery.status == OutboxStatus.FAILED and delivery.last_status == 400
    assert outbox.outbox_sweep() == 0
    assert handler.hits == 1
