import copy
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials.standards import didkey, signing
from credentials.standards.multiformats import (
    base58btc_decode,
    decode_ed25519_private_key,
    multibase_encode,
)
from credentials.standards.signing import Failure, Step
from tests.credentials.standards_paths import OB3_IMPL_VECTOR, W3C_EDDSA_VECTORS, read_json

RDFC = W3C_EDDSA_VECTORS / "eddsa-rdfc-2022"
W3C_VECTOR_SETS = [
    pytest.param(RDFC, W3C_EDDSA_VECTORS / "unsigned.json", id="alumni"),
    pytest.param(RDFC / "employ", W3C_EDDSA_VECTORS / "employmentAuth.json", id="employment"),
]

OB3_SEED_HEX = "6241a409e6707bb640a0140a8a32bc3d193c33a661747284d6adfa4ed4180be4"
# Given in the OB 3.0 Implementation Guide (and tests/standards/README.md).
OB3_DOCUMENT_HASH = "87f65a76d40146205e3b3e06cb0fbd153f97f9ce70372390f52566bb7f9e0773"
OB3_PROOF_HASH = "d34009cea0dbc1ca941e09dc01c8c9d3e3ce3c5b853f67ee44698dcea10f5d19"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3)
    ),
    max_leaves=10,
)


def exact_text(path: Path) -> str:
    """Return a vector file's text exactly as stored (no newline translation, nothing stripped)."""
    return path.read_bytes().decode("utf-8")


def w3c_private_key() -> Ed25519PrivateKey:
    return decode_ed25519_private_key(
        read_json(W3C_EDDSA_VECTORS / "keyPair.json")["privateKeyMultibase"]
    )


def ob3_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(OB3_SEED_HEX))


def w3c_hash_data(vector_dir: Path, unsigned_path: Path) -> signing.HashData:
    config = read_json(vector_dir / "proofConfigDataInt.json")
    return signing.hash_data(read_json(unsigned_path), config)


def sign_like_the_vector(vector_dir: Path, unsigned_path: Path) -> dict:
    config = read_json(vector_dir / "proofConfigDataInt.json")
    return signing.sign_document(
        read_json(unsigned_path),
        private_key=w3c_private_key(),
        verification_method=config["verificationMethod"],
        created=config["created"],
    )


def signed_ob3() -> dict:
    return read_json(OB3_IMPL_VECTOR / "signed-credential.json")


def ob3_public_key():
    return ob3_private_key().public_key()


# ---------------------------------------------------------------- the W3C vc-di-eddsa vectors


def test_canonical_vector_files_end_with_the_newline_of_their_last_quad_and_hash_files_with_none():
    # So every comparison below is exact: nothing is stripped from either side.
    for directory in (RDFC, RDFC / "employ"):
        for name in ("canonDocDataInt.txt", "proofCanonDataInt.txt"):
            assert exact_text(directory / name).endswith(" .\n")
            assert not exact_text(directory / name).endswith("\n\n")
        for name in (
            "docHashDataInt.txt",
            "proofHashDataInt.txt",
            "combinedHashDataInt.txt",
            "sigHexDataInt.txt",
        ):
            assert exact_text(directory / name).isalnum()
        assert exact_text(directory / "sigBTC58DataInt.txt").isalnum()


@pytest.mark.parametrize(("vector_dir", "unsigned_path"), W3C_VECTOR_SETS)
def test_the_canonical_document_equals_the_w3c_vector_byte_for_byte(vector_dir, unsigned_path):
    assert signing.canonicalize(read_json(unsigned_path)) == exact_text(
        vector_dir / "canonDocDataInt.txt"
    )


@pytest.mark.parametrize(("vector_dir", "unsigned_path"), W3C_VECTOR_SETS)
def test_the_document_hash_equals_the_w3c_vector(vector_dir, unsigned_path):
    hashes = w3c_hash_data(vector_dir, unsigned_path)
    assert hashes.document_hash.hex() == exact_text(vector_dir / "docHashDataInt.txt")


