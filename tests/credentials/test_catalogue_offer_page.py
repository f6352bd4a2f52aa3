"""An offer page answers a prospective learner's questions: how to enrol, when, cost,
language, mode and place, everything staff entered, in words for someone considering it;
the comparison shows what differs; the filters say what they did not understand."""

import json
import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from credentials.catalogue import offers as catalogue_offers
from credentials.catalogue import practical
from credentials.models import MicroCredential
from institutions.models import Role
from tests.factories import (
    BLENDED,
    EQF_6,
    INSTITUTIONAL_EVALUATION,
    WRITTEN_EXAMINATION,
    InstitutionFactory,
    MembershipFactory,
    MicroCredentialFactory,
)

pytestmark = pytest.mark.django_db

WORKBASED = "http://data.europa.eu/snb/learning-assessment/729f3bed4b"
SKILL = "http://data.europa.eu/esco/skill/7dd94ad3-13d6-43fe-8b94-51fcbf67ced9"

PRACTICAL = {
    "enrolment_url": "https://aldermoor.example/enrol/data-literacy",
    "enrolment_contact": "study-office@aldermoor.example",
    "start_dates": ["2027-03-01", "2027-09-06"],
    "duration_amount": 6,
    "duration_unit": "weeks",
    "schedule": "Tuesday evenings, 18:00 to 21:00",
    "cost": "fee",
    "price": Decimal("250.00"),
    "currency": "EUR",
    "cost_note": "Half price for alumni",
    "instruction_languages": ["en", "nl"],
    "place": "Utrecht, Science Park campus",
}


@pytest.fixture
def offer():
    institution = InstitutionFactory(name="Aldermoor", slug="aldermoor", country="NL")
    return MicroCredentialFactory(
        institution=institution,
        title="Data Literacy",
        prerequisites="Secondary-school mathematics.",
        criteria="A policy memo graded against a published rubric.",
        further_information="Taught with the city's statistics office.",
        further_information_url="https://aldermoor.example/data-literacy",
        **PRACTICAL,
    )


def page(client, micro_credential) -> str:
    url = reverse("credentials:offer", kwargs={"public_id": micro_credential.public_id})
    response = client.get(url)
    assert response.status_code == 200
    return response.text


def course_markup(text: str) -> dict:
    found = re.search(
        r'<script type="application/ld\+json" nonce="[^"]*">(.+?)</script>', text, re.S
    )
    assert found is not None
    return json.loads(found.group(1))


# Practical information -----------------------------------------------------------------------


def test_the_offer_page_says_how_to_enrol_when_what_it_costs_and_where(client, offer):
    text = page(client, offer)
    assert 'href="https://aldermoor.example/enrol/data-literacy"' in text
    assert 'href="mailto:study-office@aldermoor.example"' in text
    assert "1 March 2027, 6 September 2027" in text
    assert "6 weeks" in text
    assert "Tuesday evenings, 18:00 to 21:00" in text
    assert "250.00 EUR — Half price for alumni" in text
    assert "English, Dutch" in text  # languages by name, not code
    assert "Partly online, partly on site (official term: Blended)" in text
    assert "Utrecht, Science Park campus" in text


def test_an_offer_that_starts_any_time_and_is_free_says_so(client):
    offer = MicroCredentialFactory(starts_any_time=True, cost="free")
    text = page(client, offer)
    assert "Any time: start when you are ready" in text
    assert "<dd>Free</dd>" in text


def test_the_course_markup_has_a_course_instance_with_mode_place_dates_price_and_language(
    client, offer
):
    course = course_markup(page(client, offer))
    assert course["@context"] == "https://schema.org"
    assert course["@type"] == "Course"
    instances = course["hasCourseInstance"]
    assert [instance["startDate"] for instance in instances] == ["2027-03-01", "2027-09-06"]
    first = instances[0]
    assert first["@type"] == "CourseInstance"
    assert first["courseMode"] == "blended"
    assert first["location"] == {"@type": "Place", "name": "Utrecht, Science Park campus"}
    assert first["courseSchedule"]["@type"] == "Schedule"
    assert first["courseSchedule"]["duration"] == "P6W"
    assert first["courseSchedule"]["description"] == "Tuesday evenings, 18:00 to 21:00"
    assert first["offers"]["@type"] == "Offer"
    assert first["offers"]["price"] == 250.0
    assert first["offers"]["priceCurrency"] == "EUR"
    assert first["inLanguage"] == ["en", "nl"]


