"""RDFC-1.0 canonical N-Quads for documents of an already-seen shape, without JSON-LD expansion.

A document's *shape* is everything in it except its strings outside `@context`: the nesting, the
keys and their order, every number, boolean and null, and every `@context` verbatim. Documents of
one shape differ only in those strings, so pyld's processing of one tells where the strings of
the next one land. A shape is compiled into a template from pyld's own output:

1. pyld canonicalises the document with its strings replaced by unique random *markers* (absolute
   IRIs that no context defines), except the strings under keys that are, or that a context
   aliases to, @type, @language, @direction or @index: those choose scoped contexts and tags.
2. Each marker is looked for in the N-Quads. A string becomes a *literal slot* when its marker is
   exactly the lexical form of literals (value expansion copies a string there whatever it says),
   an *IRI slot* when its marker is exactly subject, object or graph IRIs, and otherwise a
   *constant*: it vanished, was rewritten (JSON literal, xsd:double), or sat in a datatype,
   language tag or predicate. Constants keep their own values in the next round; rounds repeat
   until no string changes class.
3. The template must give the general path's bytes for the document that compiled it, or it is
   never used.

To canonicalise a document of a compiled shape, its constants must equal the template's, and the
slots are filled: a literal slot with any string the general path accepts (escaped by pyld's own
`escape`), an IRI slot only with an absolute IRI that is neither a term nor a term's prefix in
any context the document can reach, which pyld expands to itself as @id, as @type or with
@vocab. Then the RDFC-1.0 blank node labelling runs on the filled quads: each blank node's
first-degree hash (its quads with itself as `_:a` and other blank nodes as `_:z`, sorted,
SHA-256) is recomputed, and when all are distinct the canonical labels follow the hashes in code
point order, exactly as RDFC-1.0 (and pyld) issue them; the labelled quads are sorted.

Everything else takes the general path, `signing.canonicalize`, so errors carry the same failure
and detail: a value that fits no slot, a changed constant, first-degree hashes that collide
(RDFC-1.0 would need its n-degree step), slots filled so that two quads become one (pyld would
have merged them), non-JSON values, a shape seen fewer than `compile_after` times, or a document
too large to cache.
"""

import hashlib
import logging
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from operator import itemgetter
from typing import Any, Final, Literal

from pyld.nquads import escape as nquads_escape

from credentials.standards import signing
from credentials.standards.jsonld.loader import ContextNotBundled, load_document

logger = logging.getLogger(__name__)

# Strings under these keys (and under keys a context aliases to them) choose type-scoped contexts,
# language tags, directions or indexes: a marker there would change how the rest of the document
# expands, or fail to, so they start out constant. Anything else the compile rounds find.
_CONSTANT_KEYS: Final = frozenset({"@type", "type", "@language", "@direction", "@index"})
# pyld converts a string coerced to xsd:double (`"5"` becomes `"5.0E0"`), so it is no slot.
_TRANSFORMED_SUFFIXES: Final = ("^^<http://www.w3.org/2001/XMLSchema#double>",)
# An absolute IRI that all three IRI tests of the general path accept (pyld's `_is_absolute_iri`
# with Python's \s, signing's JavaScript-whitespace test and signing's unsupported characters); the
# scheme leaves out the comma that `[+-.]` lets through, which only makes this stricter.
_SLOT_IRI: Final = re.compile(
    r"([A-Za-z][A-Za-z0-9+.\-]*):"
    r"[^\s\x00-\x20<>\"{}|^`\\\x7f\x85\ufeff\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*"
)
# The characters other than NUL that signing refuses in a literal (it refuses nothing beyond
# ASCII, as a test checks), for a fast test of UTF-8 bytes.
_REFUSED_BYTES: Final = bytes(
    code for code in range(1, 128) if signing._LITERAL_UNSUPPORTED.match(chr(code))
)
_TERM: Final = r'(<[^>]*>|_:[A-Za-z0-9]+|"(?:[^"\\]|\\.)*"(?:@[A-Za-z0-9-]+|\^\^<[^>]*>)?)'
_CANONICAL_LINE: Final = re.compile(rf"{_TERM} {_TERM} {_TERM}(?: {_TERM})? \.")
_LITERAL_TERM: Final = re.compile(r'"((?:[^"\\]|\\.)*)"(.*)', re.DOTALL)
_BLANK_PREFIX: Final = "_:c14n"
_COMPILE_ROUNDS: Final = 4
# A shape whose compiling documents keep coinciding with themselves is given up after this many.
_INCONCLUSIVE_LIMIT: Final = 3
# Bounds each template's memo of blank node hashes (blank nodes whose values repeat across
# documents, such as a specification's alignments, are hashed once) and of IRIs that fit a slot.
_MEMO_LIMIT: Final = 1024

