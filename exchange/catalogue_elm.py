"""Reading a partner's catalogue published as ELM v3 learning opportunities, so that a
university that publishes ELM but runs no MESHE node can be a partner for catalogue purposes.

Pure: bytes in, a catalogue_feed.ReceivedPage out; no queries. Each LearningOpportunity becomes
the item MESHE's own feed would have sent for it (docs/exchange.md): an OB 3.0-style
Achievement (title, description, learning outcomes, the EU elements as alignments, ESCO
skills) and a summary (title, language, ECTS, EQF, ISCED-F, mode and the practical fields),
which then passes exactly the checks of MESHE's own feed. The LearningOpportunity itself is
kept beside them, under "elm".

Read: the compact JSON-LD of the edc-ap context, as credentials.standards.elm_offer writes it
and the Commission's samples are written: nodes embedded, not referenced by id. A page is MESHE's
(`{"items": [...], "next": …}`), a JSON-LD `{"@graph": [...]}`, a list, or one
LearningOpportunity; anything else in it is skipped. What cannot be read is a FeedError naming it.
"""

import json
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from credentials.standards import elm_offer, ob3, vocabularies
from exchange import catalogue_feed
from exchange.catalogue_feed import FeedError, ReceivedItem, ReceivedPage

ECTS: Final = vocabularies.ECTS
EQF_PREFIX: Final = "http://data.europa.eu/snb/eqf/"
ISCED_PREFIX: Final = "http://data.europa.eu/snb/isced-f/"
# ISCED-F's "field unknown" codes, which elm_offer writes when staff chose no field.
ISCED_UNKNOWN: Final = frozenset({"99", "999", "9999"})
_XSD_DURATION: Final = re.compile(r"P(?:([0-9]{1,4})D|([0-9]{1,4})W|([0-9]{1,4})M)")
_XSD_DATE_TIME: Final = re.compile(r"(\d{4}-\d{2}-\d{2})(?:T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?")
MAX_OUTCOMES: Final = 100
MAX_SKILLS: Final = 200


def parse_page(body: bytes, *, fetched_at: datetime) -> ReceivedPage:
    """Return a page of a partner's ELM catalogue, every LearningOpportunity read and checked;
    raises FeedError on the first thing amiss, so that a sync stores all of a page or none.
    fetched_at stands for an opportunity's last change when it does not give one."""
    page = catalogue_feed.page_json(body)
    next_url = None
    if isinstance(page, dict) and isinstance(page.get("items"), list):
        raw_items: object = page["items"]
        if page.get("next") is not None:
            next_url = catalogue_feed.http_url(page["next"], "next")
    elif isinstance(page, dict) and isinstance(page.get("@graph"), list):
        raw_items = page["@graph"]
    elif isinstance(page, list):
        raw_items = page
    elif isinstance(page, dict):
        raw_items = [page]
    else:
        raise FeedError("an ELM page is an object or a list")
    assert isinstance(raw_items, list)
    opportunities = [raw for raw in raw_items if _is_opportunity(raw)]
    if len(opportunities) > catalogue_feed.MAX_ITEMS:
        raise FeedError(f"a page may hold at most {catalogue_feed.MAX_ITEMS} opportunities")
    items = tuple(received_item(raw, fetched_at=fetched_at) for raw in opportunities)
    if len({item.remote_id for item in items}) != len(items):
        raise FeedError("an id appears twice in one page")
    return ReceivedPage(items=items, next_url=next_url, watermark=None)


def received_item(opportunity: Mapping[str, Any], *, fetched_at: datetime) -> ReceivedItem:
    """Return one LearningOpportunity as a checked feed item; raises FeedError."""
    if len(json.dumps(opportunity, ensure_ascii=False)) > catalogue_feed.MAX_ITEM_BYTES:
        raise FeedError("an opportunity is too large")
    return catalogue_feed.received_item(meshe_item(opportunity, fetched_at=fetched_at))


