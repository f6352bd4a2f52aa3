"""A published micro-credential offer as an ELM v3 LearningOpportunity (edc-ap context), valid
against the Learning Opportunity and Qualification (LOQ) shapes, `LOQ-constraints.ttl`.

Pure: plain values in, compact JSON-LD out; no queries. The specification part is the one the
EDC of an issued credential carries (credentials.standards.elm), as a
LearningAchievementSpecification; the practical information (enrolment, dates, price, place)
belongs to the opportunity.

| what | JSON path in the LearningOpportunity |
|---|---|
| Title, description | `title`, `description` (and the same on `learningAchievementSpecification`) |
| Awarding body, its country | `providedBy` (Organisation: `legalName`, `eIDASIdentifier`, `location.address.countryCode`); `learningAchievementSpecification.awardingOpportunity[].awardingBody` |
| Learning outcomes, ESCO skills | `learningAchievementSpecification.learningOutcome[]`: `title`, `relatedESCOSkill[]` |
| Workload | `learningAchievementSpecification.creditPoint` (ECTS), `volumeOfLearning` |
| EQF level | `learningAchievementSpecification.educationLevel` (a concept of the EQF scheme) |
| Field of education | `learningAchievementSpecification.thematicArea` (ISCED-F; "99 Field unknown" when staff chose none, as the shapes require one) |
| Type of assessment | `learningAchievementSpecification.provenBy[].dcType`; supervision as a Note whose `subject` is the supervision concept |
| Form of participation | `mode` (and on the specification), `learningSetting` |
| Quality assurance | `providedBy.accreditation[]` (`dcType`, `accreditingAgent`, `landingPage`, `report`) |
| Prerequisites, further information | `learningAchievementSpecification.entryRequirement`, `additionalNote`, `supplementaryDocument` |
| Languages | `learningAchievementSpecification.language[]` (instruction; the offer's main language when none is given), `elm:defaultLanguage` |
| Enrolment | `supplementaryDocument[]` titled "Enrolment" (the link), `admissionProcedure` (the contact) |
| Dates | `temporal.startDate` (the first start date), `duration`; later intakes and "start any time" as an `additionalNote` |
| Price | `priceDetail[]`: `prefLabel` Fee/Free/Funded, `amount` (`unit` an EU currency concept, `rdf:value`), `description` (the cost note) |
| Place, schedule | `location[].geographicName`, `scheduleInformation` |
| Last change | `dc:modified` |

What the LOQ shapes cannot hold of an offer, and so is left out: stackability (`isPartOf` must
point at a full specification or qualification) and the EQF level as `EQFLevel`, which only a
Qualification has (and a Qualification must have an NQF level, which a micro-credential does not
have): the EQF level is the specification's `educationLevel` instead.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, Literal

from credentials.standards import elm, vocabularies
from credentials.standards.achievement import (
    PRIMARY_LANGUAGE,
    Issuer,
    Specification,
    decimal_text,
    xsd_date_time,
)
from credentials.standards.vocabularies import Concept

# edc-ap names no keyword aliases (an EDC takes `id` and `type` from the VC context, which an
# offer does not have), so the document gives them itself.
CONTEXT: Final = (elm.EDC_CONTEXT, {"id": "@id", "type": "@type"})
TYPE: Final = "LearningOpportunity"
SPECIFICATION_TYPE: Final = "LearningAchievementSpecification"
# The LOQ shapes require a field of education; ISCED-F's own code for "not stated".
ISCED_UNKNOWN: Final = "http://data.europa.eu/snb/isced-f/99"
CURRENCY_SCHEME: Final = "http://publications.europa.eu/resource/authority/currency"
ENROLMENT_TITLE: Final = "Enrolment"
# The English labels of a PriceDetail for each of MESHE's costs.
COST_LABELS: Final = {"fee": "Fee", "free": "Free", "funded": "Funded"}
# edc-ap (the 2024 repository copy) has no term for these three, so they are written as compact
# IRIs: LOQ's defaultLanguage, dc:modified (edc-ap's dateModified is typed as an IRI), and
# rdf:value, which the LOQ Amount shape asks for where edc-ap's `value` means elm:value.
DEFAULT_LANGUAGE: Final = "elm:defaultLanguage"
MODIFIED: Final = "dc:modified"
AMOUNT_VALUE: Final = "rdf:value"

Cost = Literal["fee", "free", "funded", ""]
_DURATION: Final = re.compile(r"P([1-9][0-9]{0,3})([DWM])")


@dataclass(frozen=True, slots=True)
class Practical:
    """How to enrol, when, for how much and where; every field optional, as staff enter it.

    Texts (contact, schedule, cost note, place) are in the offer's main language."""

    enrolment_url: str = ""
    enrolment_contact: str = ""
    start_dates: tuple[date, ...] = ()
    starts_any_time: bool = False
    # ISO 8601 in days, weeks or months: P10D, P6W, P3M.
    duration: str = ""
    schedule: str = ""
    cost: Cost = ""
    price: Decimal | None = None
    currency: str = ""
    cost_note: str = ""
    # Languages of instruction as staff gave them (BCP 47); none means the main language.
    languages: tuple[str, ...] = ()
    place: str = ""

    def __post_init__(self) -> None:
        if self.duration and not _DURATION.fullmatch(self.duration):
            raise ValueError(f"duration must be PnD, PnW or PnM, got {self.duration!r}")
        if self.cost == "fee" and (self.price is None or not self.currency):
            raise ValueError("a fee needs a price and a currency")


