"""Partners' offers in the public catalogue: with their origin, filterable, once each."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from credentials import documents
from credentials.models import MicroCredentialVersion
from exchange import catalogue_feed, catalogue_sync
from exchange.models import Partner, PartnerOffer, PartnerStatus
from tests.exchange.catalogues import offer_of, partner_of
from tests.factories import InstitutionFactory, MicroCredentialFactory

pytestmark = pytest.mark.django_db

EQF_7 = "http://data.europa.eu/snb/eqf/7"
ONLINE = "http://data.europa.eu/snb/learning-assessment/920fbb3cbe"


@pytest.fixture
def catalogue():
    home = InstitutionFactory(name="Aldermoor", slug="aldermoor", country="NL")
    porto = partner_of(home)
    return {
        "home": home,
        "porto": porto,
        "local": MicroCredentialFactory(institution=home, title="Data Literacy"),
        "remote": offer_of(
            porto,
            title="Machine Learning",
            ects=Decimal(3),
            eqf_level=EQF_7,
            form_of_participation=ONLINE,
            isced_field="http://data.europa.eu/snb/isced-f/0613",
            is_partial=True,
        ),
        "withdrawn": offer_of(porto, title="Withdrawn Course", withdrawn=True),
    }


def titles(client, **query) -> list[str]:
    page = client.get(reverse("credentials:catalogue"), query).text
    return re.findall(r'<h2><a href="/catalogue/[^"]+/">([^<]+)</a></h2>', page)


def test_partner_offers_appear_beside_ours_with_their_origin(client, catalogue):
    response = client.get(reverse("credentials:catalogue"))
    assert titles(client) == ["Data Literacy", "Machine Learning"]
    assert "Polytechnic of Porto · PT" in response.text
    assert "Offered by a partner of Aldermoor" in response.text
    assert f'href="/catalogue/partner/{catalogue["remote"].public_id}/"' in response.text


def test_a_withdrawn_offer_or_one_of_a_partnership_not_agreed_is_not_listed(client, catalogue):
    assert "Withdrawn Course" not in titles(client)
    Partner.objects.filter(pk=catalogue["porto"].pk).update(status=PartnerStatus.SUSPENDED)
    assert titles(client) == ["Data Literacy"]


def test_an_offer_imported_by_two_of_our_institutions_shows_once_with_both(client, catalogue):
    other = InstitutionFactory(name="Baltic Tech", slug="baltic")
    copy = offer_of(partner_of(other), title="Ignored")
    PartnerOffer.objects.filter(pk=copy.pk).update(
        remote_id=catalogue["remote"].remote_id, title="Machine Learning"
    )
    response = client.get(reverse("credentials:catalogue"))
    assert titles(client) == ["Data Literacy", "Machine Learning"]
    assert "Offered by a partner of Aldermoor" in response.text
    assert "Offered by a partner of Baltic Tech" in response.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "machine"}, ["Machine Learning"]),
        ({"q": "porto"}, ["Machine Learning"]),
        ({"country": "pt"}, ["Machine Learning"]),
        ({"eqf": EQF_7}, ["Machine Learning"]),
        ({"participation": ONLINE}, ["Machine Learning"]),
        ({"isced": "http://data.europa.eu/snb/isced-f/06"}, ["Machine Learning"]),
        ({"ects_max": "3"}, ["Machine Learning"]),
        ({"ects_min": "4"}, ["Data Literacy"]),
        ({"language": "en"}, ["Data Literacy", "Machine Learning"]),
        ({"stacks": "1"}, ["Machine Learning"]),
        ({"institution": "aldermoor"}, ["Data Literacy"]),
    ],
    ids=[
        "text",
        "partner-name",
        "country",
        "eqf",
        "participation",
        "broad-field",
        "ects-max",
        "ects-min",
        "language",
        "stacks",
        "our-institution",
    ],
)
def test_partner_offers_filter_like_ours(client, catalogue, query, expected):
    assert titles(client, **query) == expected


def test_a_partner_offer_page_lays_out_the_eleven_elements_and_links_the_original(
    client, catalogue
):
    offer = catalogue["remote"]
    response = client.get(reverse("exchange:partner_offer_public", args=[offer.public_id]))
    assert response.status_code == 200
    for number in range(1, 12):
        assert f"<dt>{number}. " in response.text
    assert "Interpret descriptive statistics in policy reports." in response.text
    assert "Level 7" in response.text or "EQF" in response.text
    assert f'href="{offer.remote_id}"' in response.text
    assert "Offered by a partner of Aldermoor" in response.text


def test_an_adopted_offer_says_for_how_many_ects_it_is_recognised(client, catalogue):
    PartnerOffer.objects.filter(pk=catalogue["remote"].pk).update(
        adopted_at=timezone.now(), recognised_ects=Decimal("2.5")
    )
    page = client.get(
        reverse("exchange:partner_offer_public", args=[catalogue["remote"].public_id])
    )
    assert "Recognised by Aldermoor for 2.5 ECTS" in page.text
    assert (
        "Recognised by Aldermoor for 2.5 ECTS" in client.get(reverse("credentials:catalogue")).text
    )


def test_a_withdrawn_offer_has_no_public_page(client, catalogue):
    url = reverse("exchange:partner_offer_public", args=[catalogue["withdrawn"].public_id])
    assert client.get(url).status_code == 404


def test_the_catalogue_with_partner_offers_answers_in_a_fixed_number_of_queries(
    client, catalogue, django_assert_max_num_queries
):
    for n in range(10):
        offer_of(catalogue["porto"], title=f"Remote {n}")
        MicroCredentialFactory(institution=catalogue["home"])
    # A count and a page from one UNION, our rows, partners' rows with their copies, the
    # institutions of the filter.
    with django_assert_max_num_queries(5):
        client.get(reverse("credentials:catalogue"))


def test_the_institution_page_still_lists_only_its_own_offers(client, catalogue):
    response = client.get(reverse("institutions:public", kwargs={"slug": "aldermoor"}))
    assert "Data Literacy" in response.text
    assert "Machine Learning" not in response.text


def test_a_feed_page_takes_two_queries_however_many_items(django_assert_num_queries):
    home = InstitutionFactory(slug="uni-b")
    partner = partner_of(home)
    for _ in range(12):
        spec = MicroCredentialFactory(institution=home)
        MicroCredentialVersion.objects.create(
            micro_credential=spec, number=1, snapshot=documents.specification_snapshot(spec)
        )
    with django_assert_num_queries(2):
        page = catalogue_sync.catalogue_feed_page(
            partner=partner, feed_url="https://x/feed", modified_since=None, after=None, limit=10
        )
    received = catalogue_feed.parse_page(page.body)
    assert len(received.items) == 10
    assert received.next_url is not None