def meshe_item(opportunity: Mapping[str, Any], *, fetched_at: datetime) -> dict[str, Any]:
    """Return the MESHE feed item that says what a LearningOpportunity says; raises FeedError
    for what it needs and cannot find (an http(s) id or homepage, a title)."""
    spec = _first(opportunity.get("learningAchievementSpecification"))
    language = _language(_first(opportunity.get(elm_offer.DEFAULT_LANGUAGE))) or "en"
    title = _text(opportunity.get("title"), language) or _text(spec.get("title"), language)
    if not title:
        raise FeedError("a LearningOpportunity needs a title")
    remote_id = _remote_id(opportunity)
    modified = _modified(opportunity.get(elm_offer.MODIFIED)) or catalogue_feed.format_time(
        fetched_at
    )
    eqf = _code(_first(spec.get("educationLevel") or spec.get("eqfLevel")), EQF_PREFIX)
    isced = _code(_first(spec.get("thematicArea")), ISCED_PREFIX)
    mode_uri = _id(_first(opportunity.get("mode"))) or _id(_first(spec.get("mode")))
    ects = _ects(spec.get("creditPoint"))
    summary: dict[str, Any] = {
        "title": title,
        "language": language,
        "ects": catalogue_feed.number(ects) if ects is not None else None,
        "eqfLevel": int(eqf) if eqf.isdigit() and 1 <= int(eqf) <= 8 else None,
        "iscedField": "" if isced in ISCED_UNKNOWN else isced,
        "participation": mode_uri.rstrip("/").rsplit("/", 1)[-1] if mode_uri else "",
        **_practical(opportunity, spec, language),
    }
    return {
        "id": remote_id,
        "modified": modified,
        "status": catalogue_feed.STATUS_PUBLISHED,
        "achievement": _achievement(opportunity, spec, language),
        "summary": summary,
        "elm": dict(opportunity),
    }


# ---------------------------------------------------------------- the parts


def _remote_id(opportunity: Mapping[str, Any]) -> str:
    """The opportunity's id when it is a web address, else its first homepage's."""
    candidates = [opportunity.get("id")]
    candidates += [_first(page).get("contentURL") for page in _list(opportunity.get("homepage"))]
    for candidate in candidates:
        try:
            return catalogue_feed.http_url(candidate, "id")
        except FeedError:
            continue
    raise FeedError("a LearningOpportunity needs an http(s) id or homepage")


