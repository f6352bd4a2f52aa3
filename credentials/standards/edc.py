"""European Digital Credentials (ELM v3, edc-ap context) for EU micro-credentials.

The document follows the official micro-credential sample (ELM `Sample-MC-Annex1`) and conforms
to the `edc-generic-full` SHACL shapes. It is the Europass flavour: VC Data Model 1.1 context
plus edc-ap. The EBSI flavour (VC 2.0 context) is not usable: edc-ap redefines `description`,
which VC 2.0 protects, so a JSON-LD processor refuses it, and VC 2.0 has no `issued`, which the
shapes require.

| # | EU element | JSON path in the EDC |
|---|---|---|
| 1 | Identification of the learner | `credentialSubject` (Person): `fullName`; `identifier` (OB 3.0 salted e-mail hash, never the address) |
| 2 | Title | `credentialSubject.hasClaim.title`, `hasClaim.specifiedBy.title`, `displayParameter.title` |
| 3 | Country of the issuer | `issuer.location.address.countryCode` (EU country table, alpha-3), `issuer.eIDASIdentifier.spatial` |
| 4 | Awarding body | `hasClaim.awardedBy.awardingBody` (the issuer Organisation) |
| 5 | Date of issuing | `issued` (+ `issuanceDate`, `validFrom`), `hasClaim.awardedBy.awardingDate` |
| 6 | Learning outcomes | `hasClaim.specifiedBy.learningOutcome[]`: `title`, `relatedESCOSkill[]` |
| 7 | Notional workload | `hasClaim.specifiedBy.creditPoint` (ECTS framework, `point`), `volumeOfLearning` (ISO 8601 hours); `hasClaim.creditReceived` |
| 8 | Level | `hasClaim.specifiedBy.eqfLevel` |
| 9 | Type of assessment | `hasClaim.provenBy.specifiedBy.dcType` |
| 10 | Form of participation | `hasClaim.specifiedBy.mode` (+ `learningSetting`) |
| 11 | Type of quality assurance | `hasClaim.specifiedBy.accreditation.dcType` (+ `landingPage`, `report`, `accreditingAgent`) |
| opt | Prerequisites | `hasClaim.specifiedBy.entryRequirement` |
| opt | Supervision and identity verification | `hasClaim.provenBy.idVerification` |
| opt | Grade | `hasClaim.provenBy.grade` (+ `provenBy.specifiedBy.gradingScheme`) |
| opt | Stackability | `hasClaim.specifiedBy.isPartialQualification`, `isPartOf[]` |
| opt | Further information | `hasClaim.specifiedBy.additionalNote[]`, `supplementaryDocument` |

What the shapes force: ELM requires a grade on every LearningAssessment, so an award without one
states "Passed" (an award implies it). `credentialStatus` is left out because the shapes want it
to be a literal URI, while both VC contexts make it a node; the OB 3.0 credential carries status.
An EDC must embed a rendering of itself (DisplayDetail.image), given as `display_images`.
"""

import base64
from collections.abc import Sequence
from typing import Any, Final

from credentials.standards import elm, vocabularies
from credentials.standards.achievement import (
    PRIMARY_LANGUAGE,
    Award,
    DisplayImage,
    Holder,
    Issuer,
    Specification,
    xsd_date_time,
)

CREDENTIALS_V1_CONTEXT: Final = "https://www.w3.org/2018/credentials/v1"
EDC_CONTEXT: Final = elm.EDC_CONTEXT
CREDENTIAL_TYPE: Final = ["VerifiableCredential", "EuropeanDigitalCredential"]
SHACL_SCHEMA: Final = "http://data.europa.eu/snb/model/ap/edc-generic-full"
FILE_TYPES: Final = {
    "image/png": "http://publications.europa.eu/resource/authority/file-type/PNG",
    "image/jpeg": "http://publications.europa.eu/resource/authority/file-type/JPEG",
}
GRADE_WHEN_UNGRADED: Final = "Passed"
HASH_SCHEME: Final = (
    "Open Badges 3.0 identityHash: SHA-256 of the trimmed, lower-cased e-mail address"
    " followed by the salt {salt!r}"
)


