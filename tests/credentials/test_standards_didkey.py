import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from credentials.standards.didkey import (
    DidKeyError,
    did_key_for,
    public_key_for,
    resolve_did_key,
    resolve_verification_method,
    verification_method_id_for,
)
from credentials.standards.multiformats import decode_ed25519_public_key
from tests.credentials.standards_paths import W3C_EDDSA_VECTORS, read_json

KEY = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
DID = f"did:key:{KEY}"
METHOD = f"{DID}#{KEY}"

# What @digitalbazaar/did-method-key 5.3.0 (the interop tool) resolves DID to.
VC_JS_DID_DOCUMENT = {
    "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
    "id": DID,
    "verificationMethod": [
        {"id": METHOD, "type": "Multikey", "controller": DID, "publicKeyMultibase": KEY},
    ],
    "authentication": [METHOD],
    "assertionMethod": [METHOD],
    "capabilityDelegation": [METHOD],
    "capabilityInvocation": [METHOD],
}


def test_the_vector_did_resolves_to_the_document_vc_js_builds():
    assert resolve_did_key(DID) == VC_JS_DID_DOCUMENT


def test_the_vector_verification_method_gives_the_vector_public_key():
    key_pair = read_json(W3C_EDDSA_VECTORS / "keyPair.json")
    expected = decode_ed25519_public_key(key_pair["publicKeyMultibase"])
    raw = public_key_for(METHOD).public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert raw == expected.public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_the_signed_vector_names_the_verification_method_derived_from_its_key():
    signed = read_json(W3C_EDDSA_VECTORS / "eddsa-rdfc-2022" / "signedDataInt.json")
    key = decode_ed25519_public_key(KEY)
    assert verification_method_id_for(key) == signed["proof"]["verificationMethod"]
    assert did_key_for(key) == DID


def test_a_did_url_dereferences_to_its_multikey_verification_method():
    assert resolve_verification_method(METHOD) == {
        "@context": "https://w3id.org/security/multikey/v1",
        "id": METHOD,
        "type": "Multikey",
        "controller": DID,
        "publicKeyMultibase": KEY,
    }


@pytest.mark.parametrize(
    ("did_url", "message"),
    [
        ("did:web:example.com#key-1", "not a did:key"),
        (
            "did:key:zDnaegE6RR3atJtHKwTRTWHsJ3kNHqFwv7n9YjTgmU7TyfU76#zDnaegE6RR3atJtHKwTRTWHsJ3kNHqFwv7n9YjTgmU7TyfU76",
            "only Ed25519",
        ),
        (DID, "must end in"),
        (f"{DID}#key-1", "must end in"),
        (
            "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4sw#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4sw",
            "malformed did:key",
        ),
        ("did:key:z6Mk0OIl#z6Mk0OIl", "malformed did:key"),
    ],
)
def test_a_malformed_or_foreign_verification_method_is_refused(did_url, message):
    with pytest.raises(DidKeyError, match=message):
        public_key_for(did_url)


def test_resolving_a_did_with_a_fragment_is_refused():
    with pytest.raises(DidKeyError):
        resolve_did_key(METHOD)