def _achievement(
    opportunity: Mapping[str, Any], spec: Mapping[str, Any], language: str
) -> dict[str, Any]:
    """The Achievement MESHE's feed would carry: texts, outcomes and the EU elements."""
    outcomes = [_first(item) for item in _list(spec.get("learningOutcome"))[:MAX_OUTCOMES]]
    narrative = "\n".join(
        f"{number}. {' '.join(text.split())}"
        for number, text in enumerate(
            (t for t in (_text(o.get("title"), language) for o in outcomes) if t), start=1
        )
    )
    alignments = []
    for target_type, value in (
        (ob3.TARGET_EQF, spec.get("educationLevel") or spec.get("eqfLevel")),
        (ob3.TARGET_ISCED_F, spec.get("thematicArea")),
        (
            ob3.TARGET_ASSESSMENT,
            _first(_first(spec.get("provenBy")).get("dcType")) or None,
        ),
        (ob3.TARGET_PARTICIPATION, opportunity.get("mode") or spec.get("mode")),
        (ob3.TARGET_LEARNING_SETTING, spec.get("learningSetting")),
    ):
        concept = _first(value)
        if _id(concept) and not (
            target_type == ob3.TARGET_ISCED_F and _code(concept, ISCED_PREFIX) in ISCED_UNKNOWN
        ):
            alignments.append(_alignment(concept, target_type, language))
    assessment = _first(spec.get("provenBy"))
    for note in _list(assessment.get("additionalNote")):
        subject = _first(_first(note).get("subject"))
        if _id(subject).startswith("http://data.europa.eu/snb/supervision-verification/"):
            alignments.append(_alignment(subject, ob3.TARGET_SUPERVISION, language))
    provider = _first(opportunity.get("providedBy"))
    for accreditation in _list(provider.get("accreditation"))[:1]:
        concept = _first(_first(accreditation).get("dcType"))
        if _id(concept):
            qa = _alignment(concept, ob3.TARGET_QUALITY_ASSURANCE, language)
            if note := _text(_first(accreditation).get("description"), language):
                qa["targetDescription"] = note
            alignments.append(qa)
    skills: dict[str, str] = {}
    for outcome in outcomes:
        for skill in _list(outcome.get("relatedESCOSkill")):
            skill = _first(skill)
            if _id(skill) and len(skills) < MAX_SKILLS:
                skills.setdefault(_id(skill), _text(skill.get("prefLabel"), language))
    alignments += [
        {
            "type": ["Alignment"],
            "targetType": ob3.TARGET_SKILL,
            "targetFramework": ob3.FRAMEWORK_ESCO,
            "targetName": label or uri,
            "targetUrl": uri,
        }
        for uri, label in skills.items()
    ]
    achievement: dict[str, Any] = {
        "id": _id(spec) or _remote_id(opportunity),
        "type": ["Achievement"],
        "name": _language_map(opportunity.get("title") or spec.get("title")),
        "description": _language_map(opportunity.get("description") or spec.get("description")),
        "inLanguage": language,
        "criteria": {"narrative": narrative},
        "alignment": alignments,
    }
    return achievement


def _practical(
    opportunity: Mapping[str, Any], spec: Mapping[str, Any], language: str
) -> dict[str, Any]:
    """The summary's practical fields, as MESHE's feed names them; absent ones left out."""
    found: dict[str, Any] = {}
    for document in _list(opportunity.get("supplementaryDocument")):
        document = _first(document)
        titles = _language_map(document.get("title"))
        if titles.get("en") == elm_offer.ENROLMENT_TITLE and document.get("contentURL"):
            found["enrolmentUrl"] = document["contentURL"]
            break
    for key, value in (
        ("enrolmentContact", opportunity.get("admissionProcedure")),
        ("schedule", opportunity.get("scheduleInformation")),
    ):
        if text := _text(_first(value).get("noteLiteral"), language):
            found[key] = text
    start = _first(opportunity.get("temporal")).get("startDate")
    if isinstance(start, str) and (match := _XSD_DATE_TIME.fullmatch(start)):
        found["startDates"] = [match.group(1)]
    if duration := _duration(opportunity.get("duration")):
        found["duration"] = duration
    price = _first(opportunity.get("priceDetail"))
    if price:
        found.update(_price(price, language))
    languages = [_language(_first(item)) for item in _list(spec.get("language"))]
    languages = [tag for tag in languages if tag]
    # One language, the main one: elm_offer's way of saying staff named none.
    if languages and languages != [language]:
        found["instructionLanguages"] = languages
    if place := _text(_first(opportunity.get("location")).get("geographicName"), language):
        found["place"] = place
    return found


