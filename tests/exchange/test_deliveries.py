from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.formats import date_format

from credentials.issuing import services as credential_services
from credentials.models import IssuedCredential
from exchange import deliveries, outbox, tasks, transport
from exchange import messages as exchange_messages
from exchange.models import (
    Decision,
    Delivery,
    DeliveryAttempt,
    Notice,
    NoticeKind,
    OutboxStatus,
    Partner,
    PartnerStatus,
)
from institutions.models import AuditEvent, Role
from tests.exchange.partners import issue, partner_row, staff_client, two_partners
from tests.factories import InstitutionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Sending is the outbox's business (test_outbox); here every partner answers 201."""
    calls = []

    def answer(**kwargs):
        calls.append(kwargs)
        return transport.Reply(status=201, headers={}, body=b"{}", latency_ms=3)

    monkeypatch.setattr(transport, "signed_request", answer)
    return calls


@pytest.fixture
def world():
    uni_a, uni_b, a_to_b, b_to_a = two_partners()
    return uni_a, uni_b, a_to_b, b_to_a


def create(credential, partner, **overrides) -> Delivery:
    fields = {"actor": None, "by_learner": False, "note": "", **overrides}
    return deliveries.delivery_create(credential=credential, partner=partner, **fields)


# Services ----------------------------------------------------------------------------------


def test_a_delivery_is_queued_audited_and_sent_on_commit(
    world, no_network, django_capture_on_commit_callbacks
):
    uni_a, _uni_b, a_to_b, _ = world
    credential = issue(uni_a)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        delivery = create(credential, a_to_b, note="  Please  ", by_learner=True)
    assert delivery.status == OutboxStatus.QUEUED and delivery.consent_note == "Please"
    assert delivery.by_learner is True
    assert no_network == []
    assert len(callbacks) == 1
    event = AuditEvent.objects.get(action="delivery.created")
    assert event.institution == uni_a and event.detail["partner"] == "University B"
    callbacks[0]()
    assert Delivery.objects.get(pk=delivery.pk).status == OutboxStatus.DELIVERED


def test_creating_a_delivery_twice_returns_the_same_row(world):
    uni_a, _uni_b, a_to_b, _ = world
    credential = issue(uni_a)
    first = create(credential, a_to_b)
    second = create(credential, a_to_b, note="again")
    assert first.pk == second.pk
    assert Delivery.objects.count() == 1
    assert AuditEvent.objects.filter(action="delivery.created").count() == 1


def test_creating_a_failed_delivery_again_queues_it_again(
    world, django_capture_on_commit_callbacks
):
    uni_a, _uni_b, a_to_b, _ = world
    delivery = create(issue(uni_a), a_to_b)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=OutboxStatus.FAILED, failed_at=timezone.now()
    )
    with django_capture_on_commit_callbacks(execute=True):
        again = create(delivery.credential, a_to_b)
    assert again.pk == delivery.pk
    assert Delivery.objects.get(pk=delivery.pk).status == OutboxStatus.DELIVERED
    assert AuditEvent.objects.filter(action="delivery.requeued").count() == 1


@pytest.mark.parametrize(
    "status", [PartnerStatus.REQUESTED, PartnerStatus.SUSPENDED, PartnerStatus.ENDED]
)
def test_a_partner_that_is_not_agreed_is_refused(world, status):
    uni_a, _uni_b, a_to_b, _ = world
    Partner.objects.filter(pk=a_to_b.pk).update(status=status)
    a_to_b.refresh_from_db()
    with pytest.raises(deliveries.DeliveryError):
        create(issue(uni_a), a_to_b)
    assert not Delivery.objects.exists()


def test_another_institutions_partner_is_refused(world):
    uni_a, _uni_b, _a_to_b, b_to_a = world
    with pytest.raises(deliveries.DeliveryError):
        create(issue(uni_a), b_to_a)