def build_edc_credential(
    *,
    issuer: Issuer,
    specification: Specification,
    holder: Holder,
    award: Award,
    display_images: Sequence[DisplayImage],
) -> dict[str, Any]:
    """Return the unsigned EDC of an award; deterministic, raises UnknownConcept or ValueError.

    It conforms to edc-generic-full once the issuer has a legal identifier (Issuer requires one).
    Node identifiers are name-based UUIDs of the credential, specification or issuer they belong
    to, so building twice gives the same document.
    """
    if not display_images:
        raise ValueError("an EDC needs at least one rendering of the credential (display_images)")
    spec = specification
    organisation = elm.organisation(issuer)
    awarding = {
        "id": elm.node(award.credential_id, "awarding-process"),
        "type": "AwardingProcess",
        "awardingBody": organisation,
        "awardingDate": xsd_date_time(award.awarded_date),
    }
    achievement: dict[str, Any] = {
        "id": elm.node(award.credential_id, "learning-achievement"),
        "type": "LearningAchievement",
        "title": elm.texts(spec.title),
        "description": elm.texts(spec.description),
        "awardedBy": awarding,
        "provenBy": _assessment(specification=spec, award=award, awarding=awarding),
        "specifiedBy": _qualification(issuer=issuer, specification=spec),
        "creditReceived": elm.credit_point(spec, elm.node(award.credential_id, "credit-received")),
    }
    documents = [elm.web_resource(award.public_url, elm.node(award.credential_id, "public-page"))]
    notes = []
    for number, item in enumerate(award.evidence, start=1):
        if item.url:
            resource = elm.web_resource(
                item.url, elm.node(award.credential_id, f"evidence-{number}")
            )
            if item.name:
                resource["title"] = {PRIMARY_LANGUAGE: item.name}
            documents.append(resource)
        notes.append(
            elm.note(
                {PRIMARY_LANGUAGE: item.narrative}, elm.node(award.credential_id, f"note-{number}")
            )
        )
    achievement["supplementaryDocument"] = documents
    if notes:
        achievement["additionalNote"] = notes

    person = {
        "id": elm.node(award.credential_id, "person"),
        "type": "Person",
        "fullName": {PRIMARY_LANGUAGE: holder.name},
        "identifier": {
            "id": elm.node(award.credential_id, "person-identifier"),
            "type": "Identifier",
            "notation": holder.identity_hash,
            "schemeName": HASH_SCHEME.format(salt=holder.salt),
        },
        "hasClaim": achievement,
    }

    credential: dict[str, Any] = {
        "@context": [CREDENTIALS_V1_CONTEXT, EDC_CONTEXT],
        "id": award.credential_id,
        "type": list(CREDENTIAL_TYPE),
        "credentialProfiles": [elm.concept(vocabularies.concept(vocabularies.GENERIC_CREDENTIAL))],
        "credentialSchema": {"id": SHACL_SCHEMA, "type": "ShaclValidator2017"},
        "issuer": organisation,
        "issuanceDate": xsd_date_time(award.issued_at),
        "issued": xsd_date_time(award.issued_at),
        "validFrom": xsd_date_time(award.starts),
    }
    if award.valid_until is not None:
        credential["validUntil"] = xsd_date_time(award.valid_until)
        credential["expirationDate"] = xsd_date_time(award.valid_until)
    credential["credentialSubject"] = person
    credential["displayParameter"] = _display(
        specification=spec, award=award, display_images=display_images
    )
    return credential


# ---------------------------------------------------------------- the claim


