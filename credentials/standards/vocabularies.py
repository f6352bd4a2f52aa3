"""The controlled vocabularies of the European Learning Model, read from credentials/standards/vocab/.

Every concept a builder writes into a credential comes from here, so an unknown URI fails loudly
at build time instead of producing a credential that EU tooling would reject.
"""

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

VOCAB_DIR: Final = Path(__file__).resolve().parent / "vocab"
# The bundled ELM list first; each later file replaces the concepts of the one scheme it names.
_BASE_FILE: Final = "elm-controlled-vocabularies.json"
_OVERRIDE_FILES: Final = (
    "isced-f-2013.json",
    "supervision-verification.json",
    "eu-authority-country.json",
    "eu-authority-language.json",
)
# Labels in other languages for concepts of the bundled ELM list, which stays a verbatim copy.
_LABEL_FILES: Final = ("elm-labels-fr-de.json",)

EQF: Final = "http://data.europa.eu/snb/eqf/25831c2"
ISCED_F: Final = "http://data.europa.eu/snb/isced-f/25831c2"
ASSESSMENT: Final = "http://data.europa.eu/snb/assessment/25831c2"
# "Mode of learning and assessment": the Recommendation's form of participation.
MODE: Final = "http://data.europa.eu/snb/learning-assessment/25831c2"
MODE_PREFIX: Final = "http://data.europa.eu/snb/learning-assessment/"
LEARNING_SETTING: Final = "http://data.europa.eu/snb/learning-setting/25831c2"
SUPERVISION: Final = "http://data.europa.eu/snb/supervision-verification/25831c2"
# Accreditation types: the Recommendation's type of quality assurance.
ACCREDITATION: Final = "http://data.europa.eu/snb/accreditation/25831c2"
EDUCATION_CREDIT: Final = "http://data.europa.eu/snb/education-credit/25831c2"
CREDENTIAL_TYPE: Final = "http://data.europa.eu/snb/credential/25831c2"
ENCODING: Final = "http://data.europa.eu/snb/encoding/25831c2"
FILE_TYPE: Final = "http://publications.europa.eu/resource/authority/file-type"
COUNTRY: Final = "http://publications.europa.eu/resource/authority/country"
LANGUAGE: Final = "http://publications.europa.eu/resource/authority/language"
ESCO_SKILLS: Final = "http://data.europa.eu/esco/concept-scheme/skills"
# The languages the vocabulary files label concepts in (prefLabel_<tag>); English is required.
LABEL_LANGUAGES: Final = ("en", "fr", "de")

ECTS: Final = "http://data.europa.eu/snb/education-credit/6fcec5c5af"
GENERIC_CREDENTIAL: Final = "http://data.europa.eu/snb/credential/e34929035b"
BASE64: Final = "http://data.europa.eu/snb/encoding/6146cde7dd"

# The one map of a specification's vocabulary fields (MicroCredential's, by name) to the scheme
# each takes its concept from: the form's pickers, the completeness check and the labels
# shown to staff all read it.
SPECIFICATION_FIELD_SCHEMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "eqf_level": EQF,
        "isced_field": ISCED_F,
        "assessment_type": ASSESSMENT,
        "form_of_participation": MODE,
        "learning_setting": LEARNING_SETTING,
        "quality_assurance": ACCREDITATION,
        "supervision_verification": SUPERVISION,
    }
)


def _no_active_language() -> str | None:
    """Without a host that says otherwise, labels are read in English."""
    return None


# The language pages are shown in comes from the host: credentials.apps hands in Django's
# get_language when the app is ready, so this module imports no Django.
_active_language: Callable[[], str | None] = _no_active_language


def use_active_language(source: Callable[[], str | None]) -> None:
    """Read the active language from source from now on (CredentialsConfig.ready() calls this)."""
    global _active_language
    _active_language = source


class UnknownConcept(LookupError):
    """Raised for a URI (or code) that the bundled vocabularies do not hold, or hold elsewhere."""

    def __init__(self, message: str, *, uri: str) -> None:
        super().__init__(message)
        self.uri = uri


@dataclass(frozen=True, slots=True)
class Concept:
    """One SKOS concept: its URI, scheme, labels by language tag, and optional code."""

    uri: str
    scheme: str
    labels: Mapping[str, str]
    notation: str | None = None
    broader: str | None = None
    # Extra facts some files carry (ISO codes, caveats); never needed to build a credential.
    annotations: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def label(self) -> str:
        """Return the English label, which every bundled concept has (and documents carry)."""
        return self.labels["en"]

    @property
    def localized_label(self) -> str:
        """Return the label in the active language, or the English one when it has none."""
        language = (_active_language() or "en").split("-")[0].lower()
        return self.labels.get(language) or self.labels["en"]


@dataclass(frozen=True, slots=True)
class _Vocabularies:
    by_uri: Mapping[str, Concept]
    by_scheme: Mapping[str, tuple[Concept, ...]]