@pytest.mark.parametrize("change", ["revoke", "suspend", "expire"])
def test_a_credential_that_is_not_valid_is_refused(world, change):
    uni_a, _uni_b, a_to_b, _ = world
    credential = issue(uni_a)
    if change == "revoke":
        credential_services.credential_revoke(credential=credential, actor=None)
    elif change == "suspend":
        credential_services.credential_suspend(credential=credential, actor=None)
    else:
        IssuedCredential.objects.filter(pk=credential.pk).update(
            valid_until=timezone.now() - timedelta(days=1)
        )
    credential.refresh_from_db()
    with pytest.raises(deliveries.DeliveryError):
        create(credential, a_to_b)


def test_a_batch_is_all_or_nothing(world):
    uni_a, _uni_b, a_to_b, _ = world
    good, bad = issue(uni_a), issue(uni_a, holder_name="Bo Revoked")
    credential_services.credential_revoke(credential=bad, actor=None)
    bad.refresh_from_db()
    with pytest.raises(deliveries.DeliveryError, match="Bo Revoked"):
        deliveries.deliveries_create_batch(
            credentials=[good, bad], partner=a_to_b, actor=None, note=""
        )
    assert not Delivery.objects.exists()
    sent = deliveries.deliveries_create_batch(
        credentials=[good, issue(uni_a)], partner=a_to_b, actor=None, note="Batch"
    )
    assert len(sent) == 2 and Delivery.objects.count() == 2


def batch(credentials, partner, **overrides) -> list[Delivery]:
    fields = {"actor": None, "note": "", **overrides}
    return deliveries.deliveries_create_batch(credentials=credentials, partner=partner, **fields)


def batch_queries(credentials, partner) -> int:
    with CaptureQueriesContext(connection) as queries:
        batch(credentials, partner)
    return len(queries)


def test_a_batch_is_queued_in_the_same_number_of_queries_whatever_its_size(world):
    uni_a, _uni_b, a_to_b, _ = world
    # Read once before counting: the partner's institution, as the form's queryset has it.
    assert a_to_b.institution == uni_a
    small = [issue(uni_a) for _ in range(2)]
    large = [issue(uni_a) for _ in range(12)]
    assert batch_queries(small, a_to_b) == batch_queries(large, a_to_b)
    assert Delivery.objects.filter(status=OutboxStatus.QUEUED).count() == 14


def test_each_delivery_of_a_batch_is_audited_as_one_delivery_is(world):
    uni_a, _uni_b, a_to_b, _ = world
    credentials = [issue(uni_a), issue(uni_a, holder_name="Bo Berg")]
    actor = UserFactory()
    sent = batch(credentials, a_to_b, actor=actor, note="  For the MSc  ")
    assert [d.credential_id for d in sent] == [c.pk for c in credentials]
    assert {d.consent_note for d in sent} == {"For the MSc"}
    assert all(d.requested_by == actor and not d.by_learner for d in sent)
    events = AuditEvent.objects.filter(action="delivery.created").order_by("pk")
    assert [event.detail for event in events] == [
        {
            "delivery": str(delivery.public_id),
            "credential": str(credential.public_id),
            "partner": "University B",
            "by_learner": False,
        }
        for delivery, credential in zip(sent, credentials, strict=True)
    ]
    assert {(e.institution_id, e.actor_id) for e in events} == {(uni_a.pk, actor.pk)}


