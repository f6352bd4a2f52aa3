"""Differential tests: the shape cache gives signing.canonicalize's exact output, or its exact error.

Every example canonicalises documents through a ShapeCache and through the general path and
compares the bytes (or the failure and detail). Documents come from the OB 3.0 builder with
awkward values, and from a context with every kind of term, mutated adversarially.
"""

import copy
import dataclasses
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from credentials.standards import ob3, signing
from credentials.standards.achievement import Award, Evidence, Holder, StatusEntry
from credentials.standards.canonical_templates import ShapeCache
from tests.credentials import builder_samples as samples

# Strings that have broken canonicalisers: escapes, separators, other scripts, look-alikes of
# IRIs, keywords, blank nodes, numbers and format strings, and the shape of our own markers.
AWKWARD = [
    "",
    " ",
    'a "quoted" word',
    "back\\slash \\n not a newline",
    "line\nbreak",
    "tab\tand\rreturn",
    "\r\n",
    "Ελληνικά Кириллица 日本語 عربي עברית",
    "🎓✨👩🏽‍🎓",
    "x\u2028y\u2029z\x85",
    "\ufeffbom",
    "\u00a0nbsp",
    "https://example.org/looks/like/an/iri",
    "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427",
    "_:b0",
    "_:c14n0",
    "@id",
    "@type",
    "@vocab",
    "ex:thing",
    "Thing",
    "5",
    "5.50",
    "-0",
    "1e3",
    "NaN",
    "true",
    "null",
    "2024-02-29T12:00:00Z",
    "2024-02-29",
    "%s %d %(x)s {0} {}",
    "x0123456789abcdef:0z",
    "<https://example.org/x> .",
    '" .\n_:c14n0 <p> "',
    "ab" * 2500,
]
# Characters safe mode refuses: each must fail on both paths with the same detail.
REFUSED = ["bell\x07", "form\x0cfeed", "nul\x00", "delete\x7f", "escape\x1b"]

texts = st.one_of(
    st.sampled_from(AWKWARD),
    st.text(st.characters(codec="utf-8"), max_size=24),
    st.text(st.sampled_from('"\\\n\t\r ab€ü日🎓\u2028\x85:/#@_'), max_size=16),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=4).map(lambda text: text * 400),
)
accepted_texts = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"], include_characters="\t\n\r\x85"),
    max_size=40,
) | st.sampled_from(AWKWARD)
# "tag" is also a term of the OB 3.0 context, so "tag:…" never fills an IRI slot there.
TAG_IRI = "tag:example.org,2024:x"
slot_iris = st.sampled_from(
    [
        "https://example.org/a",
        "https://example.org/b#frag",
        "http://example.org/x?y=z",
        "did:web:example.org:issuers:1",
        "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
        "mailto:someone@example.org",
        "urn:isbn:0451450523",
        "https://例え.jp/パス",
    ]
)
iris = slot_iris | st.just(TAG_IRI)
moments = st.datetimes(
    min_value=datetime(1000, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)
)


def outcome(canonicalize, document) -> str | tuple[signing.Failure, str]:
    """Return the canonical text, or the failure and detail it was refused with."""
    try:
        return canonicalize(document)
    except signing.CanonicalizationError as exc:
        return (exc.failure, exc.detail)


def assert_same_as_the_general_path(cache: ShapeCache, document: Any) -> None:
    hits = cache.info().hits
    fast = outcome(cache.canonicalize, document)
    assert fast == outcome(signing.canonicalize, document)
    event("template" if cache.info().hits > hits else "general path")


def string_paths(value: Any, path: tuple = ()) -> list[tuple]:
    """Return the path of every string outside @context."""
    if isinstance(value, dict):
        return [
            found
            for key, item in value.items()
            if key != "@context"
            for found in string_paths(item, (*path, key))
        ]
    if isinstance(value, list):
        return [
            found
            for index, item in enumerate(value)
            for found in string_paths(item, (*path, index))
        ]
    return [path] if isinstance(value, str) else []


