"""The one strict JSON reader for every door that takes JSON from outside: request bodies,
fetched DID documents and status lists, partners' messages, wallet uploads, JWT payloads.

Pure and Django-free, so the standards core may use it too. Python's json module is lenient
where an attacker can profit: it accepts NaN and Infinity, keeps the last of a repeated key
(other parsers keep the first, so a signature could cover a value we never saw), overflows
huge exponents to infinity, raises RecursionError on deep nesting and a ValueError naming an
interpreter setting on a huge integer. This reader refuses all of these with one exception
type whose text is safe to show; each door words its answer from `problem`.
"""

import json
import re
from enum import StrEnum
from itertools import accumulate
from typing import Any, Final

DEFAULT_MAX_DEPTH: Final = 64
# Longer numbers are no identifier, date or amount anyone sends, and parsing them costs.
MAX_NUMBER_CHARACTERS: Final = 400

# A string, or what is left of an unterminated one: possessive, and matching to the end when
# the closing quote is missing, so no input makes the scan go back (linear in the text).
_JSON_STRING: Final = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"?', re.DOTALL)
_NOT_BRACKET: Final = bytes(byte for byte in range(256) if byte not in b"[]{}")
_BRACKET_STEP: Final = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_BOM: Final = "\ufeff"


class Problem(StrEnum):
    """Which rule the input broke."""

    TOO_LARGE = "too_large"
    NOT_TEXT = "not_text"
    TOO_DEEP = "too_deep"
    INVALID = "invalid"
    NOT_OBJECT = "not_object"


class JsonRefused(ValueError):
    """Input the strict reader refuses; str() says why in words safe to show a sender."""

    def __init__(self, problem: Problem, detail: str) -> None:
        super().__init__(detail)
        self.problem = problem


def loads(
    data: bytes | bytearray | memoryview | str,
    *,
    max_bytes: int | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_containers: int | None = None,
) -> Any:
    """The JSON value of `data` (UTF-8, a leading byte-order mark ignored), at most `max_bytes`
    long, `max_depth` levels deep and holding at most `max_containers` arrays and objects, with
    no repeated key, NaN, Infinity or oversized number; raises JsonRefused otherwise, never
    RecursionError."""
    if isinstance(data, str):
        text = data
        # Counting characters first avoids encoding a huge string just to learn it is too big.
        if max_bytes is not None and len(text) > max_bytes:
            raise _too_large(max_bytes)
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError:
            raise JsonRefused(Problem.NOT_TEXT, "it is not Unicode text") from None
    else:
        raw = bytes(data)
        size = len(raw)
        if max_bytes is not None and size > max_bytes:
            raise _too_large(max_bytes)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise JsonRefused(Problem.NOT_TEXT, "it is not UTF-8 text") from None
    if max_bytes is not None and size > max_bytes:
        raise _too_large(max_bytes)
    text = text.removeprefix(_BOM)
    brackets = _brackets(text)
    # Parsing costs about a microsecond an object: counted first, a page of a million empty
    # objects under a size cap is refused in a fraction of the time reading it would take.
    if max_containers is not None and brackets.count(b"[") + brackets.count(b"{") > max_containers:
        raise JsonRefused(
            Problem.TOO_LARGE, f"it holds more than {max_containers:,} arrays and objects"
        )
    if _depth(brackets) > max_depth:
        raise _too_deep(max_depth)
    try:
        return json.loads(
            text,
            object_pairs_hook=_object_without_duplicates,
            parse_constant=_refuse_constant,
            parse_int=_integer,
            parse_float=_finite_float,
        )
    except RecursionError:
        # The depth count above makes this unreachable in practice; a crash it must not be.
        raise _too_deep(max_depth) from None
    except JsonRefused:
        raise
    except json.JSONDecodeError as exc:
        # The json module's own words ("Expecting value: line 1 column 1 (char 0)") mean
        # nothing to whoever pasted the document; say where, in ours.
        raise JsonRefused(
            Problem.INVALID,
            f"the syntax breaks at line {exc.lineno}, column {exc.colno}",
        ) from None
    except ValueError:
        raise JsonRefused(Problem.INVALID, "it cannot be read as JSON") from None


def load_object(
    data: bytes | bytearray | memoryview | str,
    *,
    max_bytes: int | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> dict[str, Any]:
    """As `loads`, and the value must be a JSON object."""
    value = loads(data, max_bytes=max_bytes, max_depth=max_depth)
    if not isinstance(value, dict):
        raise JsonRefused(Problem.NOT_OBJECT, "it is JSON but not a JSON object")
    return value


def nesting_depth(text: str) -> int:
    """How deeply arrays and objects nest in JSON text, counted without parsing or recursing."""
    return _depth(_brackets(text))


def _brackets(text: str) -> bytes:
    """The brackets of JSON text outside its strings, in order. Outside strings JSON is ASCII,
    so the rest is dropped as bytes, in one pass of C."""
    outside = _JSON_STRING.sub("", text).encode("utf-8", "ignore")
    return outside.translate(None, _NOT_BRACKET)


def _depth(brackets: bytes) -> int:
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0)


def _too_large(max_bytes: int) -> JsonRefused:
    return JsonRefused(Problem.TOO_LARGE, f"it is larger than {max_bytes} bytes")


def _too_deep(max_depth: int) -> JsonRefused:
    return JsonRefused(Problem.TOO_DEEP, f"it is nested more than {max_depth} levels deep")


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Parsers disagree on which duplicate wins, so a signature could cover a value we never saw.
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise JsonRefused(Problem.INVALID, f"the key {_shown(key)} appears twice in one object")
        document[key] = value
    return document


def _refuse_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity, which JSON does not define.
    raise JsonRefused(Problem.INVALID, f"{name} is not a JSON value")


def _integer(literal: str) -> int:
    if len(literal) > MAX_NUMBER_CHARACTERS:
        raise _too_long_number()
    return int(literal)


def _finite_float(literal: str) -> float:
    if len(literal) > MAX_NUMBER_CHARACTERS:
        raise _too_long_number()
    value = float(literal)
    if value in (float("inf"), float("-inf")):
        raise JsonRefused(Problem.INVALID, f"the number {literal[:40]} is too large")
    return value


def _too_long_number() -> JsonRefused:
    return JsonRefused(
        Problem.INVALID, f"a number is longer than {MAX_NUMBER_CHARACTERS} characters"
    )


def _shown(key: str) -> str:
    """The key as quoted in a message, cut short: a sender chooses its length."""
    return repr(key if len(key) <= 60 else key[:60] + "…")