@pytest.mark.parametrize(("vector_dir", "unsigned_path"), W3C_VECTOR_SETS)
def test_the_proof_configuration_we_build_equals_the_w3c_vector(vector_dir, unsigned_path):
    vector_config = read_json(vector_dir / "proofConfigDataInt.json")
    ours = signing.proof_configuration(
        context=read_json(unsigned_path)["@context"],
        verification_method=vector_config["verificationMethod"],
        created=vector_config["created"],
    )
    assert ours == vector_config
    assert signing.canonicalize(ours) == exact_text(vector_dir / "proofCanonDataInt.txt")


@pytest.mark.parametrize(("vector_dir", "unsigned_path"), W3C_VECTOR_SETS)
def test_the_proof_and_combined_hashes_equal_the_w3c_vector(vector_dir, unsigned_path):
    hashes = w3c_hash_data(vector_dir, unsigned_path)
    assert hashes.canonical_proof_configuration == exact_text(vector_dir / "proofCanonDataInt.txt")
    assert hashes.proof_configuration_hash.hex() == exact_text(vector_dir / "proofHashDataInt.txt")
    assert hashes.signed_bytes.hex() == exact_text(vector_dir / "combinedHashDataInt.txt")


@pytest.mark.parametrize(("vector_dir", "unsigned_path"), W3C_VECTOR_SETS)
def test_the_signature_and_proof_value_equal_the_w3c_vector(vector_dir, unsigned_path):
    proof = sign_like_the_vector(vector_dir, unsigned_path)["proof"][0]
    signature = base58btc_decode(proof["proofValue"].removeprefix("z"))
    assert signature.hex() == exact_text(vector_dir / "sigHexDataInt.txt")
    assert proof["proofValue"] == exact_text(vector_dir / "sigBTC58DataInt.txt")


@pytest.mark.parametrize(("vector_dir", "unsigned_path"), W3C_VECTOR_SETS)
def test_the_signed_document_equals_the_w3c_vector_with_the_proof_in_an_array(
    vector_dir, unsigned_path
):
    ours = sign_like_the_vector(vector_dir, unsigned_path)
    vector = read_json(vector_dir / "signedDataInt.json")
    assert ours == {**vector, "proof": [vector["proof"]]}


@pytest.mark.parametrize(("vector_dir", "unsigned_path"), W3C_VECTOR_SETS)
def test_the_signed_w3c_vector_verifies_through_its_did_key(vector_dir, unsigned_path):
    result = signing.verify_proof(
        read_json(vector_dir / "signedDataInt.json"), public_key=didkey.public_key_for
    )
    assert result == signing.ProofVerification(
        verified=True,
        verification_method=read_json(vector_dir / "proofConfigDataInt.json")["verificationMethod"],
    )


def test_signing_leaves_the_input_document_unchanged():
    document = read_json(W3C_EDDSA_VECTORS / "unsigned.json")
    before = copy.deepcopy(document)
    signing.sign_document(
        document,
        private_key=w3c_private_key(),
        verification_method="did:ex:1#k",
        created="2024-01-01T00:00:00Z",
    )
    assert document == before


# ---------------------------------------------------------------- 1EdTech's OB 3.0 vector


def test_the_ob3_canonical_document_equals_the_1edtech_vector():
    canonical = signing.canonicalize(read_json(OB3_IMPL_VECTOR / "credential.json"))
    assert canonical == exact_text(OB3_IMPL_VECTOR / "document-canon.txt")


def test_the_ob3_canonical_proof_and_both_hashes_equal_the_1edtech_vector():
    credential = read_json(OB3_IMPL_VECTOR / "credential.json")
    proof = read_json(OB3_IMPL_VECTOR / "proof.json")
    config = signing.proof_configuration(
        context=credential["@context"],
        verification_method=proof["verificationMethod"],
        created=proof["created"],
    )
    hashes = signing.hash_data(credential, config)
    assert hashes.canonical_proof_configuration == exact_text(OB3_IMPL_VECTOR / "proof-canon.txt")
    assert hashes.document_hash.hex() == OB3_DOCUMENT_HASH
    assert hashes.proof_configuration_hash.hex() == OB3_PROOF_HASH


def test_signing_the_ob3_credential_reproduces_the_published_signed_credential():
    proof = read_json(OB3_IMPL_VECTOR / "proof.json")
    ours = signing.sign_document(
        read_json(OB3_IMPL_VECTOR / "credential.json"),
        private_key=ob3_private_key(),
        verification_method=proof["verificationMethod"],
        created=proof["created"],
    )
    assert ours["proof"][0]["proofValue"] == proof["proofValue"]
    published = signed_ob3()
    assert ours == {**published, "proof": [published["proof"]]}


