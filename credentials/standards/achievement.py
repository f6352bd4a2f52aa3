"""Plain values describing an issued micro-credential, which the OB 3.0 and EDC builders read.

The model layer fills these from its rows; the builders never see a model. Texts a learner or a
partner reads in their own language are `LocalizedText`: a mapping from a BCP 47 language tag
("en", "nl", "pt-BR") to the text, which always has an "en" entry.
"""

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Final, Literal

LocalizedText = Mapping[str, str]
StatusPurpose = Literal["revocation", "suspension"]

PRIMARY_LANGUAGE: Final = "en"
IDENTITY_HASH_PREFIX: Final = "sha256$"
# BCP 47 in the shape JSON-LD language maps accept ("en", "pt-BR", "sr-Latn").
_LANGUAGE_TAG: Final = re.compile(r"[a-zA-Z]{2,3}(?:-[a-zA-Z0-9]{2,8})*")


def hash_email(email: str, salt: str) -> str:
    """Return OB 3.0's IdentityHash of an e-mail address: "sha256$" + hex SHA-256 of email + salt.

    The address is trimmed and lower-cased first, so the hash does not depend on how the learner
    typed it; a verifier who knows the address repeats exactly this.
    """
    normalized = email.strip().lower()
    return IDENTITY_HASH_PREFIX + hashlib.sha256((normalized + salt).encode("utf-8")).hexdigest()


def xsd_date_time(moment: datetime | date) -> str:
    """Return an XML Schema dateTime in UTC to the second; a date becomes its midnight UTC."""
    if isinstance(moment, datetime):
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{moment.isoformat()}T00:00:00Z"


def decimal_text(value: Decimal) -> str:
    """Return a Decimal in plain notation without trailing zeros ("5", "2.5", "50")."""
    return f"{value.normalize():f}"


def _require_english(text: LocalizedText, what: str) -> None:
    """Raise ValueError unless text has a non-blank English entry and no blank entry."""
    if not text.get(PRIMARY_LANGUAGE, "").strip():
        raise ValueError(f"{what} needs an English ({PRIMARY_LANGUAGE!r}) text")
    for language, value in text.items():
        if not _LANGUAGE_TAG.fullmatch(language):
            raise ValueError(f"{what} has an invalid language tag {language!r}")
        if not value.strip():
            raise ValueError(f"{what} has an empty {language!r} text")


def _require_utc(moment: datetime, what: str) -> None:
    """Raise ValueError unless moment is timezone-aware and in UTC."""
    if moment.tzinfo is None or moment.utcoffset() != UTC.utcoffset(None):
        raise ValueError(f"{what} must be a timezone-aware UTC datetime")


@dataclass(frozen=True, slots=True)
class Issuer:
    """The awarding institution; its DID is the credential's issuer and signs it."""

    did: str
    name: str
    url: str
    # ISO 3166-1 alpha-2, e.g. "NL".
    country_code: str
    # The legal identity EU tooling requires of an EDC issuer (eIDAS organisation identifier or
    # national register number, e.g. "NTRNL-30276874"); Annex II principle 9 asks for it too.
    legal_identifier: str
    schac_code: str | None = None
    erasmus_code: str | None = None
    email: str | None = None
    logo_url: str | None = None
    # The institution's own quality assurance (e.g. its accreditation decision and report).
    qa_evidence_text: str | None = None
    qa_evidence_url: str | None = None

    def __post_init__(self) -> None:
        if len(self.country_code) != 2 or not self.country_code.isalpha():
            raise ValueError(f"country_code must be ISO 3166-1 alpha-2, got {self.country_code!r}")
        if not self.legal_identifier.strip():
            raise ValueError("legal_identifier must not be blank")


@dataclass(frozen=True, slots=True)
class EscoSkill:
    """An ESCO skill a learning outcome relates to, with the label shown beside its URI."""

    uri: str
    label: str


@dataclass(frozen=True, slots=True)
class LearningOutcome:
    """One learning outcome and the ESCO skills it evidences."""

    text: LocalizedText
    esco_skills: tuple[EscoSkill, ...] = ()

    def __post_init__(self) -> None:
        _require_english(self.text, "a learning outcome")


@dataclass(frozen=True, slots=True)
class QualityAssurance:
    """The type of quality assurance behind a micro-credential (EU element 11)."""

    # A concept of vocabularies.ACCREDITATION.
    type_uri: str
    description: LocalizedText | None = None
    # A public page describing the QA (e.g. the DEQAR report or the programme's QA page).
    url: str | None = None
    # The quality assurance agency; when absent, the issuer assures its own offer.
    agency_name: str | None = None
    agency_country_code: str | None = None

    def __post_init__(self) -> None:
        if self.agency_name and not self.agency_country_code:
            raise ValueError("a quality assurance agency needs its country (ISO 3166-1 alpha-2)")


@dataclass(frozen=True, slots=True)
class CredentialReference:
    """Another micro-credential or qualification (possibly another institution's) to stack into."""

    url: str
    title: LocalizedText

    def __post_init__(self) -> None:
        _require_english(self.title, "a stackability target's title")


