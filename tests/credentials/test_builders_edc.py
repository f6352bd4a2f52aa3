import base64
import copy
import dataclasses
import json
import os
from pathlib import Path

import pytest

from credentials.standards import edc, signing, vocabularies
from credentials.standards.achievement import Holder, LearningOutcome
from credentials.standards.vocabularies import UnknownConcept
from tests.credentials import builder_samples as samples
from tests.credentials.standards_paths import STANDARDS_DIR, read_json
from tests.credentials.validation import shacl_report

GOLDEN = Path(__file__).resolve().parent / "golden" / "edc-data-literacy.json"
EDC_DIR = STANDARDS_DIR / "edc"
AWKWARD = "Quote \" and 'apostrophe', back\\slash,\nnew line, Ελληνικά, Кириллица, 日本語, 🎓✨"


def build(
    *,
    issuer=samples.ISSUER,
    specification=samples.SPECIFICATION,
    holder=samples.HOLDER,
    award=samples.AWARD,
    display_images=samples.DISPLAY_IMAGES,
) -> dict:
    return edc.build_edc_credential(
        issuer=issuer,
        specification=specification,
        holder=holder,
        award=award,
        display_images=display_images,
    )


def build_minimal() -> dict:
    return build(
        issuer=samples.minimal_issuer(),
        specification=samples.minimal_specification(),
        award=samples.minimal_award(),
        display_images=samples.DISPLAY_IMAGES[:1],
    )


def at(document: dict, *path: str | int):
    for step in path:
        document = document[step]
    return document


def claim(document: dict) -> dict:
    return document["credentialSubject"]["hasClaim"]


def qualification(document: dict) -> dict:
    return claim(document)["specifiedBy"]


# ---------------------------------------------------------------- SHACL


@pytest.mark.parametrize("builder", [build, build_minimal], ids=["full", "minimal"])
def test_the_edc_conforms_to_edc_generic_full(builder):
    conforms, report = shacl_report(builder())
    assert conforms, report


def test_the_official_sealed_sample_conforms_with_the_same_harness():
    payload = json.loads(
        read_json(EDC_DIR / "examples" / "elm-Sample-MC-Annex1-signed.jsonld")["payload"]
    )
    conforms, report = shacl_report(payload)
    assert conforms, report


def without(value, key: str):
    """Return a copy of a JSON value with key removed from every object, wherever it is."""
    if isinstance(value, list):
        return [without(item, key) for item in value]
    if isinstance(value, dict):
        return {name: without(item, key) for name, item in value.items() if name != key}
    return value


@pytest.mark.parametrize(
    ("key", "shape"),
    [
        # The issuer is embedded several times (awarding body, accreditation); all copies go.
        pytest.param("eIDASIdentifier", "eidasLegalIdentifier", id="legal-identifier"),
        pytest.param("issued", "cred:issued", id="issued"),
        pytest.param("individualDisplay", "individualDisplay", id="display"),
        pytest.param("grade", "elm:grade", id="grade"),
    ],
)
def test_the_shapes_refuse_an_edc_missing_a_required_part(key, shape):
    conforms, report = shacl_report(without(build_minimal(), key))
    assert not conforms
    assert shape in report


def test_the_shapes_refuse_a_level_from_the_wrong_vocabulary():
    broken = copy.deepcopy(build_minimal())
    qualification(broken)["eqfLevel"]["inScheme"]["id"] = vocabularies.ISCED_F
    conforms, report = shacl_report(broken)
    assert not conforms
    assert "eqf/25831c2" in report


def test_every_term_of_the_edc_is_defined_by_its_contexts():
    document = build()
    assert signing.canonicalize(document)
    document["credentialSubject"]["hasClaim"]["ectsCredits"] = "5"
    with pytest.raises(signing.CanonicalizationError) as caught:
        signing.canonicalize(document)
    assert caught.value.failure == signing.Failure.UNDEFINED_TERM


def test_the_edc_is_the_vc_1_1_europass_flavour():
    document = build()
    assert document["@context"] == [
        "https://www.w3.org/2018/credentials/v1",
        "http://data.europa.eu/snb/model/context/edc-ap",
    ]
    assert document["type"] == ["VerifiableCredential", "EuropeanDigitalCredential"]
    assert document["credentialSchema"] == {
        "id": "http://data.europa.eu/snb/model/ap/edc-generic-full",
        "type": "ShaclValidator2017",
    }
    assert document["credentialProfiles"][0]["id"] == vocabularies.GENERIC_CREDENTIAL


def test_the_vc_2_0_flavour_is_not_valid_json_ld_with_the_edc_context():
    # Why the builder uses VC 1.1: edc-ap redefines `description`, which VC 2.0 protects.
    document = build_minimal()
    document["@context"] = ["https://www.w3.org/ns/credentials/v2", edc.EDC_CONTEXT]
    with pytest.raises(signing.CanonicalizationError, match="protected term"):
        signing.canonicalize(document)


# ---------------------------------------------------------------- EU elements


