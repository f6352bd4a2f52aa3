"""Practical information (how to enrol, when, cost, languages, place) travels in the catalogue
feed's summary, is checked by the receiver, and shows on the partner offer's public page."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from exchange import catalogue_feed, catalogue_sync
from exchange.catalogue_feed import FeedError
from exchange.models import Partner, PartnerOffer, PartnerStatus
from tests.exchange.catalogues import publish
from tests.exchange.partners import keys_of
from tests.factories import InstitutionFactory

MOMENT = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
PRACTICAL = {
    "enrolmentUrl": "https://b.example/enrol",
    "enrolmentContact": "study@b.example",
    "startDates": ["2027-09-06", "2027-03-01"],
    "duration": "P6W",
    "schedule": "Tuesday evenings",
    "cost": "fee",
    "price": "250.00",
    "currency": "EUR",
    "costNote": "Half price for alumni",
    "instructionLanguages": ["en", "pt"],
    "place": "Porto",
}


def item(**practical) -> dict:
    return catalogue_feed.feed_item(
        id="https://b.example/catalogue/1/",
        modified=MOMENT,
        status="published",
        achievement={"id": "https://b.example/spec/1/v/1", "type": ["Achievement"]},
        title="Data Literacy",
        language="en",
        ects=Decimal("2.5"),
        eqf_level=6,
        isced_field="0613",
        participation="e92d221e4d",
        practical=practical,
    )


def received(**practical) -> catalogue_feed.ReceivedItem:
    body = catalogue_feed.page_body(
        items=[item(**practical)], next_url=None, watermark="2026-03-01T12:30:15.123456Z"
    )
    return catalogue_feed.parse_page(body).items[0]


def test_the_practical_fields_are_read_checked_and_sorted():
    got = received(**PRACTICAL).practical
    assert got == {**PRACTICAL, "startDates": ["2027-03-01", "2027-09-06"]}


def test_an_item_without_practical_fields_is_still_read():
    assert received().practical == {}


@pytest.mark.parametrize(
    "bad",
    [
        {"enrolmentUrl": "javascript:alert(1)"},
        {"enrolmentUrl": "ftp://b.example/enrol"},
        {"startDates": ["2027-02-30"]},
        {"startDates": "2027-03-01"},
        {"startsAnyTime": "yes"},
        {"duration": "six weeks"},
        {"cost": "cheap"},
        {"cost": "fee", "price": "-5", "currency": "EUR"},
        {"cost": "fee", "price": "5"},
        {"cost": "fee", "price": "5", "currency": "euro"},
        {"price": 5},
        {"instructionLanguages": ["English"]},
        {"place": "x" * 201},
        {"schedule": "line\u0000break"},
        # A bidirectional override could make "Porto" read as another place.
        {"place": "Porto \u202eotroP"},
        {"costNote": "\u2066free\u2069"},
    ],
    ids=lambda bad: json.dumps(bad)[:40],
)
def test_a_malformed_practical_field_makes_the_page_malformed(bad):
    with pytest.raises(FeedError):
        received(**bad)


# Between two institutions ------------------------------------------------------------------


@pytest.fixture
def node(live_server, settings):
    settings.MESHE_BASE_URL = live_server.url
    settings.MESHE_OUTBOUND_ALLOW_LOOPBACK = True
    return live_server.url


def partner_row(institution, other, node) -> Partner:
    return Partner.objects.create(
        institution=institution,
        base_url=node,
        did=other.did,
        name=other.name,
        country=other.country,
        endpoints={"catalogue": f"{node}/exchange/v1/{other.slug}/catalogue"},
        pinned_keys=keys_of(other),
        status=PartnerStatus.CONFIRMED,
    )


@pytest.mark.django_db(transaction=True)
def test_practical_information_round_trips_between_two_institutions(node, client):
    uni_a = InstitutionFactory(slug="uni-a", name="University A", country="PT")
    uni_b = InstitutionFactory(slug="uni-b", name="University B", country="DE")
    partner_row(uni_b, uni_a, node)
    partner = partner_row(uni_a, uni_b, node)
    publish(
        uni_b,
        title="Data Literacy",
        enrolment_url="https://b.example/enrol",
        start_dates=["2027-03-01"],
        duration_amount=6,
        duration_unit="weeks",
        cost="fee",
        price=Decimal("250.00"),
        currency="EUR",
        instruction_languages=["de", "en"],
        place="Berlin, Mitte campus",
    )

    catalogue_sync.partner_catalogue_sync(partner_id=partner.pk)

    offer = PartnerOffer.objects.get(partner=partner)
    summary = offer.document["summary"]
    assert summary["enrolmentUrl"] == "https://b.example/enrol"
    assert (summary["price"], summary["currency"]) == ("250.00", "EUR")
    assert summary["duration"] == "P6W"
    text = client.get(
        reverse("exchange:partner_offer_public", kwargs={"public_id": offer.public_id})
    ).text
    assert 'href="https://b.example/enrol"' in text
    assert "1 March 2027" in text
    assert "6 weeks" in text
    assert "250.00 EUR" in text
    assert "German, English" in text
    assert "Partly online, partly on site (official term: Blended)" in text
    assert "Berlin, Mitte campus" in text