def _price(detail: Mapping[str, Any], language: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    amount = _first(detail.get("amount"))
    value = amount.get(elm_offer.AMOUNT_VALUE, amount.get("value"))
    if isinstance(value, dict):
        value = value.get("@value")
    label = _language_map(detail.get("prefLabel")).get("en", "").strip().lower()
    price = (
        _decimal(value, "priceDetail.amount", below=Decimal(10_000_000))
        if value is not None
        else None
    )
    unit = _first(amount.get("unit"))
    code = str(unit.get("notation") or _id(unit).rstrip("/").rsplit("/", 1)[-1])
    if price is not None and price > 0:
        found.update(cost="fee", price=f"{price.quantize(Decimal('0.01')):f}", currency=code)
    elif price is not None or label == "free":
        found["cost"] = "free"
    elif label == "funded":
        found["cost"] = "funded"
    if note := _text(detail.get("description"), language):
        found["costNote"] = note
    return found


def _duration(value: object) -> str:
    """An xsd:duration in MESHE's units: whole weeks in weeks (elm_offer writes P6W as P42D)."""
    if not isinstance(value, str) or not (match := _XSD_DURATION.fullmatch(value)):
        return ""
    days, weeks, months = match.groups()
    if days is not None:
        amount = int(days)
        if amount % 7 == 0 and 0 < amount // 7 < 10_000:
            return f"P{amount // 7}W"
        return f"P{amount}D" if 0 < amount < 10_000 else ""
    amount = int(weeks if weeks is not None else months)
    return f"P{amount}{'W' if weeks is not None else 'M'}" if amount > 0 else ""


def _alignment(concept: Mapping[str, Any], target_type: str, language: str) -> dict[str, Any]:
    return {
        "type": ["Alignment"],
        "targetType": target_type,
        "targetName": _text(concept.get("prefLabel"), language) or _id(concept),
        "targetUrl": _id(concept),
    }


def _ects(value: object) -> Decimal | None:
    for credit in _list(value):
        credit = _first(credit)
        if _id(_first(credit.get("framework"))) != ECTS:
            continue
        return _decimal(credit.get("point"), "creditPoint.point", below=Decimal(10_000))
    return None


def _decimal(value: object, what: str, *, below: Decimal) -> Decimal:
    """A number from 0 up to (not including) below, given as a JSON number or string."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FeedError(f"{what} is not a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise FeedError(f"{what} is not a number") from None
    # Checked before any arithmetic: 1E+999999 is a Decimal, but no price or credit.
    if not number.is_finite() or not Decimal(0) <= number < below:
        raise FeedError(f"{what} is out of range")
    return number


def _modified(value: object) -> str:
    if isinstance(value, dict):
        value = value.get("@value")
    if not isinstance(value, str):
        return ""
    try:
        return catalogue_feed.format_time(catalogue_feed.parse_time(value))
    except FeedError:
        return ""


def _language(concept: Mapping[str, Any]) -> str:
    """The BCP 47 tag of an EU language concept ("…/language/ENG" → "en"); "" when unknown."""
    try:
        found = vocabularies.concept(_id(concept), scheme=vocabularies.LANGUAGE)
    except vocabularies.UnknownConcept:
        return ""
    tag = found.annotations.get("iso639_1")
    return tag if isinstance(tag, str) else ""


# ---------------------------------------------------------------- JSON-LD values


def _is_opportunity(value: object) -> bool:
    if not isinstance(value, dict):
        return False
    kind = value.get("type", value.get("@type"))
    return kind == elm_offer.TYPE or (isinstance(kind, list) and elm_offer.TYPE in kind)


def _list(value: object) -> list[Any]:
    if value is None:
        return []
    return value[:MAX_OUTCOMES] if isinstance(value, list) else [value]


def _first(value: object) -> Mapping[str, Any]:
    """The first node of a value (a node or a list of them); {} when there is none."""
    for item in _list(value):
        if isinstance(item, dict):
            return item
    return {}


def _id(node: Mapping[str, Any]) -> str:
    value = node.get("id", node.get("@id"))
    return value if isinstance(value, str) else ""


def _code(concept: Mapping[str, Any], prefix: str) -> str:
    uri = _id(concept)
    return uri.removeprefix(prefix) if uri.startswith(prefix) else ""


def _language_map(value: object) -> dict[str, str]:
    if isinstance(value, str):
        return {"en": value}
    if not isinstance(value, dict):
        return {}
    return {
        tag[:10]: text.strip()
        for tag, text in list(value.items())[:30]
        if isinstance(tag, str) and isinstance(text, str) and text.strip()
    }


def _text(value: object, language: str) -> str:
    return elm_offer.texts_in(_language_map(value), prefer=language)