def concept(uri: str, *, scheme: str | None = None) -> Concept:
    """Return the concept with this URI (in scheme, when given); raises UnknownConcept."""
    found = _vocabularies().by_uri.get(uri)
    if found is None:
        raise UnknownConcept(f"{uri!r} is not a concept of the bundled vocabularies", uri=uri)
    if scheme is not None and found.scheme != scheme:
        raise UnknownConcept(
            f"{uri!r} belongs to the scheme {found.scheme!r}, not {scheme!r}", uri=uri
        )
    return found


def concepts(scheme: str) -> tuple[Concept, ...]:
    """Return every concept of a scheme in file order; raises UnknownConcept for an unknown scheme."""
    found = _vocabularies().by_scheme.get(scheme)
    if not found:
        raise UnknownConcept(f"{scheme!r} is not a scheme with bundled concepts", uri=scheme)
    return found


def choices(scheme: str) -> list[tuple[str, str]]:
    """Return (URI, label in the active language) pairs of a scheme, in file order, for a picker."""
    return [(item.uri, item.localized_label) for item in concepts(scheme)]


def country(alpha2: str) -> Concept:
    """Return the EU authority-table country for an ISO 3166-1 alpha-2 code; raises UnknownConcept."""
    return _by_annotation(COUNTRY, "alpha2", alpha2.upper())


def language(tag: str) -> Concept:
    """Return the EU authority-table language for an ISO 639-1 tag ('en'); raises UnknownConcept."""
    # A region subtag ("pt-BR") does not change the authority-table language.
    return _by_annotation(LANGUAGE, "iso639_1", tag.split("-")[0].lower())


def _by_annotation(scheme: str, key: str, value: str) -> Concept:
    """Return the one concept of scheme whose annotation key equals value."""
    for item in concepts(scheme):
        if item.annotations.get(key) == value:
            return item
    raise UnknownConcept(f"no concept of {scheme!r} has {key} {value!r}", uri=value)


@functools.cache
def _vocabularies() -> _Vocabularies:
    """Return all bundled concepts indexed by URI and by scheme, read from disk once."""
    schemes: dict[str, list[dict[str, Any]]] = {}
    base = _read(_BASE_FILE)
    for entry in base["schemes"].values():
        schemes[entry["scheme"]] = list(entry.get("concepts", []))
    for name in _OVERRIDE_FILES:
        entry = _read(name)
        schemes[entry["scheme"]] = list(entry["concepts"])

    added = _added_labels()
    by_uri: dict[str, Concept] = {}
    by_scheme: dict[str, tuple[Concept, ...]] = {}
    for scheme, raw_concepts in schemes.items():
        built = tuple(
            _concept(scheme, {**raw, **added.pop(raw["uri"], {})}) for raw in raw_concepts
        )
        for item in built:
            if item.uri in by_uri:
                raise ValueError(f"{item.uri} appears twice in the bundled vocabularies")
            by_uri[item.uri] = item
        if built:
            by_scheme[scheme] = built
    if added:
        raise ValueError(f"{sorted(added)} are labelled but not in the bundled vocabularies")
    return _Vocabularies(by_uri=MappingProxyType(by_uri), by_scheme=MappingProxyType(by_scheme))


def _added_labels() -> dict[str, dict[str, str]]:
    """Return the non-English labels the label files add, by concept URI."""
    found: dict[str, dict[str, str]] = {}
    for name in _LABEL_FILES:
        for entry in _read(name)["schemes"].values():
            for raw in entry["concepts"]:
                found[raw["uri"]] = {
                    f"prefLabel_{tag}": raw[f"prefLabel_{tag}"]
                    for tag in LABEL_LANGUAGES
                    if tag != "en" and raw.get(f"prefLabel_{tag}")
                }
    return found


def _concept(scheme: str, raw: Mapping[str, Any]) -> Concept:
    """Return a Concept from one concept entry of a vocabulary file."""
    known = {"uri", "notation", "broader", *(f"prefLabel_{tag}" for tag in LABEL_LANGUAGES)}
    annotations = {key: value for key, value in raw.items() if key not in known}
    # English is always there; French and German were added for MESHE's pages (see README.md).
    labels = {
        tag: raw[f"prefLabel_{tag}"] for tag in LABEL_LANGUAGES if raw.get(f"prefLabel_{tag}")
    }
    labels["en"] = raw["prefLabel_en"]
    return Concept(
        uri=raw["uri"],
        scheme=scheme,
        labels=MappingProxyType(labels),
        notation=raw.get("notation"),
        broader=raw.get("broader"),
        annotations=MappingProxyType(annotations),
    )


def _read(name: str) -> Any:
    """Return the parsed JSON of one vocabulary file."""
    return json.loads((VOCAB_DIR / name).read_text(encoding="utf-8"))