# Shape tokens (see _walk_entries).
_OBJECT: Final = 0
_ARRAY: Final = 1
_END: Final = 2
_STRING: Final = 3
_NULL: Final = 4
_CONTEXT: Final = 5

Shape = tuple[Any, ...]


class _NotCacheable(Exception):
    """Raised inside the shape walk for a value the template path does not take."""


class Compilation(Enum):
    """A compile that proved nothing either way."""

    # The compiling document's own values coincide (equal quads, equal blank node hashes), so
    # its template cannot be checked against it; a document of the same shape may do.
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True, slots=True)
class CacheInfo:
    """Counters of a ShapeCache, for tests and the benchmark."""

    hits: int
    general: int
    compiled: int
    uncompilable: int
    shapes: int
    max_shapes: int


# ---------------------------------------------------------------- the shape of a document


def document_shape(
    document: Mapping[str, Any], *, max_tokens: int
) -> tuple[Shape, list[str]] | None:
    """Return a document's shape and its strings outside @context in order, or None if uncacheable."""
    tokens: list[Any] = []
    strings: list[str] = []
    try:
        _walk_entries(document.items(), tokens, strings)
    except (_NotCacheable, RecursionError):
        return None
    if len(tokens) > max_tokens:
        return None
    return tuple(tokens), strings


# In a shape, an object's entry is a bare key when its value is a string, and a tuple starting
# with the key otherwise; an array item that is a string is _STRING. Every object and array ends
# with _END, numbers are (type, value) and these small ints are the only other bare tokens, so
# different documents never share a shape by accident.


def _walk_entries(items: Any, tokens: list[Any], strings: list[str]) -> None:
    """Append the tokens of an object's entries and its end; collect its strings."""
    append = tokens.append
    for key, value in items:
        if key.__class__ is not str:
            raise _NotCacheable
        kind = value.__class__
        if kind is str and key != "@context":
            append(key)
            strings.append(value)
        elif key == "@context":
            append((key, _CONTEXT, _frozen(value)))
        elif kind is dict:
            append((key, _OBJECT))
            _walk_entries(value.items(), tokens, strings)
        elif kind is list:
            append((key, _ARRAY))
            _walk_items(value, tokens, strings)
        else:
            append((key, _scalar(value)))
    append(_END)


def _walk_items(items: list[Any], tokens: list[Any], strings: list[str]) -> None:
    """Append the tokens of an array's items and its end; collect its strings."""
    append = tokens.append
    for item in items:
        kind = item.__class__
        if kind is str:
            append(_STRING)
            strings.append(item)
        elif kind is dict:
            append(_OBJECT)
            _walk_entries(item.items(), tokens, strings)
        elif kind is list:
            append(_ARRAY)
            _walk_items(item, tokens, strings)
        else:
            append(_scalar(item))
    append(_END)


def _scalar(value: Any) -> tuple[Any, ...]:
    """Return the token of a number, boolean or null; raises _NotCacheable for anything else."""
    kind = value.__class__
    if kind is int or kind is bool:
        return (kind, value)
    if kind is float:
        # repr tells -0.0 from 0.0, which compare equal but canonicalise differently.
        return (kind, repr(value))
    if value is None:
        return (_NULL,)
    raise _NotCacheable


