import copy
import dataclasses
from collections import OrderedDict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.standards import canonical_templates, didkey, ob3, signing
from credentials.standards.canonical_templates import ShapeCache, canonicalize_fast, document_shape
from credentials.standards.multiformats import decode_ed25519_private_key
from credentials.standards.signing import Failure, Step
from tests.credentials import builder_samples as samples
from tests.credentials.standards_paths import OB3_IMPL_VECTOR, W3C_EDDSA_VECTORS, read_json

RDFC = W3C_EDDSA_VECTORS / "eddsa-rdfc-2022"
W3C_VECTOR_SETS = [
    pytest.param(RDFC, W3C_EDDSA_VECTORS / "unsigned.json", id="alumni"),
    pytest.param(RDFC / "employ", W3C_EDDSA_VECTORS / "employmentAuth.json", id="employment"),
]
OB3_SEED_HEX = "6241a409e6707bb640a0140a8a32bc3d193c33a661747284d6adfa4ed4180be4"
EXAMPLE_CONTEXT = {"@vocab": "https://example.com/vocab#"}


def exact_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def through_a_template(document) -> str:
    """Canonicalise document with a template compiled from it, proving the template was used."""
    cache = ShapeCache(compile_after=1)
    cache.canonicalize(copy.deepcopy(document))
    assert cache.info().compiled == 1
    canonical = cache.canonicalize(document)
    assert cache.info().hits == 1
    return canonical


def sample_credential(**award_changes) -> dict:
    award = dataclasses.replace(samples.AWARD, **award_changes)
    return ob3.build_achievement_credential(
        issuer=samples.ISSUER,
        specification=samples.SPECIFICATION,
        holder=samples.HOLDER,
        award=award,
    )


def strings_of(document) -> list[str]:
    shape = document_shape(document, max_tokens=100_000)
    assert shape is not None
    return shape[1]


def outcome(canonicalize, document):
    """Return the canonical text, or the failure and detail it was refused with."""
    try:
        return canonicalize(document)
    except signing.CanonicalizationError as exc:
        return (exc.failure, exc.detail)


# ---------------------------------------------------------------- the published vectors


@pytest.mark.parametrize(("vector_dir", "unsigned_path"), W3C_VECTOR_SETS)
def test_a_template_reproduces_the_w3c_canonical_document_byte_for_byte(vector_dir, unsigned_path):
    canonical = through_a_template(read_json(unsigned_path))
    assert canonical == exact_text(vector_dir / "canonDocDataInt.txt")


@pytest.mark.parametrize(("vector_dir", "unsigned_path"), W3C_VECTOR_SETS)
def test_a_template_reproduces_the_w3c_canonical_proof_configuration(vector_dir, unsigned_path):
    canonical = through_a_template(read_json(vector_dir / "proofConfigDataInt.json"))
    assert canonical == exact_text(vector_dir / "proofCanonDataInt.txt")


@pytest.mark.parametrize(("vector_dir", "unsigned_path"), W3C_VECTOR_SETS)
def test_the_fast_signer_reproduces_the_w3c_signed_document(vector_dir, unsigned_path):
    config = read_json(vector_dir / "proofConfigDataInt.json")
    cache = ShapeCache(compile_after=1)
    signer = signing.Signer(
        private_key=decode_ed25519_private_key(
            read_json(W3C_EDDSA_VECTORS / "keyPair.json")["privateKeyMultibase"]
        ),
        verification_method=config["verificationMethod"],
        created=config["created"],
        canonicalizer=cache.canonicalize,
    )
    signer.sign(read_json(unsigned_path))
    ours = signer.sign(read_json(unsigned_path))
    vector = read_json(vector_dir / "signedDataInt.json")
    assert cache.info().hits >= 1
    assert ours == {**vector, "proof": [vector["proof"]]}
    assert ours["proof"][0]["proofValue"] == exact_text(vector_dir / "sigBTC58DataInt.txt")


@pytest.mark.parametrize(("vector_dir", "unsigned_path"), W3C_VECTOR_SETS)
def test_the_signed_w3c_vector_verifies_through_the_shape_cache(vector_dir, unsigned_path):
    cache = ShapeCache(compile_after=1)
    signed = read_json(vector_dir / "signedDataInt.json")
    for _round in range(2):
        result = signing.verify_proof(
            signed, public_key=didkey.public_key_for, canonicalizer=cache.canonicalize
        )
        assert result.verified
    assert cache.info().hits == 2