def test_the_published_ob3_signed_credential_verifies():
    assert signing.verify_proof(signed_ob3(), public_key=ob3_public_key()).verified


def test_the_published_ob3_signed_credential_verifies_through_a_key_resolver():
    method = signed_ob3()["proof"]["verificationMethod"]
    keys = {method: ob3_public_key()}
    result = signing.verify_proof(signed_ob3(), public_key=lambda vm: keys[vm])
    assert result.verified
    assert result.verification_method == method


# ---------------------------------------------------------------- tampering and malformed input


def assert_rejected(result: signing.ProofVerification, step: Step, failure: Failure) -> None:
    assert not result.verified
    assert (result.failed_step, result.failure) == (step, failure), result.detail


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("name",), "Teamwork Badgf"),
        (("validFrom",), "2010-01-01T00:00:01Z"),
        (("issuer", "name"), "Example Corq"),
        (
            ("credentialSubject", "achievement", "criteria", "narrative"),
            "Team members are nominated.",
        ),
        (("credentialSubject", "id"), "did:example:ebfeb1f712ebc6f1c276e12ec22"),
    ],
)
def test_a_changed_value_in_the_credential_fails_at_the_signature(path, value):
    tampered = signed_ob3()
    target = tampered
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    result = signing.verify_proof(tampered, public_key=ob3_public_key())
    assert_rejected(result, Step.CHECK_SIGNATURE, Failure.BAD_SIGNATURE)


def test_a_one_character_change_in_the_w3c_vector_fails():
    tampered = read_json(RDFC / "signedDataInt.json")
    tampered["credentialSubject"]["alumniOf"] = "The School of Examplez"
    result = signing.verify_proof(tampered, public_key=didkey.public_key_for)
    assert_rejected(result, Step.CHECK_SIGNATURE, Failure.BAD_SIGNATURE)


def test_a_changed_proof_value_fails():
    tampered = signed_ob3()
    signature = bytearray(base58btc_decode(tampered["proof"]["proofValue"][1:]))
    signature[10] ^= 0x01
    tampered["proof"]["proofValue"] = multibase_encode(bytes(signature))
    result = signing.verify_proof(tampered, public_key=ob3_public_key())
    assert_rejected(result, Step.CHECK_SIGNATURE, Failure.BAD_SIGNATURE)


def test_a_different_key_fails():
    result = signing.verify_proof(signed_ob3(), public_key=w3c_private_key().public_key())
    assert_rejected(result, Step.CHECK_SIGNATURE, Failure.BAD_SIGNATURE)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("created", "2010-01-01T19:23:25Z"),
        ("verificationMethod", "https://example.edu/issuers/565049#key-2"),
    ],
)
def test_a_changed_proof_option_fails_because_the_options_are_signed(field, value):
    tampered = signed_ob3()
    tampered["proof"][field] = value
    result = signing.verify_proof(tampered, public_key=ob3_public_key())
    assert_rejected(result, Step.CHECK_SIGNATURE, Failure.BAD_SIGNATURE)


def test_a_wrong_cryptosuite_is_rejected_by_name_before_any_canonicalisation():
    tampered = signed_ob3()
    tampered["proof"]["cryptosuite"] = "eddsa-jcs-2022"
    result = signing.verify_proof(tampered, public_key=ob3_public_key())
    assert_rejected(result, Step.READ_PROOF, Failure.WRONG_CRYPTOSUITE)
    assert "eddsa-jcs-2022" in result.detail


def test_the_w3c_jcs_vector_is_rejected_as_another_cryptosuite():
    signed_jcs = read_json(W3C_EDDSA_VECTORS / "eddsa-jcs-2022" / "signedJCS.json")
    result = signing.verify_proof(signed_jcs, public_key=didkey.public_key_for)
    assert_rejected(result, Step.READ_PROOF, Failure.WRONG_CRYPTOSUITE)


