"""What a wallet card needs from a credential made elsewhere, read from its JSON-LD.

Pure: plain values in, plain values out, no queries. Open Badges 3.0 / W3C VC documents and
European Digital Credentials (ELM v3) are told apart by their type; nothing here judges
whether a document is authentic, which is the verifier's job.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from credentials.standards import strict_json

EDC_CONTEXT: Final = "http://data.europa.eu/snb/model/context/edc-ap"
EDC_TYPE: Final = "EuropeanDigitalCredential"
VC_TYPE: Final = "VerifiableCredential"
EQF_PREFIX: Final = "http://data.europa.eu/snb/eqf/"
ECTS_FRAMEWORK: Final = "http://data.europa.eu/snb/education-credit/6fcec5c5af"
# The day a credential was awarded is the day in Brussels, as every MESHE page shows dates.
AWARD_DAY_ZONE: Final = ZoneInfo("Europe/Brussels")

Format = Literal["vc", "edc"]


class NotACredential(ValueError):
    """The input is not JSON, or is JSON but not a credential; the message says which."""


@dataclass(frozen=True, slots=True)
class Summary:
    format: Format
    title: str
    issuer_id: str
    issuer_name: str
    issued_at: datetime | None
    valid_until: datetime | None
    ects: Decimal | None
    eqf_level: str
    holder_name: str = ""
    grade: str = ""
    awarded_at: datetime | None = None

    @property
    def awarded_on(self) -> date | None:
        """The day of the award in Brussels (awardedDate, else the date of issue)."""
        moment = self.awarded_at or self.issued_at
        return moment.astimezone(AWARD_DAY_ZONE).date() if moment is not None else None

    @property
    def eqf_number(self) -> int | None:
        """The EQF level as a number (1 to 8), None when the credential names none."""
        tail = self.eqf_level.removeprefix(EQF_PREFIX)
        return int(tail) if tail.isdigit() and 1 <= int(tail) <= 8 else None


def parse(raw: str) -> dict[str, Any]:
    """The JSON object in raw; raises NotACredential for anything else."""
    try:
        return strict_json.load_object(raw)
    except strict_json.JsonRefused as exc:
        if exc.problem is strict_json.Problem.NOT_OBJECT:
            raise NotACredential("not a JSON object") from None
        raise NotACredential("not JSON") from exc


def sealed_payload(document: Mapping[str, Any]) -> dict[str, Any] | None:
    """What a JAdES-sealed document (`{payload, signatures}`, unencoded payload) carries, read
    without checking the seal (the verifier does that); None for any other document."""
    payload = document.get("payload")
    if set(document) != {"payload", "signatures"} or not isinstance(payload, str):
        return None
    try:
        return strict_json.load_object(payload)
    except strict_json.JsonRefused:
        return None


def is_edc(document: Mapping[str, Any]) -> bool:
    """Whether the document says it is a European Digital Credential (ELM v3)."""
    return EDC_TYPE in _strings(document.get("type")) or EDC_CONTEXT in _strings(
        document.get("@context")
    )


def detect_format(document: Mapping[str, Any]) -> Format:
    """ "edc" or "vc"; raises NotACredential when the document says it is neither."""
    if is_edc(document):
        return "edc"
    if VC_TYPE in _strings(document.get("type")):
        return "vc"
    raise NotACredential("its type is not VerifiableCredential")


def summarise(document: Mapping[str, Any]) -> Summary:
    """The card of a credential; fields the document lacks are empty. Raises NotACredential
    when it is not a credential."""
    kind = detect_format(document)
    if kind == "edc":
        return _edc(document)
    return _vc(document)


def _vc(document: Mapping[str, Any]) -> Summary:
    issuer = document.get("issuer")
    issuer_id = issuer if isinstance(issuer, str) else _text(_get(issuer, "id"))
    subject = document.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else {}
    achievement = _get(subject, "achievement")
    alignments = _get(achievement, "alignment")
    eqf = ""
    for alignment in alignments if isinstance(alignments, list) else []:
        url = _text(_get(alignment, "targetUrl"))
        if url.startswith(EQF_PREFIX):
            eqf = url
            break
    return Summary(
        format="vc",
        title=_text(document.get("name")) or _text(_get(achievement, "name")),
        issuer_id=issuer_id,
        issuer_name=_text(_get(issuer, "name")),
        issued_at=_date(document.get("validFrom") or document.get("issuanceDate")),
        valid_until=_date(document.get("validUntil") or document.get("expirationDate")),
        ects=_decimal(_get(achievement, "creditsAvailable")),
        eqf_level=eqf,
        holder_name=_vc_holder_name(subject),
        grade=_vc_grade(subject),
        awarded_at=_date(document.get("awardedDate")),
    )


def _vc_holder_name(subject: Any) -> str:
    """The holder's name: the subject's name, or its plain-text IdentityObject of type name."""
    name = _text(_get(subject, "name"), limit=200)
    if name:
        return name
    identifiers = _get(subject, "identifier")
    for identity in identifiers if isinstance(identifiers, list) else []:
        if _get(identity, "identityType") == "name" and _get(identity, "hashed") is False:
            return _text(_get(identity, "identityHash"), limit=200)
    return ""


def _vc_grade(subject: Any) -> str:
    """The first result's value (Open Badges 3.0 puts a disclosed grade there)."""
    results = _get(subject, "result")
    if isinstance(results, Mapping):
        results = [results]
    for result in results if isinstance(results, list) else []:
        value = _get(result, "value")
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        found = _text(value, limit=60)
        if found:
            return found
    return ""


