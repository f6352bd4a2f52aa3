"""Adoptions travel back: a partner that adopts one of our offers tells us, signed, and the
offer's public page says where it is recognised."""

from decimal import Decimal

import pytest
from django.test import Client

from exchange import catalogue_sync
from exchange import messages as exchange_messages
from exchange.manifest import endpoint_urls
from exchange.models import Notice, OfferRecognition, OutboxStatus, Partner, PartnerOffer
from institutions.models import AuditEvent
from tests.exchange.catalogues import publish
from tests.exchange.partners import keys_of
from tests.factories import InstitutionFactory, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def node(live_server, settings):
    settings.MESHE_BASE_URL = live_server.url
    settings.MESHE_OUTBOUND_ALLOW_LOOPBACK = True
    return live_server.url


def partnered(institution, other, node) -> Partner:
    return Partner.objects.create(
        institution=institution,
        base_url=node,
        did=other.did,
        name=other.name,
        endpoints=endpoint_urls(base_url=node, slug=other.slug),
        pinned_keys=keys_of(other),
        status="confirmed",
    )


@pytest.fixture
def world(node):
    uni_a = InstitutionFactory(slug="uni-a", name="University A")
    uni_b = InstitutionFactory(slug="uni-b", name="University B")
    partnered(uni_a, uni_b, node)
    b_to_a = partnered(uni_b, uni_a, node)
    offer = publish(uni_a, title="Data Literacy", status="published")
    catalogue_sync.partner_catalogue_sync(partner_id=b_to_a.pk)
    return offer, PartnerOffer.objects.get(partner=b_to_a), MembershipFactory(institution=uni_b)


def test_an_adoption_shows_on_the_offering_institutions_offer_page(world):
    offer, imported, staff = world
    page = f"/catalogue/{offer.public_id}/"
    assert "No partner university has told us yet" in Client().get(page).text

    catalogue_sync.partner_offer_adopt(
        actor=staff.user, offer=imported, recognised_ects=Decimal("5"), note="Toward the minor."
    )
    notice = Notice.objects.get(kind="adoption")
    assert notice.status == OutboxStatus.DELIVERED, notice.last_error
    recognition = OfferRecognition.objects.get(micro_credential=offer)
    assert recognition.partner.name == "University B"
    assert recognition.recognised_ects == Decimal("5")
    text = Client().get(page).text
    assert "University B recognises it for 5 ECTS." in text
    assert "Toward the minor." in text
    assert AuditEvent.objects.filter(action="partner.offer_recognised").count() == 1

    catalogue_sync.partner_offer_unadopt(actor=staff.user, offer=imported)
    assert not OfferRecognition.objects.exists()
    assert "No partner university has told us yet" in Client().get(page).text


def test_an_adoption_notice_for_an_offer_that_is_not_ours_is_refused():
    with pytest.raises(exchange_messages.InvalidMessage):
        exchange_messages.notice_message_parse(
            b'{"type": "adoption", "offerId": "", "adopted": true}'
        )
    with pytest.raises(exchange_messages.InvalidMessage, match="recognisedEcts"):
        exchange_messages.notice_message_parse(
            b'{"type": "adoption", "offerId": "https://x/catalogue/1/", "adopted": true,'
            b' "recognisedEcts": "lots"}'
        )


def test_an_unknown_offer_is_answered_404_and_nothing_is_stored(world):
    _offer, imported, _staff = world
    with pytest.raises(catalogue_sync.UnknownOffer):
        catalogue_sync.offer_recognition_receive(
            partner=imported.partner,
            message={
                "type": "adoption",
                "offerId": "https://elsewhere.example/catalogue/x/",
                "adopted": True,
                "ects": Decimal("5"),
                "note": "",
            },
        )
    assert not OfferRecognition.objects.exists()