@dataclass(frozen=True, slots=True)
class Offer:
    """A published offer: its public page (the opportunity's id), main language and last change."""

    url: str
    language: str
    modified: datetime
    practical: Practical = field(default_factory=Practical)


def build_learning_opportunity(
    *, issuer: Issuer, specification: Specification, offer: Offer
) -> dict[str, Any]:
    """Return the offer as an ELM LearningOpportunity with its LearningAchievementSpecification;
    deterministic, raises UnknownConcept or ValueError. It conforms to LOQ-constraints.ttl."""
    spec = specification
    practical = offer.practical
    languages = practical.languages or (offer.language,)
    opportunity: dict[str, Any] = {
        "@context": [CONTEXT[0], dict(CONTEXT[1])],
        "id": offer.url,
        "type": TYPE,
        "title": elm.texts(spec.title),
        "description": elm.texts(spec.description),
        "homepage": [elm.web_resource(offer.url, elm.node(offer.url, "homepage"))],
        MODIFIED: {"@value": xsd_date_time(offer.modified), "@type": "xsd:dateTime"},
        "mode": [
            elm.concept(vocabularies.concept(spec.form_of_participation, scheme=vocabularies.MODE))
        ],
    }
    if practical.start_dates:
        opportunity["temporal"] = {
            "id": elm.node(offer.url, "temporal"),
            "type": "PeriodOfTime",
            "startDate": xsd_date_time(practical.start_dates[0]),
        }
    if practical.duration:
        opportunity["duration"] = xsd_duration(practical.duration)
    if practical.schedule:
        opportunity["scheduleInformation"] = _local_note(
            offer, practical.schedule, "schedule-information"
        )
    if practical.enrolment_contact:
        opportunity["admissionProcedure"] = _local_note(
            offer, practical.enrolment_contact, "admission-procedure"
        )
    if practical.cost:
        opportunity["priceDetail"] = [_price_detail(offer)]
    provider = elm.organisation(issuer)
    provider["accreditation"] = [elm.accreditation(issuer=issuer, specification=spec)]
    opportunity["providedBy"] = provider
    if practical.place:
        opportunity["location"] = [
            elm.location(
                elm.concept(vocabularies.country(issuer.country_code)),
                elm.node(offer.url, "location"),
                name={offer.language: practical.place},
            )
        ]
    opportunity["learningAchievementSpecification"] = _specification(
        issuer=issuer, specification=spec, languages=languages
    )
    opportunity[DEFAULT_LANGUAGE] = elm.concept(vocabularies.language(offer.language))
    if practical.enrolment_url:
        enrolment = elm.web_resource(practical.enrolment_url, elm.node(offer.url, "enrolment"))
        enrolment["title"] = {PRIMARY_LANGUAGE: ENROLMENT_TITLE}
        opportunity["supplementaryDocument"] = [enrolment]
    if notes := _date_notes(offer):
        opportunity["additionalNote"] = notes
    return opportunity


def xsd_duration(duration: str) -> str:
    """Return an ISO 8601 duration as xsd:duration, which has no weeks: P6W becomes P42D."""
    match = _DURATION.fullmatch(duration)
    if match is None:
        raise ValueError(f"duration must be PnD, PnW or PnM, got {duration!r}")
    amount, unit = int(match.group(1)), match.group(2)
    return f"P{amount * 7}D" if unit == "W" else duration


