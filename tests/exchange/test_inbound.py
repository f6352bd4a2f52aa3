import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from exchange import http_signatures as hs
from exchange import inbound, transport
from exchange.models import PartnerStatus, SeenNonce
from institutions import services as institution_services
from institutions.models import AuditEvent
from institutions.selectors import active_signing_key
from tests.exchange.partners import answer_verifies, partnership, reason, send
from tests.exchange.partners import pinned_keys_of as pinned
from tests.factories import InstitutionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.exchange.inbound_urls")]


def test_a_request_signed_with_a_pinned_key_is_accepted_and_the_answer_is_signed(client):
    partner, sender = partnership()
    response, request = send(client, sender=sender, slug=partner.institution.slug)
    assert response.status_code == 200
    assert response.json() == {"echo": "p-1", "sender": sender.did, "partner": sender.name}
    assert answer_verifies(response, request, partner.institution)
    partner.refresh_from_db()
    assert partner.last_success_at is not None
    assert SeenNonce.objects.count() == 1


def test_a_problem_from_the_view_is_signed_too(client):
    partner, sender = partnership()
    response, request = send(client, sender=sender, slug=partner.institution.slug, body=b"{}")
    assert response.status_code == 400
    assert reason(response) == "invalid-message"
    assert response.json()["type"] == "urn:meshe:exchange:problem:invalid-message"
    assert answer_verifies(response, request, partner.institution)


def test_a_304_answer_is_signed(client):
    partner, sender = partnership()
    response, request = send(client, sender=sender, slug=partner.institution.slug, name="catalogue")
    assert response.status_code == 304
    assert answer_verifies(response, request, partner.institution)


def test_a_replayed_request_is_refused(client):
    partner, sender = partnership()
    first, _ = send(client, sender=sender, slug=partner.institution.slug, nonce="same")
    assert first.status_code == 200
    partner.refresh_from_db()
    success_at = partner.last_success_at
    again, request = send(client, sender=sender, slug=partner.institution.slug, nonce="same")
    assert again.status_code == 401
    assert reason(again) == "replayed-nonce"
    assert answer_verifies(again, request, partner.institution)
    partner.refresh_from_db()
    assert partner.last_success_at == success_at


def test_a_tampered_body_is_refused_without_side_effects(client):
    partner, sender = partnership()
    response, _ = send(
        client, sender=sender, slug=partner.institution.slug, sent_body=b'{"ping":"p-2"}'
    )
    assert response.status_code == 401
    assert reason(response) == "digest-mismatch"
    assert not SeenNonce.objects.exists()
    partner.refresh_from_db()
    assert partner.last_success_at is None


@pytest.mark.date_sensitive
@pytest.mark.parametrize("skew", [-301, 301])
def test_a_stale_or_future_request_is_refused(client, frozen_clock, skew):
    # The clock stands still, so the receiver sees exactly this skew however slow the machine.
    partner, sender = partnership()
    response, _ = send(
        client, sender=sender, slug=partner.institution.slug, created=int(time.time()) + skew
    )
    assert response.status_code == 401
    assert reason(response) == "clock-skew"
    assert not SeenNonce.objects.exists()


@pytest.mark.date_sensitive
@pytest.mark.parametrize("skew", [-300, 300])
def test_a_request_just_within_the_allowed_clock_skew_is_accepted(client, frozen_clock, skew):
    partner, sender = partnership()
    response, _ = send(
        client, sender=sender, slug=partner.institution.slug, created=int(time.time()) + skew
    )
    assert response.status_code == 200
    assert SeenNonce.objects.count() == 1


def test_an_unsigned_request_is_refused_with_an_unsigned_problem(client):
    partner, _ = partnership()
    response = client.post(
        f"/exchange/v1/{partner.institution.slug}/echo", data=b"{}", content_type="application/json"
    )
    assert response.status_code == 401
    assert reason(response) == "missing-signature"
    assert "Signature" not in response.headers


def test_a_key_neither_pinned_nor_in_the_partners_did_document_is_refused_with_an_alert(client):
    partner, sender = partnership()
    impostor = InstitutionFactory()  # signs as the sender, with its own key
    key = active_signing_key(institution=impostor)
    path = f"/exchange/v1/{partner.institution.slug}/echo"
    message = hs.Message(
        "POST", settings.MESHE_BASE_URL + path, {"Content-Type": "application/json"}, b"{}"
    )
    forged_key_id = sender.did + "#key-9"
    added = hs.sign_request(
        message,
        private_key=key.private_key,
        key_id=forged_key_id,
        created=int(time.time()),
        nonce="n",
    )
    response = client.post(path, data=b"{}", content_type="application/json", headers=added)
    assert response.status_code == 401
    assert reason(response) == "unknown-key"
    partner.refresh_from_db()
    assert forged_key_id in partner.key_alert
    assert partner.key_alert_at is not None
    assert partner.pinned_keys == pinned(sender)
    assert partner.last_success_at is None
    assert not SeenNonce.objects.exists()


