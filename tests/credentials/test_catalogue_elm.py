"""Published offers as ELM learning opportunities: every offer's rendering conforms to the LOQ
shapes, and the public addresses serve it."""

import copy
from decimal import Decimal

import pytest

from credentials import documents
from credentials.models import MicroCredential
from meshe.management.commands.seed_demo import INSTITUTIONS, MICRO_CREDENTIALS
from tests.credentials.validation import loq_report
from tests.exchange.catalogues import publish
from tests.factories import InstitutionFactory

NO_PRACTICAL: dict = {}
ALL_PRACTICAL = {
    "enrolment_url": "https://uni.example/enrol",
    "enrolment_contact": "Lifelong learning office, room 2.14",
    "start_dates": ["2027-09-06", "2027-03-01"],
    "duration_amount": 3,
    "duration_unit": "months",
    "schedule": "Mondays 18:00 to 21:00",
    "cost": "fee",
    "price": Decimal("1200.50"),
    "currency": "CHF",
    "cost_note": "Instalments possible.",
    "instruction_languages": ["de", "en"],
    "place": "Campus Nord, Gebäude C",
}


def demo_offers() -> list[MicroCredential]:
    offers = []
    for fields in copy.deepcopy(MICRO_CREDENTIALS):
        slug = fields.pop("institution")
        institution_fields = next(i for i in INSTITUTIONS if i["slug"] == slug)
        institution = InstitutionFactory(**institution_fields)
        offers.append(publish(institution, **fields))
    return offers


def rendering(offer: MicroCredential) -> dict:
    version = offer.versions.get()
    return documents.learning_opportunity(offer, version)


@pytest.mark.django_db
def test_every_demo_offer_renders_as_a_learning_opportunity_that_conforms_to_loq():
    offers = demo_offers()
    assert len(offers) == len(MICRO_CREDENTIALS) >= 2
    for offer in offers:
        conforms, report = loq_report(rendering(offer), all_active=True)
        assert conforms, (offer.title, report)


@pytest.mark.django_db
@pytest.mark.parametrize("practical", [NO_PRACTICAL, ALL_PRACTICAL], ids=["bare", "practical"])
def test_a_factory_offer_renders_as_a_learning_opportunity_that_conforms_to_loq(practical):
    offer = publish(InstitutionFactory(), **practical)
    document = rendering(offer)
    conforms, report = loq_report(document, all_active=True)
    assert conforms, report
    assert document["id"] == documents.offer_url(offer)
    assert ("priceDetail" in document) is bool(practical)
    assert ("temporal" in document) is bool(practical)


@pytest.mark.django_db
def test_a_rendering_stripped_of_its_provider_does_not_conform():
    document = rendering(publish(InstitutionFactory()))
    del document["providedBy"]
    conforms, _ = loq_report(document)
    assert not conforms
