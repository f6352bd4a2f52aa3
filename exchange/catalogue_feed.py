"""The catalogue feed of the exchange protocol: pages, cursors, ETags, and strict parsing.

Pure: it takes plain values (items already built, times, bytes received) and runs no queries.
A page is `{"items": [...], "next": <absolute URL or null>, "watermark": <RFC 3339 or null>}`;
an item is `{"id", "modified", "status", "achievement", "summary"}` (see docs/exchange.md).
"""

import base64
import binascii
import hashlib
import json
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal

from credentials.standards import strict_json
from meshe.plain_text import BIDI_OVERRIDES

DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 500
# What a receiver accepts of one page: more is a malformed (or hostile) page.
MAX_ITEMS: Final = MAX_LIMIT
MAX_PAGE_BYTES: Final = 5_000_000
MAX_ITEM_BYTES: Final = 100_000
# Arrays and objects in a page: the largest real page (500 offers of 10 KB) holds about 45,000,
# and reading a million empty objects, which fit in MAX_PAGE_BYTES, would cost seconds of CPU.
MAX_PAGE_CONTAINERS: Final = 250_000
MAX_ID_LENGTH: Final = 500
MAX_TITLE_LENGTH: Final = 300
MAX_STACKS_INTO: Final = 20

STATUS_PUBLISHED: Final = "published"
STATUS_WITHDRAWN: Final = "withdrawn"
ItemStatus = Literal["published", "withdrawn"]

_RFC3339: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})"
)
_LANGUAGE: Final = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,2}")
_ISCED: Final = re.compile(r"[0-9]{2,4}")
_CODE: Final = re.compile(r"[A-Za-z0-9_.\-]{1,40}")
_CURSOR: Final = re.compile(r"[A-Za-z0-9_\-]{1,120}")


class FeedError(ValueError):
    """A received page, or a query parameter, that is not what the protocol says."""


# ------------------------------------------------------------------- times and cursors