def replaced(document: Any, path: tuple, value: Any) -> Any:
    changed = copy.deepcopy(document)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


# ---------------------------------------------------------------- the OB 3.0 builder


@dataclasses.dataclass(frozen=True)
class Structure:
    """The choices that decide a built credential's shape."""

    full_issuer: bool
    full_specification: bool
    graded: bool
    expires: bool
    evidence: tuple[tuple[bool, bool], ...]
    status: tuple[str, ...]
    # A number, so part of the shape.
    ects: Decimal


structures = st.builds(
    Structure,
    full_issuer=st.booleans(),
    full_specification=st.booleans(),
    graded=st.booleans(),
    expires=st.booleans(),
    evidence=st.lists(st.tuples(st.booleans(), st.booleans()), max_size=2).map(tuple),
    status=st.sampled_from([(), ("revocation",), ("revocation", "suspension")]),
    ects=st.sampled_from([Decimal("5"), Decimal("2.5"), Decimal("0.1")]),
)


@st.composite
def credentials(draw, structure: Structure, text=texts, iri=iris) -> dict:
    """Return a credential of the given structure with values drawn from text and iri."""
    issuer = samples.ISSUER if structure.full_issuer else samples.minimal_issuer()
    issuer = dataclasses.replace(
        issuer, name=draw(text), url=draw(iri | text), legal_identifier="x" + draw(text)
    )
    specification = (
        samples.SPECIFICATION if structure.full_specification else samples.minimal_specification()
    )
    specification = dataclasses.replace(
        specification,
        title={"en": "x" + draw(text)},
        description={"en": "x" + draw(text)},
        ects=structure.ects,
    )
    starts = draw(moments)
    award = Award(
        credential_id=f"urn:uuid:{draw(st.uuids())}",
        public_url="https://meshe.example/credentials/1",
        issued_at=starts,
        awarded_date=draw(st.dates()),
        valid_until=datetime(9999, 12, 31, tzinfo=UTC) if structure.expires else None,
        grade=draw(text) if structure.graded else None,
        evidence=tuple(
            Evidence(
                narrative=draw(text),
                url=draw(iri) if with_url else None,
                name="x" + draw(text) if with_name else None,
            )
            for with_url, with_name in structure.evidence
        ),
        status=tuple(
            StatusEntry(
                purpose=purpose,  # type: ignore[arg-type]
                list_url=f"{draw(iri)}/{purpose}",
                index=draw(st.integers(0, 2**20)),
            )
            for purpose in structure.status
        ),
    )
    holder = Holder(name="x" + draw(text), identity_hash="sha256$" + draw(text), salt=draw(text))
    return ob3.build_achievement_credential(
        issuer=issuer, specification=specification, holder=holder, award=award
    )


# One cache for all examples: templates compiled from one example's values serve the next.
OB3_SHAPES = ShapeCache(max_shapes=512, compile_after=1)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), structure=structures)
def test_built_credentials_with_awkward_values_canonicalise_as_on_the_general_path(data, structure):
    first = data.draw(credentials(structure))
    second = data.draw(credentials(structure))
    for document in (first, second):
        assert_same_as_the_general_path(OB3_SHAPES, document)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), structure=structures.filter(lambda structure: len(structure.evidence) < 2))
