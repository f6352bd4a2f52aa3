import copy
import dataclasses
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import rdflib

from credentials.standards import elm_offer
from tests.credentials import builder_samples as samples
from tests.credentials.validation import (
    LOQ_MDR_SHAPES,
    loq_report,
    loq_shapes,
    loq_violations,
)

OFFER_URL = "https://meshe.example/catalogue/0b0e0f7e-1111-4222-8333-944445555666/"
MODIFIED = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
PRACTICAL = elm_offer.Practical(
    enrolment_url="https://uni-a.example.eu/enrol/data-literacy",
    enrolment_contact="microcredentials@uni-a.example.eu",
    start_dates=(date(2027, 3, 1), date(2027, 9, 6)),
    starts_any_time=True,
    duration="P6W",
    schedule="Tuesday evenings, 18:00 to 21:00.",
    cost="fee",
    price=Decimal("450.00"),
    currency="EUR",
    cost_note="Reduced for alumni.",
    languages=("en", "nl"),
    place="Amstelland city campus",
)
ELM = "http://data.europa.eu/snb/model/elm/"


def build(*, practical=PRACTICAL, issuer=samples.ISSUER, specification=samples.SPECIFICATION):
    return elm_offer.build_learning_opportunity(
        issuer=issuer,
        specification=specification,
        offer=elm_offer.Offer(url=OFFER_URL, language="en", modified=MODIFIED, practical=practical),
    )


def build_minimal():
    return build(
        practical=elm_offer.Practical(),
        issuer=samples.minimal_issuer(),
        specification=samples.minimal_specification(),
    )


def specification(document: dict) -> dict:
    return document["learningAchievementSpecification"]


# ---------------------------------------------------------------- the LOQ shapes


@pytest.mark.parametrize("builder", [build, build_minimal], ids=["full", "minimal"])
def test_the_learning_opportunity_conforms_to_the_loq_shapes(builder):
    conforms, report = loq_report(builder())
    assert conforms, report


@pytest.mark.parametrize("builder", [build, build_minimal], ids=["full", "minimal"])
def test_it_conforms_too_with_the_specification_shape_the_commission_ships_deactivated(builder):
    # LOQ 1.1.0 marks LearningAchievementSpecificationShape sh:deactivated; switched on, it
    # checks the specification (closed, ISCED-F, language, learning outcomes) as well.
    conforms, report = loq_report(builder(), all_active=True)
    assert conforms, report


def test_the_commission_ships_the_specification_shape_deactivated():
    deactivated = set(loq_shapes().subjects(rdflib.SH.deactivated, rdflib.Literal(True)))
    assert {str(shape).rsplit("/", 1)[-1] for shape in deactivated} == {
        "LearningAchievementSpecificationShape"
    }


@pytest.mark.parametrize("builder", [build, build_minimal], ids=["full", "minimal"])
def test_the_vocabulary_shapes_find_nothing_but_their_esco_rule_which_contradicts_esco(builder):
    # LOQ-constraints-mdr.ttl wants an ESCO skill's scheme to match ^https://ec.europa.eu/esco/skill/,
    # which no scheme does: ESCO's own (and edc-generic-full's) is
    # http://data.europa.eu/esco/concept-scheme/skills. Every other -mdr rule holds.
    violations = loq_violations(builder(), shapes=LOQ_MDR_SHAPES)
    assert {path for path, _ in violations} <= {ELM + "relatedESCOSkill"}
    skills = {
        skill["id"]
        for outcome in specification(builder())["learningOutcome"]
        for skill in outcome.get("relatedESCOSkill", [])
    }
    assert {value for _, value in violations} == skills


@pytest.mark.parametrize(
    "path",
    [
        ("providedBy",),
        ("learningAchievementSpecification",),
        (elm_offer.DEFAULT_LANGUAGE,),
        ("homepage",),
        ("learningAchievementSpecification", "learningOutcome"),
        ("learningAchievementSpecification", "thematicArea"),
        ("learningAchievementSpecification", "language"),
        ("learningAchievementSpecification", "learningOutcome", 0, "title"),
        ("priceDetail", 0, "amount", elm_offer.AMOUNT_VALUE),
        ("priceDetail", 0, "amount", "unit"),
    ],
    ids=lambda path: ".".join(str(step) for step in path),
)
def test_a_rendering_without_a_required_property_does_not_conform(path):
    document = copy.deepcopy(build())
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    del parent[path[-1]]
    conforms, _ = loq_report(document, all_active=True)
    assert not conforms


