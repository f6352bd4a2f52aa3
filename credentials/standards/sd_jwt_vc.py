"""The EU micro-credential as an SD-JWT VC: claims after the WE BUILD draft "Micro-credential"
attestation rulebook (v0.2), and the type metadata its `vct` URL serves. No queries.

docs/sd-jwt-vc.md gives the mapping element by element and where it departs from the rulebook.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from credentials.standards import vocabularies
from credentials.standards.achievement import (
    PRIMARY_LANGUAGE,
    Award,
    Issuer,
    Specification,
    decimal_text,
)

FORMAT: Final = "dc+sd-jwt"
JWT_TYPE: Final = "dc+sd-jwt"
LEGAL_CATEGORY: Final = "non-qualified-EAA"
NAME: Final = "EU micro-credential"
DESCRIPTION: Final = (
    "A micro-credential with the standard elements of the Council Recommendation of "
    "16 June 2022 on a European approach to micro-credentials (2022/C 243/02)."
)

# Attribute claims in the rulebook's order, with their English labels: (claim, label, element).
# Every one of them is selectively disclosable (the rulebook says MUST or MAY for each).
ATTRIBUTES: Final[tuple[tuple[str, str, str], ...]] = (
    ("identifier", "Credential identifier", ""),
    ("title", "Title", "2"),
    ("name", "Learner", "1"),
    ("mail", "Learner's e-mail address", "1"),
    ("issuerCountry", "Country of the issuer", "3"),
    ("awardingBody", "Awarding body", "4"),
    ("awardingBodyHomepage", "Awarding body's website", "4"),
    ("awardingBodyIdentifier", "Awarding body's legal identifier", "4"),
    ("issuanceDate", "Date of issuing", "5"),
    ("level", "Level (EQF)", "8"),
    ("learningOutcomes", "Learning outcomes", "6"),
    ("fieldOfEducation", "Field of education (ISCED-F)", ""),
    ("escoReference", "Skills (ESCO)", "6"),
    ("notionalWorkload", "Notional workload", "7"),
    ("typeOfAssessment", "Type of assessment", "9"),
    ("formOfParticipation", "Form of participation", "10"),
    ("languageOfAssessment", "Language of assessment", ""),
    ("idVerificationMethod", "Supervision and identity verification", ""),
    ("grade", "Grade", ""),
    ("gradingScheme", "Grading scheme", ""),
    ("entryRequirements", "Prerequisites", ""),
    ("qualityAssurance", "Type of quality assurance", "11"),
    ("stackable", "Stackable towards a larger credential", ""),
    ("partOfQualification", "Stacks into", ""),
    ("additionalNote", "Further information", ""),
)
DISCLOSABLE: Final = tuple(claim for claim, _label, _element in ATTRIBUTES)


def build_claims(
    *,
    issuer: Issuer,
    specification: Specification,
    award: Award,
    holder_name: str,
    holder_email: str,
    iss: str,
    vct: str,
    holder_jwk: Mapping[str, Any],
    status: Mapping[str, Any],
    issued_at: datetime,
) -> dict[str, Any]:
    """Return the SD-JWT VC claims (before selective disclosure); raises UnknownConcept.

    Every attribute in DISCLOSABLE that has a value is present; the metadata (`iss`, `iat`,
    `nbf`, `exp`, `vct`, `cnf`, `status`) and the legal category stay in the clear.
    """
    spec = specification
    eqf = vocabularies.concept(spec.eqf_level, scheme=vocabularies.EQF)
    claims: dict[str, Any] = {
        "iss": iss,
        "iat": _seconds(issued_at),
        "nbf": _seconds(award.starts),
    }
    if award.valid_until is not None:
        claims["exp"] = _seconds(award.valid_until)
    claims |= {
        "vct": vct,
        "cnf": {"jwk": dict(holder_jwk)},
        "status": dict(status),
        "attestation_legal_category": LEGAL_CATEGORY,
        "identifier": award.credential_id,
        "title": _english(spec.title),
        "name": holder_name,
        "mail": holder_email,
        "issuerCountry": issuer.country_code.upper(),
        "awardingBody": issuer.name,
        "awardingBodyHomepage": issuer.url,
        "awardingBodyIdentifier": issuer.legal_identifier,
        "issuanceDate": award.issued_at.astimezone(UTC).date().isoformat(),
        "level": f"EQF-{eqf.notation or eqf.uri.rsplit('/', 1)[-1]}",
        "learningOutcomes": [_english(outcome.text) for outcome in spec.learning_outcomes],
    }
    if spec.isced_f is not None:
        field = vocabularies.concept(spec.isced_f, scheme=vocabularies.ISCED_F)
        claims["fieldOfEducation"] = field.notation or field.label
    skills = list(
        dict.fromkeys(skill.uri for o in spec.learning_outcomes for skill in o.esco_skills)
    )
    if skills:
        claims["escoReference"] = skills
    claims["notionalWorkload"] = {"value": _number(spec.ects), "unit": "ECTS"}
    claims["typeOfAssessment"] = _label(spec.assessment_type, vocabularies.ASSESSMENT)
    claims["formOfParticipation"] = _label(spec.form_of_participation, vocabularies.MODE)
    if len(spec.languages) == 1:
        claims["languageOfAssessment"] = spec.languages[0]
    if spec.supervision_verification is not None:
        claims["idVerificationMethod"] = _label(
            spec.supervision_verification, vocabularies.SUPERVISION
        )
    if award.grade is not None:
        claims["grade"] = award.grade
    if spec.grading_scheme is not None:
        claims["gradingScheme"] = _english(spec.grading_scheme)
    if spec.prerequisites is not None:
        claims["entryRequirements"] = [_english(spec.prerequisites)]
    claims["qualityAssurance"] = _label(spec.quality_assurance.type_uri, vocabularies.ACCREDITATION)
    claims["stackable"] = spec.is_partial
    if spec.part_of:
        claims["partOfQualification"] = "; ".join(
            f"{_english(reference.title)} <{reference.url}>" for reference in spec.part_of
        )
    if spec.further_information is not None or spec.further_information_url:
        note = _english(spec.further_information) if spec.further_information else ""
        if spec.further_information_url:
            note = f"{note} <{spec.further_information_url}>".strip()
        claims["additionalNote"] = note
    return claims


def type_metadata(*, vct: str) -> dict[str, Any]:
    """Return the SD-JWT VC Type Metadata served at the `vct` URL."""
    return {
        "vct": vct,
        "name": NAME,
        "description": DESCRIPTION,
        "display": [{"locale": PRIMARY_LANGUAGE, "name": NAME, "description": DESCRIPTION}],
        "claims": [
            {
                "path": [claim],
                "display": [
                    {
                        "locale": PRIMARY_LANGUAGE,
                        "label": label,
                        **({"description": f"EU standard element {element}"} if element else {}),
                    }
                ],
                "sd": "always",
                **({"mandatory": True} if element else {}),
            }
            for claim, label, element in ATTRIBUTES
        ]
        + [
            {
                "path": ["attestation_legal_category"],
                "display": [{"locale": PRIMARY_LANGUAGE, "label": "Legal category"}],
                "sd": "never",
                "mandatory": True,
            }
        ],
    }


def issuer_metadata_claims() -> list[dict[str, Any]]:
    """Return the claims description for the OpenID4VCI credential configuration."""
    return [
        {"path": [claim], "display": [{"name": label, "locale": PRIMARY_LANGUAGE}]}
        for claim, label, _element in ATTRIBUTES
    ]


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def _english(text: Mapping[str, str]) -> str:
    return text[PRIMARY_LANGUAGE]


def _label(uri: str, scheme: str) -> str:
    return vocabularies.concept(uri, scheme=scheme).label


def _number(value: Any) -> int | float:
    text = decimal_text(value)
    return int(text) if "." not in text else float(text)