def test_every_value_the_builder_emits_fills_a_slot_of_the_template(data, structure):
    # Two evidence items can be identical blank nodes, which rightly take the general path.
    cache = ShapeCache(compile_after=1)
    cache.canonicalize(data.draw(credentials(structure, accepted_texts, slot_iris)))
    assert cache.info().compiled == 1
    document = data.draw(credentials(structure, accepted_texts, slot_iris))
    assert cache.canonicalize(document) == signing.canonicalize(document)
    assert cache.info().hits == 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    value=st.sampled_from(AWKWARD + REFUSED)
    | iris
    | st.sampled_from(
        [
            "Profile",
            "Achievement",
            "ext:Custom",
            "xsd:string",
            "id:x",
            "type:x",
            "credentialSubject",
            "relative/iri",
            "http://example.org/a b",
            "http://example.org/{x}",
        ]
    )
    | st.integers()
    | st.floats(allow_nan=False)
    | st.booleans()
    | st.none()
    | st.just(["a", "b"])
    | st.just({"@value": "x", "@language": "nl"})
    | st.just({"@id": "https://example.org/a"}),
)
def test_any_one_string_of_a_credential_may_be_replaced_by_anything(data, value):
    document = copy.deepcopy(sample_credentials()[0])
    path = data.draw(st.sampled_from(string_paths(document)))
    assert_same_as_the_general_path(OB3_SHAPES, replaced(document, path, value))


def sample_credentials() -> list[dict]:
    documents = [
        ob3.build_achievement_credential(
            issuer=samples.ISSUER,
            specification=samples.SPECIFICATION,
            holder=samples.HOLDER,
            award=samples.AWARD,
        )
    ]
    for document in documents:
        OB3_SHAPES.canonicalize(document)
    return documents


# ---------------------------------------------------------------- every kind of term

XSD = "http://www.w3.org/2001/XMLSchema#"
CONTEXT = {
    "@version": 1.1,
    "ex": "https://example.org/vocab#",
    # A prefix that shadows a real scheme: "urn:x" expands to https://example.org/urn/x.
    "urn": "https://example.org/urn/",
    "id": "@id",
    "type": "@type",
    "aka": "@id",
    "kindOf": "@type",
    "lang": "@language",
    "value": "@value",
    "Thing": "ex:Thing",
    "Other": "ex:Other",
    "Scoped": {
        "@id": "ex:Scoped",
        "@context": {
            "inner": {"@id": "ex:inner", "@type": "@id"},
            "name": {"@id": "ex:scopedName", "@type": "@id"},
        },
    },
    "name": "ex:name",
    "link": {"@id": "ex:link", "@type": "@id"},
    "kind": {"@id": "ex:kind", "@type": "@vocab"},
    "amount": {"@id": "ex:amount", "@type": f"{XSD}double"},
    "when": {"@id": "ex:when", "@type": f"{XSD}dateTime"},
    "data": {"@id": "ex:data", "@type": "@json"},
    "label": {"@id": "ex:label", "@container": "@language"},
    "steps": {"@id": "ex:steps", "@container": "@list"},
    "tags": {"@id": "ex:tags", "@container": "@set"},
    "note": {"@id": "ex:note", "@language": "en"},
    "said": {"@id": "ex:said", "@language": "ar", "@direction": "rtl"},
    "part": {"@id": "ex:part"},
    "byId": {"@id": "ex:byId", "@container": "@id"},
    "byType": {"@id": "ex:byType", "@container": "@type"},
    "byIndex": {"@id": "ex:byIndex", "@container": "@index"},
}
NESTED_CONTEXTS = [
    {"name": {"@id": "ex:nestedName", "@type": "@id"}},
    {"@vocab": "https://example.org/v#"},
    {"@base": "https://example.org/base/"},
    {"link": {"@id": "ex:link", "@type": "@vocab"}, "Custom": "ex:Custom"},
    {"ex": "https://example.org/other#"},
]
TERMS = ["Thing", "Other", "Scoped", "ex:Custom", "https://example.org/T"]


class Slot:
    """A string still to choose in a generated document: an IRI, a term, a text or a language."""

    def __init__(self, kind: str) -> None:
        self.kind = kind


