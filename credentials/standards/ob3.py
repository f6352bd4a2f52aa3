"""Open Badges 3.0 AchievementCredentials (VC Data Model 2.0) for EU micro-credentials.

Every element of the Council Recommendation (2022/C 243/02, Annex I) is written with terms of the
VC 2.0 and OB 3.0.3 contexts alone, so any OB 3.0 verifier reads it without a private context:

| # | EU element | JSON path in the credential |
|---|---|---|
| 1 | Identification of the learner | `credentialSubject.identifier[]`: IdentityObject `emailAddress` (salted SHA-256, `hashed: true`) and IdentityObject `name` (plain text, `hashed: false`) |
| 2 | Title | `name`, `credentialSubject.achievement.name` |
| 3 | Country of the issuer | `issuer.address.addressCountryCode` (ISO 3166-1 alpha-2) |
| 4 | Awarding body | `issuer` (Profile: `id` = DID, `name`, `url`, `otherIdentifier[]` legal identifier) |
| 5 | Date of issuing | `validFrom`, `awardedDate` |
| 6 | Learning outcomes | `credentialSubject.achievement.criteria.narrative` (numbered list), `achievement.alignment[targetType=ceasn:Competency]` (ESCO skills) |
| 7 | Notional workload | `achievement.creditsAvailable` (ECTS), `credentialSubject.creditsEarned`; hours in the criteria narrative |
| 8 | Level | `achievement.alignment[targetType=ext:EQFLevel]` (`targetUrl` = ELM EQF concept) |
| 9 | Type of assessment | `achievement.alignment[targetType=ext:AssessmentType]` |
| 10 | Form of participation | `achievement.alignment[targetType=ext:FormOfParticipation]` (+ `ext:LearningSetting`) |
| 11 | Type of quality assurance | `achievement.alignment[targetType=ext:QualityAssurance]` (+ `ext:QualityAssuranceReport`, `ext:InstitutionalQualityAssurance` links) |
| opt | Prerequisites | criteria narrative, "Prerequisites" |
| opt | Supervision and identity verification | `achievement.alignment[targetType=ext:SupervisionAndIdentityVerification]` |
| opt | Grade | `credentialSubject.result[0].value`, described by `achievement.resultDescription[0]`; grading scheme in the criteria narrative |
| opt | Stackability | `achievement.alignment[targetType=ceterms:Credential]` per credential it stacks into; criteria narrative, "Stackability" |
| opt | Further information | criteria narrative, "Further information" |
| — | Field of education | `achievement.fieldOfStudy` (ISCED-F label), `achievement.alignment[targetType=ext:ISCEDF]` |

OB 3.0.3 has no language-map term, so every text is the English one; the EDC carries the others.
It has no name term for an AchievementSubject either: the learner's name is the IdentityObject
of identityType "name" that OB 3.0 defines for it.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from credentials.standards import vocabularies
from credentials.standards.achievement import (
    PRIMARY_LANGUAGE,
    Award,
    CredentialReference,
    EscoSkill,
    Holder,
    Issuer,
    LocalizedText,
    Specification,
    StatusEntry,
    decimal_text,
    xsd_date_time,
)
from credentials.standards.vocabularies import Concept

CREDENTIALS_V2_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"
OB3_CONTEXT: Final = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CREDENTIAL_TYPE: Final = ["VerifiableCredential", "OpenBadgeCredential"]
ENDORSEMENT_TYPE: Final = ["VerifiableCredential", "EndorsementCredential"]
ACHIEVEMENT_TYPE: Final = "MicroCredential"
STATUS_ENTRY_TYPE: Final = "BitstringStatusListEntry"

# OB 3.0's AlignmentTargetType enumeration has no value for these, so they use its "ext:" form.
TARGET_EQF: Final = "ext:EQFLevel"
TARGET_ISCED_F: Final = "ext:ISCEDF"
TARGET_ASSESSMENT: Final = "ext:AssessmentType"
TARGET_PARTICIPATION: Final = "ext:FormOfParticipation"
TARGET_LEARNING_SETTING: Final = "ext:LearningSetting"
TARGET_SUPERVISION: Final = "ext:SupervisionAndIdentityVerification"
TARGET_QUALITY_ASSURANCE: Final = "ext:QualityAssurance"
TARGET_QA_REPORT: Final = "ext:QualityAssuranceReport"
TARGET_INSTITUTIONAL_QA: Final = "ext:InstitutionalQualityAssurance"
# Values the enumeration does define.
TARGET_SKILL: Final = "ceasn:Competency"
TARGET_CREDENTIAL: Final = "ceterms:Credential"

FRAMEWORK_EQF: Final = "European Qualifications Framework (EQF)"
FRAMEWORK_ISCED_F: Final = "ISCED Fields of Education and Training 2013 (ISCED-F 2013)"
FRAMEWORK_ASSESSMENT: Final = "European Learning Model: assessment types"
FRAMEWORK_MODE: Final = "European Learning Model: modes of learning and assessment"
FRAMEWORK_LEARNING_SETTING: Final = "European Learning Model: learning settings"
FRAMEWORK_SUPERVISION: Final = "European Learning Model: supervision and verification"
FRAMEWORK_ACCREDITATION: Final = "European Learning Model: accreditation types"
FRAMEWORK_ESCO: Final = "ESCO: European Skills, Competences, Qualifications and Occupations"

IDENTIFIER_LEGAL: Final = "ext:LegalIdentifier"
IDENTIFIER_SCHAC: Final = "ext:SCHACHomeOrganization"
IDENTIFIER_ERASMUS: Final = "ext:ErasmusCode"


def build_achievement_credential(
    *,
    issuer: Issuer,
    specification: Specification,
    holder: Holder,
    award: Award,
    endorsements: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Return the unsigned OB 3.0 AchievementCredential; deterministic, raises UnknownConcept.

    The result canonicalises with credentials.standards.signing.canonicalize (no undefined term) and, once
    signed, validates against 1EdTech's achievementcredential JSON Schema, except that two status
    entries make `credentialStatus` an array, which VC 2.0 allows and that schema does not.
    `endorsements` are signed EndorsementCredentials of the achievement, embedded verbatim in
    `achievement.endorsement` (each keeps its own proof, which a verifier checks on its own).
    """
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": [
            {
                "type": "IdentityObject",
                "identityHash": holder.identity_hash,
                "identityType": "emailAddress",
                "hashed": True,
                "salt": holder.salt,
            },
            {
                "type": "IdentityObject",
                "identityHash": holder.name,
                "identityType": "name",
                "hashed": False,
            },
        ],
        "achievement": _achievement(
            issuer=issuer, specification=specification, award=award, endorsements=endorsements
        ),
        "creditsEarned": _number(specification.ects),
    }
    if award.grade is not None:
        subject["result"] = [
            {
                "type": ["Result"],
                "resultDescription": _result_description_id(specification),
                "value": award.grade,
                "status": "Completed",
            }
        ]

    credential: dict[str, Any] = {
        "@context": [CREDENTIALS_V2_CONTEXT, OB3_CONTEXT],
        "id": award.credential_id,
        "type": list(CREDENTIAL_TYPE),
        "name": _english(specification.title),
        "issuer": _profile(issuer),
        "validFrom": xsd_date_time(award.starts),
    }
    if award.valid_until is not None:
        credential["validUntil"] = xsd_date_time(award.valid_until)
    credential["awardedDate"] = xsd_date_time(award.awarded_date)
    credential["credentialSubject"] = subject
    if award.evidence:
        credential["evidence"] = [
            {
                **({"id": item.url} if item.url else {}),
                "type": ["Evidence"],
                **({"name": item.name} if item.name else {}),
                "narrative": item.narrative,
            }
            for item in award.evidence
        ]
    if award.status:
        entries = [_status_entry(entry) for entry in award.status]
        # 1EdTech's schema allows one status object ([0..1], 1EdTech/openbadges-specification#623);
        # VC 2.0 needs an array for two, so only a second entry turns it into one.
        credential["credentialStatus"] = entries[0] if len(entries) == 1 else entries
    return credential