def test_a_free_offer_is_priced_zero_in_the_markup():
    offer = MicroCredentialFactory(cost="free", form_of_participation=WORKBASED)
    instance = catalogue_offers.course_json_ld(offer)["hasCourseInstance"][0]
    assert instance["offers"]["price"] == 0
    assert instance["offers"]["category"] == "Free"
    assert "courseMode" not in instance  # schema.org has no term for work-based learning


def test_practical_information_is_not_part_of_what_a_credential_attests():
    """Dates and fees change with each intake: editing them makes no new version."""
    from credentials import documents

    offer = MicroCredentialFactory(**PRACTICAL)
    snapshot = documents.specification_snapshot(offer)
    assert not {"enrolment_url", "start_dates", "price", "place"} & set(snapshot)


# Everything staff entered --------------------------------------------------------------------


def test_the_offer_page_shows_prerequisites_criteria_further_information_and_skills(client, offer):
    text = page(client, offer)
    assert "Secondary-school mathematics." in text
    assert "A policy memo graded against a published rubric." in text
    assert "Taught with the city&#x27;s statistics office." in text
    assert 'href="https://aldermoor.example/data-literacy"' in text
    skills = re.search(r'<ul class="skills"[^>]*>(.+?)</ul>', text, re.S)
    assert skills is not None, "the ESCO skills are listed where people can see them"
    assert f'href="{SKILL}"' in skills.group(1)
    assert "think critically" in skills.group(1)
    # The ESCO notice sits right after the skills it is about.
    assert text.index("esco-attribution") > text.index('<ul class="skills"')
    assert text.index("esco-attribution") < text.index("What the credential will say")


def test_an_offer_without_skills_does_not_show_the_esco_notice(client):
    offer = MicroCredentialFactory(learning_outcomes=[{"text": "Read a chart.", "esco": []}])
    assert "esco-attribution" not in page(client, offer)


# Explanations for someone considering it -----------------------------------------------------


def test_explanations_speak_to_someone_considering_the_offer(client, offer):
    text = page(client, offer)
    assert "What you will be able to do once you pass." in text
    assert "Who assesses you and how" in text
    assert "You, once you pass" in text
    for holder_wording in (
        "The institution that assessed you",
        "Who earned it",
        "How your learning was checked",
        "What you know and can do",
    ):
        assert holder_wording not in text


def test_eu_list_labels_get_a_plain_label_with_the_official_term(client):
    offer = MicroCredentialFactory(form_of_participation=WORKBASED)
    text = page(client, offer)
    assert "At a workplace (official term: Workbased)" in text
    assert (
        "The institution&#x27;s quality system is checked by an external agency "
        "(official term: Institutional evaluation)" in text
    )


# Comparison ----------------------------------------------------------------------------------


def compare(client, *micro_credentials) -> str:
    return client.get(
        reverse("credentials:compare"),
        {"offer": [str(mc.public_id) for mc in micro_credentials]},
    ).text


def test_comparison_groups_what_is_the_same_for_every_offer(client):
    first, second = MicroCredentialFactory(ects=5), MicroCredentialFactory(ects=3)
    text = compare(client, first, second)
    table = text[text.index("<table>") : text.index("</table>")]
    assert "Learner" not in table
    assert "Workload" in table
    same = text[text.index("Same for all") :]
    assert "1. Learner" in same and "You, once you pass" in same


def test_ticking_a_fourth_offer_says_the_limit(client):
    four = [MicroCredentialFactory(ects=n) for n in (1, 2, 3, 4)]
    text = compare(client, *four)
    assert "Up to 3 offers can be compared side by side" in text
    shown = text[text.index("<table>") : text.index("</table>")]
    assert str(four[2].public_id) in shown
    assert str(four[3].public_id) not in shown


def test_three_offers_compare_without_a_limit_message(client):
    text = compare(client, *[MicroCredentialFactory(ects=n) for n in (1, 2, 3)])
    assert "can be compared side by side" not in text


# Filters -------------------------------------------------------------------------------------


def catalogue(client, **query) -> str:
    return client.get(reverse("credentials:catalogue"), query).text


def test_a_number_not_understood_is_said_and_the_filter_ignored(client):
    MicroCredentialFactory(title="Small", ects=1)
    text = catalogue(client, ects_min="abc")
    assert "ECTS minimum must be a number" in text
    assert "Small" in text


def test_a_country_typed_by_name_is_understood(client):
    MicroCredentialFactory(title="Dutch course", institution=InstitutionFactory(country="NL"))
    MicroCredentialFactory(title="Nigerien course", institution=InstitutionFactory(country="NE"))
    text = catalogue(client, country="Netherlands")
    assert "Dutch course" in text
    assert "Nigerien course" not in text
    assert "not understood" not in text
    assert '<option value="NL" selected>Netherlands</option>' in text


