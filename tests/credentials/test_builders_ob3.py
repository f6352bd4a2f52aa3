import copy
import dataclasses
import json
import os
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.standards import ob3, signing
from credentials.standards.achievement import (
    Award,
    Holder,
    LearningOutcome,
    QualityAssurance,
    hash_email,
)
from credentials.standards.vocabularies import UnknownConcept
from tests.credentials import builder_samples as samples
from tests.credentials.validation import schema_errors

GOLDEN = Path(__file__).resolve().parent / "golden" / "ob3-data-literacy.json"
# sha256("ana.kowalska@example.eu" + "c0ffee-5a17"), worked out once with `sha256sum`.
SAMPLE_IDENTITY_HASH = "sha256$4e6923ed49b9adcc47def035586816b451795c6e56e6aaa165c7a0c21252e44e"
AWKWARD = "Quote \" and 'apostrophe', back\\slash,\nnew line, tab\t, Ελληνικά, Кириллица, 日本語, عربي, 🎓✨"

ISSUER_KEY = Ed25519PrivateKey.generate()


def build(
    *,
    issuer=samples.ISSUER,
    specification=samples.SPECIFICATION,
    holder=samples.HOLDER,
    award=samples.AWARD,
) -> dict:
    return ob3.build_achievement_credential(
        issuer=issuer, specification=specification, holder=holder, award=award
    )


def build_minimal() -> dict:
    return build(
        issuer=samples.minimal_issuer(),
        specification=samples.minimal_specification(),
        award=samples.minimal_award(),
    )


def sign(document: dict) -> dict:
    return signing.sign_document(
        document,
        private_key=ISSUER_KEY,
        verification_method=samples.VERIFICATION_METHOD,
        created=samples.SIGNED_AT,
    )


def alignments(document: dict, target_type: str) -> list[dict]:
    return [
        alignment
        for alignment in document["credentialSubject"]["achievement"]["alignment"]
        if alignment["targetType"] == target_type
    ]


def alignment_url(document: dict, target_type: str) -> str:
    (alignment,) = alignments(document, target_type)
    return alignment["targetUrl"]


def identity(document: dict, identity_type: str) -> dict:
    (found,) = [
        item
        for item in document["credentialSubject"]["identifier"]
        if item["identityType"] == identity_type
    ]
    return found


# ---------------------------------------------------------------- the 1EdTech schema


def test_a_signed_credential_with_one_status_entry_validates_against_the_1edtech_schema():
    award = dataclasses.replace(samples.AWARD, status=samples.AWARD.status[:1])
    signed = sign(build(award=award))
    assert isinstance(signed["credentialStatus"], dict)
    assert schema_errors(signed) == []


def test_a_signed_minimal_credential_validates_against_the_1edtech_schema():
    assert schema_errors(sign(build_minimal())) == []


def test_with_revocation_and_suspension_the_only_schema_complaint_is_the_status_array():
    # VC 2.0 allows several status entries; OB 3.0 says [0..1] (1EdTech/openbadges-specification#623).
    errors = schema_errors(sign(build()))
    assert len(errors) == 1
    assert errors[0].startswith("$.credentialStatus: ")
    assert "is not of type 'object'" in errors[0]


def test_the_schema_check_rejects_a_credential_without_its_required_issuer():
    broken = sign(build_minimal())
    del broken["issuer"]
    assert any("'issuer' is a required property" in error for error in schema_errors(broken))


def test_the_schema_check_rejects_a_date_without_a_time_zone():
    broken = sign(build_minimal())
    broken["validFrom"] = "2025-06-30T14:05:00"
    assert any(error.startswith("$.validFrom: ") for error in schema_errors(broken))


# ---------------------------------------------------------------- signing and canonical form


def test_the_signed_credential_verifies_with_the_issuers_key():
    result = signing.verify_proof(sign(build()), public_key=ISSUER_KEY.public_key())
    assert result.verified, result


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param(("credentialSubject", "result", 0, "value"), "10", id="grade"),
        pytest.param(("credentialSubject", "achievement", "creditsAvailable"), 50, id="ects"),
        pytest.param(("issuer", "address", "addressCountryCode"), "DE", id="country"),
        pytest.param(("credentialSubject", "identifier", 1, "identityHash"), "Eve", id="learner"),
        pytest.param(("name",), "Data Literacy for Everyone", id="title"),
    ],
)
def test_a_tampered_field_makes_verification_fail(path, value):
    tampered = copy.deepcopy(sign(build()))
    target = tampered
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    result = signing.verify_proof(tampered, public_key=ISSUER_KEY.public_key())
    assert not result.verified
    assert result.failure == signing.Failure.BAD_SIGNATURE


