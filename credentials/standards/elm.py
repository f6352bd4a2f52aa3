"""The European Learning Model (ELM v3) pieces that an issued credential (edc) and a published
offer (elm_offer) describe alike: organisations, learning outcomes, credits, quality assurance,
the common properties of a specification, and the small value nodes.

Pure: plain values in, JSON-LD (edc-ap context, compact form) out. Node identifiers are
name-based UUIDs of what they belong to, so building twice gives the same document.
"""

import uuid
from collections.abc import Mapping
from typing import Any, Final

from credentials.standards import vocabularies
from credentials.standards.achievement import (
    PRIMARY_LANGUAGE,
    Issuer,
    LearningOutcome,
    LocalizedText,
    Specification,
    decimal_text,
)
from credentials.standards.vocabularies import Concept

EDC_CONTEXT: Final = "http://data.europa.eu/snb/model/context/edc-ap"


# ---------------------------------------------------------------- organisations


def organisation(issuer: Issuer) -> dict[str, Any]:
    """Return the issuer as an ELM Organisation, identified by its DID."""
    country = concept(vocabularies.country(issuer.country_code))
    found: dict[str, Any] = {
        "id": issuer.did,
        "type": "Organisation",
        "legalName": {PRIMARY_LANGUAGE: issuer.name},
        "eIDASIdentifier": {
            "id": node(issuer.did, "legal-identifier"),
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
        found["identifier"] = [
            {
                "id": node(issuer.did, f"identifier-{key}"),
                "type": "Identifier",
                "notation": value,
                "schemeName": scheme,
            }
            for scheme, value, key in identifiers
        ]
    found["homepage"] = web_resource(issuer.url, node(issuer.did, "homepage"))
    found["location"] = location(country, node(issuer.did, "location"))
    if issuer.email:
        found["contactPoint"] = {
            "id": node(issuer.did, "contact-point"),
            "type": "ContactPoint",
            "emailAddress": {"id": f"mailto:{issuer.email}", "type": "Mailbox"},
        }
    return found


def location(
    country: dict[str, Any], at: str, *, name: LocalizedText | None = None
) -> dict[str, Any]:
    """Return a Location whose address names only a country (all that MESHE keeps), with the
    place's name when one is given."""
    found: dict[str, Any] = {"id": at, "type": "Location"}
    if name is not None:
        found["geographicName"] = dict(name)
    found["address"] = {"id": f"{at}-address", "type": "Address", "countryCode": country}
    return found


# ---------------------------------------------------------------- specifications


def specification_properties(
    spec: Specification,
    *,
    level_property: str,
    isced_when_unknown: str | None = None,
    languages: tuple[str, ...] | None = None,
    between: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return what every ELM rendering says of a specification, in the order the EDC prints it.

    level_property names where the EQF level goes (eqfLevel on a Qualification, educationLevel
    on a LearningAchievementSpecification); isced_when_unknown is the ISCED-F concept written
    when the specification names none (None: leave it out); languages replaces the
    specification's own; between is inserted after entryRequirement (the EDC's stackability and
    accreditation). The caller adds id and type in front.
    """
    found: dict[str, Any] = {
        "title": texts(spec.title),
        "description": texts(spec.description),
        "homepage": web_resource(spec.id, node(spec.id, "homepage")),
        "learningOutcome": [
            learning_outcome(spec, number, outcome)
            for number, outcome in enumerate(spec.learning_outcomes, start=1)
        ],
        "creditPoint": credit_point(spec, node(spec.id, "credit-point")),
    }
    if spec.workload_hours is not None:
        found["volumeOfLearning"] = f"PT{spec.workload_hours}H"
    found[level_property] = concept(vocabularies.concept(spec.eqf_level, scheme=vocabularies.EQF))
    isced = spec.isced_f if spec.isced_f is not None else isced_when_unknown
    if isced is not None:
        found["thematicArea"] = [concept(vocabularies.concept(isced, scheme=vocabularies.ISCED_F))]
    found["mode"] = [
        concept(vocabularies.concept(spec.form_of_participation, scheme=vocabularies.MODE))
    ]
    if spec.learning_setting is not None:
        found["learningSetting"] = concept(
            vocabularies.concept(spec.learning_setting, scheme=vocabularies.LEARNING_SETTING)
        )
    tags = spec.languages if languages is None else languages
    if tags:
        found["language"] = [concept(vocabularies.language(tag)) for tag in tags]
    if spec.prerequisites is not None:
        found["entryRequirement"] = note(spec.prerequisites, node(spec.id, "entry-requirement"))
    found.update(between or {})
    notes = [
        note(text, node(spec.id, name))
        for name, text in (
            ("criteria", spec.criteria),
            ("further-information", spec.further_information),
        )
        if text is not None
    ]
    if notes:
        found["additionalNote"] = notes
    if spec.further_information_url:
        found["supplementaryDocument"] = [
            web_resource(spec.further_information_url, node(spec.id, "further-information-url"))
        ]
    return found


def learning_outcome(spec: Specification, number: int, outcome: LearningOutcome) -> dict[str, Any]:
    """Return one ELM LearningOutcome with its ESCO skills as embedded concepts."""
    embedded: dict[str, Any] = {
        "id": node(spec.id, f"learning-outcome-{number}"),
        "type": "LearningOutcome",
        "title": texts(outcome.text),
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


def accreditation(*, issuer: Issuer, specification: Specification) -> dict[str, Any]:
    """Return the quality assurance of a specification as an ELM Accreditation."""
    spec = specification
    qa = spec.quality_assurance
    qa_type = vocabularies.concept(qa.type_uri, scheme=vocabularies.ACCREDITATION)
    found: dict[str, Any] = {
        "id": node(spec.id, "accreditation"),
        "type": "Accreditation",
        "dcType": concept(qa_type),
        "title": {PRIMARY_LANGUAGE: qa_type.label},
    }
    if qa.description is not None:
        found["description"] = texts(qa.description)
    if qa.agency_name and qa.agency_country_code:
        agency_node = node(spec.id, "quality-assurance-agency")
        found["accreditingAgent"] = {
            "id": agency_node,
            "type": "Organisation",
            "legalName": {PRIMARY_LANGUAGE: qa.agency_name},
            "location": location(
                concept(vocabularies.country(qa.agency_country_code)), f"{agency_node}-location"
            ),
        }
    else:
        # Without an agency the institution assures its own offer (internal QA).
        found["accreditingAgent"] = organisation(issuer)
    found["organisation"] = organisation(issuer)
    if qa.url:
        found["landingPage"] = web_resource(qa.url, node(spec.id, "qa-landing-page"))
    if issuer.qa_evidence_url:
        found["report"] = web_resource(issuer.qa_evidence_url, node(spec.id, "qa-report"))
    if issuer.qa_evidence_text:
        found["additionalNote"] = note(
            {PRIMARY_LANGUAGE: issuer.qa_evidence_text}, node(spec.id, "qa-note")
        )
    return found


def credit_point(spec: Specification, at: str) -> dict[str, Any]:
    """Return the ECTS credits of a specification as an ELM CreditPoint."""
    return {
        "id": at,
        "type": "CreditPoint",
        "framework": concept(vocabularies.concept(vocabularies.ECTS)),
        "point": decimal_text(spec.ects),
    }


# ---------------------------------------------------------------- values


def concept(found: Concept) -> dict[str, Any]:
    """Return a concept embedded as ELM does: id, type, scheme, English label, code."""
    embedded: dict[str, Any] = {
        "id": found.uri,
        "type": "Concept",
        "inScheme": {"id": found.scheme, "type": "ConceptScheme"},
        # English only, whatever other languages the bundled vocabularies label it in.
        "prefLabel": {PRIMARY_LANGUAGE: found.label},
    }
    if found.notation is not None:
        embedded["notation"] = found.notation
    return embedded


def note(text: LocalizedText, at: str) -> dict[str, Any]:
    """Return an ELM Note holding a text in every language it has."""
    return {"id": at, "type": "Note", "noteLiteral": texts(text)}


def web_resource(url: str, at: str) -> dict[str, Any]:
    """Return an ELM WebResource pointing at url."""
    return {"id": at, "type": "WebResource", "contentURL": url}


def texts(text: LocalizedText) -> dict[str, str]:
    """Return a language map of a localised text, English first."""
    return {PRIMARY_LANGUAGE: text[PRIMARY_LANGUAGE]} | {
        language: value for language, value in text.items() if language != PRIMARY_LANGUAGE
    }


def node(owner: str, part: str) -> str:
    """Return a stable urn:uuid for one part of a credential, specification, offer or issuer."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{owner}#{part}')}"
