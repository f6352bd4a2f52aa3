import json
from decimal import Decimal

import pytest
from django.utils import timezone

from credentials.issuing import services as credential_services
from exchange import deliveries, outbox
from exchange import messages as exchange_messages
from exchange.models import (
    Decision,
    IncomingCredential,
    IncomingStatus,
    Notice,
    NoticeKind,
)
from institutions.models import AuditEvent, Role
from tests.exchange.partners import issue, staff_client, two_partners

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def outbox_idle(monkeypatch):
    """Decisions queue notices; sending them is test_outbox's and the live tests' business."""
    monkeypatch.setattr(outbox, "enqueue_on_commit", lambda **kwargs: None)


@pytest.fixture
def world():
    return two_partners()


def message_for(credential, **fields) -> bytes:
    body = {"credential": json.loads(credential.document), **fields}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def receive(world, credential=None, **fields) -> tuple[IncomingCredential, bool]:
    uni_a, _uni_b, _a_to_b, b_to_a = world
    credential = credential or issue(uni_a)
    message = exchange_messages.inbox_message_parse(
        message_for(credential, learner={"name": "Ana Kowalska"}, note="MSc", **fields)
    )
    return deliveries.incoming_receive(partner=b_to_a, message=message)


# Parsing -----------------------------------------------------------------------------------


def test_the_credential_text_is_kept_exactly_as_it_arrived():
    credential = '{ "id" : "urn:uuid:1",\n  "name": "Caf\\u00e9 \u00e9", "n": 1.50 }'
    body = '{"note": "hi", "credential": ' + credential + ' , "learner": {"name": "Ana"}}'
    message = exchange_messages.inbox_message_parse(body.encode())
    assert message.document == credential
    assert message.credential["n"] == 1.5
    assert (message.learner_name, message.note) == ("Ana", "hi")


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b"{}",
        b'{"credential": "text"}',
        b'{"credential": {"type": "VerifiableCredential"}}',
        b'{"credential": {"id": "x"}, "learner": "Ana"}',
        ('{"credential": {"id": "x"}, "learner": {"name": "%s"}}' % ("a" * 201)).encode(),
        ('{"credential": {"id": "x"}, "note": "%s"}' % ("a" * 2001)).encode(),
        b'{"credential": {"id": "x"}, "note": 5}',
    ],
)
def test_a_body_that_is_not_a_delivery_is_refused(body):
    with pytest.raises(exchange_messages.InvalidMessage):
        exchange_messages.inbox_message_parse(body)


# Receiving ---------------------------------------------------------------------------------


def test_a_verified_credential_is_stored_once(world):
    credential = issue(world[0])
    incoming, created = receive(world, credential)
    again, created_again = receive(world, credential)
    assert created is True and created_again is False
    assert again.pk == incoming.pk and IncomingCredential.objects.count() == 1
    assert incoming.verified is True and incoming.title == "Data Literacy"
    assert incoming.document == credential.document
    assert AuditEvent.objects.filter(action="incoming.received").count() == 1
    ack = deliveries.incoming_acknowledgement(incoming)
    assert ack["received"] == credential.credential_id and ack["verified"] is True
    assert ack["incoming"] == str(incoming.public_id)


def test_a_duplicate_meets_the_unique_constraint_and_is_not_stored_or_audited_again(world):
    credential = issue(world[0])
    first, _created = receive(world, credential)
    # No look-up comes first: the second insert is refused by the constraint, as a concurrent
    # duplicate's would be.
    second, created = receive(world, credential)
    assert created is False and second.pk == first.pk
    assert IncomingCredential.objects.count() == 1
    assert AuditEvent.objects.filter(action="incoming.received").count() == 1


def test_a_credential_of_another_issuer_is_refused(world):
    _uni_a, uni_b, _a_to_b, b_to_a = world
    theirs = issue(uni_b)  # verifies, but B did not send it: A did
    message = exchange_messages.inbox_message_parse(message_for(theirs))
    with pytest.raises(deliveries.CredentialNotVerified) as caught:
        deliveries.incoming_receive(partner=b_to_a, message=message)
    assert caught.value.failed == ["issuer"]
    assert not IncomingCredential.objects.exists()


def test_a_tampered_credential_is_refused_naming_the_failed_checks(world):
    uni_a, _uni_b, _a_to_b, b_to_a = world
    document = json.loads(issue(uni_a).document)
    document["credentialSubject"]["achievement"]["name"] = "Rocket Science"
    message = exchange_messages.inbox_message_parse(json.dumps({"credential": document}).encode())
    with pytest.raises(deliveries.CredentialNotVerified) as caught:
        deliveries.incoming_receive(partner=b_to_a, message=message)
    assert "proof" in caught.value.failed
    assert not IncomingCredential.objects.exists()


def test_a_revoked_credential_is_stored_as_revoked(world):
    credential = issue(world[0])
    credential_services.credential_revoke(credential=credential, actor=None)
    incoming, _created = receive(world, credential)
    assert incoming.credential_status == IncomingStatus.REVOKED
    assert incoming.verified is False


def test_a_status_notice_is_checked_against_the_status_list_not_trusted(world):
    credential = issue(world[0])
    incoming, _created = receive(world, credential)
    # The notice claims a revocation the issuer's list does not show.
    deliveries.incoming_status_receive(
        partner=world[3], message={"credentialId": credential.credential_id, "status": "revoked"}
    )
    incoming.refresh_from_db()
    assert incoming.credential_status == IncomingStatus.VALID
    credential_services.credential_suspend(credential=credential, actor=None)
    deliveries.incoming_status_receive(
        partner=world[3], message={"credentialId": credential.credential_id, "status": "issued"}
    )
    incoming.refresh_from_db()
    assert incoming.credential_status == IncomingStatus.SUSPENDED
    assert AuditEvent.objects.filter(action="incoming.rechecked").count() == 1


