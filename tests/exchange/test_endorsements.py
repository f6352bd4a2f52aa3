"""Endorsements travel: a partner signs an endorsement of one of our offers, sends it over the
signed exchange, we verify and keep it, and its revocation reaches us the same way."""

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from credentials.exceptions import CredentialError
from credentials.models import Endorsement
from credentials.standards import ob3
from exchange import catalogue_sync
from exchange import messages as exchange_messages
from exchange.exceptions import ExchangeError
from exchange.models import Notice, OutboxStatus, PartnerOffer
from institutions.models import AuditEvent, Role
from tests.exchange.catalogues import offer_of, publish
from tests.exchange.partners import partner_row
from tests.factories import InstitutionFactory, MembershipFactory, issue

# A live server carries the signed notices between the two institutions.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

COMMENT = "Recognised at University B for 5 ECTS toward the MSc Data Science"


@pytest.fixture
def node(live_server, settings):
    settings.MESHE_BASE_URL = live_server.url
    settings.MESHE_OUTBOUND_ALLOW_LOOPBACK = True
    return live_server.url


@pytest.fixture
def world(node):
    uni_a = InstitutionFactory(slug="uni-a", name="University A")
    uni_b = InstitutionFactory(slug="uni-b", name="University B")
    partner_row(uni_a, uni_b, base_url=node)
    b_to_a = partner_row(uni_b, uni_a, base_url=node)
    offer = publish(uni_a, title="Data Literacy", status="published")
    catalogue_sync.partner_catalogue_sync(partner_id=b_to_a.pk)
    staff = MembershipFactory(institution=uni_b, role=Role.ISSUER)
    return offer, PartnerOffer.objects.get(partner=b_to_a), staff


def test_a_partners_endorsement_reaches_us_verified_and_our_next_credential_carries_it(world):
    offer, imported, staff = world
    before = issue(offer)
    given = catalogue_sync.partner_offer_endorse(actor=staff.user, offer=imported, comment=COMMENT)
    notice = Notice.objects.get(kind="endorsement")
    assert notice.status == OutboxStatus.DELIVERED, notice.last_error
    received = Endorsement.objects.get(micro_credential=offer)
    assert (received.source, received.state, received.endorser_did, received.comment) == (
        Endorsement.Source.PARTNER,
        Endorsement.State.VERIFIED,
        given.endorser_did,
        COMMENT,
    )
    assert json.loads(received.document) == json.loads(given.document)
    assert ob3.embedded_endorsements(json.loads(before.document)) == []
    after = issue(offer)
    assert ob3.embedded_endorsements(json.loads(after.document)) == [json.loads(given.document)]
    page = Client().get(f"/catalogue/{offer.public_id}/").text
    assert "Endorsed by University B — verified" in page
    assert AuditEvent.objects.filter(action="endorsement.received").count() == 1


def test_a_revocation_reaches_us_and_the_offer_page_and_credentials_show_it(world):
    offer, imported, staff = world
    given = catalogue_sync.partner_offer_endorse(actor=staff.user, offer=imported, comment=COMMENT)
    carrying = issue(offer)
    catalogue_sync.partner_offer_endorsement_revoke(
        actor=staff.user, offer=imported, endorsement=given, reason="The MSc closed"
    )
    assert [notice.status for notice in Notice.objects.filter(kind="endorsement")] == [
        OutboxStatus.DELIVERED,
        OutboxStatus.DELIVERED,
    ]
    assert Endorsement.objects.get(micro_credential=offer).state == Endorsement.State.REVOKED
    assert "Endorsed by University B — revoked" in (
        Client().get(f"/catalogue/{offer.public_id}/").text
    )
    assert "Endorsed by University B — revoked" in Client().get(carrying.get_absolute_url()).text
    assert ob3.embedded_endorsements(json.loads(issue(offer).document)) == []