def _edc(document: Mapping[str, Any]) -> Summary:
    issuer = document.get("issuer")
    subject = document.get("credentialSubject")
    claim = _get(subject, "hasClaim")
    if isinstance(claim, list):
        claim = claim[0] if claim else {}
    specified = _get(claim, "specifiedBy")
    credit = _get(specified, "creditPoint")
    if isinstance(credit, list):
        credit = credit[0] if credit else {}
    ects = None
    if _text(_get(_get(credit, "framework"), "id")) in {"", ECTS_FRAMEWORK}:
        ects = _decimal(_get(credit, "point"))
    eqf = _get(specified, "eqfLevel")
    return Summary(
        format="edc",
        title=_language_text(_get(claim, "title")) or _language_text(_get(specified, "title")),
        issuer_id=_text(_get(issuer, "id")),
        issuer_name=_language_text(_get(issuer, "legalName")),
        issued_at=_date(
            document.get("issued") or document.get("validFrom") or document.get("issuanceDate")
        ),
        valid_until=_date(document.get("validUntil") or document.get("expirationDate")),
        ects=ects,
        eqf_level=_text(eqf if isinstance(eqf, str) else _get(eqf, "id")),
        holder_name=_edc_holder_name(subject),
        awarded_at=_date(_get(_get(claim, "awardedBy"), "awardingDate")),
    )


def _edc_holder_name(subject: Any) -> str:
    """An ELM Person's full name, or given and family names, in English where given."""
    full = _language_text(_get(subject, "fullName"))
    if full:
        return full[:200]
    parts = [
        _language_text(_get(subject, "givenName")),
        _language_text(_get(subject, "familyName")),
    ]
    return " ".join(part for part in parts if part)[:200]


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _text(value: Any, limit: int = 300) -> str:
    # NUL cannot be stored in a PostgreSQL text column; the document itself keeps it escaped.
    return value.replace("\x00", "").strip()[:limit] if isinstance(value, str) else ""


def _language_text(value: Any) -> str:
    """An ELM language map ({"en": "…"}): English when there is one, else the first."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, Mapping) and value:
        return _text(value.get("en")) or _text(next(iter(value.values())))
    return ""


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    if not number.is_finite() or not 0 <= number < 10_000:
        return None
    return number.quantize(Decimal("0.01"))


def achievement_id(document: Mapping[str, Any]) -> str:
    """The id of the specification the credential was awarded for: the OB 3.0 achievement's
    id, or the EDC claim's specification id; empty when the document names none."""
    subject = document.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else {}
    found = _text(_get(_get(subject, "achievement"), "id"), limit=500)
    if found:
        return found
    claim = _get(subject, "hasClaim")
    if isinstance(claim, list):
        claim = claim[0] if claim else {}
    return _text(_get(_get(claim, "specifiedBy"), "id"), limit=500)