def test_a_template_reproduces_the_1edtech_ob3_canonical_document_and_proof():
    credential = read_json(OB3_IMPL_VECTOR / "credential.json")
    proof = read_json(OB3_IMPL_VECTOR / "proof.json")
    config = signing.proof_configuration(
        context=credential["@context"],
        verification_method=proof["verificationMethod"],
        created=proof["created"],
    )
    assert through_a_template(credential) == exact_text(OB3_IMPL_VECTOR / "document-canon.txt")
    assert through_a_template(config) == exact_text(OB3_IMPL_VECTOR / "proof-canon.txt")


def test_the_fast_path_signs_and_verifies_the_1edtech_ob3_vector_as_published():
    proof = read_json(OB3_IMPL_VECTOR / "proof.json")
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(OB3_SEED_HEX))
    cache = ShapeCache(compile_after=1)
    for _round in range(2):
        ours = signing.sign_document(
            read_json(OB3_IMPL_VECTOR / "credential.json"),
            private_key=key,
            verification_method=proof["verificationMethod"],
            created=proof["created"],
            canonicalizer=cache.canonicalize,
        )
        assert ours["proof"][0]["proofValue"] == proof["proofValue"]
        published = read_json(OB3_IMPL_VECTOR / "signed-credential.json")
        assert signing.verify_proof(
            published, public_key=key.public_key(), canonicalizer=cache.canonicalize
        ).verified
    assert cache.info().hits >= 4


# ---------------------------------------------------------------- when templates are used


def test_a_shape_is_compiled_when_seen_compile_after_times_and_used_from_then_on():
    cache = ShapeCache(compile_after=2)
    documents = [sample_credential(grade=f"{number}.5") for number in range(4)]
    results = [cache.canonicalize(document) for document in documents]
    assert results == [signing.canonicalize(document) for document in documents]
    info = cache.info()
    assert (info.general, info.compiled, info.hits) == (2, 1, 2)


def test_the_process_wide_cache_gives_the_general_paths_bytes():
    document = sample_credential()
    for _round in range(3):
        assert canonicalize_fast(document) == signing.canonicalize(document)
    assert canonical_templates.SHAPES.info().shapes >= 1


def test_per_credential_values_fill_slots_while_types_stay_constant():
    cache = ShapeCache(compile_after=1)
    cache.canonicalize(sample_credential())
    [template] = [item for item in cache._templates.values() if item is not None]
    strings = strings_of(sample_credential())
    constants = {strings[index] for index, _ in template.constants}
    iris = {strings[index] for index in template.iri_strings}
    literals = {strings[index] for index in template.literal_strings}
    assert {"VerifiableCredential", "OpenBadgeCredential", "Alignment"} <= constants
    assert samples.AWARD.credential_id in iris
    assert samples.HOLDER.name in literals and samples.HOLDER.salt in literals


def test_a_changed_type_takes_the_general_path():
    cache = ShapeCache(compile_after=1)
    cache.canonicalize(sample_credential())
    changed = sample_credential()
    changed["type"] = ["VerifiableCredential", "AchievementCredential"]
    assert cache.canonicalize(changed) == signing.canonicalize(changed)
    assert cache.info().hits == 0


def test_a_compact_iri_whose_prefix_a_context_defines_is_not_put_in_an_iri_slot():
    context = {"ex": "https://example.com/ns/", "link": {"@id": "ex:link", "@type": "@id"}}
    cache = ShapeCache(compile_after=1)
    cache.canonicalize({"@context": context, "@id": "urn:a", "link": "urn:b"})
    prefixed = {"@context": context, "@id": "urn:a", "link": "ex:b"}
    canonical = cache.canonicalize(prefixed)
    assert "<https://example.com/ns/b>" in canonical
    assert canonical == signing.canonicalize(prefixed)
    assert cache.info().hits == 0


@pytest.mark.parametrize(
    "value",
    ["bell\x07", "form\x0cfeed", "delete\x7f", "nul\x00"],
    ids=["bell", "form-feed", "delete", "nul"],
)
def test_a_refused_control_character_fails_exactly_as_on_the_general_path(value):
    cache = ShapeCache(compile_after=1)
    cache.canonicalize(sample_credential(grade="8"))
    document = sample_credential(grade=value)
    fast, general = outcome(cache.canonicalize, document), outcome(signing.canonicalize, document)
    assert fast == general
    assert fast[0] is Failure.UNSUPPORTED_CHARACTER