def test_the_proof_verifies_as_an_object_and_as_a_one_element_array():
    as_object = signed_ob3()
    as_array = {**as_object, "proof": [as_object["proof"]]}
    assert signing.verify_proof(as_object, public_key=ob3_public_key()).verified
    assert signing.verify_proof(as_array, public_key=ob3_public_key()).verified


def proof_replaced(**changes) -> dict:
    document = signed_ob3()
    document["proof"] = {**document["proof"], **changes}
    return document


@pytest.mark.parametrize(
    ("document", "failure"),
    [
        pytest.param(
            {k: v for k, v in signed_ob3().items() if k != "proof"},
            Failure.MISSING_PROOF,
            id="no-proof",
        ),
        pytest.param({**signed_ob3(), "proof": []}, Failure.MISSING_PROOF, id="empty-proof-array"),
        pytest.param(
            {**signed_ob3(), "proof": [signed_ob3()["proof"]] * 2},
            Failure.MULTIPLE_PROOFS,
            id="two-proofs",
        ),
        pytest.param(
            {**signed_ob3(), "proof": "z5x9a"}, Failure.MALFORMED_PROOF, id="proof-is-a-string"
        ),
        pytest.param(["not", "an", "object"], Failure.MALFORMED_DOCUMENT, id="document-is-a-list"),
        pytest.param(
            proof_replaced(type="Ed25519Signature2020"), Failure.WRONG_PROOF_TYPE, id="proof-type"
        ),
        pytest.param(
            proof_replaced(proofPurpose="authentication"), Failure.WRONG_PROOF_PURPOSE, id="purpose"
        ),
        pytest.param(
            proof_replaced(verificationMethod=None), Failure.MALFORMED_PROOF, id="no-method"
        ),
        pytest.param(proof_replaced(created="yesterday"), Failure.MALFORMED_PROOF, id="created"),
        pytest.param(
            proof_replaced(proofValue=None), Failure.MALFORMED_PROOF_VALUE, id="no-proof-value"
        ),
        pytest.param(
            proof_replaced(proofValue="z0OIl"), Failure.MALFORMED_PROOF_VALUE, id="not-base58"
        ),
        pytest.param(
            proof_replaced(proofValue="uAAAA"), Failure.MALFORMED_PROOF_VALUE, id="base64url"
        ),
        pytest.param(
            proof_replaced(proofValue="z2NEpo7TZRRrLZSi2U"),
            Failure.MALFORMED_PROOF_VALUE,
            id="short",
        ),
        pytest.param(
            proof_replaced(**{"@context": ["https://w3id.org/security/data-integrity/v2"]}),
            Failure.CONTEXT_MISMATCH,
            id="proof-context-not-a-prefix",
        ),
    ],
)
def test_a_malformed_proof_is_rejected_with_a_named_reason_while_reading_it(document, failure):
    assert_rejected(
        signing.verify_proof(document, public_key=ob3_public_key()), Step.READ_PROOF, failure
    )


def test_an_unknown_context_is_rejected_at_document_canonicalisation():
    tampered = signed_ob3()
    tampered["@context"] = [*tampered["@context"], "https://example.com/ctx"]
    tampered["proof"]["@context"] = signed_ob3()["@context"]
    result = signing.verify_proof(tampered, public_key=ob3_public_key())
    assert_rejected(result, Step.CANONICALIZE_DOCUMENT, Failure.CONTEXT_NOT_BUNDLED)


def test_an_unknown_context_is_rejected_at_proof_canonicalisation_when_the_proof_uses_it():
    tampered = signed_ob3()
    tampered["@context"] = [*tampered["@context"], "https://example.com/ctx"]
    result = signing.verify_proof(tampered, public_key=ob3_public_key())
    assert_rejected(result, Step.CANONICALIZE_PROOF, Failure.CONTEXT_NOT_BUNDLED)


def test_an_undefined_term_is_rejected_at_document_canonicalisation():
    tampered = signed_ob3()
    tampered["credentialSubject"]["favouriteColour"] = "blue"
    result = signing.verify_proof(tampered, public_key=ob3_public_key())
    assert_rejected(result, Step.CANONICALIZE_DOCUMENT, Failure.UNDEFINED_TERM)
    assert "favouriteColour" in result.detail