def currency(code: str) -> Concept:
    """Return an ISO 4217 code as a concept of the EU currency authority table (EUR …/EUR)."""
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValueError(f"not an ISO 4217 currency code: {code!r}")
    return Concept(
        uri=f"{CURRENCY_SCHEME}/{code}", scheme=CURRENCY_SCHEME, labels={"en": code}, notation=code
    )


# ---------------------------------------------------------------- parts


def _specification(
    *, issuer: Issuer, specification: Specification, languages: tuple[str, ...]
) -> dict[str, Any]:
    """Return the LearningAchievementSpecification: the EDC's specification, in LOQ's terms."""
    spec = specification
    assessment: dict[str, Any] = {
        "id": elm.node(spec.id, "assessment-specification"),
        "type": "LearningAssessmentSpecification",
        "title": elm.texts(spec.title),
        "dcType": elm.concept(
            vocabularies.concept(spec.assessment_type, scheme=vocabularies.ASSESSMENT)
        ),
        "language": [elm.concept(vocabularies.language(tag)) for tag in languages],
    }
    if spec.grading_scheme is not None:
        assessment["gradingScheme"] = {
            "id": elm.node(spec.id, "grading-scheme"),
            "type": "GradingScheme",
            "title": elm.texts(spec.grading_scheme),
        }
    if spec.supervision_verification is not None:
        supervision = vocabularies.concept(
            spec.supervision_verification, scheme=vocabularies.SUPERVISION
        )
        assessment["additionalNote"] = [
            {
                "id": elm.node(spec.id, "supervision-verification"),
                "type": "Note",
                "noteLiteral": {PRIMARY_LANGUAGE: supervision.label},
                "subject": elm.concept(supervision),
            }
        ]
    awarding = {
        "id": elm.node(spec.id, "awarding-opportunity"),
        "type": "AwardingOpportunity",
        # Both described in full elsewhere in the document (providedBy, and the node itself).
        "awardingBody": {"id": issuer.did},
        "learningAchievementSpecification": {"id": spec.id},
    }
    return {
        "id": spec.id,
        "type": SPECIFICATION_TYPE,
        **elm.specification_properties(
            spec,
            level_property="educationLevel",
            isced_when_unknown=ISCED_UNKNOWN,
            languages=languages,
            between={"provenBy": [assessment], "awardingOpportunity": [awarding]},
        ),
    }


def _price_detail(offer: Offer) -> dict[str, Any]:
    practical = offer.practical
    detail: dict[str, Any] = {
        "id": elm.node(offer.url, "price-detail"),
        "type": "PriceDetail",
        "prefLabel": {PRIMARY_LANGUAGE: COST_LABELS[practical.cost]},
    }
    if practical.cost == "fee" and practical.price is not None:
        detail["amount"] = {
            "id": elm.node(offer.url, "price-amount"),
            "type": "Amount",
            "unit": elm.concept(currency(practical.currency)),
            AMOUNT_VALUE: {"@value": decimal_text(practical.price), "@type": "xsd:decimal"},
        }
    if practical.cost_note:
        detail["description"] = {offer.language: practical.cost_note}
    return detail


def _local_note(offer: Offer, text: str, part: str) -> dict[str, Any]:
    """Return a Note of a text staff wrote in the offer's main language."""
    return {"id": elm.node(offer.url, part), "type": "Note", "noteLiteral": {offer.language: text}}


def _date_notes(offer: Offer) -> list[dict[str, Any]]:
    """Return the dates an opportunity has no property for, said in a Note a person reads."""
    practical = offer.practical
    lines = []
    if practical.starts_any_time:
        lines.append("Learners can start at any time.")
    if len(practical.start_dates) > 1:
        lines.append(
            "Start dates: " + ", ".join(day.isoformat() for day in practical.start_dates) + "."
        )
    if not lines:
        return []
    return [elm.note({PRIMARY_LANGUAGE: " ".join(lines)}, elm.node(offer.url, "dates"))]


def texts_in(value: object, *, prefer: str) -> str:
    """Return the text of a language map in the preferred language, else English, else any."""
    if not isinstance(value, Mapping):
        return ""
    for language in (prefer, PRIMARY_LANGUAGE, *value):
        text = value.get(language)
        if isinstance(text, str) and text.strip():
            return text.strip()
    return ""