def test_a_batch_sent_again_creates_nothing_and_queues_its_failed_deliveries_again(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    uni_a, _uni_b, a_to_b, _ = world
    credentials = [issue(uni_a) for _ in range(3)]
    first = batch(credentials, a_to_b)
    Delivery.objects.filter(pk=first[0].pk).update(
        status=OutboxStatus.FAILED, failed_at=timezone.now(), lease_until=None
    )
    Delivery.objects.filter(pk=first[1].pk).update(status=OutboxStatus.DELIVERED)
    published = []
    monkeypatch.setattr(tasks.deliver_batch, "delay", lambda ids: published.append(ids))
    with django_capture_on_commit_callbacks(execute=True):
        again = batch(credentials, a_to_b, note="again")
    assert [d.pk for d in again] == [d.pk for d in first]
    assert Delivery.objects.count() == 3
    assert AuditEvent.objects.filter(action="delivery.created").count() == 3
    requeued = AuditEvent.objects.get(action="delivery.requeued")
    assert requeued.detail == {"delivery": str(first[0].public_id), "partner": "University B"}
    failed = Delivery.objects.get(pk=first[0].pk)
    assert failed.status == OutboxStatus.QUEUED and failed.failed_at is None
    assert again[0].status == OutboxStatus.QUEUED
    assert Delivery.objects.get(pk=first[1].pk).status == OutboxStatus.DELIVERED
    assert published == [[first[0].pk]]


def test_a_refused_batch_names_every_credential_that_cannot_be_sent(world):
    uni_a, _uni_b, a_to_b, _ = world
    revoked = issue(uni_a, holder_name="Bo Revoked")
    suspended = issue(uni_a, holder_name="Cy Suspended")
    credential_services.credential_revoke(credential=revoked, actor=None)
    credential_services.credential_suspend(credential=suspended, actor=None)
    revoked.refresh_from_db()
    suspended.refresh_from_db()
    with pytest.raises(deliveries.DeliveryError) as caught:
        batch([issue(uni_a), revoked, suspended], a_to_b)
    assert "Bo Revoked" in caught.value.message and "Cy Suspended" in caught.value.message
    assert not Delivery.objects.exists()
    assert not AuditEvent.objects.filter(action="delivery.created").exists()


def test_a_batch_is_sent_on_commit_by_one_callback_in_chunks_that_cover_it_once(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    uni_a, _uni_b, a_to_b, _ = world
    published = []
    monkeypatch.setattr(tasks.deliver_batch, "delay", lambda ids: published.append(ids))
    monkeypatch.setattr(tasks.deliver, "delay", lambda pk: published.append(pk))
    credentials = [issue(uni_a) for _ in range(20)]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sent = batch(credentials, a_to_b)
    assert len(callbacks) == 1 and published == []
    callbacks[0]()
    assert all(isinstance(chunk, list) for chunk in published)
    assert sorted(pk for chunk in published for pk in chunk) == sorted(d.pk for d in sent)
    assert len(published) == outbox.BATCH_MESSAGES


def test_a_batch_rolled_back_sends_nothing(world, django_capture_on_commit_callbacks):
    uni_a, _uni_b, a_to_b, _ = world
    credentials = [issue(uni_a) for _ in range(3)]
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        batch(credentials, a_to_b)
        raise RuntimeError("the caller's transaction fails after the batch")
    assert callbacks == []
    assert not Delivery.objects.exists()


def test_a_batch_message_delivered_twice_sends_each_delivery_once(world, no_network):
    uni_a, _uni_b, a_to_b, _ = world
    sent = batch([issue(uni_a) for _ in range(3)], a_to_b)
    ids = [d.pk for d in sent]
    tasks.deliver_batch(ids)
    tasks.deliver_batch(ids)
    assert len(no_network) == 3
    assert DeliveryAttempt.objects.count() == 3
    assert set(Delivery.objects.values_list("status", "attempts")) == {(OutboxStatus.DELIVERED, 1)}
    assert AuditEvent.objects.filter(action="delivery.delivered").count() == 3


def test_retry_now_queues_a_failed_delivery_and_refuses_a_delivered_one(
    world, django_capture_on_commit_callbacks
):
    uni_a, _uni_b, a_to_b, _ = world
    delivery = create(issue(uni_a), a_to_b)
    Delivery.objects.filter(pk=delivery.pk).update(status=OutboxStatus.FAILED)
    delivery.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        deliveries.delivery_retry_now(delivery=delivery, actor=None)
    delivery.refresh_from_db()
    assert delivery.status == OutboxStatus.DELIVERED
    assert AuditEvent.objects.filter(action="delivery.retried").count() == 1
    with pytest.raises(deliveries.DeliveryError):
        deliveries.delivery_retry_now(delivery=delivery, actor=None)


def test_status_notices_go_to_every_partner_holding_the_credential(world):
    uni_a, _uni_b, a_to_b, _ = world
    uni_c = InstitutionFactory(slug="uni-c", name="University C")
    a_to_c = partner_row(uni_a, uni_c)
    credential = issue(uni_a)
    create(credential, a_to_b)
    failed = create(credential, a_to_c)
    assert deliveries.status_notices_enqueue(credential=credential) == 2
    Delivery.objects.filter(pk=failed.pk).update(status=OutboxStatus.FAILED)
    credential.status = "revoked"
    assert deliveries.status_notices_enqueue(credential=credential) == 1
    notice = Notice.objects.filter(partner=a_to_b).earliest("pk")
    assert notice.kind == NoticeKind.STATUS
    assert notice.payload["credentialId"] == credential.credential_id
    assert deliveries.status_notices_enqueue(credential=issue(uni_a)) == 0


def test_a_decision_notice_updates_the_delivery_once(world):
    uni_a, _uni_b, a_to_b, _ = world
    delivery = create(issue(uni_a), a_to_b)
    message = exchange_messages.notice_message_parse(
        b'{"type": "decision", "credentialId": "%s", "decision": "recognised", "ects": "5", '
        b'"programme": "MSc", "reason": "", "decidedAt": "2026-02-01T10:00:00+00:00"}'
        % delivery.credential.credential_id.encode()
    )
    deliveries.delivery_decision_receive(partner=a_to_b, message=message)
    deliveries.delivery_decision_receive(partner=a_to_b, message=message)
    delivery.refresh_from_db()
    assert delivery.decision == Decision.RECOGNISED and str(delivery.decision_ects) == "5.0"
    assert AuditEvent.objects.filter(action="delivery.decided").count() == 1


def test_a_decision_about_a_credential_we_never_sent_is_unknown(world):
    with pytest.raises(deliveries.UnknownCredential):
        deliveries.delivery_decision_receive(
            partner=world[2],
            message={"credentialId": "urn:uuid:00000000-0000-0000-0000-000000000000"},
        )


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b"not json",
        b'{"type": "other", "credentialId": "x"}',
        b'{"type": "decision", "credentialId": "x", "decision": "maybe"}',
        b'{"type": "decision", "credentialId": "x", "decision": "declined", "decidedAt": "soon"}',
        b'{"type": "status", "credentialId": "x", "status": "lost"}',
        b'{"type": "status", "status": "revoked"}',
    ],
)
def test_a_malformed_notice_is_refused(body):
    with pytest.raises(exchange_messages.InvalidMessage):
        exchange_messages.notice_message_parse(body)