@st.composite
def nodes(draw, depth: int = 0) -> dict:
    """Return a node object whose strings are Slots."""
    node: dict[str, Any] = {}
    if depth and draw(st.integers(0, 3)) == 0:
        node["@context"] = draw(st.sampled_from(NESTED_CONTEXTS))
    id_key = draw(st.sampled_from([None, "id", "@id", "aka"]))
    if id_key:
        node[id_key] = Slot("iri")
    if draw(st.integers(0, 19)) == 13:
        # Two keys for @id: pyld refuses the document, and so must the template path.
        node["@id" if id_key != "@id" else "id"] = Slot("iri")
    type_key = draw(st.sampled_from([None, "type", "@type", "kindOf"]))
    scoped = False
    if type_key:
        # "Scoped" brings a type-scoped context (and the term "inner"); it is written as a
        # fixed string so that "inner" stays defined whatever the other strings become.
        scoped = draw(st.booleans())
        node[type_key] = draw(
            st.sampled_from(
                [["Scoped", Slot("term")], "Scoped"]
                if scoped
                else [Slot("term"), [Slot("term"), Slot("term")]]
            )
        )
    names = draw(
        st.lists(
            st.sampled_from(
                ["name", "link", "kind", "amount", "when", "data", "label", "steps", "tags"]
                + ["note", "said", "part", "byId", "byType", "byIndex", "valueObject"]
                + (["inner"] if scoped else [])
            ),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    for name in names:
        key, value = draw(properties(name, depth))
        node[key] = value
    return node


@st.composite
def properties(draw, name: str, depth: int) -> tuple[str, Any]:
    """Return a property of a generated node: its key and a value with Slots for strings."""
    child = nodes(depth + 1) if depth < 2 else st.just({"name": Slot("text")})
    if name in ("link", "kind", "inner"):
        return name, draw(st.sampled_from([Slot("iri"), [Slot("iri"), Slot("iri")]]) | child)
    if name == "data":
        return name, draw(
            st.sampled_from([Slot("text"), {"a": Slot("text"), "b": [1, Slot("text")]}])
        )
    if name == "label":
        return name, {
            "en": Slot("text"),
            "nl": draw(st.sampled_from([Slot("text"), [Slot("text")]])),
        }
    if name in ("steps", "tags"):
        return name, draw(st.lists(st.just(Slot("text")) | child, min_size=1, max_size=3))
    if name == "part":
        return name, draw(child | st.lists(child, min_size=1, max_size=2) | st.just(Slot("text")))
    if name == "byId":
        return name, {"https://example.org/k": draw(child)}
    if name == "byType":
        return name, {"Thing": draw(child)}
    if name == "byIndex":
        return name, {"k1": Slot("text"), "k2": draw(child)}
    if name == "valueObject":
        return "name", draw(
            st.sampled_from(
                [
                    {"@value": Slot("text")},
                    {"@value": Slot("text"), "@language": Slot("language")},
                    {"value": Slot("text"), "lang": Slot("language")},
                    {"@value": Slot("text"), "@type": Slot("iri")},
                    {"@value": Slot("text"), "@direction": "ltr", "@language": "he"},
                ]
            )
        )
    return name, draw(
        st.sampled_from([Slot("text"), [Slot("text"), Slot("text")]])
        | st.integers(-3, 3)
        | st.sampled_from([0.5, -0.0, 1e21, True])
    )


BENIGN = {
    "iri": iris,
    "term": st.sampled_from(TERMS),
    "text": accepted_texts,
    "language": st.sampled_from(["en", "nl", "EN", "pt-BR"]),
}
ADVERSARIAL = st.one_of(
    texts,
    iris,
    st.sampled_from(TERMS + REFUSED),
    st.sampled_from(["urn:x", "ex:y", "id:z", "kindOf:q", "@context", "relative", "#f", "ex:"]),
)


def filled(draw, skeleton: Any, strategy_of, chosen: dict | None = None) -> Any:
    """Return skeleton with each Slot replaced by a string drawn from strategy_of(slot).

    chosen, when given, records the string drawn for each Slot.
    """
    if isinstance(skeleton, Slot):
        value = draw(strategy_of(skeleton))
        if chosen is not None:
            chosen[skeleton] = value
        return value
    if isinstance(skeleton, dict):
        return {
            key: value if key == "@context" else filled(draw, value, strategy_of, chosen)
            for key, value in skeleton.items()
        }
    if isinstance(skeleton, list):
        return [filled(draw, item, strategy_of, chosen) for item in skeleton]
    return skeleton


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), skeleton=nodes())
def test_documents_of_one_shape_canonicalise_as_on_the_general_path_whatever_their_strings(
    data, skeleton
):
    skeleton = {"@context": CONTEXT, **skeleton}
    cache = ShapeCache(compile_after=1)
    first: dict[Slot, str] = {}
    assert_same_as_the_general_path(
        cache, filled(data.draw, skeleton, lambda slot: BENIGN[slot.kind], first)
    )
    for _round in range(3):
        # Each string independently keeps its value, takes another benign one or an adversarial one.
        mutated = filled(
            data.draw,
            skeleton,
            lambda slot: st.sampled_from(
                [st.just(first[slot]), BENIGN[slot.kind], ADVERSARIAL]
            ).flatmap(lambda strategy: strategy),
        )
        assert_same_as_the_general_path(cache, mutated)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), skeleton=nodes())