def test_a_status_notice_about_an_unknown_credential_is_unknown(world):
    with pytest.raises(deliveries.UnknownCredential):
        deliveries.incoming_status_receive(
            partner=world[3], message={"credentialId": "urn:uuid:x", "status": "revoked"}
        )


# Deciding ----------------------------------------------------------------------------------


def decide(incoming, **fields):
    values = {
        "actor": None,
        "decision": Decision.RECOGNISED,
        "ects": Decimal("5.0"),
        "programme": "MSc Data Science",
        "reason": "",
        **fields,
    }
    return deliveries.incoming_decide(incoming=incoming, **values)


def test_a_decision_is_recorded_audited_and_queued_for_the_sender(world):
    incoming, _created = receive(world)
    decide(incoming)
    decide(incoming)  # the same decision twice is one decision
    incoming.refresh_from_db()
    assert incoming.decision == Decision.RECOGNISED and incoming.decided_at is not None
    notice = Notice.objects.get()
    assert notice.partner == world[3] and notice.kind == NoticeKind.DECISION
    assert notice.payload["decision"] == "recognised" and notice.payload["ects"] == "5.0"
    assert notice.payload["credentialId"] == incoming.credential_id
    assert AuditEvent.objects.filter(action="incoming.decided").count() == 1


def test_a_changed_decision_is_audited_and_sent_again(world):
    incoming, _created = receive(world)
    decide(incoming)
    decide(incoming, decision=Decision.DECLINED, reason="Overlaps a course")
    assert Notice.objects.count() == 2
    assert AuditEvent.objects.filter(action="incoming.decision_changed").count() == 1
    incoming.refresh_from_db()
    assert incoming.decision_ects is None and incoming.decision_programme == ""


def test_a_decline_needs_a_reason(world):
    incoming, _created = receive(world)
    with pytest.raises(deliveries.DeliveryError):
        decide(incoming, decision=Decision.DECLINED, reason=" ")
    assert not Notice.objects.exists()


# Staff views -------------------------------------------------------------------------------


def test_the_incoming_list_filters_by_decision_and_partner(world):
    _uni_a, uni_b, _a_to_b, b_to_a = world
    decided, _created = receive(world, issue(world[0], holder_name="Decided Dora"))
    receive(world, issue(world[0], holder_name="Pending Pia"))
    IncomingCredential.objects.filter(pk=decided.pk).update(learner_name="Decided Dora")
    client, _user = staff_client(uni_b, Role.VIEWER)
    decide(decided)
    all_rows = client.get("/staff/uni-b/incoming/").content
    assert b"Decided Dora" in all_rows
    pending = client.get("/staff/uni-b/incoming/", {"decision": "pending"}).content
    assert b"Decided Dora" not in pending
    by_partner = client.get("/staff/uni-b/incoming/", {"partner": str(b_to_a.public_id)}).content
    assert b"Decided Dora" in by_partner


def test_the_incoming_page_shows_the_verification_the_elements_and_the_note(world):
    incoming, _created = receive(world)
    client, _user = staff_client(world[1])
    page = client.get(f"/staff/uni-b/incoming/{incoming.public_id}/").content.decode()
    assert "Verified: issued by" in page
    assert "Ana Kowalska" in page and "MSc" in page
    assert "Data Literacy" in page and "Interpret descriptive statistics" in page
    assert "5 ECTS" in page and "Re-check status" in page


def test_an_admin_records_a_decision_from_the_page(world):
    incoming, _created = receive(world)
    client, user = staff_client(world[1], Role.ISSUER)
    url = f"/staff/uni-b/incoming/{incoming.public_id}/"
    missing = client.post(url, {"decision": "declined", "reason": ""})
    assert missing.status_code == 200 and not Notice.objects.exists()
    response = client.post(url, {"decision": "declined", "reason": "Overlaps a course"})
    assert response.status_code == 302
    incoming.refresh_from_db()
    assert incoming.decision == Decision.DECLINED and incoming.decided_by == user


def test_a_viewer_may_read_but_not_decide(world):
    incoming, _created = receive(world)
    client, _user = staff_client(world[1], Role.VIEWER)
    url = f"/staff/uni-b/incoming/{incoming.public_id}/"
    assert client.get(url).status_code == 200
    assert client.post(url, {"decision": "recognised"}).status_code == 403
    assert client.post(url + "recheck/").status_code == 403


def test_another_institutions_staff_get_404_for_an_incoming_credential(world):
    incoming, _created = receive(world)
    client, _user = staff_client(world[0])
    assert client.get(f"/staff/uni-a/incoming/{incoming.public_id}/").status_code == 404
    assert client.get(f"/staff/uni-b/incoming/{incoming.public_id}/").status_code == 404


def test_the_recheck_button_checks_the_status_again(world):
    credential = issue(world[0])
    incoming, _created = receive(world, credential)
    credential_services.credential_revoke(credential=credential, actor=None)
    client, _user = staff_client(world[1])
    before = timezone.now()
    response = client.post(f"/staff/uni-b/incoming/{incoming.public_id}/recheck/", follow=True)
    assert b"revoked" in response.content.lower()
    incoming.refresh_from_db()
    assert incoming.credential_status == IncomingStatus.REVOKED
    assert incoming.status_checked_at >= before