def test_an_endorsement_of_a_withdrawn_offer_or_for_a_partner_without_a_node_is_refused(world):
    _offer, imported, staff = world
    with pytest.raises(ExchangeError):
        catalogue_sync.partner_offer_endorse(
            actor=staff.user, offer=offer_of(imported.partner, withdrawn=True), comment=COMMENT
        )
    imported.partner.endpoints = {"catalogue": imported.partner.endpoints["catalogue"]}
    imported.partner.save()
    with pytest.raises(ExchangeError):
        catalogue_sync.partner_offer_endorse(actor=staff.user, offer=imported, comment=COMMENT)
    assert not Endorsement.objects.exists()


def test_an_endorsement_signed_by_someone_else_than_the_sending_partner_is_refused(world):
    offer, imported, staff = world
    given = catalogue_sync.partner_offer_endorse(actor=staff.user, offer=imported, comment=COMMENT)
    Endorsement.objects.filter(micro_credential=offer).delete()
    other = InstitutionFactory(slug="uni-c", name="University C")
    impostor = partner_row(offer.institution, other, base_url=imported.partner.base_url)
    with pytest.raises(CredentialError, match="someone else"):
        catalogue_sync.offer_endorsement_receive(
            partner=impostor,
            message={
                "type": "endorsement",
                "offerId": imported.remote_id,
                "endorsement": json.loads(given.document),
            },
        )
    assert not Endorsement.objects.filter(micro_credential=offer).exists()


def test_an_endorsement_notice_must_carry_an_offer_and_a_document():
    with pytest.raises(exchange_messages.InvalidMessage, match="offerId"):
        exchange_messages.notice_message_parse(b'{"type": "endorsement", "endorsement": {}}')
    with pytest.raises(exchange_messages.InvalidMessage, match="endorsement"):
        exchange_messages.notice_message_parse(
            b'{"type": "endorsement", "offerId": "https://x/catalogue/1/", "endorsement": "x"}'
        )


# Staff pages --------------------------------------------------------------------------------


def endorse_url(staff, offer) -> str:
    return reverse(
        "exchange:partner_offer_endorse",
        kwargs={"slug": staff.institution.slug, "public_id": offer.public_id},
    )


def test_staff_endorse_from_the_offer_page_with_the_recognition_suggested(world, client):
    _offer, imported, staff = world
    catalogue_sync.partner_offer_adopt(
        actor=staff.user, offer=imported, recognised_ects=Decimal("5"), note=""
    )
    client.force_login(staff.user)
    page = client.get(endorse_url(staff, imported)).text
    assert "Recognised at University B for 5 ECTS." in page
    response = client.post(endorse_url(staff, imported), {"comment": COMMENT})
    assert response.status_code == 302
    given = Endorsement.objects.get(source=Endorsement.Source.ISSUED)
    assert given.comment == COMMENT
    assert COMMENT in client.get(endorse_url(staff, imported)).text


def test_revoking_asks_for_a_reason_and_a_confirmation(world, client):
    _offer, imported, staff = world
    given = catalogue_sync.partner_offer_endorse(actor=staff.user, offer=imported, comment=COMMENT)
    url = reverse(
        "exchange:partner_offer_endorsement_revoke",
        kwargs={
            "slug": staff.institution.slug,
            "public_id": imported.public_id,
            "endorsement_id": given.public_id,
        },
    )
    client.force_login(staff.user)
    assert "cannot be undone" in client.get(url).text
    unconfirmed = client.post(url, {"reason": "The MSc closed"})
    assert unconfirmed.status_code == 200
    given.refresh_from_db()
    assert given.revoked_at is None
    confirmed = client.post(url, {"reason": "The MSc closed", "confirm": "on"})
    assert confirmed.status_code == 302
    given.refresh_from_db()
    assert (given.state, given.revocation_reason) == (Endorsement.State.REVOKED, "The MSc closed")


def test_the_endorse_page_lists_endorsements_in_the_same_number_of_queries_however_many(
    world, client
):
    _offer, imported, staff = world
    client.force_login(staff.user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(endorse_url(staff, imported)).status_code == 200
        return len(captured)

    catalogue_sync.partner_offer_endorse(actor=staff.user, offer=imported, comment="First")
    one = queries()
    for number in range(3):
        catalogue_sync.partner_offer_endorse(
            actor=staff.user, offer=imported, comment=f"Again {number}"
        )
    assert queries() == one
