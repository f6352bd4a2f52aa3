"""The recognition inbox takes a partner's sealed European Digital Credential: verified on
arrival with /verify's pipeline and trust anchors, kept verbatim, shown as sealed; refused when
it is not the partner's, its seal does not hold, or it is over the budgets."""

import json

import pytest
from django.test import Client

from credentials.issuing import services as credential_services
from credentials.standards import verification
from credentials.standards.multiformats import base64url_encode
from exchange import deliveries, outbox
from exchange import messages as exchange_messages
from exchange.models import Delivery, DeliveryFormat, IncomingCredential
from institutions import e_seals as institution_e_seals
from institutions import services as institution_services
from institutions.models import AuditEvent
from tests.credentials import e_seals
from tests.exchange.partners import issue, reason, send, staff_client, two_partners

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings):
    return two_partners(base_url=settings.MESHE_BASE_URL)


def install_e_seal(institution, *, name: str):
    key = e_seals.p256_key()
    chain = (e_seals.certificate(key, name=name),)
    institution_services.e_seal_install(
        actor=None,
        institution=institution,
        e_seal=institution_e_seals.ESeal(key=key, chain=chain),
    )
    return chain[0]


def sealed_edc(institution, *, name: str = "University A Seal Office") -> str:
    """A credential of the institution's, sealed with its e-seal: the EDC download's text."""
    install_e_seal(institution, name=name)
    credential = issue(institution)
    return credential_services.credential_edc(credential=credential).text


def delivery(sealed: str, **fields) -> bytes:
    body = {
        "credential": json.loads(sealed),
        "format": "sealed-edc",
        "learner": {"name": "Ana Kowalska"},
        "note": "MSc",
        **fields,
    }
    return json.dumps(body, ensure_ascii=False).encode()


def deliver(sender, receiver, body: bytes):
    """POSTs the delivery to the receiver's inbox, signed by the sender's key as its node does."""
    response, _request = send(
        Client(),
        sender=sender,
        slug=receiver.slug,
        name="inbox",
        body=body,
    )
    return response


# Parsing -----------------------------------------------------------------------------------


def test_a_sealed_edc_is_read_from_its_payload_and_kept_verbatim(world):
    sealed = sealed_edc(world[0])
    text = '{"learner": {"name": "Ana"}, "credential": ' + sealed + "}"

    message = exchange_messages.inbox_message_parse(text.encode())

    assert message.format == DeliveryFormat.SEALED_EDC
    assert message.document == sealed
    payload = json.loads(json.loads(sealed)["payload"])
    assert message.credential == payload
    assert message.credential["id"].startswith("urn:uuid:")


@pytest.mark.parametrize(
    "credential",
    [
        {"payload": "not json", "signatures": []},
        {"payload": '["a list"]', "signatures": [{"protected": "e30", "signature": ""}]},
        {"payload": "{}", "signatures": "none"},
        {"payload": '{"type": "VerifiableCredential"}', "signatures": [{"protected": "e30"}]},
        # A header nested past any reader's depth, hidden from the body's reader in a string.
        {"payload": "{}", "signatures": [{"protected": base64url_encode(b"[" * 200_000)}]},
        {"payload": "{}", "signatures": [{"protected": None, "signature": ""}]},
    ],
)
def test_a_seal_without_a_readable_credential_is_not_a_delivery(credential):
    body = json.dumps({"credential": credential}).encode()
    with pytest.raises(exchange_messages.InvalidMessage):
        exchange_messages.inbox_message_parse(body)


def test_the_format_must_agree_with_the_credential(world):
    sealed = sealed_edc(world[0])
    with pytest.raises(exchange_messages.InvalidMessage, match="format"):
        exchange_messages.inbox_message_parse(delivery(sealed, format="ob3"))
    ob3 = {"credential": json.loads(issue(world[0]).document), "format": "sealed-edc"}
    with pytest.raises(exchange_messages.InvalidMessage, match="format"):
        exchange_messages.inbox_message_parse(json.dumps(ob3).encode())


def test_a_payload_over_the_verifiers_cap_is_refused_by_name():
    payload = json.dumps({"id": "urn:uuid:1", "padding": "x" * verification.DEFAULT_MAX_BYTES})
    seal = {
        "payload": payload,
        "signatures": [{"protected": "eyJiNjQiOmZhbHNlfQ", "signature": ""}],
    }
    with pytest.raises(exchange_messages.InvalidMessage, match="larger than 512 KiB"):
        exchange_messages.inbox_message_parse(json.dumps({"credential": seal}).encode())