def test_a_credential_signed_by_another_key_does_not_verify():
    result = signing.verify_proof(
        sign(build()), public_key=Ed25519PrivateKey.generate().public_key()
    )
    assert result.failure == signing.Failure.BAD_SIGNATURE


@pytest.mark.parametrize("document", [build(), build_minimal()], ids=["full", "minimal"])
def test_the_credential_canonicalizes_with_no_undefined_term(document):
    canonical = signing.canonicalize(document)
    assert "<https://purl.imsglobal.org/spec/vc/ob/vocab.html#achievementType>" in canonical
    assert "<https://purl.imsglobal.org/spec/vc/ob/vocab.html#alignment>" in canonical


def test_the_strict_canonicalization_would_refuse_a_private_term():
    # The test above could not fail if canonicalize let unknown terms through; it does not.
    document = build_minimal()
    document["credentialSubject"]["achievement"]["ectsCredits"] = 5
    with pytest.raises(signing.CanonicalizationError) as caught:
        signing.canonicalize(document)
    assert caught.value.failure == signing.Failure.UNDEFINED_TERM


def test_the_contexts_are_vc_2_0_and_ob_3_0_3_exactly_and_the_type_is_an_open_badge():
    document = build()
    assert document["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert document["credentialSubject"]["achievement"]["achievementType"] == "MicroCredential"
    assert document["issuer"]["id"] == "did:web:meshe.example:institutions:uni-a"


# ---------------------------------------------------------------- EU elements


def learner_is_identified(document: dict) -> None:
    email = identity(document, "emailAddress")
    assert email == {
        "type": "IdentityObject",
        "identityHash": SAMPLE_IDENTITY_HASH,
        "identityType": "emailAddress",
        "hashed": True,
        "salt": "c0ffee-5a17",
    }
    assert identity(document, "name")["identityHash"] == "Ana Kowalska"


def title_is_given(document: dict) -> None:
    assert document["name"] == "Data Literacy for Public Administration"
    assert document["credentialSubject"]["achievement"]["name"] == document["name"]


def issuer_country_is_given(document: dict) -> None:
    assert document["issuer"]["address"] == {"type": ["Address"], "addressCountryCode": "NL"}


def awarding_body_is_given(document: dict) -> None:
    assert document["issuer"]["id"] == samples.ISSUER.did
    assert document["issuer"]["name"] == "University of Amstelland"
    assert document["issuer"]["otherIdentifier"][0]["identifier"] == "NTRNL-30276874"


def date_of_issuing_is_given(document: dict) -> None:
    assert document["validFrom"] == "2025-06-30T14:05:00Z"
    assert document["awardedDate"] == "2025-06-27T00:00:00Z"


def learning_outcomes_are_given(document: dict) -> None:
    narrative = document["credentialSubject"]["achievement"]["criteria"]["narrative"]
    for number, outcome in enumerate(samples.SPECIFICATION.learning_outcomes, start=1):
        assert f"{number}. {outcome.text['en']}\n" in narrative + "\n"
    assert [a["targetUrl"] for a in alignments(document, "ceasn:Competency")] == [
        samples.THINK_CRITICALLY.uri,
        samples.PERFORM_BUSINESS_ANALYSIS.uri,
        samples.COMMUNICATE_WITH_COMMUNITY.uri,
        samples.DEVELOP_DIGITAL_CONTENT.uri,
        samples.WORK_IN_TEAMS.uri,
    ]


def workload_is_given(document: dict) -> None:
    assert document["credentialSubject"]["achievement"]["creditsAvailable"] == 5
    assert document["credentialSubject"]["creditsEarned"] == 5


def level_is_given(document: dict) -> None:
    assert alignment_url(document, "ext:EQFLevel") == samples.EQF_6


def assessment_type_is_given(document: dict) -> None:
    assert alignment_url(document, "ext:AssessmentType") == samples.WRITTEN_EXAMINATION


def form_of_participation_is_given(document: dict) -> None:
    assert alignment_url(document, "ext:FormOfParticipation") == samples.BLENDED


def quality_assurance_is_given(document: dict) -> None:
    assert alignment_url(document, "ext:QualityAssurance") == samples.PROGRAM_LICENSE


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


def criteria(document: dict) -> str:
    return document["credentialSubject"]["achievement"]["criteria"]["narrative"]


OPTIONAL_ELEMENTS = [
    pytest.param(lambda d: "**Prerequisites:** A bachelor" in criteria(d), id="prerequisites"),
    pytest.param(
        lambda d: bool(alignments(d, "ext:SupervisionAndIdentityVerification")),
        id="supervision-and-identity-verification",
    ),
    pytest.param(lambda d: "result" in d["credentialSubject"], id="grade"),
    pytest.param(
        lambda d: "resultDescription" in d["credentialSubject"]["achievement"],
        id="grade-description",
    ),
    pytest.param(lambda d: bool(alignments(d, "ceterms:Credential")), id="stackability"),
    pytest.param(lambda d: "**Further information:**" in criteria(d), id="further-information"),
    pytest.param(lambda d: "**Grading scheme:**" in criteria(d), id="grading-scheme"),
    pytest.param(lambda d: "**Languages of" in criteria(d), id="languages"),
    pytest.param(lambda d: bool(alignments(d, "ext:LearningSetting")), id="learning-setting"),
    pytest.param(lambda d: bool(alignments(d, "ext:ISCEDF")), id="isced-f-field"),
    pytest.param(lambda d: "fieldOfStudy" in d["credentialSubject"]["achievement"], id="field"),
    pytest.param(lambda d: bool(alignments(d, "ext:QualityAssuranceReport")), id="qa-report"),
    pytest.param(
        lambda d: bool(alignments(d, "ext:InstitutionalQualityAssurance")), id="institution-qa"
    ),
    pytest.param(lambda d: "evidence" in d, id="evidence"),
    pytest.param(lambda d: "validUntil" in d, id="valid-until"),
    pytest.param(lambda d: "credentialStatus" in d, id="status"),
    pytest.param(lambda d: "image" in d["credentialSubject"]["achievement"], id="image"),
    pytest.param(lambda d: "email" in d["issuer"], id="issuer-email"),
    pytest.param(lambda d: "image" in d["issuer"], id="issuer-logo"),
    pytest.param(lambda d: len(d["issuer"]["otherIdentifier"]) == 3, id="schac-and-erasmus"),
]


@pytest.mark.parametrize("is_present", OPTIONAL_ELEMENTS)
def test_an_optional_element_appears_when_given(is_present):
    assert is_present(build())


@pytest.mark.parametrize("is_present", OPTIONAL_ELEMENTS)
def test_an_optional_element_is_absent_when_not_given(is_present):
    assert not is_present(build_minimal())


def test_a_standalone_micro_credential_says_so_in_its_criteria():
    assert "**Stackability:** stand-alone, independent micro-credential" in criteria(
        build_minimal()
    )


def test_the_grade_result_points_at_the_achievements_result_description():
    document = build()
    (description,) = document["credentialSubject"]["achievement"]["resultDescription"]
    (result,) = document["credentialSubject"]["result"]
    assert result["resultDescription"] == description["id"]
    assert result["value"] == "8.5"


def test_the_status_entries_are_bitstring_status_list_entries():
    assert build()["credentialStatus"] == [
        {
            "id": "https://meshe.example/status/uni-a/revocation/1#94567",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "94567",
            "statusListCredential": "https://meshe.example/status/uni-a/revocation/1",
        },
        {
            "id": "https://meshe.example/status/uni-a/suspension/1#94567",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "suspension",
            "statusListIndex": "94567",
            "statusListCredential": "https://meshe.example/status/uni-a/suspension/1",
        },
    ]


def test_an_esco_skill_named_by_two_outcomes_is_aligned_once():
    urls = [a["targetUrl"] for a in alignments(build(), "ceasn:Competency")]
    assert urls.count(samples.THINK_CRITICALLY.uri) == 1


def test_fractional_ects_are_written_as_a_json_number():
    specification = dataclasses.replace(samples.SPECIFICATION, ects=Decimal("2.5"))
    document = build(specification=specification)
    assert document["credentialSubject"]["achievement"]["creditsAvailable"] == 2.5
    assert "**Notional workload:** 2.5 ECTS credits (140 hours)" in criteria(document)


# ---------------------------------------------------------------- texts


def test_multilingual_titles_give_the_english_text_since_ob_3_0_has_no_language_map():
    document = build()
    assert document["name"] == samples.SPECIFICATION.title["en"]
    assert document["credentialSubject"]["achievement"]["inLanguage"] == "en"
    assert "Datageletterdheid" not in json.dumps(document, ensure_ascii=False)


def test_awkward_strings_survive_building_signing_verifying_and_a_json_round_trip():
    specification = dataclasses.replace(
        samples.SPECIFICATION,
        title={"en": AWKWARD},
        learning_outcomes=(LearningOutcome(text={"en": AWKWARD}),),
    )
    holder = Holder(name=AWKWARD, identity_hash=samples.HOLDER.identity_hash, salt="s")
    document = build(specification=specification, holder=holder)
    signed = json.loads(json.dumps(sign(document), ensure_ascii=False))
    assert signing.verify_proof(signed, public_key=ISSUER_KEY.public_key()).verified
    assert signed["name"] == AWKWARD
    assert identity(signed, "name")["identityHash"] == AWKWARD
    assert f"1. {AWKWARD}" in criteria(signed)


# ---------------------------------------------------------------- golden file and determinism


def test_the_sample_credential_equals_the_golden_file_exactly():
    text = json.dumps(build(), indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("MESHE_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_building_twice_gives_the_same_document_and_leaves_the_inputs_alone():
    before = copy.deepcopy(samples.SPECIFICATION)
    assert build() == build()
    assert before == samples.SPECIFICATION


# ---------------------------------------------------------------- inputs


def test_an_unknown_vocabulary_uri_is_refused_with_the_uri_named():
    specification = dataclasses.replace(
        samples.SPECIFICATION, eqf_level="http://data.europa.eu/snb/eqf/9"
    )
    with pytest.raises(UnknownConcept, match="eqf/9"):
        build(specification=specification)


def test_a_uri_from_the_wrong_scheme_is_refused():
    specification = dataclasses.replace(samples.SPECIFICATION, assessment_type=samples.BLENDED)
    with pytest.raises(UnknownConcept, match="learning-assessment"):
        build(specification=specification)


def test_hash_email_matches_ob3_identity_hash_of_the_trimmed_lower_cased_address():
    assert hash_email("ana.kowalska@example.eu", "c0ffee-5a17") == SAMPLE_IDENTITY_HASH
    assert hash_email("  ANA.Kowalska@Example.EU\n", "c0ffee-5a17") == SAMPLE_IDENTITY_HASH
    assert hash_email("ana.kowalska@example.eu", "other-salt") != SAMPLE_IDENTITY_HASH


def test_a_specification_needs_an_english_title():
    with pytest.raises(ValueError, match="English"):
        dataclasses.replace(samples.SPECIFICATION, title={"nl": "Datageletterdheid"})


def test_a_specification_refuses_an_invalid_language_tag():
    with pytest.raises(ValueError, match="language tag"):
        dataclasses.replace(samples.SPECIFICATION, title={"en": "Title", "english (uk)": "T"})


@pytest.mark.parametrize("ects", [Decimal(0), Decimal(-5), Decimal("NaN")])
def test_a_specification_needs_a_positive_ects_workload(ects):
    with pytest.raises(ValueError, match="ects"):
        dataclasses.replace(samples.SPECIFICATION, ects=ects)


def test_a_specification_stacking_into_another_must_be_partial():
    with pytest.raises(ValueError, match="is_partial"):
        dataclasses.replace(samples.SPECIFICATION, is_partial=False)


def test_a_quality_assurance_agency_needs_a_country():
    with pytest.raises(ValueError, match="country"):
        QualityAssurance(type_uri=samples.PROGRAM_LICENSE, agency_name="NVAO")


def test_an_award_needs_utc_datetimes():
    with pytest.raises(ValueError, match="issued_at"):
        dataclasses.replace(samples.AWARD, issued_at=datetime(2025, 6, 30, 14, 5))
    with pytest.raises(ValueError, match="issued_at"):
        dataclasses.replace(
            samples.AWARD,
            issued_at=datetime(2025, 6, 30, 14, 5, tzinfo=timezone(timedelta(hours=2))),
        )


def test_an_award_has_at_most_one_status_entry_per_purpose():
    with pytest.raises(ValueError, match="one status entry per purpose"):
        dataclasses.replace(
            samples.AWARD, status=(samples.AWARD.status[0], samples.AWARD.status[0])
        )


def test_an_award_ends_after_it_starts():
    with pytest.raises(ValueError, match="after"):
        Award(
            credential_id=samples.AWARD.credential_id,
            public_url=samples.AWARD.public_url,
            issued_at=datetime(2025, 6, 30, tzinfo=UTC),
            awarded_date=date(2025, 6, 27),
            valid_until=datetime(2025, 6, 29, tzinfo=UTC),
        )


def test_valid_from_defaults_to_the_moment_of_issue_but_can_be_later():
    later = datetime(2025, 9, 1, tzinfo=UTC)
    assert build(award=samples.minimal_award())["validFrom"] == "2025-06-30T14:05:00Z"
    award = dataclasses.replace(samples.minimal_award(), valid_from=later)
    assert build(award=award)["validFrom"] == "2025-09-01T00:00:00Z"