def format_time(moment: datetime) -> str:
    """Return RFC 3339 in UTC with microseconds, so that ordering survives the round trip."""
    if moment.tzinfo is None:
        raise ValueError("a feed time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: object) -> datetime:
    """Return the UTC datetime of an RFC 3339 date-time; raises FeedError for anything else."""
    if not isinstance(value, str) or len(value) > 40 or not _RFC3339.fullmatch(value):
        raise FeedError(f"not an RFC 3339 date-time: {str(value)[:60]!r}")
    try:
        moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError as exc:
        raise FeedError(f"not an RFC 3339 date-time: {value!r}") from exc
    return moment.astimezone(UTC)


def encode_cursor(*, modified: datetime, pk: int) -> str:
    """Return the opaque cursor of the position just after (modified, pk)."""
    raw = f"{format_time(modified)}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Return the (modified, pk) position of a cursor; raises FeedError when it is not ours."""
    if not _CURSOR.fullmatch(cursor):
        raise FeedError("malformed cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, pk = raw.split("|")
        position = int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise FeedError("malformed cursor") from exc
    if position < 0:
        raise FeedError("malformed cursor")
    return parse_time(moment), position


def parse_limit(value: str | None) -> int:
    """Return the page size asked for: DEFAULT_LIMIT when absent; raises FeedError when out of
    1..MAX_LIMIT or not a number."""
    if value is None or value == "":
        return DEFAULT_LIMIT
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise FeedError(f"limit must be a number from 1 to {MAX_LIMIT}")
    return int(value)


# ------------------------------------------------------------------- building a page


def number(value: Decimal) -> int | float:
    """Return a Decimal as a JSON number: an int when whole, so 5 ECTS is written 5."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def feed_item(
    *,
    id: str,  # the protocol's name for the field
    modified: datetime,
    status: ItemStatus,
    achievement: Mapping[str, Any],
    title: str,
    language: str,
    ects: Decimal,
    eqf_level: int | None,
    isced_field: str,
    participation: str,
    stacks_into: Sequence[str] | None = None,
    practical: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return one feed item; stacksInto only for a specification that stacks into others;
    practical, the practical fields that are given (PRACTICAL_KEYS), join the summary."""
    summary: dict[str, Any] = {
        "title": title,
        "language": language,
        "ects": number(ects),
        "eqfLevel": eqf_level,
        "iscedField": isced_field,
        "participation": participation,
        **(practical or {}),
    }
    if stacks_into is not None:
        summary["stacksInto"] = list(stacks_into)
    return {
        "id": id,
        "modified": format_time(modified),
        "status": status,
        "achievement": dict(achievement),
        "summary": summary,
    }


def page_body(
    *, items: Sequence[Mapping[str, Any]], next_url: str | None, watermark: str | None
) -> bytes:
    """Return the page's bytes: compact, keys sorted, so equal pages have equal ETags."""
    page = {"items": list(items), "next": next_url, "watermark": watermark}
    return json.dumps(page, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def etag(body: bytes) -> str:
    """Return the strong ETag of a page body: its quoted SHA-256."""
    return '"' + hashlib.sha256(body).hexdigest() + '"'


def etag_matches(if_none_match: str | None, current: str) -> bool:
    """Return whether an If-None-Match header names the current ETag (or is `*`)."""
    if not if_none_match:
        return False
    candidates = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in candidates or current in candidates


# ------------------------------------------------------------------- reading a page


@dataclass(frozen=True, slots=True)
class ReceivedItem:
    """One item of a received page, checked; `document` is the item as the partner sent it."""

    remote_id: str
    modified: datetime
    withdrawn: bool
    title: str
    language: str
    ects: Decimal | None
    eqf_level: int | None
    isced_field: str
    participation: str
    practical: dict[str, Any]  # the checked practical fields, empty ones left out
    document: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ReceivedPage:
    items: tuple[ReceivedItem, ...]
    next_url: str | None
    watermark: str | None


def _http_url(value: object, what: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_LENGTH:
        raise FeedError(f"{what} must be a URL of at most {MAX_ID_LENGTH} characters")
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise FeedError(f"{what} must be an http(s) URL")
    return value


def _text(summary: Mapping[str, Any], key: str, *, pattern: re.Pattern[str] | None) -> str:
    value = summary.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FeedError(f"summary.{key} must be a string")
    if value and pattern is not None and not pattern.fullmatch(value):
        raise FeedError(f"summary.{key} is malformed")
    return value


def _ects(value: object) -> Decimal | None:
    if value is None:
        return None
    # bool is an int to Python, not a number to the protocol.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FeedError("summary.ects must be a number")
    try:
        ects = Decimal(str(value)).quantize(Decimal("0.1"))
    except InvalidOperation as exc:
        raise FeedError("summary.ects must be a number") from exc
    if not ects.is_finite() or not 0 <= ects < 10_000:
        raise FeedError("summary.ects is out of range")
    return ects


def _eqf(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 8:
        raise FeedError("summary.eqfLevel must be a whole number from 1 to 8")
    return value


# The optional practical fields of a summary (docs/exchange.md) and their limits.
PRACTICAL_KEYS: Final = (
    "enrolmentUrl",
    "enrolmentContact",
    "startDates",
    "startsAnyTime",
    "duration",
    "schedule",
    "cost",
    "price",
    "currency",
    "costNote",
    "instructionLanguages",
    "place",
)
MAX_START_DATES: Final = 50
MAX_INSTRUCTION_LANGUAGES: Final = 30
COSTS: Final = ("fee", "free", "funded")
_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_DURATION: Final = re.compile(r"P[1-9][0-9]{0,3}[DWM]")
_PRICE: Final = re.compile(r"[0-9]{1,7}(?:\.[0-9]{1,2})?")
_CURRENCY: Final = re.compile(r"[A-Z]{3}")


def _short_text(summary: Mapping[str, Any], key: str, limit: int) -> str:
    value = _text(summary, key, pattern=None)
    # Bidirectional overrides could make the text read otherwise than it is, as in the editor.
    if (
        len(value) > limit
        or any(ord(c) < 32 and c not in "\n\t" for c in value)
        or BIDI_OVERRIDES.search(value)
    ):
        raise FeedError(
            f"summary.{key} must be a text of at most {limit} characters, "
            "without control characters"
        )
    return value


def practical_fields(summary: Mapping[str, Any]) -> dict[str, Any]:
    """Return the practical fields of a summary, checked, with the empty ones left out;
    raises FeedError for one that is malformed (an unknown currency code is the sender's
    to get right: it is checked for shape only, ISO 4217's list changes)."""
    found: dict[str, Any] = {}
    if summary.get("enrolmentUrl"):
        found["enrolmentUrl"] = _http_url(summary["enrolmentUrl"], "summary.enrolmentUrl")
    for key, limit in (("enrolmentContact", 300), ("schedule", 2000), ("costNote", 300)):
        found[key] = _short_text(summary, key, limit)
    found["place"] = _short_text(summary, "place", 200)
    dates = summary.get("startDates")
    if dates is not None:
        if not isinstance(dates, list) or len(dates) > MAX_START_DATES:
            raise FeedError(f"summary.startDates must be a list of at most {MAX_START_DATES}")
        for value in dates:
            try:
                if not isinstance(value, str) or not _DATE.fullmatch(value):
                    raise ValueError
                date.fromisoformat(value)
            except ValueError:
                raise FeedError("summary.startDates[] must be dates (YYYY-MM-DD)") from None
        found["startDates"] = sorted(set(dates))
    any_time = summary.get("startsAnyTime")
    if any_time is not None and not isinstance(any_time, bool):
        raise FeedError("summary.startsAnyTime must be true or false")
    found["startsAnyTime"] = bool(any_time)
    found["duration"] = _text(summary, "duration", pattern=_DURATION)
    cost = _text(summary, "cost", pattern=None)
    if cost and cost not in COSTS:
        raise FeedError("summary.cost must be fee, free or funded")
    found["cost"] = cost
    found["price"] = _text(summary, "price", pattern=_PRICE)
    found["currency"] = _text(summary, "currency", pattern=_CURRENCY)
    if cost == "fee" and not (found["price"] and found["currency"]):
        raise FeedError("summary.cost fee needs a price and a currency")
    languages = summary.get("instructionLanguages")
    if languages is not None:
        if not isinstance(languages, list) or len(languages) > MAX_INSTRUCTION_LANGUAGES:
            raise FeedError("summary.instructionLanguages must be a short list of language tags")
        for tag in languages:
            if not isinstance(tag, str) or not _LANGUAGE.fullmatch(tag):
                raise FeedError("summary.instructionLanguages[] is malformed")
        found["instructionLanguages"] = list(dict.fromkeys(languages))
    return {key: value for key, value in found.items() if value}


def _item(raw: object) -> ReceivedItem:
    if not isinstance(raw, dict):
        raise FeedError("an item must be an object")
    if len(json.dumps(raw, ensure_ascii=False)) > MAX_ITEM_BYTES:
        raise FeedError("an item is too large")
    remote_id = _http_url(raw.get("id"), "id")
    status = raw.get("status")
    if status not in (STATUS_PUBLISHED, STATUS_WITHDRAWN):
        raise FeedError("status must be published or withdrawn")
    if not isinstance(raw.get("achievement"), dict):
        raise FeedError("achievement must be an object")
    summary = raw.get("summary")
    if not isinstance(summary, dict):
        raise FeedError("summary must be an object")
    title = summary.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE_LENGTH:
        raise FeedError(f"summary.title must be a text of 1 to {MAX_TITLE_LENGTH} characters")
    stacks = summary.get("stacksInto")
    if stacks is not None:
        if not isinstance(stacks, list) or len(stacks) > MAX_STACKS_INTO:
            raise FeedError("summary.stacksInto must be a short list of URLs")
        for url in stacks:
            _http_url(url, "summary.stacksInto[]")
    return ReceivedItem(
        remote_id=remote_id,
        modified=parse_time(raw.get("modified")),
        withdrawn=status == STATUS_WITHDRAWN,
        title=title.strip(),
        language=_text(summary, "language", pattern=_LANGUAGE)[:10],
        ects=_ects(summary.get("ects")),
        eqf_level=_eqf(summary.get("eqfLevel")),
        isced_field=_text(summary, "iscedField", pattern=_ISCED),
        participation=_text(summary, "participation", pattern=_CODE),
        practical=practical_fields(summary),
        document=raw,
    )


def http_url(value: object, what: str) -> str:
    """Return value when it is an http(s) URL of at most MAX_ID_LENGTH; raises FeedError."""
    return _http_url(value, what)


def received_item(raw: object) -> ReceivedItem:
    """Return one item checked as parse_page checks each (another format's reader, such as
    exchange.catalogue_elm, builds the item and has it checked the same way); raises FeedError."""
    return _item(raw)


def page_json(body: bytes) -> Any:
    """Return the JSON value of a partner's page, within the page's size and container caps;
    raises FeedError."""
    if len(body) > MAX_PAGE_BYTES:
        raise FeedError("the page is too large")
    try:
        return strict_json.loads(body, max_containers=MAX_PAGE_CONTAINERS)
    except strict_json.JsonRefused as exc:
        if exc.problem == strict_json.Problem.TOO_LARGE:
            raise FeedError(f"the page is too large: {exc}") from exc
        raise FeedError("the page is not JSON") from exc


def parse_page(body: bytes) -> ReceivedPage:
    """Return a received page, every item checked; raises FeedError on the first thing amiss,
    so that a receiver stores all of a page or none of it."""
    page = page_json(body)
    if not isinstance(page, dict) or set(page) != {"items", "next", "watermark"}:
        raise FeedError("a page is an object with items, next and watermark")
    raw_items = page["items"]
    if not isinstance(raw_items, list) or len(raw_items) > MAX_ITEMS:
        raise FeedError(f"items must be a list of at most {MAX_ITEMS}")
    items = tuple(_item(raw) for raw in raw_items)
    if len({item.remote_id for item in items}) != len(items):
        raise FeedError("an id appears twice in one page")
    next_url = None if page["next"] is None else _http_url(page["next"], "next")
    watermark = page["watermark"]
    if watermark is not None:
        parse_time(watermark)
    if items and watermark is None:
        raise FeedError("a page with items needs a watermark")
    return ReceivedPage(items=items, next_url=next_url, watermark=watermark)


def same_origin(url: str, other: str) -> bool:
    """Return whether two URLs share scheme, host and port: `next` may not lead elsewhere."""
    a, b = urllib.parse.urlsplit(url), urllib.parse.urlsplit(other)
    return (a.scheme, a.netloc.lower()) == (b.scheme, b.netloc.lower())