# Receiving from a partner ------------------------------------------------------------------


def test_a_partners_sealed_edc_is_verified_kept_and_shown_as_sealed(world):
    uni_a, uni_b, _a_to_b, _b_to_a = world
    sealed = sealed_edc(uni_a, name="University A Seal Office")

    response = deliver(uni_a, uni_b, delivery(sealed))

    assert response.status_code == 201, response.content
    assert response.json()["verified"] is True
    incoming = IncomingCredential.objects.get()
    assert incoming.document == sealed
    assert incoming.verified is True and incoming.title == "Data Literacy"
    assert incoming.verification["trust"] == "unknown_issuer"
    assert [c["check"] for c in incoming.verification["checks"]] == [
        "json",
        "seal",
        "seal_certificate",
        "edc_shapes",
        "issuer_known",
    ]
    assert AuditEvent.objects.filter(action="incoming.received").count() == 1
    client, _user = staff_client(uni_b)
    listed = client.get(f"/staff/{uni_b.slug}/incoming/").content.decode()
    assert "Sealed by University A Seal Office, sealer not confirmed" in listed
    detail = client.get(f"/staff/{uni_b.slug}/incoming/{incoming.public_id}/").content.decode()
    assert "Seal valid, sealer not confirmed" in detail
    assert "University A Seal Office" in detail
    # What the EDC claims is in the verdict; the elements read at OB 3.0 paths are left out.
    assert "Data Literacy" in detail.split('class="verdict-sentence"')[1].split("</p>")[0]
    assert "elements-heading" not in detail


def test_a_sealed_edc_is_trusted_only_through_a_configured_anchor(world, settings, tmp_path):
    uni_a, uni_b, _a_to_b, _b_to_a = world
    sealed = sealed_edc(uni_a, name="University A Seal Office")
    certificate = uni_a.e_seal.certificate_chain_pem.encode()
    anchors = tmp_path / "anchors.pem"
    anchors.write_bytes(certificate)
    settings.MESHE_EDC_TRUST_ANCHORS = str(anchors)

    response = deliver(uni_a, uni_b, delivery(sealed))

    assert response.status_code == 201, response.content
    incoming = IncomingCredential.objects.get()
    assert incoming.verification["trust"] == "known_issuer"
    client, _user = staff_client(uni_b)
    listed = client.get(f"/staff/{uni_b.slug}/incoming/").content.decode()
    assert "Sealed by University A Seal Office" in listed
    assert "sealer not confirmed" not in listed
    detail = client.get(f"/staff/{uni_b.slug}/incoming/{incoming.public_id}/").content.decode()
    assert "Sealed by University A Seal Office" in detail


def test_a_sealed_edc_is_recognised_as_any_other(world):
    uni_a, uni_b, _a_to_b, _b_to_a = world
    deliver(uni_a, uni_b, delivery(sealed_edc(uni_a)))
    incoming = IncomingCredential.objects.get()
    client, _user = staff_client(uni_b)

    response = client.post(
        f"/staff/{uni_b.slug}/incoming/{incoming.public_id}/",
        {"decision": "recognised", "ects": "5", "programme": "MSc", "reason": "Matches."},
    )

    assert response.status_code == 302
    incoming.refresh_from_db()
    assert incoming.decision == "recognised"


def test_a_sealed_edc_the_partner_did_not_issue_is_refused_and_nothing_stored(world):
    uni_a, uni_b, _a_to_b, _b_to_a = world
    theirs = sealed_edc(uni_b, name="University B Seal Office")  # valid, but B's own

    response = deliver(uni_a, uni_b, delivery(theirs))

    assert response.status_code == 422
    assert reason(response) == "credential-not-verified"
    assert uni_a.did in response.json()["detail"] and uni_b.did in response.json()["detail"]
    assert not IncomingCredential.objects.exists()
    assert not AuditEvent.objects.filter(action="incoming.received").exists()