# Staff views -------------------------------------------------------------------------------


def test_the_delivery_log_lists_attempts_in_a_fixed_number_of_queries(world):
    uni_a, _uni_b, a_to_b, _ = world
    client, _user = staff_client(uni_a, Role.VIEWER)
    for _n in range(3):
        delivery = create(issue(uni_a), a_to_b)
        DeliveryAttempt.objects.create(delivery=delivery, http_status=503, error="http-503: down")
    client.get("/staff/uni-a/deliveries/")  # warm up session and caches
    with CaptureQueriesContext(connection) as few:
        response = client.get("/staff/uni-a/deliveries/")
    for _n in range(5):
        create(issue(uni_a), a_to_b)
    with CaptureQueriesContext(connection) as many:
        more = client.get("/staff/uni-a/deliveries/")
    assert response.status_code == 200 and more.status_code == 200
    assert len(many) == len(few)
    assert b"http-503: down" in response.content
    assert b"Retry now" not in response.content  # a viewer may not


@pytest.mark.date_sensitive
def test_the_delivery_log_shows_the_real_next_try(world, time_machine):
    uni_a, _uni_b, a_to_b, _ = world
    time_machine.move_to(datetime.now(UTC).replace(microsecond=0), tick=False)
    now = timezone.now()
    client, _user = staff_client(uni_a, Role.VIEWER)
    waiting = create(issue(uni_a, holder_name="Waiting Wim"), a_to_b)
    overdue = create(issue(uni_a, holder_name="Overdue Olga"), a_to_b)
    fresh = create(issue(uni_a, holder_name="Fresh Fay"), a_to_b)
    next_try = now + timedelta(minutes=7)
    Delivery.objects.filter(pk=waiting.pk).update(
        status=OutboxStatus.QUEUED, attempts=2, next_attempt_at=next_try
    )
    # Its time passed and a worker is on it (or about to be): not a time in the past.
    Delivery.objects.filter(pk=overdue.pk).update(
        status=OutboxStatus.QUEUED, attempts=3, next_attempt_at=now - timedelta(seconds=90)
    )
    Delivery.objects.filter(pk=fresh.pk).update(
        status=OutboxStatus.QUEUED, attempts=0, next_attempt_at=now
    )

    page = client.get("/staff/uni-a/deliveries/").content.decode()

    rows = {
        name: page.split(name, 1)[1].split("</tr>", 1)[0]
        for name in ("Waiting Wim", "Overdue Olga", "Fresh Fay")
    }
    shown = date_format(timezone.localtime(next_try), "DATETIME_FORMAT")
    assert f"Next try: {shown}" in rows["Waiting Wim"]
    assert "Retrying now" in rows["Overdue Olga"] and "Next try" not in rows["Overdue Olga"]
    assert "Sending now" in rows["Fresh Fay"] and "Next try" not in rows["Fresh Fay"]

    # Once its time comes, the waiting one is being retried too.
    time_machine.move_to(next_try)
    page = client.get("/staff/uni-a/deliveries/").content.decode()
    assert "Next try" not in page
    assert page.split("Waiting Wim", 1)[1].split("</tr>", 1)[0].count("Retrying now") == 1


