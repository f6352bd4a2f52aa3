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
import uuid
from collections.abc import Sequence
from typing import Any, Final

from credentials.standards import vocabularies
from credentials.standards.achievement import (
    PRIMARY_LANGUAGE,
    Award,
    DisplayImage,
    Holder,
    Issuer,
    LearningOutcome,
    LocalizedText,
    Specification,
    decimal_text,
    xsd_date_time,
)
from credentials.standards.vocabularies import Concept

CREDENTIALS_V1_CONTEXT: Final = "https://www.w3.org/2018/credentials/v1"
EDC_CONTEXT: Final = "http://data.europa.eu/snb/model/context/edc-ap"
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
    organisation = _organisation(issuer)
    awarding = {
        "id": _node(award.credential_id, "awarding-process"),
        "type": "AwardingProcess",
        "awardingBody": organisation,
        "awardingDate": xsd_date_time(award.awarded_date),
    }
    achievement: dict[str, Any] = {
        "id": _node(award.credential_id, "learning-achievement"),
        "type": "LearningAchievement",
        "title": _texts(spec.title),
        "description": _texts(spec.description),
        "awardedBy": awarding,
        "provenBy": _assessment(specification=spec, award=award, awarding=awarding),
        "specifiedBy": _qualification(issuer=issuer, specification=spec),
        "creditReceived": _credit_point(spec, _node(award.credential_id, "credit-received")),
    }
    documents = [_web_resource(award.public_url, _node(award.credential_id, "public-page"))]
    notes = []
    for number, item in enumerate(award.evidence, start=1):
        if item.url:
            resource = _web_resource(item.url, _node(award.credential_id, f"evidence-{number}"))
            if item.name:
                resource["title"] = {PRIMARY_LANGUAGE: item.name}
            documents.append(resource)
        notes.append(
            _note({PRIMARY_LANGUAGE: item.narrative}, _node(award.credential_id, f"note-{number}"))
        )
    achievement["supplementaryDocument"] = documents
    if notes:
        achievement["additionalNote"] = notes

    person = {
        "id": _node(award.credential_id, "person"),
        "type": "Person",
        "fullName": {PRIMARY_LANGUAGE: holder.name},
        "identifier": {
            "id": _node(award.credential_id, "person-identifier"),
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
        "credentialProfiles": [_concept(vocabularies.concept(vocabularies.GENERIC_CREDENTIAL))],
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


# ---------------------------------------------------------------- organisations


def _organisation(issuer: Issuer) -> dict[str, Any]:
    """Return the issuer as an ELM Organisation, identified by its DID."""
    country = _concept(vocabularies.country(issuer.country_code))
    organisation: dict[str, Any] = {
        "id": issuer.did,
        "type": "Organisation",
        "legalName": {PRIMARY_LANGUAGE: issuer.name},
        "eIDASIdentifier": {
            "id": _node(issuer.did, "legal-identifier"),
            "type": "LegalIdentifier",
            "notation": issuer.legal_identifier,
            "spatial": country,
        },
    }
    identifiers = []
    if issuer.schac_code:
        identifiers.append(("SCHAC home organisation", issuer.schac_code, "schac"))
    if issuer.erasmus_code:
        identifiers.append(("Erasmus institution code", issuer.erasmus_code, "erasmus"))
    if identifiers:
        organisation["identifier"] = [
            {
                "id": _node(issuer.did, f"identifier-{key}"),
                "type": "Identifier",
                "notation": value,
                "schemeName": scheme,
            }
            for scheme, value, key in identifiers
        ]
    organisation["homepage"] = _web_resource(issuer.url, _node(issuer.did, "homepage"))
    organisation["location"] = _location(country, _node(issuer.did, "location"))
    if issuer.email:
        organisation["contactPoint"] = {
            "id": _node(issuer.did, "contact-point"),
            "type": "ContactPoint",
            "emailAddress": {"id": f"mailto:{issuer.email}", "type": "Mailbox"},
        }
    return organisation


def _location(country: dict[str, Any], node: str) -> dict[str, Any]:
    """Return a Location whose address names only a country, all that MESHE keeps."""
    return {
        "id": node,
        "type": "Location",
        "address": {"id": f"{node}-address", "type": "Address", "countryCode": country},
    }


# ---------------------------------------------------------------- the claim


def _qualification(*, issuer: Issuer, specification: Specification) -> dict[str, Any]:
    """Return the specification as an ELM Qualification, the class that carries EQF and QA."""
    spec = specification
    qualification: dict[str, Any] = {
        "id": spec.id,
        "type": "Qualification",
        "title": _texts(spec.title),
        "description": _texts(spec.description),
        "homepage": _web_resource(spec.id, _node(spec.id, "homepage")),
        "learningOutcome": [
            _learning_outcome(spec, number, outcome)
            for number, outcome in enumerate(spec.learning_outcomes, start=1)
        ],
        "creditPoint": _credit_point(spec, _node(spec.id, "credit-point")),
    }
    if spec.workload_hours is not None:
        qualification["volumeOfLearning"] = f"PT{spec.workload_hours}H"
    qualification["eqfLevel"] = _concept(
        vocabularies.concept(spec.eqf_level, scheme=vocabularies.EQF)
    )
    if spec.isced_f is not None:
        qualification["thematicArea"] = [
            _concept(vocabularies.concept(spec.isced_f, scheme=vocabularies.ISCED_F))
        ]
    qualification["mode"] = [
        _concept(vocabularies.concept(spec.form_of_participation, scheme=vocabularies.MODE))
    ]
    if spec.learning_setting is not None:
        qualification["learningSetting"] = _concept(
            vocabularies.concept(spec.learning_setting, scheme=vocabularies.LEARNING_SETTING)
        )
    if spec.languages:
        qualification["language"] = [_concept(vocabularies.language(tag)) for tag in spec.languages]
    if spec.prerequisites is not None:
        qualification["entryRequirement"] = _note(
            spec.prerequisites, _node(spec.id, "entry-requirement")
        )
    qualification["isPartialQualification"] = spec.is_partial
    if spec.part_of:
        qualification["isPartOf"] = [
            {"id": reference.url, "type": "Qualification", "title": _texts(reference.title)}
            for reference in spec.part_of
        ]
    qualification["accreditation"] = [_accreditation(issuer=issuer, specification=spec)]
    notes = [
        _note(text, _node(spec.id, name))
        for name, text in (
            ("criteria", spec.criteria),
            ("further-information", spec.further_information),
        )
        if text is not None
    ]
    if notes:
        qualification["additionalNote"] = notes
    if spec.further_information_url:
        qualification["supplementaryDocument"] = [
            _web_resource(spec.further_information_url, _node(spec.id, "further-information-url"))
        ]
    return qualification


def _learning_outcome(spec: Specification, number: int, outcome: LearningOutcome) -> dict[str, Any]:
    """Return one ELM LearningOutcome with its ESCO skills as embedded concepts."""
    embedded: dict[str, Any] = {
        "id": _node(spec.id, f"learning-outcome-{number}"),
        "type": "LearningOutcome",
        "title": _texts(outcome.text),
    }
    if outcome.esco_skills:
        embedded["relatedESCOSkill"] = [
            {
                "id": skill.uri,
                "type": "Concept",
                "inScheme": {"id": vocabularies.ESCO_SKILLS, "type": "ConceptScheme"},
                "prefLabel": {PRIMARY_LANGUAGE: skill.label},
            }
            for skill in outcome.esco_skills
        ]
    return embedded


def _accreditation(*, issuer: Issuer, specification: Specification) -> dict[str, Any]:
    """Return the quality assurance as an ELM Accreditation of the qualification."""
    spec = specification
    qa = spec.quality_assurance
    qa_type = vocabularies.concept(qa.type_uri, scheme=vocabularies.ACCREDITATION)
    accreditation: dict[str, Any] = {
        "id": _node(spec.id, "accreditation"),
        "type": "Accreditation",
        "dcType": _concept(qa_type),
        "title": {PRIMARY_LANGUAGE: qa_type.label},
    }
    if qa.description is not None:
        accreditation["description"] = _texts(qa.description)
    if qa.agency_name and qa.agency_country_code:
        agency_node = _node(spec.id, "quality-assurance-agency")
        accreditation["accreditingAgent"] = {
            "id": agency_node,
            "type": "Organisation",
            "legalName": {PRIMARY_LANGUAGE: qa.agency_name},
            "location": _location(
                _concept(vocabularies.country(qa.agency_country_code)), f"{agency_node}-location"
            ),
        }
    else:
        # Without an agency the institution assures its own offer (internal QA).
        accreditation["accreditingAgent"] = _organisation(issuer)
    accreditation["organisation"] = _organisation(issuer)
    if qa.url:
        accreditation["landingPage"] = _web_resource(qa.url, _node(spec.id, "qa-landing-page"))
    if issuer.qa_evidence_url:
        accreditation["report"] = _web_resource(issuer.qa_evidence_url, _node(spec.id, "qa-report"))
    if issuer.qa_evidence_text:
        accreditation["additionalNote"] = _note(
            {PRIMARY_LANGUAGE: issuer.qa_evidence_text}, _node(spec.id, "qa-note")
        )
    return accreditation


def _assessment(
    *, specification: Specification, award: Award, awarding: dict[str, Any]
) -> dict[str, Any]:
    """Return the LearningAssessment the learner passed, with its type, grade and supervision."""
    spec = specification
    assessment_spec: dict[str, Any] = {
        "id": _node(spec.id, "assessment-specification"),
        "type": "LearningAssessmentSpecification",
        "title": _texts(spec.title),
        "dcType": _concept(
            vocabularies.concept(spec.assessment_type, scheme=vocabularies.ASSESSMENT)
        ),
    }
    if spec.languages:
        assessment_spec["language"] = [
            _concept(vocabularies.language(tag)) for tag in spec.languages
        ]
    if spec.grading_scheme is not None:
        assessment_spec["gradingScheme"] = {
            "id": _node(spec.id, "grading-scheme"),
            "type": "GradingScheme",
            "title": _texts(spec.grading_scheme),
        }
    assessment: dict[str, Any] = {
        "id": _node(award.credential_id, "learning-assessment"),
        "type": "LearningAssessment",
        "title": _texts(spec.title),
        "grade": _note(
            {PRIMARY_LANGUAGE: award.grade if award.grade is not None else GRADE_WHEN_UNGRADED},
            _node(award.credential_id, "grade"),
        ),
    }
    if spec.supervision_verification is not None:
        assessment["idVerification"] = _concept(
            vocabularies.concept(spec.supervision_verification, scheme=vocabularies.SUPERVISION)
        )
    assessment["awardedBy"] = awarding
    assessment["specifiedBy"] = assessment_spec
    return assessment


def _credit_point(spec: Specification, node: str) -> dict[str, Any]:
    """Return the ECTS credits of a specification as an ELM CreditPoint."""
    return {
        "id": node,
        "type": "CreditPoint",
        "framework": _concept(vocabularies.concept(vocabularies.ECTS)),
        "point": decimal_text(spec.ects),
    }


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
                "id": _node(award.credential_id, f"display-{tag}"),
                "type": "IndividualDisplay",
                "language": _concept(vocabularies.language(tag)),
                "displayDetail": [
                    {
                        "id": _node(award.credential_id, f"display-{tag}-{image.page}"),
                        "type": "DisplayDetail",
                        "image": {
                            "id": _node(award.credential_id, f"display-{tag}-{image.page}-image"),
                            "type": "MediaObject",
                            "content": base64.b64encode(image.content).decode("ascii"),
                            "contentEncoding": _concept(vocabularies.concept(vocabularies.BASE64)),
                            "contentType": _concept(
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
        "id": _node(award.credential_id, "display-parameter"),
        "type": "DisplayParameter",
        "title": _texts(specification.title),
        "description": _texts(specification.description),
        "language": [_concept(vocabularies.language(tag)) for tag in languages],
        "primaryLanguage": _concept(vocabularies.language(PRIMARY_LANGUAGE)),
        "individualDisplay": individual,
    }


# ---------------------------------------------------------------- values


def _concept(concept: Concept) -> dict[str, Any]:
    """Return a concept embedded as ELM does: id, type, scheme, English label, code."""
    embedded: dict[str, Any] = {
        "id": concept.uri,
        "type": "Concept",
        "inScheme": {"id": concept.scheme, "type": "ConceptScheme"},
        # English only, whatever other languages the bundled vocabularies label it in.
        "prefLabel": {PRIMARY_LANGUAGE: concept.label},
    }
    if concept.notation is not None:
        embedded["notation"] = concept.notation
    return embedded


def _note(text: LocalizedText, node: str) -> dict[str, Any]:
    """Return an ELM Note holding a text in every language it has."""
    return {"id": node, "type": "Note", "noteLiteral": _texts(text)}


def _web_resource(url: str, node: str) -> dict[str, Any]:
    """Return an ELM WebResource pointing at url."""
    return {"id": node, "type": "WebResource", "contentURL": url}


def _texts(text: LocalizedText) -> dict[str, str]:
    """Return a language map of a localised text, English first."""
    return {PRIMARY_LANGUAGE: text[PRIMARY_LANGUAGE]} | {
        language: value for language, value in text.items() if language != PRIMARY_LANGUAGE
    }


def _node(owner: str, part: str) -> str:
    """Return a stable urn:uuid for one part of a credential, specification or issuer."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{owner}#{part}')}"