def test_a_property_the_closed_shapes_do_not_know_does_not_conform():
    document = build()
    # EQFLevel belongs to a Qualification; a LearningAchievementSpecification is closed to it.
    specification(document)["eqfLevel"] = specification(document)["educationLevel"]
    conforms, _ = loq_report(document, all_active=True)
    assert not conforms


def test_an_enrolment_link_that_is_not_http_is_refused_by_the_translated_url_rule():
    document = build()
    document["homepage"][0]["contentURL"] = "ftp://uni-a.example.eu/offer"
    conforms, report = loq_report(document)
    assert not conforms
    assert "contentUrl" in report


def test_every_pattern_of_the_loq_shapes_compiles_in_python_after_translation():
    graph = loq_shapes(LOQ_MDR_SHAPES)
    patterns = [str(value) for value in graph.objects(None, rdflib.SH.pattern)]
    assert len(patterns) >= 6
    for pattern in patterns:
        re.compile(pattern)


# ---------------------------------------------------------------- what it says


def test_the_specification_carries_the_eu_elements_of_the_edc():
    spec = specification(build())
    assert spec["id"] == samples.SPECIFICATION.id
    assert spec["type"] == "LearningAchievementSpecification"
    assert spec["creditPoint"]["point"] == "5"
    assert spec["volumeOfLearning"] == "PT140H"
    assert spec["educationLevel"]["id"] == samples.EQF_6
    assert spec["thematicArea"][0]["id"] == samples.ISCED_0413
    assert spec["mode"][0]["id"] == samples.BLENDED
    assert spec["provenBy"][0]["dcType"]["id"] == samples.WRITTEN_EXAMINATION
    assert [skill["id"] for skill in spec["learningOutcome"][0]["relatedESCOSkill"]] == [
        samples.THINK_CRITICALLY.uri,
        samples.PERFORM_BUSINESS_ANALYSIS.uri,
    ]
    assert spec["awardingOpportunity"][0]["awardingBody"] == {"id": samples.ISSUER.did}


def test_the_quality_assurance_is_the_providers_accreditation():
    provider = build()["providedBy"]
    assert provider["id"] == samples.ISSUER.did
    assert provider["accreditation"][0]["dcType"]["id"] == samples.PROGRAM_LICENSE
    assert provider["accreditation"][0]["accreditingAgent"]["legalName"] == {"en": "NVAO"}


def test_the_practical_information_belongs_to_the_opportunity():
    document = build()
    assert document["temporal"]["startDate"] == "2027-03-01T00:00:00Z"
    assert document["duration"] == "P42D"
    assert document["priceDetail"][0]["amount"]["unit"]["id"].endswith("/currency/EUR")
    assert document["priceDetail"][0]["amount"][elm_offer.AMOUNT_VALUE]["@value"] == "450"
    assert document["priceDetail"][0]["description"] == {"en": "Reduced for alumni."}
    assert document["supplementaryDocument"][0]["contentURL"] == PRACTICAL.enrolment_url
    assert document["admissionProcedure"]["noteLiteral"] == {"en": PRACTICAL.enrolment_contact}
    assert document["location"][0]["geographicName"] == {"en": PRACTICAL.place}
    assert [language["id"][-3:] for language in specification(document)["language"]] == [
        "ENG",
        "NLD",
    ]
    assert "2027-09-06" in document["additionalNote"][0]["noteLiteral"]["en"]


def test_an_offer_without_languages_of_instruction_is_taught_in_its_main_language():
    spec = specification(build_minimal())
    assert [language["id"][-3:] for language in spec["language"]] == ["ENG"]
    assert spec["thematicArea"][0]["id"] == elm_offer.ISCED_UNKNOWN


@pytest.mark.parametrize("cost", ["free", "funded"])
def test_a_free_or_funded_offer_has_a_price_without_an_amount(cost):
    document = build(practical=dataclasses.replace(PRACTICAL, cost=cost, price=None, currency=""))
    assert document["priceDetail"][0]["prefLabel"] == {"en": elm_offer.COST_LABELS[cost]}
    assert "amount" not in document["priceDetail"][0]
    conforms, report = loq_report(document)
    assert conforms, report


def test_building_twice_gives_the_same_document():
    assert build() == build()


def test_weeks_become_days_because_xsd_duration_has_no_weeks():
    assert elm_offer.xsd_duration("P6W") == "P42D"
    assert elm_offer.xsd_duration("P3M") == "P3M"
    with pytest.raises(ValueError):
        elm_offer.xsd_duration("P1Y")