def test_the_delivery_log_filters_by_status_partner_and_decision(world):
    uni_a, _uni_b, a_to_b, _ = world
    client, _user = staff_client(uni_a)
    delivery = create(issue(uni_a, holder_name="Recognised Rita"), a_to_b)
    Delivery.objects.filter(pk=delivery.pk).update(decision=Decision.RECOGNISED)
    create(issue(uni_a, holder_name="Pending Pia"), a_to_b)
    pending = client.get("/staff/uni-a/deliveries/", {"decision": "pending"}).content
    assert b"Pending Pia" in pending and b"Recognised Rita" not in pending
    failed = client.get("/staff/uni-a/deliveries/", {"status": "failed"}).content
    assert b"Pending Pia" not in failed
    by_partner = client.get("/staff/uni-a/deliveries/", {"partner": str(a_to_b.public_id)})
    assert b"Recognised Rita" in by_partner.content


def test_staff_of_another_institution_get_404_for_the_delivery_log(world):
    _uni_a, uni_b, _a_to_b, _ = world
    client, _user = staff_client(uni_b)
    assert client.get("/staff/uni-a/deliveries/").status_code == 404


def test_an_admin_retries_a_failed_delivery(world):
    uni_a, _uni_b, a_to_b, _ = world
    client, _user = staff_client(uni_a)
    delivery = create(issue(uni_a), a_to_b)
    Delivery.objects.filter(pk=delivery.pk).update(status=OutboxStatus.FAILED)
    response = client.post(f"/staff/uni-a/deliveries/{delivery.public_id}/retry/", follow=True)
    assert response.redirect_chain[-1][0] == "/staff/uni-a/deliveries/"
    assert b"Sending again" in response.content
    assert AuditEvent.objects.filter(action="delivery.retried").count() == 1


def test_a_viewer_may_not_retry(world):
    uni_a, _uni_b, a_to_b, _ = world
    client, _user = staff_client(uni_a, Role.VIEWER)
    delivery = create(issue(uni_a), a_to_b)
    response = client.post(f"/staff/uni-a/deliveries/{delivery.public_id}/retry/")
    assert response.status_code == 403


def test_another_institutions_delivery_cannot_be_retried(world):
    uni_a, uni_b, a_to_b, _ = world
    client, _user = staff_client(uni_b)
    delivery = create(issue(uni_a), a_to_b)
    assert client.post(f"/staff/uni-b/deliveries/{delivery.public_id}/retry/").status_code == 404