@dataclass(frozen=True, slots=True)
class Specification:
    """One published version of a micro-credential offer."""

    # Absolute URL of this version of the specification.
    id: str
    version: int
    title: LocalizedText
    description: LocalizedText
    learning_outcomes: tuple[LearningOutcome, ...]
    # Notional workload in ECTS credits (EU element 7).
    ects: Decimal
    # A concept of vocabularies.EQF (EU element 8).
    eqf_level: str
    # A concept of vocabularies.ASSESSMENT (EU element 9).
    assessment_type: str
    # A concept of vocabularies.MODE (EU element 10).
    form_of_participation: str
    quality_assurance: QualityAssurance
    workload_hours: int | None = None
    # A concept of vocabularies.ISCED_F.
    isced_f: str | None = None
    # A concept of vocabularies.LEARNING_SETTING.
    learning_setting: str | None = None
    prerequisites: LocalizedText | None = None
    # A concept of vocabularies.SUPERVISION.
    supervision_verification: str | None = None
    grading_scheme: LocalizedText | None = None
    # Stackability: is_partial marks a micro-credential integrated into a larger credential.
    is_partial: bool = False
    part_of: tuple[CredentialReference, ...] = ()
    further_information: LocalizedText | None = None
    further_information_url: str | None = None
    criteria: LocalizedText | None = None
    # ISO 639-1 tags of the languages of instruction and assessment.
    languages: tuple[str, ...] = ()
    image_url: str | None = None

    def __post_init__(self) -> None:
        _require_english(self.title, "the title")
        _require_english(self.description, "the description")
        for name in ("prerequisites", "grading_scheme", "further_information", "criteria"):
            text = getattr(self, name)
            if text is not None:
                _require_english(text, name.replace("_", " "))
        if self.quality_assurance.description is not None:
            _require_english(self.quality_assurance.description, "the quality assurance text")
        if not self.learning_outcomes:
            raise ValueError("a micro-credential needs at least one learning outcome")
        if not self.ects.is_finite() or self.ects <= 0:
            raise ValueError(f"ects must be a positive number, got {self.ects}")
        if self.workload_hours is not None and self.workload_hours <= 0:
            raise ValueError(f"workload_hours must be positive, got {self.workload_hours}")
        if self.version < 1:
            raise ValueError(f"version must be 1 or more, got {self.version}")
        if self.part_of and not self.is_partial:
            raise ValueError("a specification stackable into another must set is_partial")


@dataclass(frozen=True, slots=True)
class Holder:
    """The learner: a display name and OB 3.0's salted hash of their e-mail address."""

    name: str
    # hash_email(email, salt), e.g. "sha256$6b86…".
    identity_hash: str
    salt: str

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("the holder's name must not be blank")
        if not self.identity_hash.startswith(IDENTITY_HASH_PREFIX):
            raise ValueError("identity_hash must be a hash_email() value ('sha256$…')")


@dataclass(frozen=True, slots=True)
class Evidence:
    """Something the learner produced or did, shown to support the award."""

    narrative: str
    url: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class StatusEntry:
    """The credential's bit in one of its issuer's Bitstring Status Lists."""

    purpose: StatusPurpose
    list_url: str
    index: int

    def __post_init__(self) -> None:
        if self.index < 0:
            raise ValueError(f"a status list index cannot be negative, got {self.index}")


@dataclass(frozen=True, slots=True)
class DisplayImage:
    """A rendering of one page of the credential, which an EDC must embed (ELM DisplayDetail)."""

    content: bytes
    media_type: Literal["image/png", "image/jpeg"]
    language: str = PRIMARY_LANGUAGE
    page: int = 1

    def __post_init__(self) -> None:
        if not self.content:
            raise ValueError("a display image needs content")
        if self.page < 1:
            raise ValueError(f"pages are numbered from 1, got {self.page}")


@dataclass(frozen=True, slots=True)
class Award:
    """One issued credential: who got which specification, when, and with what result."""

    # "urn:uuid:…"
    credential_id: str
    # The public page of this credential.
    public_url: str
    issued_at: datetime
    awarded_date: date
    # Defaults to issued_at.
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    grade: str | None = None
    evidence: tuple[Evidence, ...] = ()
    status: tuple[StatusEntry, ...] = ()

    def __post_init__(self) -> None:
        if not self.credential_id.startswith("urn:uuid:"):
            raise ValueError(f"credential_id must be a urn:uuid, got {self.credential_id!r}")
        _require_utc(self.issued_at, "issued_at")
        if self.valid_from is not None:
            _require_utc(self.valid_from, "valid_from")
        if self.valid_until is not None:
            _require_utc(self.valid_until, "valid_until")
            if self.valid_until <= self.starts:
                raise ValueError("valid_until must be after valid_from")
        purposes = [entry.purpose for entry in self.status]
        if len(purposes) != len(set(purposes)):
            raise ValueError("a credential has at most one status entry per purpose")

    @property
    def starts(self) -> datetime:
        """Return when the credential becomes valid: valid_from, or else issued_at."""
        return self.valid_from or self.issued_at