def test_an_iri_the_general_path_refuses_is_refused_the_same_way():
    cache = ShapeCache(compile_after=1)
    cache.canonicalize(sample_credential())
    for bad in ("credentials/1", "urn:uuid:a b", "urn:uuid:{x}", "_:b0"):
        document = sample_credential()
        document["id"] = bad
        assert outcome(cache.canonicalize, document) == outcome(signing.canonicalize, document)
    assert cache.info().hits == 0


def test_identical_sibling_blank_nodes_take_the_general_path():
    # Their first-degree hashes collide, so RDFC-1.0 needs its n-degree step.
    document = {
        "@context": EXAMPLE_CONTEXT,
        "@id": "https://example.com/1",
        "part": [{"label": "same"}, {"label": "same"}],
    }
    cache = ShapeCache(compile_after=1)
    for _round in range(2):
        assert cache.canonicalize(document) == signing.canonicalize(document)
    assert cache.info().hits == 0


def test_slots_filled_so_that_quads_coincide_take_the_general_path():
    document = {"@context": EXAMPLE_CONTEXT, "@id": "https://example.com/1", "tag": ["a", "b"]}
    cache = ShapeCache(compile_after=1)
    cache.canonicalize(document)
    same = {**document, "tag": ["a", "a"]}
    assert cache.canonicalize(same) == signing.canonicalize(same)
    assert signing.canonicalize(same).count("\n") == 1
    assert cache.info().hits == 0


def test_two_nodes_given_the_same_id_canonicalise_as_pyld_merges_them():
    document: dict[str, Any] = {
        "@context": EXAMPLE_CONTEXT,
        "@id": "https://example.com/1",
        "left": {"@id": "https://example.com/2", "name": "L"},
        "right": {"@id": "https://example.com/3", "name": "R"},
    }
    cache = ShapeCache(compile_after=1)
    cache.canonicalize(document)
    merged = copy.deepcopy(document)
    merged["right"]["@id"] = "https://example.com/2"
    assert cache.canonicalize(merged) == signing.canonicalize(merged)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param((1, 2), id="tuple"),
        pytest.param(Decimal("2.5"), id="decimal"),
        pytest.param(OrderedDict(a="b"), id="dict-subclass"),
    ],
)
def test_values_that_are_not_plain_json_take_the_general_path(value):
    document = {"@context": EXAMPLE_CONTEXT, "@id": "https://example.com/1", "thing": value}
    assert document_shape(document, max_tokens=1000) is None
    cache = ShapeCache(compile_after=1)
    for _round in range(2):
        assert outcome(cache.canonicalize, document) == outcome(signing.canonicalize, document)
    assert cache.info().shapes == 0


def test_a_shape_differs_in_numbers_keys_arrays_and_contexts_but_not_in_strings():
    base = {"@context": EXAMPLE_CONTEXT, "@id": "https://example.com/1", "n": 1, "s": "x"}

    def shape(document):
        found = document_shape(document, max_tokens=1000)
        assert found is not None
        return found[0]

    assert shape(base) == shape({**base, "s": "another string", "@id": "urn:x"})
    for different in (
        {**base, "n": 1.0},
        {**base, "n": True},
        {**base, "s": ["x"]},
        {**base, "s": 1},
        {"@id": "https://example.com/1", "@context": EXAMPLE_CONTEXT, "n": 1, "s": "x"},
        {**base, "@context": {"@vocab": "https://example.com/other#"}},
    ):
        assert shape(different) != shape(base)
    assert shape({**base, "n": 0.0}) != shape({**base, "n": -0.0})


def test_an_uncompilable_shape_is_remembered_and_never_compiled_again(monkeypatch):
    calls = []

    def failing_compile(*args):
        calls.append(args)
        return

    monkeypatch.setattr(canonical_templates, "compile_template", failing_compile)
    cache = ShapeCache(compile_after=1)
    document = sample_credential()
    for _round in range(3):
        assert cache.canonicalize(document) == signing.canonicalize(document)
    assert len(calls) == 1
    assert cache.info().uncompilable == 1