def learner_is_identified(document: dict) -> None:
    person = document["credentialSubject"]
    assert person["type"] == "Person"
    assert person["fullName"] == {"en": "Ana Kowalska"}
    assert person["identifier"]["notation"] == samples.HOLDER.identity_hash
    assert "'c0ffee-5a17'" in person["identifier"]["schemeName"]


def title_is_given(document: dict) -> None:
    title = samples.SPECIFICATION.title
    assert claim(document)["title"] == title
    assert qualification(document)["title"] == title
    assert document["displayParameter"]["title"] == title


def issuer_country_is_given(document: dict) -> None:
    country = at(document, "issuer", "location", "address", "countryCode")
    assert country["id"] == "http://publications.europa.eu/resource/authority/country/NLD"
    assert country["inScheme"]["id"] == "http://publications.europa.eu/resource/authority/country"


def awarding_body_is_given(document: dict) -> None:
    body = claim(document)["awardedBy"]["awardingBody"]
    assert body["id"] == samples.ISSUER.did
    assert body["legalName"] == {"en": "University of Amstelland"}
    assert body == document["issuer"]


def date_of_issuing_is_given(document: dict) -> None:
    assert document["issued"] == "2025-06-30T14:05:00Z"
    assert claim(document)["awardedBy"]["awardingDate"] == "2025-06-27T00:00:00Z"


def learning_outcomes_are_given(document: dict) -> None:
    outcomes = qualification(document)["learningOutcome"]
    assert [o["title"]["en"] for o in outcomes] == [
        o.text["en"] for o in samples.SPECIFICATION.learning_outcomes
    ]
    assert [s["id"] for s in outcomes[1]["relatedESCOSkill"]] == [
        samples.COMMUNICATE_WITH_COMMUNITY.uri,
        samples.DEVELOP_DIGITAL_CONTENT.uri,
    ]
    assert outcomes[1]["relatedESCOSkill"][0]["inScheme"]["id"] == vocabularies.ESCO_SKILLS


def workload_is_given(document: dict) -> None:
    credit = qualification(document)["creditPoint"]
    assert credit["framework"]["id"] == vocabularies.ECTS
    assert credit["point"] == "5"
    assert qualification(document)["volumeOfLearning"] == "PT140H"


def level_is_given(document: dict) -> None:
    assert qualification(document)["eqfLevel"]["id"] == samples.EQF_6


def assessment_type_is_given(document: dict) -> None:
    assert claim(document)["provenBy"]["specifiedBy"]["dcType"]["id"] == (
        samples.WRITTEN_EXAMINATION
    )


def form_of_participation_is_given(document: dict) -> None:
    assert [mode["id"] for mode in qualification(document)["mode"]] == [samples.BLENDED]


def quality_assurance_is_given(document: dict) -> None:
    (accreditation,) = qualification(document)["accreditation"]
    assert accreditation["dcType"]["id"] == samples.PROGRAM_LICENSE
    assert accreditation["dcType"]["inScheme"]["id"] == vocabularies.ACCREDITATION


MANDATORY_ELEMENTS = [
    pytest.param(learner_is_identified, id="1-identification-of-the-learner"),
    pytest.param(title_is_given, id="2-title"),
    pytest.param(issuer_country_is_given, id="3-country-of-the-issuer"),
    pytest.param(awarding_body_is_given, id="4-awarding-body"),
    pytest.param(date_of_issuing_is_given, id="5-date-of-issuing"),
    pytest.param(learning_outcomes_are_given, id="6-learning-outcomes"),
    pytest.param(workload_is_given, id="7-notional-workload-in-ects"),
    pytest.param(level_is_given, id="8-level-eqf"),
    pytest.param(assessment_type_is_given, id="9-type-of-assessment"),
    pytest.param(form_of_participation_is_given, id="10-form-of-participation"),
    pytest.param(quality_assurance_is_given, id="11-type-of-quality-assurance"),
]


@pytest.mark.parametrize("element_is_present", MANDATORY_ELEMENTS)
def test_every_mandatory_eu_element_is_at_its_mapped_path(element_is_present):
    element_is_present(build())


def test_the_eleven_mandatory_elements_are_all_checked():
    assert len(MANDATORY_ELEMENTS) == 11