def _qualification(*, issuer: Issuer, specification: Specification) -> dict[str, Any]:
    """Return the specification as an ELM Qualification, the class that carries EQF and QA."""
    spec = specification
    stackability: dict[str, Any] = {"isPartialQualification": spec.is_partial}
    if spec.part_of:
        stackability["isPartOf"] = [
            {"id": reference.url, "type": "Qualification", "title": elm.texts(reference.title)}
            for reference in spec.part_of
        ]
    stackability["accreditation"] = [elm.accreditation(issuer=issuer, specification=spec)]
    return {
        "id": spec.id,
        "type": "Qualification",
        **elm.specification_properties(spec, level_property="eqfLevel", between=stackability),
    }


def _assessment(
    *, specification: Specification, award: Award, awarding: dict[str, Any]
) -> dict[str, Any]:
    """Return the LearningAssessment the learner passed, with its type, grade and supervision."""
    spec = specification
    assessment_spec: dict[str, Any] = {
        "id": elm.node(spec.id, "assessment-specification"),
        "type": "LearningAssessmentSpecification",
        "title": elm.texts(spec.title),
        "dcType": elm.concept(
            vocabularies.concept(spec.assessment_type, scheme=vocabularies.ASSESSMENT)
        ),
    }
    if spec.languages:
        assessment_spec["language"] = [
            elm.concept(vocabularies.language(tag)) for tag in spec.languages
        ]
    if spec.grading_scheme is not None:
        assessment_spec["gradingScheme"] = {
            "id": elm.node(spec.id, "grading-scheme"),
            "type": "GradingScheme",
            "title": elm.texts(spec.grading_scheme),
        }
    assessment: dict[str, Any] = {
        "id": elm.node(award.credential_id, "learning-assessment"),
        "type": "LearningAssessment",
        "title": elm.texts(spec.title),
        "grade": elm.note(
            {PRIMARY_LANGUAGE: award.grade if award.grade is not None else GRADE_WHEN_UNGRADED},
            elm.node(award.credential_id, "grade"),
        ),
    }
    if spec.supervision_verification is not None:
        assessment["idVerification"] = elm.concept(
            vocabularies.concept(spec.supervision_verification, scheme=vocabularies.SUPERVISION)
        )
    assessment["awardedBy"] = awarding
    assessment["specifiedBy"] = assessment_spec
    return assessment


# ---------------------------------------------------------------- display


def _display(
    *, specification: Specification, award: Award, display_images: Sequence[DisplayImage]
) -> dict[str, Any]:
    """Return the DisplayParameter: titles, languages and the embedded renderings by language."""
    languages = list(dict.fromkeys([*specification.title, *(i.language for i in display_images)]))
    individual = []
    for tag in dict.fromkeys(image.language for image in display_images):
        pages = sorted(
            (image for image in display_images if image.language == tag), key=lambda i: i.page
        )
        individual.append(
            {
                "id": elm.node(award.credential_id, f"display-{tag}"),
                "type": "IndividualDisplay",
                "language": elm.concept(vocabularies.language(tag)),
                "displayDetail": [
                    {
                        "id": elm.node(award.credential_id, f"display-{tag}-{image.page}"),
                        "type": "DisplayDetail",
                        "image": {
                            "id": elm.node(
                                award.credential_id, f"display-{tag}-{image.page}-image"
                            ),
                            "type": "MediaObject",
                            "content": base64.b64encode(image.content).decode("ascii"),
                            "contentEncoding": elm.concept(
                                vocabularies.concept(vocabularies.BASE64)
                            ),
                            "contentType": elm.concept(
                                vocabularies.concept(FILE_TYPES[image.media_type])
                            ),
                        },
                        "page": image.page,
                    }
                    for image in pages
                ],
            }
        )
    return {
        "id": elm.node(award.credential_id, "display-parameter"),
        "type": "DisplayParameter",
        "title": elm.texts(specification.title),
        "description": elm.texts(specification.description),
        "language": [elm.concept(vocabularies.language(tag)) for tag in languages],
        "primaryLanguage": elm.concept(vocabularies.language(PRIMARY_LANGUAGE)),
        "individualDisplay": individual,
    }