def test_a_key_that_cannot_be_resolved_is_rejected_by_name():
    # The OB 3.0 vector's method is an https URL, not a did:key.
    result = signing.verify_proof(signed_ob3(), public_key=didkey.public_key_for)
    assert_rejected(result, Step.RESOLVE_KEY, Failure.KEY_NOT_RESOLVED)


def test_a_resolver_raising_key_not_resolved_is_reported_not_raised():
    def no_keys(method):
        raise signing.KeyNotResolved(f"no key for {method}")

    result = signing.verify_proof(signed_ob3(), public_key=no_keys)
    assert_rejected(result, Step.RESOLVE_KEY, Failure.KEY_NOT_RESOLVED)
    assert "no key for https://example.edu/issuers/565049#" in result.detail


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    field=st.sampled_from(
        ["@context", "id", "type", "issuer", "credentialSubject", "validFrom", "proof"]
    ),
    value=json_values,
)
def test_verification_never_raises_on_a_mangled_credential(field, value):
    mangled = {**signed_ob3(), field: value}
    result = signing.verify_proof(mangled, public_key=ob3_public_key())
    assert isinstance(result, signing.ProofVerification)
    assert not result.verified
    assert result.failure is not None


@settings(max_examples=40, deadline=None)
@given(
    field=st.sampled_from(
        ["type", "cryptosuite", "created", "verificationMethod", "proofPurpose", "proofValue"]
    ),
    value=json_values,
)
def test_verification_never_raises_on_a_mangled_proof(field, value):
    mangled = proof_replaced(**{field: value})
    result = signing.verify_proof(mangled, public_key=ob3_public_key())
    assert not result.verified
    assert result.failure is not None


# ---------------------------------------------------------------- safe-mode canonicalisation


def ob3_credential_with(**changes) -> dict:
    return {**read_json(OB3_IMPL_VECTOR / "credential.json"), **changes}


@pytest.mark.parametrize(
    ("document", "failure"),
    [
        pytest.param(
            ob3_credential_with(favouriteColour="blue"),
            Failure.UNDEFINED_TERM,
            id="undefined-property",
        ),
        pytest.param(
            ob3_credential_with(type=["VerifiableCredential", "Bogus"]),
            Failure.RELATIVE_IRI,
            id="undefined-type",
        ),
        pytest.param(
            ob3_credential_with(id="credentials/3527"), Failure.RELATIVE_IRI, id="relative-id"
        ),
        pytest.param(
            ob3_credential_with(id="http://example.com/a b"),
            Failure.RELATIVE_IRI,
            id="space-in-iri",
        ),
        pytest.param(
            ob3_credential_with(name={"@value": None}), Failure.INVALID_JSON_LD, id="null-value"
        ),
        pytest.param(
            ob3_credential_with(name={"@language": "en"}),
            Failure.INVALID_JSON_LD,
            id="only-language",
        ),
        pytest.param(
            ob3_credential_with(name="form\x0cfeed"),
            Failure.UNSUPPORTED_CHARACTER,
            id="control-character",
        ),
        pytest.param(
            ob3_credential_with(id="http://example.com/{x}"),
            Failure.UNSUPPORTED_CHARACTER,
            id="brace-in-iri",
        ),
        pytest.param(
            {"@context": read_json(OB3_IMPL_VECTOR / "credential.json")["@context"]},
            Failure.INVALID_JSON_LD,
            id="empty",
        ),
        pytest.param(
            {"@context": 5, "name": "x"}, Failure.INVALID_JSON_LD, id="context-is-a-number"
        ),
    ],
)
def test_signing_refuses_what_jsonld_js_safe_mode_refuses_instead_of_dropping_it(document, failure):
    with pytest.raises(signing.CanonicalizationError) as refusal:
        signing.sign_document(
            document,
            private_key=ob3_private_key(),
            verification_method="did:ex:1#k",
            created="2024-01-01T00:00:00Z",
        )
    assert refusal.value.failure is failure


def test_indistinguishable_blank_nodes_beyond_the_rdfc_work_bound_are_refused():
    ring = {
        "@context": {"@vocab": "https://example.com/vocab#"},
        "@graph": [{"@id": f"_:n{i}", "next": {"@id": f"_:n{(i + 1) % 4}"}} for i in range(4)],
    }
    with pytest.raises(signing.CanonicalizationError) as refusal:
        signing.canonicalize(ring)
    assert refusal.value.failure is Failure.TOO_COMPLEX