def test_a_rotated_key_listed_in_the_partners_did_document_is_pinned_and_accepted(client):
    partner, sender = partnership()
    old_keys = pinned(sender)
    institution_services.signing_key_rotate(actor=None, institution=sender)
    response, _ = send(client, sender=sender, slug=partner.institution.slug)
    assert response.status_code == 200
    partner.refresh_from_db()
    assert partner.pinned_keys == old_keys + pinned(sender)
    assert partner.key_alert == ""
    event = AuditEvent.objects.get(institution=partner.institution, action="partner.key_pinned")
    assert event.detail["key_id"] == pinned(sender)[0]["id"]


def test_a_rotated_key_is_not_pinned_when_the_request_is_forged(client):
    partner, sender = partnership()
    institution_services.signing_key_rotate(actor=None, institution=sender)
    response, _ = send(
        client, sender=sender, slug=partner.institution.slug, sent_body=b'{"ping":"x"}'
    )
    assert reason(response) == "digest-mismatch"
    partner.refresh_from_db()
    assert len(partner.pinned_keys) == 1
    assert not AuditEvent.objects.filter(action="partner.key_pinned").exists()


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (PartnerStatus.REQUESTED, "not-a-partner"),
        (PartnerStatus.ENDED, "not-a-partner"),
        (PartnerStatus.SUSPENDED, "partnership-suspended"),
    ],
)
def test_a_partner_that_is_not_confirmed_is_refused_without_side_effects(client, status, expected):
    partner, sender = partnership(status=status)
    response, request = send(client, sender=sender, slug=partner.institution.slug)
    assert response.status_code == 403
    assert reason(response) == expected
    assert answer_verifies(response, request, partner.institution)
    assert not SeenNonce.objects.exists()
    partner.refresh_from_db()
    assert partner.last_success_at is None


def test_an_institution_that_is_not_a_partner_is_refused_as_an_unknown_key(client):
    receiver, stranger = InstitutionFactory(), InstitutionFactory()
    response, _ = send(client, sender=stranger, slug=receiver.slug)
    assert response.status_code == 401
    assert reason(response) == "unknown-key"


def test_a_partnership_request_from_a_stranger_is_checked_against_its_did_document(client):
    receiver, stranger = InstitutionFactory(), InstitutionFactory()
    response, request = send(client, sender=stranger, slug=receiver.slug, name="partnership")
    assert response.status_code == 200
    assert response.json() == {"partner": None, "keys": pinned(stranger)}
    assert answer_verifies(response, request, receiver)


def test_a_partnership_message_reaches_the_view_whatever_the_partner_status(client):
    partner, sender = partnership(status=PartnerStatus.SUSPENDED)
    response, _ = send(client, sender=sender, slug=partner.institution.slug, name="partnership")
    assert response.status_code == 200
    assert response.json()["partner"] == sender.name


def test_an_unknown_institution_is_a_404_problem(client):
    _, sender = partnership()
    response, _ = send(client, sender=sender, slug="nowhere")
    assert response.status_code == 404
    assert reason(response) == "unknown-institution"
    assert "Signature" not in response.headers


def test_old_nonces_are_forgotten():
    SeenNonce.objects.create(key_id="k", nonce="old")
    SeenNonce.objects.filter(nonce="old").update(seen_at=timezone.now() - timedelta(hours=1))
    SeenNonce.objects.create(key_id="k", nonce="new")
    assert inbound.seen_nonces_forget(older_than=timedelta(minutes=10)) == 1
    assert list(SeenNonce.objects.values_list("nonce", flat=True)) == ["new"]


@pytest.mark.django_db(transaction=True)
def test_a_round_trip_through_the_transport_checks_the_answers_signature(live_server, settings):
    settings.MESHE_BASE_URL = live_server.url
    settings.MESHE_OUTBOUND_ALLOW_LOOPBACK = True
    partner, sender = partnership()
    # The sender's side of the partnership: it pins the receiver's keys.
    reply = transport.signed_request(
        institution=sender,
        method="POST",
        url=f"{live_server.url}/exchange/v1/{partner.institution.slug}/echo",
        payload={"ping": "über"},
        peer_keys=pinned(partner.institution),
    )
    assert reply.status == 200
    assert reply.json() == {"echo": "über", "sender": sender.did, "partner": sender.name}
    assert reply.headers["content-type"] == reply.headers["Content-Type"] == "application/json"
    assert reply.latency_ms >= 0
    with pytest.raises(transport.TransportError) as refused:
        transport.signed_request(
            institution=sender,
            method="POST",
            url=f"{live_server.url}/exchange/v1/{partner.institution.slug}/echo",
            payload={"no": "ping"},
            peer_keys=pinned(partner.institution),
        )
    assert (refused.value.reason, refused.value.status) == ("invalid-message", 400)
    assert refused.value.retryable is False
    with pytest.raises(transport.TransportError) as unpinned:
        transport.signed_request(
            institution=sender,
            method="POST",
            url=f"{live_server.url}/exchange/v1/{partner.institution.slug}/echo",
            payload={"ping": "x"},
            peer_keys=pinned(sender),
        )
    assert unpinned.value.reason == "bad-response-signature"