def test_an_issuer_sends_selected_credentials_to_a_partner(world):
    uni_a, _uni_b, a_to_b, _ = world
    client, user = staff_client(uni_a, Role.ISSUER)
    first, second = issue(uni_a), issue(uni_a)
    page = client.get("/staff/uni-a/deliveries/send/")
    assert page.status_code == 200 and str(first.public_id).encode() in page.content
    response = client.post(
        "/staff/uni-a/deliveries/send/",
        {
            "partner": str(a_to_b.public_id),
            "credentials": [str(first.public_id), str(second.public_id)],
            "note": "Exchange cohort",
        },
    )
    assert response.status_code == 302
    assert Delivery.objects.filter(partner=a_to_b, requested_by=user).count() == 2


def test_a_batch_to_a_partner_that_is_not_agreed_is_not_offered(world):
    uni_a, _uni_b, a_to_b, _ = world
    Partner.objects.filter(pk=a_to_b.pk).update(status=PartnerStatus.SUSPENDED)
    client, _user = staff_client(uni_a)
    response = client.post(
        "/staff/uni-a/deliveries/send/",
        {"partner": str(a_to_b.public_id), "credentials": [str(issue(uni_a).public_id)]},
    )
    assert response.status_code == 200 and not Delivery.objects.exists()


def test_a_viewer_may_not_send_a_batch(world):
    client, _user = staff_client(world[0], Role.VIEWER)
    assert client.get("/staff/uni-a/deliveries/send/").status_code == 403


# The learner's page ------------------------------------------------------------------------


def test_the_holder_sends_their_credential_with_consent(world):
    uni_a, _uni_b, a_to_b, _ = world
    learner = UserFactory()
    credential = issue(uni_a, holder=learner)
    client = Client()
    client.force_login(learner)
    url = f"/wallet/credentials/{credential.public_id}/recognition/"
    chosen = client.get(url, {"partner": str(a_to_b.public_id)})
    assert chosen.status_code == 200
    assert (
        "I agree that University A sends this credential, with my name, to University B."
        in chosen.content.decode()
    )
    refused = client.post(url, {"partner": str(a_to_b.public_id), "note": "MSc"})
    assert refused.status_code == 200 and not Delivery.objects.exists()
    response = client.post(
        url, {"partner": str(a_to_b.public_id), "note": "MSc", "consent": "on"}, follow=True
    )
    delivery = Delivery.objects.get()
    assert delivery.by_learner is True and delivery.requested_by == learner
    assert delivery.consent_note == "MSc"
    assert b"University B" in response.content and b"Awaiting decision" in response.content


def test_the_learner_page_shows_the_decision(world):
    uni_a, _uni_b, a_to_b, _ = world
    learner = UserFactory()
    credential = issue(uni_a, holder=learner)
    delivery = create(credential, a_to_b)
    Delivery.objects.filter(pk=delivery.pk).update(
        decision=Decision.RECOGNISED, decision_ects=5, decision_programme="MSc Data Science"
    )
    client = Client()
    client.force_login(learner)
    page = client.get(f"/wallet/credentials/{credential.public_id}/recognition/")
    assert "Recognised for 5 ECTS toward MSc Data Science" in page.content.decode()


def test_someone_else_gets_404_for_the_recognition_page(world):
    uni_a, _uni_b, a_to_b, _ = world
    credential = issue(uni_a, holder=UserFactory())
    client = Client()
    client.force_login(UserFactory())
    url = f"/wallet/credentials/{credential.public_id}/recognition/"
    assert client.get(url).status_code == 404
    posted = client.post(url, {"partner": str(a_to_b.public_id), "consent": "on"})
    assert posted.status_code == 404
    assert not Delivery.objects.exists()


def test_the_recognition_page_needs_a_login(world):
    credential = issue(world[0], holder=UserFactory())
    response = Client().get(f"/wallet/credentials/{credential.public_id}/recognition/")
    assert response.status_code == 302


def test_only_the_issuers_agreed_partners_are_offered(world):
    uni_a, _uni_b, _a_to_b, b_to_a = world
    learner = UserFactory()
    credential = issue(uni_a, holder=learner)
    client = Client()
    client.force_login(learner)
    url = f"/wallet/credentials/{credential.public_id}/recognition/"
    response = client.post(url, {"partner": str(b_to_a.public_id), "consent": "on"})
    assert response.status_code == 200 and not Delivery.objects.exists()