def test_a_template_that_does_not_reproduce_its_own_document_is_never_built():
    document = sample_credential()
    canonical = signing.canonicalize(document)
    strings = strings_of(document)
    wrong = canonical.replace("Ana Kowalska", "Ana Kowalski")
    assert canonical_templates.compile_template(document, strings, wrong) is None
    assert canonical_templates.compile_template(document, strings, canonical) is not None


def test_a_failure_while_compiling_leaves_the_shape_on_the_general_path(monkeypatch):
    def broken(*args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(canonical_templates, "compile_template", broken)
    cache = ShapeCache(compile_after=1)
    document = sample_credential()
    for _round in range(2):
        assert cache.canonicalize(document) == signing.canonicalize(document)
    assert cache.info().uncompilable == 1


# ---------------------------------------------------------------- bounds


def test_the_cache_keeps_at_most_max_shapes_and_evicts_the_least_recently_used():
    cache = ShapeCache(max_shapes=2, compile_after=1)

    def document(number: int) -> dict:
        return {"@context": EXAMPLE_CONTEXT, "@id": "urn:x:1", f"p{number}": "v"}

    for number in (1, 2, 1, 3):
        cache.canonicalize(document(number))
    assert cache.info().shapes == 2
    hits = cache.info().hits
    cache.canonicalize(document(1))
    assert cache.info().hits == hits + 1
    cache.canonicalize(document(2))
    assert cache.info().hits == hits + 1


def test_shapes_seen_once_are_bounded_too():
    cache = ShapeCache(max_shapes=2, compile_after=2)
    for number in range(50):
        cache.canonicalize({"@context": EXAMPLE_CONTEXT, "@id": "urn:x:1", f"p{number}": "v"})
    assert len(cache._sightings) <= 8
    assert cache.info().shapes == 0


def test_a_document_larger_than_max_tokens_is_not_cached():
    cache = ShapeCache(compile_after=1, max_tokens=50)
    document = sample_credential()
    for _round in range(2):
        assert cache.canonicalize(document) == signing.canonicalize(document)
    assert cache.info().shapes == 0


def test_blank_node_hash_memos_are_bounded():
    cache = ShapeCache(compile_after=1)
    first = sample_credential(grade="first")
    assert cache.canonicalize(first) == signing.canonicalize(first)
    for number in range(canonical_templates._MEMO_LIMIT + 20):
        cache.canonicalize(sample_credential(grade=str(number)))
    [template] = [item for item in cache._templates.values() if item is not None]
    assert len(template._memo) <= canonical_templates._MEMO_LIMIT


def test_a_cache_needs_room_for_one_shape():
    with pytest.raises(ValueError, match="at least 1"):
        ShapeCache(max_shapes=0)


# ---------------------------------------------------------------- signing and verification


def test_fast_signing_gives_the_same_documents_as_the_general_path():
    key = Ed25519PrivateKey.generate()
    cache = ShapeCache(compile_after=1)
    for number in range(4):
        document = sample_credential(grade=f"{number}", credential_id=f"urn:uuid:{number:032x}")
        general = signing.sign_document(
            document,
            private_key=key,
            verification_method=samples.VERIFICATION_METHOD,
            created=samples.SIGNED_AT,
        )
        fast = signing.sign_document(
            document,
            private_key=key,
            verification_method=samples.VERIFICATION_METHOD,
            created=samples.SIGNED_AT,
            canonicalizer=cache.canonicalize,
        )
        assert fast == general
    assert cache.info().hits >= 4


def test_the_shape_cache_never_changes_a_verification_verdict():
    key = Ed25519PrivateKey.generate()
    signed = signing.sign_document(
        sample_credential(),
        private_key=key,
        verification_method=samples.VERIFICATION_METHOD,
        created=samples.SIGNED_AT,
    )
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["identifier"][1]["identityHash"] = "Ana Kowalskb"
    retyped = copy.deepcopy(signed)
    retyped["credentialSubject"]["type"] = ["AchievementSubject", "Profile"]
    cache = ShapeCache(compile_after=1)
    for document in (signed, signed, tampered, retyped, {**signed, "id": "not absolute"}):
        fast = signing.verify_proof(
            document, public_key=key.public_key(), canonicalizer=cache.canonicalize
        )
        assert fast == signing.verify_proof(document, public_key=key.public_key())
    assert signing.verify_proof(
        tampered, public_key=key.public_key(), canonicalizer=cache.canonicalize
    ) == signing.ProofVerification(
        verified=False,
        failed_step=Step.CHECK_SIGNATURE,
        failure=Failure.BAD_SIGNATURE,
        detail="the signature does not match the document and key",
        verification_method=samples.VERIFICATION_METHOD,
    )
    assert cache.info().hits >= 3


def test_a_lone_surrogate_gives_what_the_general_path_gives():
    cache = ShapeCache(compile_after=1)
    cache.canonicalize(sample_credential())
    for place in ("grade", "name"):
        document = sample_credential()
        if place == "grade":
            document["credentialSubject"]["result"][0]["value"] = "\ud800"
        else:
            document["name"] = "\ud800"
        assert outcome(cache.canonicalize, document) == outcome(signing.canonicalize, document)


# ---------------------------------------------------------------- what the fast checks rely on


def test_the_general_path_refuses_no_literal_character_beyond_ascii():
    # The template path tests literals' UTF-8 bytes for the refused characters, which is exact
    # only while every refused character is ASCII.
    beyond_ascii = "".join(map(chr, range(0x80, 0xD800))) + "".join(
        map(chr, range(0xE000, 0x110000))
    )
    assert signing._LITERAL_UNSUPPORTED.search(beyond_ascii) is None
    assert bytes(range(1, 128)).translate(None, canonical_templates._REFUSED_BYTES) == bytes(
        code for code in range(1, 128) if not signing._LITERAL_UNSUPPORTED.match(chr(code))
    )


def test_an_alias_of_type_in_a_context_keeps_its_strings_constant():
    context = {
        "@vocab": "https://example.com/vocab#",
        "kind": "@type",
        "Scoped": {"@id": "https://example.com/Scoped", "@context": {"only": "https://ex.com/o"}},
    }
    document = {"@context": context, "@id": "urn:x:1", "kind": "Scoped", "only": "here"}
    cache = ShapeCache(compile_after=1)
    cache.canonicalize(document)
    assert cache.info().compiled == 1
    other = {**document, "@id": "urn:x:2", "only": "there"}
    assert cache.canonicalize(other) == signing.canonicalize(other)
    assert cache.info().hits == 1


def test_a_document_whose_own_values_coincide_leaves_its_shape_to_a_later_document():
    cache = ShapeCache(compile_after=1)
    twice = {"@context": EXAMPLE_CONTEXT, "@id": "https://example.com/1", "tag": ["a", "a"]}
    assert cache.canonicalize(twice) == signing.canonicalize(twice)
    assert cache.info().compiled == cache.info().uncompilable == 0
    distinct = {**twice, "tag": ["a", "b"]}
    cache.canonicalize(distinct)
    assert cache.info().compiled == 1
    for values in (["c", "d"], ["e", "e"]):
        document = {**twice, "tag": values}
        assert cache.canonicalize(document) == signing.canonicalize(document)
    assert cache.info().hits == 1


def test_a_shape_that_keeps_coinciding_is_given_up_after_a_few_compiles(monkeypatch):
    calls = []
    original = canonical_templates.compile_template

    def counting(*args):
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(canonical_templates, "compile_template", counting)
    twins = {
        "@context": EXAMPLE_CONTEXT,
        "@id": "https://example.com/1",
        "part": [{"label": "same"}, {"label": "same"}],
    }
    cache = ShapeCache(compile_after=1)
    for _round in range(6):
        assert cache.canonicalize(twins) == signing.canonicalize(twins)
    assert len(calls) == canonical_templates._INCONCLUSIVE_LIMIT
    assert cache.info().uncompilable == 1


@pytest.mark.parametrize(
    ("definition", "first", "second"),
    [
        pytest.param(
            {
                "@id": "https://example.com/amount",
                "@type": "http://www.w3.org/2001/XMLSchema#double",
            },
            "5",
            "6",
            id="double",
        ),
        pytest.param({"@id": "https://example.com/data", "@type": "@json"}, "a", "b", id="json"),
    ],
)
def test_a_string_pyld_rewrites_is_no_slot(definition, first, second):
    context = {"value": definition}
    cache = ShapeCache(compile_after=1)
    cache.canonicalize({"@context": context, "@id": "urn:x:1", "value": first})
    document = {"@context": context, "@id": "urn:x:1", "value": second}
    assert cache.canonicalize(document) == signing.canonicalize(document)
    assert cache.info().hits == 0