def _frozen(value: Any) -> Any:
    """Return a JSON value (an @context) as one hashable token that keeps everything in it."""
    kind = value.__class__
    if kind is str:
        return value
    if kind is dict:
        entries = []
        for key, item in value.items():
            if key.__class__ is not str:
                raise _NotCacheable
            entries.append((key, _frozen(item)))
        return (_OBJECT, tuple(entries))
    if kind is list:
        return (_ARRAY, tuple(_frozen(item) for item in value))
    return _scalar(value)


def _strings_with_keys(value: Any, key: str | None = None) -> Iterator[tuple[str, str | None]]:
    """Yield the strings document_shape collects, in its order, each with the key it sits under."""
    if isinstance(value, dict):
        for name, item in value.items():
            if name != "@context":
                yield from _strings_with_keys(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _strings_with_keys(item, key)
    elif isinstance(value, str):
        yield value, key


def _with_strings(value: Any, replacements: Iterator[str]) -> Any:
    """Return a copy of a JSON value whose strings outside @context come from replacements, in order."""
    if isinstance(value, dict):
        return {
            key: item if key == "@context" else _with_strings(item, replacements)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_with_strings(item, replacements) for item in value]
    if isinstance(value, str):
        return next(replacements)
    return value


# ---------------------------------------------------------------- what contexts define


@dataclass(frozen=True, slots=True)
class ContextFacts:
    """What the contexts a document can reach define, as far as templates care."""

    # Every key of every context, at any depth: a superset of the terms and prefixes that any
    # active context in the document can hold.
    terms: frozenset[str]
    # Keys that alias @type, @language, @direction or @index somewhere, and those keywords.
    constant_keys: frozenset[str]


def context_facts(document: Mapping[str, Any]) -> ContextFacts:
    """Return what the contexts the document names, inline or bundled, define; raises ContextNotBundled."""
    terms: set[str] = set()
    aliases: set[str] = set()
    seen_urls: set[str] = set()
    pending: list[Any] = []

    def collect(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                terms.add(key)
                definition = item.get("@id") if isinstance(item, dict) else item
                if isinstance(definition, str) and definition in _CONSTANT_KEYS:
                    aliases.add(key)
                if key in ("@context", "@import"):
                    pending.append(item)
                else:
                    collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    def find_contexts(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "@context":
                    pending.append(item)
                else:
                    find_contexts(item)
        elif isinstance(value, list):
            for item in value:
                find_contexts(item)

    find_contexts(dict(document))
    while pending:
        context = pending.pop()
        if isinstance(context, list):
            pending.extend(context)
        elif isinstance(context, str):
            if context not in seen_urls:
                seen_urls.add(context)
                pending.append(load_document(context)["document"])
        else:
            collect(context)
    return ContextFacts(terms=frozenset(terms), constant_keys=_CONSTANT_KEYS | frozenset(aliases))


# ---------------------------------------------------------------- templates


@dataclass(frozen=True, slots=True)
class _BlankNodeHash:
    """How to hash one blank node: its first-degree quads, with only slot values left to fill."""

    format: str
    slots: Callable[[list[str]], Any] | None
    # The hash when none of its quads holds a slot.
    fixed: str | None


class Template:
    """The canonical N-Quads of one shape, with a slot for each string that may vary."""

    def __init__(
        self,
        *,
        constants: tuple[tuple[int, str], ...],
        literal_strings: tuple[int, ...],
        iri_strings: tuple[int, ...],
        terms: frozenset[str],
        lines: list[list[str | int]],
        blank_nodes: int,
        blank_node_quads: list[list[list[str | int]]],
        coinciding: tuple[tuple[int, int], ...],
    ) -> None:
        self.constants = constants
        self.literal_strings = literal_strings
        self.iri_strings = iri_strings
        self._terms = terms
        self._blank_nodes = blank_nodes
        self._labels = [f"{_BLANK_PREFIX}{rank}" for rank in range(blank_nodes)]
        self._literal_getter = _getter(literal_strings)
        self._iri_getter = _getter(iri_strings)
        self._output_format, self._output_getter = _format(lines, separator="\n")
        self._hashes = [self._blank_node_hash(quads) for quads in blank_node_quads]
        self._coinciding = coinciding
        self._memo: dict[tuple[int, Any], str] = {}
        self._memo_lock = threading.Lock()
        # IRIs already found to fit an IRI slot (an issuer's DID recurs in every credential).
        self._slot_iris: set[str] = set()

    def _blank_node_hash(self, quads: list[list[str | int]]) -> _BlankNodeHash:
        """Return how to hash a blank node whose a/z-serialised quads are `quads`."""
        text, getter = _format(quads, separator="\n")
        if getter is None:
            return _BlankNodeHash(format=text, slots=None, fixed=_first_degree_hash(text))
        return _BlankNodeHash(format=text, slots=getter, fixed=None)

    def instantiate(self, strings: list[str]) -> str | None:
        """Return the canonical N-Quads for a document of this shape, or None for the general path."""
        for index, value in self.constants:
            if strings[index] != value:
                return None
        texts = self._literal_texts(strings)
        if texts is None:
            return None
        if self.iri_strings:
            iris = self._iri_getter(strings)
            if len(self.iri_strings) == 1:
                iris = (iris,)
            known = self._slot_iris
            for iri in iris:
                if iri not in known:
                    if not _is_slot_iri(iri, self._terms):
                        return None
                    if len(known) >= _MEMO_LIMIT:
                        known.clear()
                    known.add(iri)
            texts.extend(iris)
        labels = self._canonical_labels(texts)
        if labels is None:
            return None
        texts.extend(labels)
        output = self._output_format
        if self._output_getter is not None:
            output = output % self._output_getter(texts)
        lines = output.split("\n")
        for first, second in self._coinciding:
            if lines[first] == lines[second]:
                # Slots filled alike made two quads one, which pyld would have merged.
                return None
        lines.sort()
        return "\n".join(lines) + "\n"

    def _literal_texts(self, strings: list[str]) -> list[str] | None:
        """Return the N-Quads text of every literal slot, or None if one holds a refused character."""
        if not self.literal_strings:
            return []
        values = self._literal_getter(strings)
        if len(self.literal_strings) == 1:
            values = (values,)
        joined = "\0".join(values)
        # The general path refuses some ASCII control characters in literals. NUL, one of them,
        # separates the values: a value holds it when there are more NULs than separators. The
        # others show in the UTF-8 bytes (every byte of a multi-byte character is >= 0x80); this
        # is several times faster than a regular expression over the text.
        if joined.count("\0") != len(values) - 1:
            return None
        encoded = joined.encode("utf-8", "surrogatepass")
        if len(encoded.translate(None, _REFUSED_BYTES)) != len(encoded):
            return None
        return nquads_escape(joined).split("\0")

    def _canonical_labels(self, texts: list[str]) -> list[str] | None:
        """Return each blank node's canonical label, or None when first-degree hashes collide."""
        count = self._blank_nodes
        if not count:
            return []
        hashes = []
        for node, recipe in enumerate(self._hashes):
            if recipe.fixed is not None:
                hashes.append(recipe.fixed)
                continue
            assert recipe.slots is not None
            values = recipe.slots(texts)
            memo = self._memo
            digest = memo.get((node, values))
            if digest is None:
                digest = _first_degree_hash(recipe.format % values)
                with self._memo_lock:
                    if len(memo) >= _MEMO_LIMIT:
                        memo.clear()
                    memo[node, values] = digest
            hashes.append(digest)
        if len(set(hashes)) != count:
            return None
        labels = [""] * count
        for label, node in zip(
            self._labels, sorted(range(count), key=hashes.__getitem__), strict=True
        ):
            labels[node] = label
        return labels


def _first_degree_hash(quads: str) -> str:
    """Return the RDFC-1.0 first-degree hash of "\\n"-separated quad lines (sorted here)."""
    lines = quads.split("\n")
    lines.sort()
    return hashlib.sha256(("\n".join(lines) + "\n").encode("utf-8")).hexdigest()


def _getter(indexes: tuple[int, ...]) -> Callable[[list[str]], Any]:
    """Return itemgetter(*indexes), or a getter of nothing."""
    if not indexes:
        return lambda _texts: ()
    return itemgetter(*indexes)


def _format(
    lines: list[list[str | int]], *, separator: str
) -> tuple[str, Callable[[list[str]], Any] | None]:
    """Return a %-format of lines whose int parts index a text list, and the getter of those texts."""
    parts: list[str] = []
    indexes: list[int] = []
    for number, line in enumerate(lines):
        if number:
            parts.append(separator)
        for part in line:
            if isinstance(part, int):
                parts.append("%s")
                indexes.append(part)
            else:
                parts.append(part.replace("%", "%%"))
    text = "".join(parts)
    if not indexes:
        return text.replace("%%", "%"), None
    return text, itemgetter(*indexes)


# ---------------------------------------------------------------- compiling a shape


@dataclass(slots=True)
class _Occurrences:
    """Where one marker was found in the canonical N-Quads."""

    literal: int = 0
    iri: int = 0
    elsewhere: int = 0


def compile_template(
    document: Mapping[str, Any], strings: list[str], canonical: str
) -> Template | Literal[Compilation.INCONCLUSIVE] | None:
    """Return the template of document's shape, proven to reproduce `canonical`, or None.

    `strings` are the document's strings as document_shape gives them and `canonical` is the
    general path's output for it. Returns Compilation.INCONCLUSIVE when the template cannot be
    checked against this document. Runs pyld a few times; never raises for a valid document.
    """
    try:
        pairs = list(_strings_with_keys(dict(document)))
        facts = context_facts(document)
    except (ContextNotBundled, RecursionError):
        return None
    if [value for value, _key in pairs] != strings:
        return None
    keys = [key for _value, key in pairs]
    terms = facts.terms
    constant = {index for index, key in enumerate(keys) if key in facts.constant_keys}
    nonce = secrets.token_hex(12)
    scheme = f"x{nonce}"
    marker = re.compile(rf"{scheme}:(\d+)z")
    if scheme in terms or nonce in repr(document):
        return None
    for _round in range(_COMPILE_ROUNDS):
        replacements = iter(
            value if index in constant else f"{scheme}:{index}z"
            for index, value in enumerate(strings)
        )
        probe = _with_strings(dict(document), replacements)
        try:
            probe_canonical = signing.canonicalize(probe)
        except signing.CanonicalizationError:
            return None
        parsed = _parse_canonical(probe_canonical)
        if parsed is None:
            return None
        found = _find_markers(parsed, marker, len(strings))
        newly_constant = set()
        for index, value in enumerate(strings):
            if index in constant:
                continue
            seen = found.get(index)
            if (
                seen is None
                or seen.elsewhere
                or (seen.literal and seen.iri)
                or (seen.iri and not _is_slot_iri(value, terms))
            ):
                newly_constant.add(index)
        if not newly_constant:
            template = _build(parsed, marker, strings, constant, found, terms)
            filled = template.instantiate(strings)
            if filled is None:
                return Compilation.INCONCLUSIVE
            return template if filled == canonical else None
        constant |= newly_constant
    return None


def _is_slot_iri(iri: str, terms: frozenset[str]) -> bool:
    """Return True when pyld expands iri to itself wherever it stands (as @id, @type or @vocab).

    pyld returns such a string unchanged when it is no term (vocab expansion maps terms) and its
    scheme is no term (prefix expansion maps "prefix:suffix"), and it is absolute.
    """
    match = _SLOT_IRI.fullmatch(iri)
    return (
        match is not None
        and match.group(1) not in terms
        and iri not in terms
        and signing._ABSOLUTE_IRI.fullmatch(iri) is not None
    )


def _parse_canonical(canonical: str) -> list[list[str]] | None:
    """Return the terms of each canonical N-Quads line, or None if a line is not as pyld writes it."""
    lines = canonical.split("\n")
    if lines.pop() != "":
        return None
    parsed = []
    for line in lines:
        match = _CANONICAL_LINE.fullmatch(line)
        if match is None:
            return None
        parsed.append([term for term in match.groups() if term is not None])
    return parsed


def _find_markers(
    parsed: list[list[str]], marker: re.Pattern[str], count: int
) -> dict[int, _Occurrences]:
    """Return, per string index, how its marker occurs: whole literal, whole IRI, or otherwise."""
    found: dict[int, _Occurrences] = {}
    for terms in parsed:
        for position, term in enumerate(terms):
            indexes = [int(number) for number in marker.findall(term)]
            if not indexes:
                continue
            role = _marker_role(term, position, marker)
            for index in indexes:
                if index >= count:
                    continue
                seen = found.setdefault(index, _Occurrences())
                if role == "literal":
                    seen.literal += 1
                elif role == "iri":
                    seen.iri += 1
                else:
                    seen.elsewhere += 1
    return found


def _marker_role(term: str, position: int, marker: re.Pattern[str]) -> str:
    """Return 'literal' or 'iri' when a term is exactly one marker there, else 'elsewhere'."""
    if term.startswith("<") and position != 1 and marker.fullmatch(term[1:-1]):
        return "iri"
    literal = _LITERAL_TERM.fullmatch(term)
    if (
        literal is not None
        and position == 2
        and marker.fullmatch(literal.group(1))
        and not marker.search(literal.group(2))
        and literal.group(2) not in _TRANSFORMED_SUFFIXES
    ):
        return "literal"
    return "elsewhere"


def _build(
    parsed: list[list[str]],
    marker: re.Pattern[str],
    strings: list[str],
    constant: set[int],
    found: dict[int, _Occurrences],
    terms: frozenset[str],
) -> Template:
    """Return the Template for parsed probe output whose markers were all classified."""
    variable = [index for index in range(len(strings)) if index not in constant]
    literal_strings = tuple(index for index in variable if found[index].literal)
    iri_strings = tuple(index for index in variable if found[index].iri)
    slot_of = {index: slot for slot, index in enumerate(literal_strings + iri_strings)}
    slot_count = len(slot_of)
    blank_ids: dict[str, int] = {}
    for terms_of_line in parsed:
        for term in terms_of_line:
            if term.startswith("_:"):
                blank_ids.setdefault(term, len(blank_ids))

    def part(term: str, position: int) -> list[str | int]:
        if term.startswith("_:"):
            return [slot_count + blank_ids[term]]
        if term.startswith("<") and position != 1:
            match = marker.fullmatch(term[1:-1])
            if match:
                return ["<", slot_of[int(match.group(1))], ">"]
        if term.startswith('"'):
            literal = _LITERAL_TERM.fullmatch(term)
            assert literal is not None
            match = marker.fullmatch(literal.group(1))
            if match:
                return ['"', slot_of[int(match.group(1))], '"' + literal.group(2)]
        return [term]

    lines: list[list[str | int]] = []
    blank_node_quads: list[list[list[str | int]]] = [[] for _ in blank_ids]
    by_predicate: dict[tuple[str, int], list[int]] = {}
    descriptions = []
    for number, terms_of_line in enumerate(parsed):
        descriptions.append(
            [_describe(term, position, marker) for position, term in enumerate(terms_of_line)]
        )
        by_predicate.setdefault((terms_of_line[1], len(terms_of_line)), []).append(number)
    coinciding = tuple(
        (first, second)
        for numbers in by_predicate.values()
        for index, first in enumerate(numbers)
        for second in numbers[index + 1 :]
        if all(
            _may_coincide(one, other)
            for one, other in zip(descriptions[first], descriptions[second], strict=True)
        )
    )
    for terms_of_line in parsed:
        line: list[str | int] = []
        for position, term in enumerate(terms_of_line):
            if position:
                line.append(" ")
            line.extend(part(term, position))
        line.append(" .")
        lines.append(_merged(line))
        # pyld lists a quad once per blank node position in it (subject, object, graph), so a
        # quad naming the same blank node twice counts twice in that node's hash; so here too.
        for position, term in enumerate(terms_of_line):
            if position == 1 or not term.startswith("_:"):
                continue
            reference = blank_ids[term]
            hashed = [
                part_
                if not (isinstance(part_, int) and part_ >= slot_count)
                else ("_:a" if part_ - slot_count == reference else "_:z")
                for part_ in line
            ]
            blank_node_quads[reference].append(_merged(hashed))
    return Template(
        constants=tuple((index, strings[index]) for index in sorted(constant)),
        literal_strings=literal_strings,
        iri_strings=iri_strings,
        terms=terms,
        lines=lines,
        blank_nodes=len(blank_ids),
        blank_node_quads=blank_node_quads,
        coinciding=coinciding,
    )


def _describe(term: str, position: int, marker: re.Pattern[str]) -> tuple[str, ...]:
    """Return what a probe term can become: itself, any IRI, any literal with a suffix, a blank node."""
    if term.startswith("_:"):
        return ("blank node", term)
    role = _marker_role(term, position, marker)
    if role == "iri":
        return ("any iri",)
    literal = _LITERAL_TERM.fullmatch(term)
    if role == "literal" and literal is not None:
        return ("any literal", literal.group(2))
    return ("fixed", term)


def _may_coincide(one: tuple[str, ...], other: tuple[str, ...]) -> bool:
    """Return True when two described terms can be filled into the same text."""
    if one == other:
        return True
    pair = {one[0], other[0]}
    if pair == {"any iri", "fixed"}:
        fixed = one if one[0] == "fixed" else other
        return fixed[1].startswith("<")
    if pair == {"any literal", "fixed"}:
        slot, fixed = (one, other) if one[0] == "any literal" else (other, one)
        literal = _LITERAL_TERM.fullmatch(fixed[1])
        return literal is not None and literal.group(2) == slot[1]
    return False


def _merged(parts: list[str | int]) -> list[str | int]:
    """Return parts with neighbouring strings joined."""
    merged: list[str | int] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    return merged


# ---------------------------------------------------------------- the cache


# Compiling runs the general path up to _COMPILE_ROUNDS more times: a shape whose general path did
# more work than this (signing's units; this node's OB 3.0 and EDC credentials need about 900 and
# 1,600) stays on the general path, so no document costs five times its own budget.
MAX_COMPILE_WORK: Final = 4_000
_UNCOMPILABLE: Final = None
_ABSENT: Final = object()


class ShapeCache:
    """A bounded LRU of compiled shapes that canonicalises exactly as signing.canonicalize does.

    A shape is compiled the `compile_after`-th time a document of it canonicalises; until then,
    and whenever a template cannot take a document, the general path runs. Thread-safe.
    """

    def __init__(
        self, *, max_shapes: int = 128, compile_after: int = 2, max_tokens: int = 5_000
    ) -> None:
        if max_shapes < 1 or compile_after < 1:
            raise ValueError("max_shapes and compile_after must be at least 1")
        self.max_shapes = max_shapes
        self.compile_after = compile_after
        self.max_tokens = max_tokens
        self._templates: OrderedDict[Shape, Template | None] = OrderedDict()
        # Counters of shapes not compiled (yet), keyed by the shape's hash to keep them small: a
        # collision only makes a shape compile a sighting early, which costs time, not bytes.
        self._sightings: OrderedDict[int, int] = OrderedDict()
        self._inconclusive: OrderedDict[int, int] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = 0
        self._general = 0
        self._compiled = 0
        self._uncompilable = 0

    def canonicalize(self, document: Mapping[str, Any]) -> str:
        """Return signing.canonicalize(document), from a template when one fits; raises the same."""
        if not isinstance(document, Mapping):
            return self._general_path(document)
        shape = document_shape(document, max_tokens=self.max_tokens)
        if shape is None:
            return self._general_path(document)
        key, strings = shape
        with self._lock:
            template = self._templates.get(key, _ABSENT)
            if template is not _ABSENT:
                self._templates.move_to_end(key)
        if isinstance(template, Template):
            try:
                canonical = template.instantiate(strings)
            except Exception:
                # Only text pyld cannot hash either gets here (a lone surrogate is not UTF-8);
                # the general path then fails, or succeeds, exactly as it would have anyway.
                canonical = None
            if canonical is not None:
                with self._lock:
                    self._hits += 1
                return canonical
            return self._general_path(document)
        canonical = self._general_path(document)
        if template is _UNCOMPILABLE or signing.last_canonicalization_work() > MAX_COMPILE_WORK:
            return canonical
        if not self._seen_enough(key):
            return canonical
        try:
            compiled = compile_template(document, strings, canonical)
        except signing.NodeBusy:
            return canonical  # compiled another time, when the node has room
        except Exception:
            # Compiling is an optimisation: whatever goes wrong, this shape takes the general path.
            logger.exception("cannot compile a canonical template; the shape stays on pyld")
            compiled = None
        with self._lock:
            if compiled is Compilation.INCONCLUSIVE:
                attempts = self._inconclusive.pop(hash(key), 0) + 1
                if attempts < _INCONCLUSIVE_LIMIT:
                    _remember(self._inconclusive, hash(key), attempts, 4 * self.max_shapes)
                    return canonical
                compiled = None
            if compiled is None:
                self._uncompilable += 1
            else:
                self._compiled += 1
            self._inconclusive.pop(hash(key), None)
            _remember(self._templates, key, compiled, self.max_shapes)
        return canonical

    def _general_path(self, document: Any) -> str:
        """Return signing.canonicalize(document), counted."""
        with self._lock:
            self._general += 1
        return signing.canonicalize(document)

    def _seen_enough(self, key: Shape) -> bool:
        """Count one more sighting of a shape; return True when it is time to compile it."""
        with self._lock:
            count = self._sightings.pop(hash(key), 0) + 1
            if count >= self.compile_after:
                return True
            _remember(self._sightings, hash(key), count, 4 * self.max_shapes)
            return False

    def info(self) -> CacheInfo:
        """Return the cache's counters and size."""
        with self._lock:
            return CacheInfo(
                hits=self._hits,
                general=self._general,
                compiled=self._compiled,
                uncompilable=self._uncompilable,
                shapes=len(self._templates),
                max_shapes=self.max_shapes,
            )

    def clear(self) -> None:
        """Forget every shape and reset the counters."""
        with self._lock:
            self._templates.clear()
            self._sightings.clear()
            self._inconclusive.clear()
            self._hits = self._general = self._compiled = self._uncompilable = 0


def _remember[K, V](entries: OrderedDict[K, V], key: K, value: V, limit: int) -> None:
    """Put key last in an LRU of at most limit entries, dropping the least recently used."""
    entries[key] = value
    entries.move_to_end(key)
    while len(entries) > limit:
        entries.popitem(last=False)


SHAPES: Final = ShapeCache()


def canonicalize_fast(document: Mapping[str, Any]) -> str:
    """Return signing.canonicalize(document) byte for byte, through the process-wide ShapeCache."""
    return SHAPES.canonicalize(document)
