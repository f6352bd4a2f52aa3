"""Two institutions on one live test node, partnered both ways, exchanging for real: signed
requests over HTTP, the receiver's inbox and notices endpoints, the outbox and its sweep."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from credentials.issuing import services as credential_services
from credentials.models import CredentialEvent
from exchange import deliveries, outbox, transport
from exchange.models import (
    Decision,
    Delivery,
    DeliveryFormat,
    IncomingCredential,
    IncomingStatus,
    Notice,
    OutboxStatus,
    Partner,
)
from institutions.models import AuditEvent
from tests.exchange.partners import issue, two_partners
from tests.exchange.test_incoming_sealed_edc import install_e_seal
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def node(live_server, settings):
    settings.MESHE_BASE_URL = live_server.url
    settings.MESHE_OUTBOUND_ALLOW_LOOPBACK = True
    return live_server.url


@pytest.fixture
def world(node):
    uni_a, uni_b, a_to_b, b_to_a = two_partners(base_url=node)
    return uni_a, uni_b, a_to_b, b_to_a


def send(world, credential=None, note: str = "For the data science minor") -> Delivery:
    uni_a, _uni_b, a_to_b, _b_to_a = world
    delivery = deliveries.delivery_create(
        credential=credential or issue(uni_a),
        partner=a_to_b,
        actor=None,
        by_learner=True,
        note=note,
    )
    delivery.refresh_from_db()
    return delivery


def test_a_delivery_arrives_verified_and_stored_as_received(world):
    delivery = send(world)
    assert delivery.status == OutboxStatus.DELIVERED, delivery.last_error
    assert delivery.last_status == 201
    incoming = IncomingCredential.objects.get()
    assert incoming.partner == world[3]
    assert incoming.verified is True
    assert incoming.credential_id == delivery.credential.credential_id
    assert incoming.title == "Data Literacy"
    assert incoming.learner_name == "Ana Kowalska"
    assert incoming.consent_note == "For the data science minor"
    assert incoming.credential_status == IncomingStatus.VALID
    # The exact text the issuer signed, sliced from the body, not re-serialised.
    # (The transport serialises compactly, as the issuer stored it, so the texts are equal.)
    assert incoming.document == delivery.credential.document


def test_a_delivery_sent_twice_is_stored_once_and_acknowledged_alike(world):
    uni_a, _uni_b, a_to_b, _b_to_a = world
    delivery = send(world)
    body = {
        "credential": json.loads(delivery.credential.document),
        "learner": {"name": "Ana Kowalska"},
        "note": "",
        "delivery": str(delivery.public_id),
    }
    again = transport.signed_request(
        institution=uni_a,
        method="POST",
        url=a_to_b.endpoints["inbox"],
        payload=body,
        peer_keys=a_to_b.pinned_keys,
    )
    assert again.status == 200
    incoming = IncomingCredential.objects.get()
    assert again.json() == {
        "received": incoming.credential_id,
        "verified": True,
        "checks": incoming.verification["checks"],
        "incoming": str(incoming.public_id),
    }


def test_a_worker_killed_mid_delivery_is_sent_again_once_and_stored_once(world):
    delivery = send(world)
    # As if the worker died after the partner stored it but before we recorded the answer.
    Delivery.objects.filter(pk=delivery.pk).update(
        status=OutboxStatus.SENDING, lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert outbox.outbox_sweep() == 1
    assert outbox.outbox_sweep() == 0
    delivery.refresh_from_db()
    assert delivery.status == OutboxStatus.DELIVERED and delivery.last_status == 200
    assert IncomingCredential.objects.count() == 1


def test_deliveries_queued_while_the_partner_was_down_arrive_once_each(world, settings):
    uni_a, _uni_b, a_to_b, _b_to_a = world
    live = a_to_b.endpoints
    Partner.objects.filter(pk=a_to_b.pk).update(
        endpoints={"inbox": "http://127.0.0.1:9/exchange/v1/uni-b/inbox"}
    )
    a_to_b.refresh_from_db()
    credentials = [issue(uni_a) for _ in range(5)]
    for credential in credentials:
        send(world, credential)
    assert set(Delivery.objects.values_list("status", flat=True)) == {OutboxStatus.QUEUED}
    assert IncomingCredential.objects.count() == 0
    Partner.objects.filter(pk=a_to_b.pk).update(endpoints=live)
    # Their retry messages ran at once here (tasks run inline) and did nothing, being early:
    # as if lost, the sweep sends them once their next try is past by its grace.
    Delivery.objects.update(
        next_attempt_at=timezone.now() - outbox.sweep_grace() - timedelta(seconds=1)
    )
    assert outbox.outbox_sweep() == 5
    outbox.outbox_sweep()
    assert set(Delivery.objects.values_list("status", flat=True)) == {OutboxStatus.DELIVERED}
    assert IncomingCredential.objects.count() == 5


def test_the_decision_travels_back_to_the_sender(world):
    delivery = send(world)
    incoming = IncomingCredential.objects.get()
    deliveries.incoming_decide(
        incoming=incoming,
        actor=None,
        decision=Decision.RECOGNISED,
        ects=Decimal("5.0"),
        programme="MSc Data Science",
        reason="",
    )
    notice = Notice.objects.get(partner=world[3])
    assert notice.status == OutboxStatus.DELIVERED, notice.last_error
    delivery.refresh_from_db()
    assert delivery.decision == Decision.RECOGNISED
    assert delivery.decision_ects == Decimal("5.0")
    assert delivery.decision_programme == "MSc Data Science"
    assert delivery.decided_at is not None
    assert AuditEvent.objects.filter(action="delivery.decided", institution=world[0]).count() == 1


def test_a_changed_decision_travels_back_too(world):
    delivery = send(world)
    incoming = IncomingCredential.objects.get()
    for decision, reason in ((Decision.RECOGNISED, ""), (Decision.DECLINED, "Overlaps a course")):
        deliveries.incoming_decide(
            incoming=incoming, actor=None, decision=decision, ects=None, programme="", reason=reason
        )
    delivery.refresh_from_db()
    assert delivery.decision == Decision.DECLINED
    assert delivery.decision_reason == "Overlaps a course"
    assert Notice.objects.filter(status=OutboxStatus.DELIVERED).count() == 2


def test_a_revocation_notice_makes_the_receivers_copy_revoked(world):
    delivery = send(world)
    credential_services.credential_revoke(credential=delivery.credential, actor=None, reason="x")
    notice = Notice.objects.get(partner=world[2], kind="status")
    assert notice.status == OutboxStatus.DELIVERED, notice.last_error
    incoming = IncomingCredential.objects.get()
    assert incoming.credential_status == IncomingStatus.REVOKED
    assert incoming.verified is False


def test_a_status_notice_for_an_unknown_credential_fails_as_not_found(world):
    uni_a, _uni_b, a_to_b, _b_to_a = world
    with pytest.raises(transport.TransportError) as caught:
        transport.signed_request(
            institution=uni_a,
            method="POST",
            url=a_to_b.endpoints["notices"],
            payload={"type": "status", "credentialId": "urn:uuid:nothing", "status": "revoked"},
            peer_keys=a_to_b.pinned_keys,
        )
    assert caught.value.status == 404
    assert caught.value.reason == "unknown-credential"


def post(world, endpoint: str, payload: dict) -> transport.TransportError:
    uni_a, _uni_b, a_to_b, _b_to_a = world
    with pytest.raises(transport.TransportError) as caught:
        transport.signed_request(
            institution=uni_a,
            method="POST",
            url=a_to_b.endpoints[endpoint],
            payload=payload,
            peer_keys=a_to_b.pinned_keys,
        )
    return caught.value


def test_the_inbox_refuses_a_body_that_is_not_a_delivery(world):
    error = post(world, "inbox", {"credential": "not an object"})
    assert (error.status, error.reason, error.retryable) == (400, "invalid-message", False)


def test_the_inbox_refuses_a_credential_the_sender_did_not_issue(world):
    _uni_a, uni_b, _a_to_b, _b_to_a = world
    error = post(world, "inbox", {"credential": json.loads(issue(uni_b).document)})
    assert (error.status, error.reason) == (422, "credential-not-verified")
    assert "issuer" in error.detail
    assert not IncomingCredential.objects.exists()


def test_the_notices_endpoint_refuses_a_malformed_notice(world):
    error = post(world, "notices", {"type": "decision", "credentialId": "urn:uuid:x"})
    assert (error.status, error.reason) == (400, "invalid-message")


def decision_mails() -> list[mail.EmailMessage]:
    return [
        message for message in mail.outbox if "decided on your micro-credential" in message.subject
    ]


def test_a_learner_sends_for_recognition_and_sees_the_decision_on_the_credential_page(
    world, settings
):
    uni_a, _uni_b, a_to_b, _b_to_a = world
    learner = UserFactory(email="ana@example.eu")
    # Issued to an older address: the decision goes to the account's.
    credential = issue(uni_a, holder=learner, holder_email="ana.old@example.eu")
    client = Client()
    client.force_login(learner)
    page = f"/wallet/credentials/{credential.public_id}/"
    assert "Send for recognition" in client.get(page).text

    sent = client.post(
        f"{page}recognition/",
        {"partner": str(a_to_b.public_id), "note": "For my minor", "consent": "on"},
    )
    assert sent.status_code == 302
    assert Delivery.objects.get().status == OutboxStatus.DELIVERED  # tasks run inline here
    assert "University B</strong>: received, awaiting a decision" in client.get(page).text
    incoming = IncomingCredential.objects.get()
    assert incoming.consent_note == "For my minor"
    deliveries.incoming_decide(
        incoming=incoming,
        actor=None,
        decision=Decision.RECOGNISED,
        ects=Decimal("5.0"),
        programme="MSc Data Science",
        reason="",
    )
    assert "Recognised for 5 ECTS toward MSc Data Science" in client.get(page).text

    [message] = decision_mails()
    assert message.to == ["ana@example.eu"]
    assert message.subject == 'University B decided on your micro-credential "Data Literacy"'
    assert "Decision: recognised for 5 ECTS toward MSc Data Science." in message.body
    assert f"{settings.MESHE_BASE_URL}{page}\n" in message.body
    assert Delivery.objects.get().decision_notified_at is not None
    assert credential.events.filter(
        action=CredentialEvent.Action.NOTIFIED,
        reason="Recognition decision of University B e-mailed to ana@example.eu",
    ).exists()


def a_decision(delivery: Delivery, **changes) -> dict:
    return {
        "type": "decision",
        "credentialId": delivery.credential.credential_id,
        "decision": Decision.RECOGNISED,
        "ects": Decimal("5.0"),
        "programme": "MSc Data Science",
        "reason": "",
        "decidedAt": datetime(2026, 2, 1, 9, 0, tzinfo=UTC),
        **changes,
    }


def test_the_holder_is_emailed_each_decision_once(world):
    _uni_a, _uni_b, a_to_b, _b_to_a = world
    delivery = send(world)
    for _ in range(2):
        deliveries.delivery_decision_receive(partner=a_to_b, message=a_decision(delivery))
    deliveries.delivery_decision_notify(delivery_id=delivery.pk)
    [message] = decision_mails()
    assert message.to == ["ana@example.eu"]  # no account: the address it was issued to

    declined = a_decision(
        delivery, decision=Decision.DECLINED, ects=None, programme="", reason="It overlaps CS101's"
    )
    deliveries.delivery_decision_receive(partner=a_to_b, message=declined)
    deliveries.delivery_decision_receive(partner=a_to_b, message=declined)
    assert len(decision_mails()) == 2
    assert "Decision: declined. The reason they gave:\nIt overlaps CS101's\n" in (
        decision_mails()[1].body
    )
    assert (
        CredentialEvent.objects.filter(
            credential=delivery.credential, reason__startswith="Recognition decision"
        ).count()
        == 2
    )


def test_a_decision_whose_email_was_never_enqueued_is_sent_by_the_sweep(world):
    _uni_a, _uni_b, a_to_b, _b_to_a = world
    delivery = send(world)
    deliveries.delivery_decision_receive(partner=a_to_b, message=a_decision(delivery))
    # As if the queue had been down when the decision arrived: nothing was sent.
    mail.outbox.clear()
    Delivery.objects.filter(pk=delivery.pk).update(decision_notified_at=None)
    assert deliveries.decisions_notify_sweep(older_than=timedelta(0)) == 1
    assert len(decision_mails()) == 1
    assert deliveries.decisions_notify_sweep(older_than=timedelta(0)) == 0


def test_staff_send_a_sealed_edc_which_arrives_verified_as_sealed(world):
    uni_a, _uni_b, a_to_b, _b_to_a = world
    install_e_seal(uni_a, name="University A Seal Office")
    credential = issue(uni_a)

    (delivery,) = deliveries.deliveries_create_batch(
        credentials=[credential],
        partner=a_to_b,
        actor=None,
        note="Sealed, please",
        delivery_format=DeliveryFormat.SEALED_EDC,
    )

    delivery.refresh_from_db()
    assert delivery.status == OutboxStatus.DELIVERED, delivery.last_error
    incoming = IncomingCredential.objects.get()
    credential.refresh_from_db()
    # The transport serialises the seal compactly; the payload, the text sealed, is unchanged.
    assert json.loads(incoming.document) == json.loads(credential.sealed_edc)
    assert incoming.verified is True and incoming.title == "Data Literacy"
    assert incoming.verification["seal"]["certificate"]["subject"] == "University A Seal Office"