def test_nodes_given_equal_ids_canonicalise_as_pyld_merges_them(data, skeleton):
    skeleton = {"@context": CONTEXT, **skeleton}
    cache = ShapeCache(compile_after=1)
    assert_same_as_the_general_path(
        cache, filled(data.draw, skeleton, lambda slot: BENIGN[slot.kind])
    )
    # Every IRI the same: the most merging pyld can do.
    same = filled(
        data.draw,
        skeleton,
        lambda slot: (
            st.just("https://example.org/same") if slot.kind == "iri" else BENIGN[slot.kind]
        ),
    )
    assert_same_as_the_general_path(cache, same)


# ---------------------------------------------------------------- verification verdicts

VERIFY_SHAPES = ShapeCache(compile_after=1)
KEY = Ed25519PrivateKey.generate()


def signed_sample() -> dict:
    return signing.sign_document(
        ob3.build_achievement_credential(
            issuer=samples.ISSUER,
            specification=samples.SPECIFICATION,
            holder=samples.HOLDER,
            award=samples.AWARD,
        ),
        private_key=KEY,
        verification_method=samples.VERIFICATION_METHOD,
        created=samples.SIGNED_AT,
    )


SIGNED = signed_sample()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), value=ADVERSARIAL | st.integers() | st.just(["x"]))
def test_the_shape_cache_gives_every_tampered_credential_the_general_paths_verdict(data, value):
    path = data.draw(st.sampled_from(string_paths(SIGNED)))
    for document in (SIGNED, replaced(SIGNED, path, value)):
        fast = signing.verify_proof(
            document, public_key=KEY.public_key(), canonicalizer=VERIFY_SHAPES.canonicalize
        )
        assert fast == signing.verify_proof(document, public_key=KEY.public_key())


def test_signatures_made_through_templates_verify_on_the_general_path_for_many_learners():
    cache = ShapeCache(compile_after=1)
    for number in range(12):
        award = dataclasses.replace(
            samples.AWARD, credential_id=f"urn:uuid:{uuid.UUID(int=number)}", grade=f"{number}"
        )
        holder = dataclasses.replace(samples.HOLDER, name=f"Learner {number} 🎓")
        signed = signing.sign_document(
            ob3.build_achievement_credential(
                issuer=samples.ISSUER,
                specification=samples.SPECIFICATION,
                holder=holder,
                award=award,
            ),
            private_key=KEY,
            verification_method=samples.VERIFICATION_METHOD,
            created=samples.SIGNED_AT,
            canonicalizer=cache.canonicalize,
        )
        assert signing.verify_proof(signed, public_key=KEY.public_key()).verified
    assert cache.info().hits >= 11