# ---------------------------------------------------------------- endorsements


@dataclass(frozen=True, slots=True)
class Endorsement:
    """One organisation's signed word about another's offer (OB 3.0 EndorsementCredential)."""

    # "urn:uuid:…"
    credential_id: str
    # What is endorsed: the offer's address, as the catalogue feed names it.
    subject_id: str
    # The offer's title, for the credential's name.
    subject_name: str
    comment: str
    issued_at: datetime
    # The endorser's revocation entry: one, as 1EdTech's schema allows one status object.
    status: StatusEntry | None = None

    def __post_init__(self) -> None:
        if not self.credential_id.startswith("urn:uuid:"):
            raise ValueError(f"credential_id must be a urn:uuid, got {self.credential_id!r}")
        if not self.comment.strip():
            raise ValueError("an endorsement needs a comment")
        if self.status is not None and self.status.purpose != "revocation":
            raise ValueError("an endorsement's status entry is a revocation entry")


def build_endorsement_credential(*, endorser: Issuer, endorsement: Endorsement) -> dict[str, Any]:
    """Return the unsigned OB 3.0 EndorsementCredential; deterministic.

    Once signed it validates against 1EdTech's endorsementcredential JSON Schema, and it may be
    embedded in the endorsed achievement (build_achievement_credential's `endorsements`).
    """
    credential: dict[str, Any] = {
        "@context": [CREDENTIALS_V2_CONTEXT, OB3_CONTEXT],
        "id": endorsement.credential_id,
        "type": list(ENDORSEMENT_TYPE),
        "name": f"Endorsement of {endorsement.subject_name} by {endorser.name}",
        "issuer": _profile(endorser),
        "validFrom": xsd_date_time(endorsement.issued_at),
        "credentialSubject": {
            "id": endorsement.subject_id,
            "type": ["EndorsementSubject"],
            "endorsementComment": endorsement.comment,
        },
    }
    if endorsement.status is not None:
        credential["credentialStatus"] = _status_entry(endorsement.status)
    return credential