OPTIONAL_ELEMENTS = [
    pytest.param(lambda d: "entryRequirement" in qualification(d), id="prerequisites"),
    pytest.param(lambda d: "idVerification" in claim(d)["provenBy"], id="supervision"),
    pytest.param(
        lambda d: claim(d)["provenBy"]["grade"]["noteLiteral"] == {"en": "8.5"}, id="grade"
    ),
    pytest.param(lambda d: "gradingScheme" in claim(d)["provenBy"]["specifiedBy"], id="grading"),
    pytest.param(lambda d: qualification(d)["isPartialQualification"], id="stackability"),
    pytest.param(lambda d: "isPartOf" in qualification(d), id="stackable-into"),
    pytest.param(lambda d: "additionalNote" in qualification(d), id="further-information"),
    pytest.param(lambda d: "supplementaryDocument" in qualification(d), id="further-info-url"),
    pytest.param(lambda d: "learningSetting" in qualification(d), id="learning-setting"),
    pytest.param(lambda d: "thematicArea" in qualification(d), id="isced-f-field"),
    pytest.param(lambda d: "volumeOfLearning" in qualification(d), id="workload-hours"),
    pytest.param(lambda d: "language" in qualification(d), id="languages"),
    pytest.param(lambda d: "additionalNote" in claim(d), id="evidence"),
    pytest.param(lambda d: "validUntil" in d, id="valid-until"),
    pytest.param(lambda d: "identifier" in d["issuer"], id="schac-and-erasmus"),
    pytest.param(lambda d: "contactPoint" in d["issuer"], id="issuer-email"),
    pytest.param(
        lambda d: "description" in qualification(d)["accreditation"][0], id="qa-description"
    ),
    pytest.param(lambda d: "landingPage" in qualification(d)["accreditation"][0], id="qa-url"),
    pytest.param(lambda d: "report" in qualification(d)["accreditation"][0], id="issuer-qa"),
    pytest.param(
        lambda d: (
            qualification(d)["accreditation"][0]["accreditingAgent"]["id"] != samples.ISSUER.did
        ),
        id="qa-agency",
    ),
]


@pytest.mark.parametrize("is_present", OPTIONAL_ELEMENTS)
def test_an_optional_element_appears_when_given(is_present):
    assert is_present(build())


@pytest.mark.parametrize("is_present", OPTIONAL_ELEMENTS)
def test_an_optional_element_is_absent_when_not_given(is_present):
    assert not is_present(build_minimal())


def test_an_ungraded_award_states_passed_because_elm_requires_a_grade():
    assert claim(build_minimal())["provenBy"]["grade"]["noteLiteral"] == {"en": "Passed"}


def test_without_a_qa_agency_the_issuer_assures_its_own_offer():
    agent = qualification(build_minimal())["accreditation"][0]["accreditingAgent"]
    assert agent["id"] == samples.ISSUER.did


def test_status_is_left_out_because_the_shapes_want_a_literal_uri():
    assert "credentialStatus" not in build()


# ---------------------------------------------------------------- the learner's privacy


def test_the_learners_email_address_is_not_in_the_edc():
    text = json.dumps(build(), ensure_ascii=False).lower()
    assert samples.LEARNER_EMAIL.strip().lower() not in text
    assert "kowalska@" not in text


# ---------------------------------------------------------------- texts and display


def test_multilingual_titles_and_outcomes_keep_every_language():
    document = build()
    assert claim(document)["title"] == {
        "en": "Data Literacy for Public Administration",
        "nl": "Datageletterdheid voor de publieke sector",
    }
    assert set(qualification(document)["learningOutcome"][0]["title"]) == {"en", "nl"}
    assert [
        language["id"].rsplit("/", 1)[1] for language in qualification(document)["language"]
    ] == [
        "ENG",
        "NLD",
    ]


def test_the_display_carries_one_rendering_per_language_with_english_primary():
    display = build()["displayParameter"]
    assert display["primaryLanguage"]["id"].endswith("/language/ENG")
    assert [d["language"]["notation"] for d in display["individualDisplay"]] == ["ENG", "NLD"]
    image = display["individualDisplay"][0]["displayDetail"][0]["image"]
    assert base64.b64decode(image["content"]) == samples.DISPLAY_IMAGES[0].content
    assert image["contentType"]["id"].endswith("/file-type/PNG")


def test_an_edc_without_a_rendering_is_refused():
    with pytest.raises(ValueError, match="display_images"):
        build(display_images=())


def test_awkward_strings_survive_and_the_edc_still_conforms():
    specification = dataclasses.replace(
        samples.SPECIFICATION,
        title={"en": AWKWARD, "el": "Ελληνικά 🎓"},
        learning_outcomes=(LearningOutcome(text={"en": AWKWARD}),),
    )
    holder = Holder(name=AWKWARD, identity_hash=samples.HOLDER.identity_hash, salt="s")
    document = json.loads(
        json.dumps(build(specification=specification, holder=holder), ensure_ascii=False)
    )
    assert claim(document)["title"] == {"en": AWKWARD, "el": "Ελληνικά 🎓"}
    assert document["credentialSubject"]["fullName"] == {"en": AWKWARD}
    conforms, report = shacl_report(document)
    assert conforms, report


# ---------------------------------------------------------------- golden file and determinism


def test_the_sample_edc_equals_the_golden_file_exactly():
    text = json.dumps(build(), indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("MESHE_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_nodes_that_share_an_id_are_described_identically():
    described: dict[str, dict] = {}

    def walk(value) -> None:
        if isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            if "id" in value and len(value) > 1:
                assert described.setdefault(value["id"], value) == value, value["id"]
            for item in value.values():
                walk(item)

    walk(build())
    assert samples.ISSUER.did in described
    assert len([node for node in described if node.startswith("urn:uuid:")]) > 20


def test_an_unknown_country_is_refused():
    issuer = dataclasses.replace(samples.ISSUER, country_code="US")
    with pytest.raises(UnknownConcept, match="'US'"):
        build(issuer=issuer)