def test_identical_sibling_blank_nodes_are_canonicalised_within_the_bound():
    document = {
        "@context": {"@vocab": "https://example.com/vocab#"},
        "@id": "https://example.com/1",
        "part": [{"label": "same"}, {"label": "same"}],
    }
    assert signing.canonicalize(document).count("_:c14n") == 4


def test_language_tags_and_text_direction_are_canonicalised_as_jsonld_js_does():
    document = ob3_credential_with(name={"@value": "شارة", "@language": "AR", "@direction": "rtl"})
    assert '"شارة"^^<https://www.w3.org/ns/i18n#ar_rtl>' in signing.canonicalize(document)


def test_tabs_newlines_and_quotes_are_escaped_in_canonical_n_quads():
    canonical = signing.canonicalize(ob3_credential_with(name='a\tb\nc\rd"e\\f'))
    assert '"a\\tb\\nc\\rd\\"e\\\\f"' in canonical


def test_a_document_that_already_has_a_proof_is_not_signed_again():
    with pytest.raises(ValueError, match="already has a proof"):
        signing.sign_document(
            signed_ob3(),
            private_key=ob3_private_key(),
            verification_method="did:ex:1#k",
            created="2024-01-01T00:00:00Z",
        )


@pytest.mark.parametrize(
    "created", ["2024-01-01T00:00:00", "2024-01-01", "2024-13-01T00:00:00Z", "now"]
)
def test_created_must_be_a_date_time_with_a_time_zone(created):
    with pytest.raises(ValueError, match="created"):
        signing.Signer(
            private_key=ob3_private_key(), verification_method="did:ex:1#k", created=created
        )


def test_format_created_gives_utc_to_the_second():
    moment = datetime(2024, 5, 1, 14, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert signing.format_created(moment) == "2024-05-01T12:00:00Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        signing.format_created(datetime(2024, 5, 1))


def test_the_data_integrity_context_is_added_to_proof_options_only_when_missing():
    did_only = signing.proof_configuration(
        context="https://www.w3.org/ns/did/v1",
        verification_method="did:ex:1#k",
        created="2024-01-01T00:00:00Z",
    )
    assert did_only["@context"] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/data-integrity/v2",
    ]
    vc = signing.proof_configuration(
        context=["https://www.w3.org/ns/credentials/v2"],
        verification_method="did:ex:1#k",
        created="2024-01-01T00:00:00Z",
    )
    assert vc["@context"] == ["https://www.w3.org/ns/credentials/v2"]


# ---------------------------------------------------------------- the batch signer


def test_a_signer_gives_the_same_proofs_as_sign_document_across_different_contexts():
    key = w3c_private_key()
    method = read_json(RDFC / "proofConfigDataInt.json")["verificationMethod"]
    created = "2024-02-29T12:00:00Z"
    documents = [
        read_json(W3C_EDDSA_VECTORS / "unsigned.json"),
        read_json(OB3_IMPL_VECTOR / "credential.json"),
        read_json(W3C_EDDSA_VECTORS / "employmentAuth.json"),
        read_json(W3C_EDDSA_VECTORS / "unsigned.json") | {"name": "Another Alumni Credential"},
    ]
    signer = signing.Signer(private_key=key, verification_method=method, created=created)
    for document in documents:
        batch = signer.sign(document)
        single = signing.sign_document(
            document, private_key=key, verification_method=method, created=created
        )
        assert batch == single
        assert signing.verify_proof(batch, public_key=key.public_key()).verified


def test_a_signer_canonicalises_the_proof_configuration_once_per_context(monkeypatch):
    calls = []
    original = signing.canonicalize

    def counting_canonicalize(document):
        calls.append("proof" if "cryptosuite" in document else "document")
        return original(document)

    monkeypatch.setattr(signing, "canonicalize", counting_canonicalize)
    signer = signing.Signer(
        private_key=ob3_private_key(),
        verification_method="did:ex:1#k",
        created="2024-01-01T00:00:00Z",
    )
    for number in range(3):
        signer.sign(ob3_credential_with(name=f"Badge {number}"))
    assert calls.count("proof") == 1
    assert calls.count("document") == 3