def test_a_country_not_understood_is_explained(client):
    MicroCredentialFactory(title="Anything")
    text = catalogue(client, country="Narnia")
    assert "We do not know the country “Narnia”" in text
    assert "Anything" in text


def test_countries_are_chosen_by_name(client):
    text = catalogue(client)
    assert re.search(r'<select id="country" name="country">', text)
    assert '<option value="LT" >Lithuania</option>' in text


def test_the_mode_filter_uses_plain_labels_with_the_official_term(client):
    text = catalogue(client)
    assert f'<option value="{WORKBASED}" >At a workplace (official term: Workbased)' in text


# Editing -------------------------------------------------------------------------------------


def editor_post(**overrides: str) -> dict[str, str]:
    data = {
        "language": "en",
        "title": "Circular Economy Basics",
        "description": "Materials, loops and business models of a circular economy.",
        "ects": "2.5",
        "eqf_level": EQF_6,
        "assessment_type": WRITTEN_EXAMINATION,
        "form_of_participation": BLENDED,
        "quality_assurance": INSTITUTIONAL_EVALUATION,
        "outcomes-TOTAL_FORMS": "1",
        "outcomes-INITIAL_FORMS": "0",
        "outcomes-MIN_NUM_FORMS": "1",
        "outcomes-MAX_NUM_FORMS": "1000",
        "outcomes-0-text": "Explain the material loops of a circular product.",
        "outcomes-0-skills": "",
        "translations-TOTAL_FORMS": "0",
        "translations-INITIAL_FORMS": "0",
        "translations-MIN_NUM_FORMS": "0",
        "translations-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


@pytest.fixture
def editor(logged_in):
    membership = MembershipFactory(role=Role.ISSUER)
    url = reverse("credentials:micro_credential_new", kwargs={"slug": membership.institution.slug})
    client = logged_in(membership.user)
    return lambda **fields: client.post(url, editor_post(**fields), follow=True)


def test_staff_enter_the_practical_information_in_the_editor(editor):
    response = editor(
        enrolment_url="https://example.org/enrol",
        enrolment_contact="Write to the study office",
        start_dates="2027-09-06\n2027-03-01, 2027-03-01",
        duration_amount="3",
        duration_unit="days",
        schedule="Mornings",
        cost="fee",
        price="99.50",
        currency="eur",
        cost_note="",
        place="Ghent",
    )
    assert "Saved Circular Economy Basics." in response.text
    saved = MicroCredential.objects.get()
    assert saved.start_dates == ["2027-03-01", "2027-09-06"]
    assert (saved.price, saved.currency, saved.duration_unit) == (Decimal("99.50"), "EUR", "days")
    assert saved.enrolment_url == "https://example.org/enrol"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"enrolment_url": "javascript:alert(1)"}, "Enter a valid URL."),
        ({"enrolment_url": "ftp://example.org/enrol"}, "Enter a valid URL."),
        ({"start_dates": "2027-02-30"}, "2027-02-30 is not a date."),
        ({"start_dates": "next spring"}, "next is not a date."),
        ({"cost": "fee", "price": "-5", "currency": "EUR"}, "greater than or equal to 0"),
        ({"cost": "fee", "price": "10", "currency": "EURO"}, "Ensure this value has at most 3"),
        ({"cost": "fee", "price": "10", "currency": "ABC"}, "ABC is not a currency code."),
        ({"cost": "fee", "price": "", "currency": "EUR"}, "Give the fee, or choose free or"),
        ({"cost": "free", "price": "10"}, "to state an amount."),
        ({"duration_amount": "4"}, "days, weeks or months"),
        ({"starts_any_time": "on", "start_dates": "2027-03-01"}, "but not both"),
    ],
    ids=[
        "script-url",
        "ftp-url",
        "impossible-date",
        "words-for-a-date",
        "negative-fee",
        "currency-too-long",
        "unknown-currency",
        "fee-without-amount",
        "amount-when-free",
        "duration-without-unit",
        "dates-and-any-time",
    ],
)
def test_the_editor_refuses_practical_information_that_is_wrong(editor, fields, message):
    response = editor(**fields)
    assert message in response.text
    assert not MicroCredential.objects.exists()


def test_feed_summary_round_trips_the_practical_information():
    offer = MicroCredentialFactory.build(**PRACTICAL, form_of_participation=BLENDED)
    given = practical.from_micro_credential(offer)
    summary = practical.feed_summary(given)
    assert summary["price"] == "250.00"
    assert summary["duration"] == "P6W"
    received = practical.from_feed_summary(summary, participation="e92d221e4d")
    assert received == given
    assert received.start_dates == (date(2027, 3, 1), date(2027, 9, 6))
