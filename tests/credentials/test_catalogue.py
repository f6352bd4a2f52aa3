import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from credentials.models import MicroCredential
from tests.factories import InstitutionFactory, MicroCredentialFactory

pytestmark = pytest.mark.django_db

EQF_7 = "http://data.europa.eu/snb/eqf/7"
ONLINE = "http://data.europa.eu/snb/learning-assessment/920fbb3cbe"


@pytest.fixture
def offers():
    dutch = InstitutionFactory(name="Aldermoor", slug="aldermoor", country="NL")
    lithuanian = InstitutionFactory(name="Baltic Tech", slug="baltic", country="LT")
    return {
        "data": MicroCredentialFactory(institution=dutch, title="Data Literacy", ects=Decimal(5)),
        "ml": MicroCredentialFactory(
            institution=lithuanian,
            title="Machine Learning",
            ects=Decimal(3),
            eqf_level=EQF_7,
            form_of_participation=ONLINE,
            is_partial=True,
            isced_field="http://data.europa.eu/snb/isced-f/0613",
        ),
        "draft": MicroCredentialFactory(
            institution=dutch, title="Draft Course", status=MicroCredential.Status.DRAFT
        ),
    }


def titles(client, **query) -> list[str]:
    page = client.get(reverse("credentials:catalogue"), query).text
    return re.findall(r'<h2><a href="/catalogue/[^"]+/">([^<]+)</a></h2>', page)


def test_the_catalogue_lists_only_published_offers(client, offers):
    assert titles(client) == ["Data Literacy", "Machine Learning"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "machine"}, ["Machine Learning"]),
        ({"institution": "aldermoor"}, ["Data Literacy"]),
        ({"country": "lt"}, ["Machine Learning"]),
        ({"eqf": EQF_7}, ["Machine Learning"]),
        ({"participation": ONLINE}, ["Machine Learning"]),
        ({"ects_min": "4"}, ["Data Literacy"]),
        ({"ects_max": "3"}, ["Machine Learning"]),
        ({"stacks": "1"}, ["Machine Learning"]),
        ({"isced": "http://data.europa.eu/snb/isced-f/06"}, ["Machine Learning"]),
        ({"ects_min": "lots"}, ["Data Literacy", "Machine Learning"]),
    ],
    ids=[
        "text",
        "institution",
        "country",
        "eqf",
        "participation",
        "ects-min",
        "ects-max",
        "stacks",
        "broad-field",
        "bad-number",
    ],
)
def test_the_catalogue_filters_by_what_learners_look_for(client, offers, query, expected):
    assert titles(client, **query) == expected


def test_an_offer_page_lays_out_the_eleven_elements_and_course_markup(client, offers):
    response = client.get(
        reverse("credentials:offer", kwargs={"public_id": offers["ml"].public_id})
    )
    assert response.status_code == 200
    for number in range(1, 12):
        assert f"<dt>{number}. " in response.text
    markup = re.search(
        r'<script type="application/ld\+json" nonce="[^"]*">(.+?)</script>', response.text, re.S
    )
    assert markup is not None
    course = json.loads(markup.group(1))
    assert course["@type"] == "Course"
    assert course["provider"]["name"] == "Baltic Tech"
    assert course["numberOfCredits"]["value"] == 3.0


def test_a_draft_has_no_public_page(client, offers):
    url = reverse("credentials:offer", kwargs={"public_id": offers["draft"].public_id})
    assert client.get(url).status_code == 404


def test_two_offers_compare_side_by_side(client, offers):
    response = client.get(
        reverse("credentials:compare"),
        {
            "offer": [
                str(offers["data"].public_id),
                str(offers["ml"].public_id),
                str(offers["draft"].public_id),
            ]
        },
    )
    # Title, country, awarding body, workload, level and form of participation differ; the
    # learner, date, outcomes, assessment and quality assurance are the same for both.
    assert response.text.count('<th scope="row">') == 6
    assert "Same for all" in response.text
    assert "Data Literacy" in response.text
    assert "Machine Learning" in response.text
    assert "Draft Course" not in response.text


def test_the_catalogue_answers_in_a_fixed_number_of_queries(
    client, offers, django_assert_max_num_queries
):
    for _ in range(10):
        MicroCredentialFactory(institution=offers["data"].institution)
    with django_assert_max_num_queries(6):
        client.get(reverse("credentials:catalogue"))