@dataclass(frozen=True, slots=True)
class EndorsementFacts:
    """What an EndorsementCredential says, read without trusting it (verify it apart)."""

    credential_id: str
    endorser_id: str
    endorser_name: str
    subject_id: str
    comment: str


def endorsement_facts(document: Mapping[str, Any]) -> EndorsementFacts:
    """Return what an EndorsementCredential says; ValueError when it is none."""
    types = document.get("type")
    if not isinstance(types, list) or "EndorsementCredential" not in types:
        raise ValueError("not an EndorsementCredential")
    issuer = document.get("issuer")
    endorser_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    endorser_name = issuer.get("name") if isinstance(issuer, Mapping) else None
    subject = document.get("credentialSubject")
    if not isinstance(subject, Mapping):
        raise ValueError("an endorsement has one credentialSubject")
    subject_id, comment = subject.get("id"), subject.get("endorsementComment", "")
    credential_id = document.get("id", "")
    if not (
        isinstance(endorser_id, str)
        and isinstance(subject_id, str)
        and isinstance(comment, str)
        and isinstance(credential_id, str)
    ):
        raise ValueError("an endorsement names its issuer and subject by id")
    return EndorsementFacts(
        credential_id=credential_id,
        endorser_id=endorser_id,
        endorser_name=endorser_name if isinstance(endorser_name, str) else "",
        subject_id=subject_id,
        comment=comment,
    )


def embedded_endorsements(credential: Mapping[str, Any]) -> list[Any]:
    """Return the endorsements embedded in a credential's achievement (as found: unchecked)."""
    subject = credential.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, Mapping) else None
    endorsements = achievement.get("endorsement") if isinstance(achievement, Mapping) else None
    return list(endorsements) if isinstance(endorsements, list) else []


# ---------------------------------------------------------------- issuer


def _profile(issuer: Issuer) -> dict[str, Any]:
    """Return the issuer's OB 3.0 Profile, identified by its DID."""
    profile: dict[str, Any] = {
        "id": issuer.did,
        "type": ["Profile"],
        "name": issuer.name,
        "url": issuer.url,
    }
    if issuer.email:
        profile["email"] = issuer.email
    if issuer.logo_url:
        profile["image"] = {"id": issuer.logo_url, "type": "Image"}
    profile["address"] = {"type": ["Address"], "addressCountryCode": issuer.country_code.upper()}
    identifiers = [(issuer.legal_identifier, IDENTIFIER_LEGAL)]
    if issuer.schac_code:
        identifiers.append((issuer.schac_code, IDENTIFIER_SCHAC))
    if issuer.erasmus_code:
        identifiers.append((issuer.erasmus_code, IDENTIFIER_ERASMUS))
    profile["otherIdentifier"] = [
        {"type": "IdentifierEntry", "identifier": value, "identifierType": kind}
        for value, kind in identifiers
    ]
    return profile


# ---------------------------------------------------------------- achievement


