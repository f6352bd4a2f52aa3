"""Published offers as ELM learning opportunities: every offer's rendering conforms to the LOQ
shapes, and the public addresses serve it."""

import copy
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from credentials import documents
from credentials.catalogue import elm_feed
from credentials.models import MicroCredential
from meshe.management.commands.seed_demo import INSTITUTIONS, MICRO_CREDENTIALS
from tests.credentials.validation import LOQ_MDR_SHAPES, loq_report, loq_violations
from tests.exchange.catalogues import publish
from tests.factories import InstitutionFactory

ELM = "http://data.europa.eu/snb/model/elm/"
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
        document = rendering(offer)
        conforms, report = loq_report(document, all_active=True)
        assert conforms, (offer.title, report)
        # The vocabulary shapes too, but for their ESCO rule that no ESCO skill can meet
        # (docs/standards.md; tests/credentials/test_builders_elm_offer.py).
        violations = loq_violations(document, shapes=LOQ_MDR_SHAPES)
        assert {path for path, _ in violations} <= {ELM + "relatedESCOSkill"}, offer.title


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


# ---------------------------------------------------------------- public addresses


def elm_url(offer: MicroCredential) -> str:
    return reverse("credentials:offer_elm", kwargs={"public_id": offer.public_id})


@pytest.mark.django_db
def test_an_offers_elm_address_serves_its_learning_opportunity_as_json_ld(client):
    offer = publish(InstitutionFactory(), **ALL_PRACTICAL)
    response = client.get(elm_url(offer))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/ld+json"
    assert response["Cache-Control"] == "public, max-age=300"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert json.loads(response.content) == rendering(offer)


@pytest.mark.django_db
def test_an_unchanged_offer_is_answered_not_modified(client):
    offer = publish(InstitutionFactory())
    etag = client.get(elm_url(offer))["ETag"]
    response = client.get(elm_url(offer), headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response["ETag"] == etag


@pytest.mark.django_db
def test_the_offer_page_answers_json_ld_to_a_client_that_asks_for_it(client):
    offer = publish(InstitutionFactory())
    page = reverse("credentials:offer", kwargs={"public_id": offer.public_id})
    response = client.get(page, headers={"Accept": "application/ld+json"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/ld+json"
    assert json.loads(response.content)["type"] == "LearningOpportunity"
    assert "Accept" in [value.strip() for value in response["Vary"].split(",")]
    html = client.get(page, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert html["Content-Type"].startswith("text/html")
    assert f'<link rel="alternate" type="application/ld+json" href="{elm_url(offer)}"' in (
        html.content.decode()
    )
    assert "Accept" in [value.strip() for value in html["Vary"].split(",")]


@pytest.mark.django_db
@pytest.mark.parametrize("status", [MicroCredential.Status.DRAFT, MicroCredential.Status.RETIRED])
def test_an_offer_that_is_not_published_has_no_elm(client, status):
    offer = publish(InstitutionFactory(), status=status)
    assert client.get(elm_url(offer)).status_code == 404
    page = reverse("credentials:offer", kwargs={"public_id": offer.public_id})
    assert client.get(page, headers={"Accept": "application/ld+json"}).status_code == 404


FEED = "/catalogue/elm/"


@pytest.mark.django_db
def test_the_feed_lists_only_published_offers_oldest_first(client, settings):
    settings.MESHE_BASE_URL = "https://node.example"
    institution = InstitutionFactory()
    first = publish(institution)
    publish(institution, status=MicroCredential.Status.DRAFT)
    publish(institution, status=MicroCredential.Status.RETIRED)
    second = publish(InstitutionFactory(), **ALL_PRACTICAL)
    response = client.get(FEED)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "public, max-age=300"
    page = response.json()
    assert [item["id"] for item in page["items"]] == [
        documents.offer_url(first),
        documents.offer_url(second),
    ]
    assert page["totalItems"] == 2
    assert page["next"] is None and page["previous"] is None
    assert page["id"] == "https://node.example/catalogue/elm/?page=1"
    for item in page["items"]:
        conforms, report = loq_report(item)
        assert conforms, report


@pytest.mark.django_db
def test_the_feed_pages_with_next_and_previous_links(client, settings, monkeypatch):
    settings.MESHE_BASE_URL = "https://node.example"
    monkeypatch.setattr(elm_feed, "PAGE_SIZE", 2)
    institution = InstitutionFactory()
    offers = [publish(institution) for _ in range(5)]
    seen = []
    url: str | None = FEED
    pages = 0
    while url is not None:
        page = client.get(url.removeprefix("https://node.example")).json()
        seen += [item["id"] for item in page["items"]]
        assert len(page["items"]) <= 2
        url = page["next"]
        pages += 1
    assert pages == 3
    assert seen == [documents.offer_url(offer) for offer in offers]
    last = client.get(FEED + "?page=3").json()
    assert last["previous"] == "https://node.example/catalogue/elm/?page=2"
    assert last["first"] == "https://node.example/catalogue/elm/?page=1"


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["?page=2", "?page=0", "?page=two", "?institution=nobody"])
def test_a_page_that_does_not_exist_is_not_found(client, query):
    publish(InstitutionFactory())
    assert client.get(FEED + query).status_code == 404


@pytest.mark.django_db
def test_the_feed_of_one_institution_lists_only_its_offers(client):
    mine = publish(InstitutionFactory(slug="uni-x"))
    publish(InstitutionFactory())
    page = client.get(FEED + "?institution=uni-x").json()
    assert [item["id"] for item in page["items"]] == [documents.offer_url(mine)]
    assert "institution=uni-x" in page["id"]


@pytest.mark.django_db
def test_the_feed_costs_three_queries_however_many_offers(client, django_assert_num_queries):
    institution = InstitutionFactory()
    for _ in range(4):
        publish(institution, **ALL_PRACTICAL)
    with django_assert_num_queries(3):
        assert len(client.get(FEED).json()["items"]) == 4


@pytest.mark.django_db
def test_the_node_manifest_lists_the_elm_feed_and_offer_addresses(client, settings):
    settings.MESHE_BASE_URL = "https://node.example"
    offer = publish(InstitutionFactory(slug="uni-x"))
    manifest = client.get("/.well-known/meshe-node.json").json()
    assert manifest["elmCatalogue"]["feed"] == "https://node.example" + reverse(
        "credentials:elm_feed"
    )
    assert manifest["elmCatalogue"]["offer"].format(
        public_id=offer.public_id
    ) == "https://node.example" + elm_url(offer)
    listed = manifest["institutions"][0]["elmCatalogue"]
    page = client.get(listed.removeprefix("https://node.example")).json()
    assert [item["id"] for item in page["items"]] == [documents.offer_url(offer)]