def test_a_tampered_sealed_edc_is_refused_naming_the_seal(world):
    uni_a, uni_b, _a_to_b, _b_to_a = world
    seal = json.loads(sealed_edc(uni_a))
    seal["payload"] = seal["payload"].replace("Data Literacy", "Rocket Science")

    response = deliver(uni_a, uni_b, delivery(json.dumps(seal)))

    assert response.status_code == 422
    assert reason(response) == "credential-not-verified"
    failed = [check["check"] for check in response.json()["checks"]]
    assert failed[0] == "seal"
    assert not IncomingCredential.objects.exists()


def test_a_sealed_edc_over_the_budget_is_refused_and_nothing_stored(world):
    uni_a, uni_b, _a_to_b, _b_to_a = world
    seal = json.loads(sealed_edc(uni_a))
    payload = json.loads(seal["payload"])
    payload["padding"] = "x" * verification.DEFAULT_MAX_BYTES
    seal["payload"] = json.dumps(payload)

    response = deliver(uni_a, uni_b, delivery(json.dumps(seal)))

    assert response.status_code == 400
    assert reason(response) == "invalid-message"
    assert "512 KiB" in response.json()["detail"]
    assert not IncomingCredential.objects.exists()


def test_the_service_refuses_a_sealed_edc_of_another_issuer_naming_the_issuer(world):
    _uni_a, uni_b, _a_to_b, b_to_a = world
    message = exchange_messages.inbox_message_parse(delivery(sealed_edc(uni_b)))
    with pytest.raises(deliveries.CredentialNotVerified) as caught:
        deliveries.incoming_receive(partner=b_to_a, message=message)
    assert caught.value.failed == ["issuer"]


# Sending -----------------------------------------------------------------------------------


def send_page_post(client, institution, partner, credential, delivery_format: str):
    return client.post(
        f"/staff/{institution.slug}/deliveries/send/",
        {
            "partner": str(partner.public_id),
            "credentials": [str(credential.public_id)],
            "note": "",
            "format": delivery_format,
        },
    )


def test_staff_choose_to_send_the_sealed_edc_and_the_outbox_carries_the_seal(world, monkeypatch):
    uni_a, _uni_b, a_to_b, _b_to_a = world
    monkeypatch.setattr(outbox, "deliveries_enqueue_on_commit", lambda **kwargs: None)
    install_e_seal(uni_a, name="University A Seal Office")
    credential = issue(uni_a)
    client, _user = staff_client(uni_a)
    assert (
        "Sealed European Digital Credential"
        in client.get(f"/staff/{uni_a.slug}/deliveries/send/").content.decode()
    )

    response = send_page_post(client, uni_a, a_to_b, credential, "sealed-edc")

    assert response.status_code == 302
    delivery = Delivery.objects.get()
    assert delivery.format == DeliveryFormat.SEALED_EDC
    listed = client.get(f"/staff/{uni_a.slug}/deliveries/").content.decode()
    assert "Sealed European Digital Credential" in listed
    credential.refresh_from_db()
    _url, body = outbox._request(delivery)
    assert body["format"] == "sealed-edc"
    assert body["credential"] == json.loads(credential.sealed_edc)
    # What the partner's inbox reads of it: the sealed EDC, kept as the outbox serialises it.
    parsed = exchange_messages.inbox_message_parse(json.dumps(body).encode())
    assert parsed.format == DeliveryFormat.SEALED_EDC
    assert parsed.credential["id"] == credential.credential_id


def test_without_an_e_seal_the_sealed_edc_cannot_be_sent_and_the_page_says_why(world):
    uni_a, _uni_b, a_to_b, _b_to_a = world
    credential = issue(uni_a)
    client, _user = staff_client(uni_a)

    response = send_page_post(client, uni_a, a_to_b, credential, "sealed-edc")

    assert response.status_code == 200
    assert "Its EDC is not sealed" in response.content.decode()
    assert not Delivery.objects.exists()


def test_the_open_badges_credential_is_still_sent_by_default(world, monkeypatch):
    uni_a, _uni_b, a_to_b, _b_to_a = world
    monkeypatch.setattr(outbox, "deliveries_enqueue_on_commit", lambda **kwargs: None)
    credential = issue(uni_a)
    (delivery,) = deliveries.deliveries_create_batch(
        credentials=[credential], partner=a_to_b, actor=None, note=""
    )
    _url, body = outbox._request(delivery)
    assert body["format"] == "ob3"
    assert body["credential"] == json.loads(credential.document)