def _achievement(
    *,
    issuer: Issuer,
    specification: Specification,
    award: Award,
    endorsements: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Return the Achievement: the specification, with every EU element it carries."""
    spec = specification
    achievement: dict[str, Any] = {
        "id": spec.id,
        "type": ["Achievement"],
        "achievementType": ACHIEVEMENT_TYPE,
        "name": _english(spec.title),
        "description": _english(spec.description),
        "criteria": {"narrative": _criteria_narrative(spec)},
        "creditsAvailable": _number(spec.ects),
    }
    if spec.isced_f is not None:
        achievement["fieldOfStudy"] = vocabularies.concept(
            spec.isced_f, scheme=vocabularies.ISCED_F
        ).label
    achievement["alignment"] = _alignments(issuer=issuer, specification=spec)
    if spec.image_url:
        achievement["image"] = {"id": spec.image_url, "type": "Image"}
    if award.grade is not None or spec.grading_scheme is not None:
        achievement["resultDescription"] = [
            {
                "id": _result_description_id(spec),
                "type": ["ResultDescription"],
                "name": "Grade",
                "resultType": "Result",
            }
        ]
    if endorsements:
        achievement["endorsement"] = [dict(endorsement) for endorsement in endorsements]
    achievement["version"] = str(spec.version)
    achievement["inLanguage"] = PRIMARY_LANGUAGE
    return achievement


def _alignments(*, issuer: Issuer, specification: Specification) -> list[dict[str, Any]]:
    """Return the alignments to the ELM vocabularies, the QA links, ESCO skills and stack targets."""
    spec = specification
    eqf = vocabularies.concept(spec.eqf_level, scheme=vocabularies.EQF)
    alignments = [
        _alignment(
            eqf,
            target_type=TARGET_EQF,
            framework=FRAMEWORK_EQF,
            code=eqf.notation or eqf.uri.rsplit("/", 1)[-1],
        )
    ]
    if spec.isced_f is not None:
        field = vocabularies.concept(spec.isced_f, scheme=vocabularies.ISCED_F)
        alignments.append(
            _alignment(
                field, target_type=TARGET_ISCED_F, framework=FRAMEWORK_ISCED_F, code=field.notation
            )
        )
    alignments.append(
        _alignment(
            vocabularies.concept(spec.assessment_type, scheme=vocabularies.ASSESSMENT),
            target_type=TARGET_ASSESSMENT,
            framework=FRAMEWORK_ASSESSMENT,
        )
    )
    alignments.append(
        _alignment(
            vocabularies.concept(spec.form_of_participation, scheme=vocabularies.MODE),
            target_type=TARGET_PARTICIPATION,
            framework=FRAMEWORK_MODE,
        )
    )
    if spec.learning_setting is not None:
        alignments.append(
            _alignment(
                vocabularies.concept(spec.learning_setting, scheme=vocabularies.LEARNING_SETTING),
                target_type=TARGET_LEARNING_SETTING,
                framework=FRAMEWORK_LEARNING_SETTING,
            )
        )
    if spec.supervision_verification is not None:
        alignments.append(
            _alignment(
                vocabularies.concept(
                    spec.supervision_verification, scheme=vocabularies.SUPERVISION
                ),
                target_type=TARGET_SUPERVISION,
                framework=FRAMEWORK_SUPERVISION,
            )
        )
    alignments.extend(_quality_assurance(issuer=issuer, specification=spec))
    alignments.extend(
        {
            "type": ["Alignment"],
            "targetType": TARGET_SKILL,
            "targetFramework": FRAMEWORK_ESCO,
            "targetName": skill.label,
            "targetUrl": skill.uri,
        }
        for skill in _unique_skills(spec)
    )
    alignments.extend(_stack_target(reference) for reference in spec.part_of)
    return alignments


def _quality_assurance(*, issuer: Issuer, specification: Specification) -> list[dict[str, Any]]:
    """Return the QA type alignment and, when given, the alignments to the QA documents."""
    qa = specification.quality_assurance
    qa_type = vocabularies.concept(qa.type_uri, scheme=vocabularies.ACCREDITATION)
    notes = []
    if qa.description is not None:
        notes.append(_english(qa.description))
    if qa.agency_name:
        country = f" ({qa.agency_country_code.upper()})" if qa.agency_country_code else ""
        notes.append(f"Quality assurance agency: {qa.agency_name}{country}")
    alignments = [
        _alignment(
            qa_type,
            target_type=TARGET_QUALITY_ASSURANCE,
            framework=FRAMEWORK_ACCREDITATION,
            description="\n\n".join(notes) or None,
        )
    ]
    if qa.url:
        alignments.append(
            {
                "type": ["Alignment"],
                "targetType": TARGET_QA_REPORT,
                "targetName": qa.agency_name or qa_type.label,
                "targetUrl": qa.url,
            }
        )
    if issuer.qa_evidence_url:
        report: dict[str, Any] = {
            "type": ["Alignment"],
            "targetType": TARGET_INSTITUTIONAL_QA,
            "targetName": f"Quality assurance of {issuer.name}",
            "targetUrl": issuer.qa_evidence_url,
        }
        if issuer.qa_evidence_text:
            report["targetDescription"] = issuer.qa_evidence_text
        alignments.append(report)
    return alignments


def _stack_target(reference: CredentialReference) -> dict[str, Any]:
    """Return the alignment to a larger credential this micro-credential stacks into."""
    return {
        "type": ["Alignment"],
        "targetType": TARGET_CREDENTIAL,
        "targetName": _english(reference.title),
        "targetDescription": "Integrated, stackable towards this credential",
        "targetUrl": reference.url,
    }


def _alignment(
    concept: Concept,
    *,
    target_type: str,
    framework: str,
    code: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """Return an Alignment whose targetUrl is a controlled-vocabulary concept."""
    alignment: dict[str, Any] = {
        "type": ["Alignment"],
        "targetType": target_type,
        "targetFramework": framework,
        "targetName": concept.label,
        "targetUrl": concept.uri,
    }
    if code is not None:
        alignment["targetCode"] = code
    if description is not None:
        alignment["targetDescription"] = description
    return alignment


def _criteria_narrative(spec: Specification) -> str:
    """Return the Markdown criteria: the learning outcomes, then what OB 3.0 has no term for."""
    outcomes = "\n".join(
        f"{number}. {_english(outcome.text)}"
        for number, outcome in enumerate(spec.learning_outcomes, start=1)
    )
    parts = [f"The learner has achieved these learning outcomes:\n\n{outcomes}"]
    if spec.criteria is not None:
        parts.append(_english(spec.criteria))
    if spec.prerequisites is not None:
        parts.append(f"**Prerequisites:** {_english(spec.prerequisites)}")
    if spec.grading_scheme is not None:
        parts.append(f"**Grading scheme:** {_english(spec.grading_scheme)}")
    workload = f"{decimal_text(spec.ects)} ECTS credits"
    if spec.workload_hours is not None:
        workload += f" ({spec.workload_hours} hours)"
    parts.append(f"**Notional workload:** {workload}")
    if spec.languages:
        names = ", ".join(vocabularies.language(tag).label for tag in spec.languages)
        parts.append(f"**Languages of instruction and assessment:** {names}")
    if spec.is_partial:
        targets = "; ".join(
            f"{_english(reference.title)} <{reference.url}>" for reference in spec.part_of
        )
        stacking = "integrated, stackable towards another credential"
        parts.append(f"**Stackability:** {stacking}" + (f": {targets}" if targets else ""))
    else:
        parts.append("**Stackability:** stand-alone, independent micro-credential")
    if spec.further_information is not None or spec.further_information_url:
        further = _english(spec.further_information) if spec.further_information else ""
        if spec.further_information_url:
            further = f"{further} <{spec.further_information_url}>".strip()
        parts.append(f"**Further information:** {further}")
    return "\n\n".join(parts)


def _unique_skills(spec: Specification) -> Iterator[EscoSkill]:
    """Yield each ESCO skill of the learning outcomes once, in the order first named."""
    seen: set[str] = set()
    for outcome in spec.learning_outcomes:
        for skill in outcome.esco_skills:
            if skill.uri not in seen:
                seen.add(skill.uri)
                yield skill


def _result_description_id(spec: Specification) -> str:
    """Return the id of the achievement's grade description, under the specification's URL."""
    return f"{spec.id}#grade"


# ---------------------------------------------------------------- values


def _status_entry(entry: StatusEntry) -> dict[str, Any]:
    """Return a BitstringStatusListEntry for one of the issuer's status lists."""
    return {
        "id": f"{entry.list_url}#{entry.index}",
        "type": STATUS_ENTRY_TYPE,
        "statusPurpose": entry.purpose,
        "statusListIndex": str(entry.index),
        "statusListCredential": entry.list_url,
    }


def _english(text: LocalizedText) -> str:
    """Return the English text, which achievement.py guarantees is there."""
    return text[PRIMARY_LANGUAGE]


def _number(value: Decimal) -> int | float:
    """Return a Decimal as a JSON number: an int when whole, so 5 ECTS is written 5."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)
