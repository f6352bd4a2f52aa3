"""The verification pipeline: the happy paths, one named failure for every kind of bad input.

Credentials are signed here with fresh keys; did:web issuers are served through the injected
resolver and status lists through the injected fetcher, so nothing touches the network.
"""

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials.standards import didkey, signing, status_list
from credentials.standards.did_resolution import DidResolver, ResolutionError, ResolutionFailure
from credentials.standards.multiformats import encode_ed25519_public_key
from credentials.standards.verification import (
    CheckName,
    VerificationResult,
    parse_date_time_stamp,
    verify_credential,
)
from tests.credentials.standards_paths import W3C_EDDSA_VECTORS, read_json

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
CREATED = "2025-01-01T00:00:00Z"
WEB_DID = "did:web:uni-a.example:institutions:uni-a"
CHECK_NAMES = [
    "json",
    "data_model",
    "contexts",
    "proof",
    "issuer_key",
    "validity",
    "status",
    "issuer_known",
]
REVOCATION_URL = "https://uni-a.example/status/revocation/1"
SUSPENSION_URL = "https://uni-a.example/status/suspension/1"


# ---------------------------------------------------------------- issuers, lists and helpers


@dataclass
class Issuer:
    key: Ed25519PrivateKey
    did: str
    method: str

    def sign(self, document: Mapping[str, Any], *, method: str | None = None) -> dict[str, Any]:
        return signing.sign_document(
            document,
            private_key=self.key,
            verification_method=method or self.method,
            created=CREATED,
        )


def did_key_issuer() -> Issuer:
    key = Ed25519PrivateKey.generate()
    return Issuer(
        key=key,
        did=didkey.did_key_for(key.public_key()),
        method=didkey.verification_method_id_for(key.public_key()),
    )


def did_web_issuer(did: str = WEB_DID) -> Issuer:
    return Issuer(key=Ed25519PrivateKey.generate(), did=did, method=f"{did}#key-1")


def did_web_document(issuer: Issuer, *, assertion: list[Any] | None = None) -> dict[str, Any]:
    method = {
        "id": issuer.method,
        "type": "Multikey",
        "controller": issuer.did,
        "publicKeyMultibase": encode_ed25519_public_key(issuer.key.public_key()),
    }
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": issuer.did,
        "verificationMethod": [method],
        "assertionMethod": [issuer.method] if assertion is None else assertion,
    }


def no_fetch(url: str) -> dict[str, Any]:
    raise ResolutionError(ResolutionFailure.CONNECTION_FAILED, f"the network is closed ({url})")


def resolver_for(*documents: dict[str, Any]) -> DidResolver:
    hosted = {document["id"]: document for document in documents}
    return DidResolver(local=hosted.get, fetch=no_fetch)


@dataclass
class StatusLists:
    lists: dict[str, dict[str, Any]] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)

    def publish(
        self,
        issuer: Issuer,
        *,
        url: str = REVOCATION_URL,
        purpose: status_list.StatusPurpose = "revocation",
        set_indices: tuple[int, ...] = (),
        issuer_did: str | None = None,
        **changes: Any,
    ) -> dict[str, Any]:
        bitstring = status_list.empty_bitstring()
        for index in set_indices:
            bitstring = status_list.set_bit(bitstring, index, True)
        unsigned = status_list.build_status_list_credential(
            list_url=url,
            issuer_did=issuer_did or issuer.did,
            purpose=purpose,
            encoded_list=status_list.encode_list(bitstring),
            valid_from=datetime(2025, 1, 1, tzinfo=UTC),
        )
        self.lists[url] = issuer.sign({**unsigned, **changes})
        return self.lists[url]

    def __call__(self, url: str) -> dict[str, Any]:
        self.fetched.append(url)
        if url not in self.lists:
            raise ResolutionError(ResolutionFailure.HTTP_ERROR, f"{url} answered HTTP 404")
        return copy.deepcopy(self.lists[url])


def credential(issuer_did: str, **changes: Any) -> dict[str, Any]:
    document = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:0b3f1c2e-7d7a-4c1e-9a53-2f5f0c9d8e11",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_did, "type": ["Profile"], "name": "Université d'Exemple"},
        "validFrom": "2025-01-01T00:00:00Z",
        "name": "Data Literacy",
        "credentialSubject": {
            "id": "did:example:learner-1",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "urn:uuid:6c1b8a4e-1111-4a2b-8c3d-123456789abc",
                "type": ["Achievement"],
                "name": "Data Literacy",
                "description": "Reads and questions data.",
                "criteria": {"narrative": "Passed the assessment."},
            },
        },
    }
    document.update(changes)
    return {name: value for name, value in document.items() if value is not None}


def with_status(issuer_did: str, *entries: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return credential(issuer_did, credentialStatus=list(entries), **changes)


def verify(
    raw: Any,
    *,
    resolver: Any = None,
    status_lists: Callable[[str], Mapping[str, Any]] | None = None,
    directory: Callable[[str], str | None] | None = None,
    now: datetime = NOW,
    **options: Any,
) -> VerificationResult:
    return verify_credential(
        raw,
        resolver=resolver or DidResolver(fetch=no_fetch),
        fetch_status_list=status_lists or StatusLists(),
        issuer_directory=directory or (lambda did: None),
        now=now,
        **options,
    )


def outcome(result: VerificationResult, name: str) -> tuple[bool, str]:
    check = result.check(name)
    return check.ok, check.detail


def assert_fails_only_at(result: VerificationResult, name: str) -> str:
    """The named check failed, every earlier one passed, and no later one claims to pass."""
    assert [check.check for check in result.checks] == CHECK_NAMES
    names = [str(check.check) for check in result.checks]
    failed = result.check(name)
    assert not failed.ok
    assert not failed.detail.startswith("not checked")
    assert result.verified is False
    assert failed.detail in result.errors
    for check in result.checks[: names.index(name)]:
        assert check.ok or check.check == CheckName.ISSUER_KNOWN, check
    return failed.detail


# ---------------------------------------------------------------- happy paths


def test_a_credential_signed_by_its_did_key_issuer_verifies_with_every_check_named():
    issuer = did_key_issuer()
    result = verify(json.dumps(issuer.sign(credential(issuer.did))))
    assert result.verified, result.as_dict()
    assert [check.check for check in result.checks] == CHECK_NAMES
    assert all(check.ok for check in result.checks[:-1])
    assert outcome(result, "issuer_key") == (
        True,
        f"Signed by {issuer.did} with key {issuer.method}",
    )
    assert outcome(result, "status") == (True, "No status list")
    assert outcome(result, "validity") == (True, "Valid from 2025-01-01T00:00:00Z, no expiry date")
    assert outcome(result, "contexts") == (True, "Uses 2 contexts, all bundled with this verifier")
    assert outcome(result, "proof") == (
        True,
        f"Valid eddsa-rdfc-2022 signature by key {issuer.method}",
    )


def test_the_result_converts_to_exactly_the_published_json_shape():
    issuer = did_key_issuer()
    as_dict = verify(issuer.sign(credential(issuer.did))).as_dict()
    assert set(as_dict) == {
        "verified",
        "trust",
        "summary",
        "key_fingerprint",
        "source",
        "checks",
        "errors",
        "error_code",
        "warnings",
    }
    assert [set(check) for check in as_dict["checks"]] == [
        {"check", "ok", "detail", "code", "outcome", "params"}
    ] * 8
    assert as_dict["trust"] == "unknown_issuer"
    assert as_dict["error_code"] is None
    assert set(as_dict["summary"]) == {
        "format",
        "holder",
        "title",
        "issuer",
        "awarded",
        "ects",
        "eqf",
        "grade",
    }
    assert as_dict["summary"]["issuer"]["confirmed"] is False
    assert [check["check"] for check in as_dict["checks"]] == CHECK_NAMES
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert as_dict["errors"] == []
    assert as_dict["warnings"] == [
        f"The issuer {issuer.did} is not an institution or partner known to this portal"
    ]


def test_a_did_web_institution_credential_with_clear_status_lists_verifies_and_names_the_issuer():
    issuer = did_web_issuer()
    lists = StatusLists()
    lists.publish(issuer, url=REVOCATION_URL, purpose="revocation", set_indices=(1, 2))
    lists.publish(issuer, url=SUSPENSION_URL, purpose="suspension", set_indices=(4,))
    document = with_status(
        issuer.did,
        status_list.status_entry(list_url=REVOCATION_URL, purpose="revocation", index=3),
        status_list.status_entry(list_url=SUSPENSION_URL, purpose="suspension", index=3),
    )
    result = verify(
        json.dumps(issuer.sign(document)).encode(),
        resolver=resolver_for(did_web_document(issuer)),
        status_lists=lists,
        directory={issuer.did: "Université d'Exemple"}.get,
    )
    assert result.verified, result.as_dict()
    assert result.warnings == ()
    assert outcome(result, "issuer_key") == (
        True,
        f"Signed by {WEB_DID} with key {WEB_DID}#key-1",
    )
    assert outcome(result, "status") == (True, "Not revoked, not suspended")
    assert outcome(result, "issuer_known") == (True, "Known issuer: Université d'Exemple")
    assert sorted(lists.fetched) == [REVOCATION_URL, SUSPENSION_URL]


def test_a_proof_given_as_an_object_rather_than_an_array_is_accepted():
    issuer = did_key_issuer()
    signed = issuer.sign(credential(issuer.did))
    signed["proof"] = signed["proof"][0]
    assert verify(signed).verified


def test_an_already_parsed_mapping_is_verified_like_its_json_text():
    issuer = did_key_issuer()
    signed = issuer.sign(credential(issuer.did))
    assert verify(signed).as_dict() == verify(json.dumps(signed, ensure_ascii=False)).as_dict()


def test_a_naive_now_is_a_programming_error():
    with pytest.raises(ValueError, match="timezone-aware"):
        verify("{}", now=datetime(2025, 1, 1))


# ---------------------------------------------------------------- json


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        ("{", "The document is not valid JSON"),
        ("", "The document is empty"),
        (b"\xff\xfe{}", "The document is not text"),
        ('{"a": NaN}', "NaN is not a JSON value"),
        ('{"a": 1, "a": 2}', "the key 'a' appears twice"),
        ("[1, 2]", "not a JSON object"),
        ('"a string"', "not a JSON object"),
        ("null", "not a JSON object"),
        (b" " * (512 * 1024 + 1), "too large (over 512 KiB)"),
        ("x" * (512 * 1024 + 1), "too large"),
        ("é" * (300 * 1024), "too large"),
        ({"pad": "x" * 600_000}, "too large"),
        ("[" * 100_000 + "]" * 100_000, "too deeply nested (more than 64 levels)"),
        ('{"a":' * 65 + "1" + "}" * 65, "too deeply nested"),
        ({"set": {1, 2}}, "not JSON data"),
        (12, "not JSON data"),
    ],
)
def test_input_that_is_not_a_bounded_json_object_fails_the_json_check(raw, detail):
    result = verify(raw)
    failure = assert_fails_only_at(result, "json")
    assert detail in failure
    assert result.errors == (failure,)
    assert all(
        check.detail == "not checked: the document could not be read" for check in result.checks[1:]
    )


def nested_mapping(depth: int) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for _ in range(depth):
        document = {"a": document}
    return document


@pytest.mark.parametrize("depth", [70, 100_000])
def test_a_deeply_nested_mapping_fails_as_too_deeply_nested_without_recursion_error(depth):
    assert "too deeply nested" in assert_fails_only_at(verify(nested_mapping(depth)), "json")


def test_nesting_up_to_the_limit_and_brackets_inside_strings_are_fine():
    issuer = did_key_issuer()
    document = credential(issuer.did, name="[[[[{{{{" * 100)
    assert verify(json.dumps(issuer.sign(document))).check("json").ok
    assert verify('{"a":' * 63 + "1" + "}" * 63).check("json").ok


# ---------------------------------------------------------------- data model


DUMMY_PROOF = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022"}


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"@context": ["https://www.w3.org/2018/credentials/v1"]}, "The first @context must be"),
        ({"@context": "https://www.w3.org/ns/credentials/v2"}, "The first @context must be"),
        ({"type": ["OpenBadgeCredential"]}, "does not include VerifiableCredential"),
        ({"type": [1]}, "list of strings"),
        ({"issuer": None}, "names no issuer"),
        ({"issuer": {"name": "No id"}}, "names no issuer"),
        ({"issuer": "not a url"}, "names no issuer"),
        ({"issuer": ["did:example:a", "did:example:b"]}, "names no issuer"),
        ({"credentialSubject": None}, "no credentialSubject"),
        ({"credentialSubject": []}, "no credentialSubject"),
        ({"credentialSubject": {}}, "makes a claim"),
        ({"credentialSubject": {"id": "not a url", "name": "x"}}, "must be a URL"),
        ({"validFrom": "2025-01-01T00:00:00"}, "validFrom is not a valid date and time"),
        ({"validUntil": "tomorrow"}, "validUntil is not a valid date and time"),
        ({"validFrom": 20250101}, "validFrom is not a valid date and time"),
    ],
)
def test_a_document_outside_the_vc_2_data_model_fails_the_data_model_check(changes, detail):
    document = credential("did:example:issuer", proof=DUMMY_PROOF, **changes)
    result = verify(document)
    assert detail in assert_fails_only_at(result, "data_model")
    assert outcome(result, "proof") == (
        False,
        "not checked: the document is not a well-formed credential",
    )


def test_an_unsigned_credential_fails_as_missing_its_proof():
    issuer = did_key_issuer()
    result = verify(credential(issuer.did))
    assert assert_fails_only_at(result, "data_model") == (
        "The credential is not signed (it has no proof)"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-01T00:00:00Z", datetime(2025, 1, 1, tzinfo=UTC)),
        ("2025-01-01T02:00:00+02:00", datetime(2025, 1, 1, tzinfo=UTC)),
        ("2024-12-31T19:00:00.123456789-05:00", datetime(2025, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)),
        ("2024-12-31T24:00:00Z", datetime(2025, 1, 1, tzinfo=UTC)),
        ("2025-01-01T14:00:00+14:00", datetime(2025, 1, 1, tzinfo=UTC)),
    ],
)
def test_an_xml_date_time_stamp_is_read_with_its_time_zone(text, expected):
    assert parse_date_time_stamp(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2025-01-01T00:00:00",
        "2025-01-01 00:00:00Z",
        "2025-02-30T00:00:00Z",
        "2025-1-01T00:00:00Z",
        "2025-01-01T00:00:60Z",
        "2025-01-01T00:00:00+14:01",
        "2025-01-01T00:00:00z",
        "10000-01-01T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "9999-12-31T24:00:00Z",
        "2025-01-01T00:00:00Z\n",
        None,
    ],
)
def test_a_malformed_or_unrepresentable_date_time_is_refused(text):
    with pytest.raises(ValueError):
        parse_date_time_stamp(text)


# ---------------------------------------------------------------- contexts


@pytest.mark.parametrize(
    "changes",
    [
        {"@context": ["https://www.w3.org/ns/credentials/v2", "https://evil.example/context.json"]},
        {
            "credentialSubject": {
                "@context": {"@import": "https://evil.example/context.json"},
                "id": "did:example:learner-1",
            }
        },
        {
            "credentialSubject": {
                "@context": ["https://evil.example/context.json"],
                "id": "did:example:learner-1",
            }
        },
    ],
)
def test_a_context_that_is_not_bundled_fails_by_name_and_is_never_fetched(changes):
    document = credential("did:example:issuer", proof=DUMMY_PROOF, **changes)
    lists = StatusLists()
    result = verify(document, resolver=DidResolver(fetch=no_fetch), status_lists=lists)
    assert assert_fails_only_at(result, "contexts") == (
        "Unknown context https://evil.example/context.json (this verifier never fetches contexts)"
    )
    assert outcome(result, "proof") == (
        False,
        "not checked: the credential uses a context this verifier does not hold",
    )
    assert lists.fetched == []


def test_a_context_entry_that_is_neither_a_url_nor_an_object_fails_the_contexts_check():
    document = credential(
        "did:example:issuer",
        proof=DUMMY_PROOF,
        **{"@context": ["https://www.w3.org/ns/credentials/v2", 42]},
    )
    assert "Malformed @context entry 42" in assert_fails_only_at(verify(document), "contexts")


# ---------------------------------------------------------------- proof


def test_a_tampered_credential_fails_the_proof_check_and_later_checks_are_not_run():
    issuer = did_key_issuer()
    signed = issuer.sign(credential(issuer.did))
    signed["name"] = "Data Literacz"
    result = verify(signed)
    assert assert_fails_only_at(result, "proof").startswith("The signature does not match")
    # Dates and the issuer's name are the credential's own words: no tick without a signature.
    for name in ("issuer_key", "validity", "status", "issuer_known"):
        assert outcome(result, name) == (False, "not checked: the signature is not valid")
        assert result.check(name).outcome == "not_checked"
    assert result.trust == "invalid"
    assert result.as_dict()["error_code"] == "proof.bad_signature"


def test_a_credential_signed_with_a_key_other_than_the_one_it_names_fails_the_proof_check():
    issuer, impostor = did_key_issuer(), did_key_issuer()
    signed = impostor.sign(credential(issuer.did), method=issuer.method)
    assert assert_fails_only_at(verify(signed), "proof").startswith("The signature does not match")


@pytest.mark.parametrize(
    ("field_name", "value", "detail"),
    [
        (
            "cryptosuite",
            "eddsa-jcs-2022",
            "Unsupported cryptosuite 'eddsa-jcs-2022'; expected eddsa-rdfc-2022",
        ),
        ("cryptosuite", "ecdsa-rdfc-2019", "expected eddsa-rdfc-2022"),
        ("type", "Ed25519Signature2020", "Unsupported proof type 'Ed25519Signature2020'"),
        ("proofPurpose", "authentication", "not an assertion"),
        ("proofValue", "z123", "The proof is malformed"),
        ("verificationMethod", 7, "The proof is malformed"),
    ],
)
def test_a_proof_of_the_wrong_kind_fails_the_proof_check_by_name(field_name, value, detail):
    issuer = did_key_issuer()
    signed = issuer.sign(credential(issuer.did))
    signed["proof"][0][field_name] = value
    assert detail in assert_fails_only_at(verify(signed), "proof")


def test_several_proofs_are_each_verified_and_reported():
    issuer = did_key_issuer()
    signed = issuer.sign(credential(issuer.did))
    signed["proof"] = signed["proof"] * 2
    result = verify(signed)
    assert result.verified
    assert [(proof.role, proof.valid) for proof in result.proofs] == [("issuer", True)] * 2
    assert result.check("signers").detail == "Signed by the issuer; both signatures valid"
    signed["proof"][1] = {**signed["proof"][1], "created": "2020-01-01T00:00:00Z"}
    result = verify(signed)
    assert not result.verified
    assert result.errors[0].startswith("The proofs do not all verify: proof 2:")
    assert not result.check("signers").ok


def test_a_did_web_key_missing_from_the_did_document_fails_the_proof_check():
    issuer = did_web_issuer()
    signed = issuer.sign(credential(issuer.did), method=f"{WEB_DID}#key-9")
    detail = assert_fails_only_at(
        verify(signed, resolver=resolver_for(did_web_document(issuer))), "proof"
    )
    assert detail.startswith(f"The signing key {WEB_DID}#key-9 could not be found")


def test_an_unreachable_did_document_fails_the_proof_check_with_the_reason():
    issuer = did_web_issuer()
    signed = issuer.sign(credential(issuer.did))
    detail = assert_fails_only_at(verify(signed, resolver=DidResolver(fetch=no_fetch)), "proof")
    assert "could not be found" in detail
    assert "the network is closed" in detail


def test_a_resolver_that_crashes_fails_the_proof_check_instead_of_raising():
    class BrokenResolver:
        def resolve(self, did: str) -> Mapping[str, Any]:
            raise RuntimeError("boom")

    issuer = did_key_issuer()
    detail = assert_fails_only_at(
        verify(issuer.sign(credential(issuer.did)), resolver=BrokenResolver()), "proof"
    )
    assert detail.endswith("could not be found: the DID resolver failed")
    assert "boom" not in detail


def test_a_verification_method_that_is_not_a_did_fails_the_proof_check():
    issuer = did_key_issuer()
    signed = issuer.sign(credential(issuer.did), method="https://uni-a.example/keys#1")
    assert "did:key or did:web" in assert_fails_only_at(verify(signed), "proof")


# ---------------------------------------------------------------- issuer key


def test_an_issuer_that_does_not_control_the_signing_key_fails_the_issuer_key_check():
    issuer, impostor = did_key_issuer(), did_key_issuer()
    signed = impostor.sign(credential(issuer.did))
    result = verify(signed)
    assert result.check("proof").ok
    assert assert_fails_only_at(result, "issuer_key") == (
        f"The signing key belongs to {impostor.did}, but the credential names {issuer.did} as its issuer"
    )
    assert outcome(result, "status") == (False, "not checked: the signing key is not the issuer's")


def test_the_w3c_vector_has_a_valid_proof_but_its_issuer_is_not_the_key_controller():
    vector = (W3C_EDDSA_VECTORS / "eddsa-rdfc-2022" / "signedDataInt.json").read_bytes()
    result = verify(vector)
    assert result.check("proof").ok, result.as_dict()
    detail = assert_fails_only_at(result, "issuer_key")
    assert "https://vc.example/issuers/5678" in detail
    assert "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2" in detail


def test_a_did_web_key_not_listed_under_assertion_method_fails_the_issuer_key_check():
    issuer = did_web_issuer()
    resolver = resolver_for(did_web_document(issuer, assertion=[]))
    result = verify(issuer.sign(credential(issuer.did)), resolver=resolver)
    assert result.check("proof").ok
    assert "not listed under assertionMethod" in assert_fails_only_at(result, "issuer_key")


def test_a_did_web_key_controlled_by_another_did_fails_the_issuer_key_check():
    issuer = did_web_issuer()
    document = did_web_document(issuer)
    document["verificationMethod"][0]["controller"] = "did:web:uni-b.example"
    result = verify(issuer.sign(credential(issuer.did)), resolver=resolver_for(document))
    assert "is controlled by 'did:web:uni-b.example'" in assert_fails_only_at(result, "issuer_key")


# ---------------------------------------------------------------- validity


def test_an_expired_credential_fails_the_validity_check():
    issuer = did_key_issuer()
    signed = issuer.sign(credential(issuer.did, validUntil="2025-03-01T00:00:00Z"))
    result = verify(signed)
    assert outcome(result, "validity") == (False, "Expired on 2025-03-01T00:00:00Z")
    assert result.errors == ("Expired on 2025-03-01T00:00:00Z",)
    assert not result.verified


def test_a_credential_not_yet_valid_fails_the_validity_check():
    issuer = did_key_issuer()
    signed = issuer.sign(credential(issuer.did, validFrom="2026-01-01T00:00:00+01:00"))
    result = verify(signed)
    assert outcome(result, "validity") == (False, "Not valid before 2026-01-01T00:00:00+01:00")
    assert not result.verified


def test_a_credential_valid_until_later_names_both_ends():
    issuer = did_key_issuer()
    signed = issuer.sign(credential(issuer.did, validUntil="2030-01-01T00:00:00Z"))
    assert outcome(verify(signed), "validity") == (
        True,
        "Valid from 2025-01-01T00:00:00Z until 2030-01-01T00:00:00Z",
    )


def test_clocks_a_few_minutes_apart_are_tolerated_unless_the_skew_is_zero():
    issuer = did_key_issuer()
    starts_soon = (NOW + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    signed = issuer.sign(credential(issuer.did, validFrom=starts_soon))
    assert verify(signed).check("validity").ok
    assert not verify(signed, max_clock_skew=timedelta(0)).check("validity").ok
    assert verify(signed, now=NOW + timedelta(minutes=2), max_clock_skew=timedelta(0)).verified


def test_validity_is_compared_across_time_zones():
    issuer = did_key_issuer()
    signed = issuer.sign(credential(issuer.did, validUntil="2025-06-01T13:00:00+02:00"))
    local_noon = datetime(2025, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert verify(signed, now=local_noon, max_clock_skew=timedelta(0)).check("validity").ok
    assert not verify(signed, now=NOW, max_clock_skew=timedelta(0)).check("validity").ok


# ---------------------------------------------------------------- status


@pytest.fixture
def web_issuer() -> Issuer:
    return did_web_issuer()


def verify_with_lists(
    issuer: Issuer,
    document: dict[str, Any],
    lists: Callable[[str], Mapping[str, Any]],
    **options: Any,
) -> VerificationResult:
    return verify(
        issuer.sign(document),
        resolver=resolver_for(did_web_document(issuer)),
        status_lists=lists,
        **options,
    )


def revocation_entry(index: int = 7, url: str = REVOCATION_URL) -> dict[str, Any]:
    return status_list.status_entry(list_url=url, purpose="revocation", index=index)


def test_a_revoked_credential_fails_the_status_check(web_issuer):
    lists = StatusLists()
    lists.publish(web_issuer, set_indices=(7,))
    result = verify_with_lists(web_issuer, with_status(web_issuer.did, revocation_entry()), lists)
    assert assert_fails_only_at(result, "status") == "Revoked by the issuer"
    assert result.errors == ("Revoked by the issuer",)


def test_a_suspended_credential_fails_the_status_check(web_issuer):
    lists = StatusLists()
    lists.publish(web_issuer, url=SUSPENSION_URL, purpose="suspension", set_indices=(7,))
    entry = status_list.status_entry(list_url=SUSPENSION_URL, purpose="suspension", index=7)
    result = verify_with_lists(web_issuer, with_status(web_issuer.did, entry), lists)
    assert assert_fails_only_at(result, "status") == "Suspended by the issuer"


def test_a_single_status_entry_object_is_read_like_a_list_of_one(web_issuer):
    lists = StatusLists()
    lists.publish(web_issuer, set_indices=(7,))
    document = credential(web_issuer.did, credentialStatus=revocation_entry())
    result = verify_with_lists(web_issuer, document, lists)
    assert outcome(result, "status") == (False, "Revoked by the issuer")


def test_an_unreachable_status_list_fails_the_status_check_with_the_reason(web_issuer):
    result = verify_with_lists(
        web_issuer, with_status(web_issuer.did, revocation_entry()), StatusLists()
    )
    assert assert_fails_only_at(result, "status") == (
        f"The status list {REVOCATION_URL} could not be fetched: {REVOCATION_URL} answered HTTP 404"
    )


def test_a_status_list_fetcher_that_crashes_fails_the_status_check(web_issuer):
    def crash(url: str) -> dict[str, Any]:
        raise OSError("disk on fire")

    result = verify_with_lists(web_issuer, with_status(web_issuer.did, revocation_entry()), crash)
    detail = assert_fails_only_at(result, "status")
    assert detail.endswith("could not be fetched: the server could not be reached")
    assert "OSError" not in detail


def test_a_status_list_with_a_bad_signature_fails_the_status_check(web_issuer):
    lists = StatusLists()
    signed_list = lists.publish(web_issuer)
    # Clearing a revocation after signing is exactly the forgery the list's proof prevents.
    signed_list["credentialSubject"]["encodedList"] = status_list.encode_list(
        status_list.set_bit(status_list.empty_bitstring(), 0, True)
    )
    result = verify_with_lists(web_issuer, with_status(web_issuer.did, revocation_entry()), lists)
    detail = assert_fails_only_at(result, "status")
    assert detail.startswith(f"The status list {REVOCATION_URL} is not validly signed")
    assert "The signature does not match" in detail


def test_a_status_list_from_another_issuer_fails_the_status_check(web_issuer):
    lists = StatusLists()
    other = did_key_issuer()
    lists.publish(other)
    result = verify_with_lists(web_issuer, with_status(web_issuer.did, revocation_entry()), lists)
    assert assert_fails_only_at(result, "status") == (
        f"The status list {REVOCATION_URL} was issued by {other.did}, not by the credential's issuer"
    )


def test_a_status_list_claiming_the_issuer_but_signed_by_another_key_fails_the_status_check(
    web_issuer,
):
    lists = StatusLists()
    other = did_key_issuer()
    lists.publish(other, issuer_did=web_issuer.did)
    result = verify_with_lists(web_issuer, with_status(web_issuer.did, revocation_entry()), lists)
    detail = assert_fails_only_at(result, "status")
    assert detail.startswith(f"The status list {REVOCATION_URL} is not signed by its issuer")


def test_an_expired_status_list_fails_the_status_check(web_issuer):
    lists = StatusLists()
    lists.publish(web_issuer, validUntil="2025-02-01T00:00:00Z")
    result = verify_with_lists(web_issuer, with_status(web_issuer.did, revocation_entry()), lists)
    assert assert_fails_only_at(result, "status") == (
        f"The status list {REVOCATION_URL} is out of date: Expired on 2025-02-01T00:00:00Z"
    )


def test_a_status_list_served_under_another_url_fails_the_status_check(web_issuer):
    lists = StatusLists()
    lists.publish(web_issuer, url=SUSPENSION_URL)
    lists.lists[REVOCATION_URL] = lists.lists.pop(SUSPENSION_URL)
    result = verify_with_lists(web_issuer, with_status(web_issuer.did, revocation_entry()), lists)
    assert "has the id" in assert_fails_only_at(result, "status")


def test_a_status_list_for_another_purpose_fails_the_status_check(web_issuer):
    lists = StatusLists()
    lists.publish(web_issuer, purpose="suspension")
    result = verify_with_lists(web_issuer, with_status(web_issuer.did, revocation_entry()), lists)
    assert "is for suspension, not revocation" in assert_fails_only_at(result, "status")


def test_an_index_beyond_the_list_fails_the_status_check(web_issuer):
    lists = StatusLists()
    lists.publish(web_issuer)
    entry = revocation_entry(index=status_list.MIN_ENTRIES)
    result = verify_with_lists(web_issuer, with_status(web_issuer.did, entry), lists)
    assert "outside the status list" in assert_fails_only_at(result, "status")


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"statusListIndex": "-1"}, "statusListIndex must be"),
        ({"statusListIndex": "seven"}, "statusListIndex must be"),
        ({"statusListCredential": None}, "no statusListCredential URL"),
        ({"id": REVOCATION_URL}, "must differ"),
        ({"statusSize": 2}, "Unsupported statusSize"),
    ],
)
def test_a_malformed_status_entry_fails_the_status_check(web_issuer, changes, detail):
    lists = StatusLists()
    lists.publish(web_issuer)
    entry = {**revocation_entry(), **changes}
    entry = {name: value for name, value in entry.items() if value is not None}
    result = verify_with_lists(web_issuer, with_status(web_issuer.did, entry), lists)
    assert detail in assert_fails_only_at(result, "status")


def test_an_unknown_status_type_fails_because_revocation_cannot_be_ruled_out(web_issuer):
    document = with_status(
        web_issuer.did,
        {"id": "https://uni-a.example/status/7", "type": "ExampleStatusEntry"},
        **{
            "@context": [
                "https://www.w3.org/ns/credentials/v2",
                "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
                "https://www.w3.org/ns/credentials/examples/v2",
            ]
        },
    )
    result = verify_with_lists(web_issuer, document, StatusLists())
    assert assert_fails_only_at(result, "status") == (
        "Unsupported status type (ExampleStatusEntry): this verifier cannot tell whether it was revoked"
    )


def test_a_status_entry_with_another_purpose_is_a_warning_not_a_failure(web_issuer):
    lists = StatusLists()
    lists.publish(web_issuer)
    refresh = {**revocation_entry(index=8), "statusPurpose": "refresh"}
    result = verify_with_lists(
        web_issuer, with_status(web_issuer.did, revocation_entry(), refresh), lists
    )
    assert result.verified, result.as_dict()
    assert outcome(result, "status") == (True, "Not revoked")
    assert "A status entry with purpose 'refresh' was not checked" in result.warnings


def test_too_many_status_entries_fail_the_status_check(web_issuer):
    entries = [revocation_entry(index=n) for n in range(9)]
    result = verify_with_lists(web_issuer, with_status(web_issuer.did, *entries), StatusLists())
    assert "at most 8 are checked" in assert_fails_only_at(result, "status")


def test_a_list_shared_by_two_entries_is_fetched_once(web_issuer):
    lists = StatusLists()
    lists.publish(web_issuer)
    document = with_status(web_issuer.did, revocation_entry(index=1), revocation_entry(index=2))
    assert verify_with_lists(web_issuer, document, lists).verified
    assert lists.fetched == [REVOCATION_URL]


# ---------------------------------------------------------------- issuer directory


def test_an_unknown_issuer_is_a_warning_and_does_not_stop_verification():
    issuer = did_key_issuer()
    result = verify(issuer.sign(credential(issuer.did)), directory=lambda did: None)
    assert result.verified
    assert result.errors == ()
    ok, detail = outcome(result, "issuer_known")
    assert not ok
    assert result.warnings == (detail,)


def test_a_directory_that_crashes_is_a_warning_and_not_a_crash():
    def broken(did: str) -> str | None:
        raise RuntimeError("database is down")

    issuer = did_key_issuer()
    result = verify(issuer.sign(credential(issuer.did)), directory=broken)
    assert result.verified
    assert outcome(result, "issuer_known") == (
        False,
        "This check could not be completed because of an internal error",
    )


# ---------------------------------------------------------------- never a crash


@cache
def signed_fixture() -> tuple[str, dict[str, Any]]:
    issuer = did_key_issuer()
    return issuer.did, issuer.sign(credential(issuer.did))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
CREDENTIAL_KEYS = [
    "@context",
    "type",
    "issuer",
    "credentialSubject",
    "validFrom",
    "validUntil",
    "proof",
    "credentialStatus",
    "id",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(CREDENTIAL_KEYS), value=json_values, in_proof=st.booleans())
def test_any_mutation_of_a_signed_credential_yields_named_checks_and_never_raises(
    key, value, in_proof
):
    _, signed = signed_fixture()
    mutated = copy.deepcopy(signed)
    if in_proof:
        mutated["proof"][0][key] = value
    else:
        mutated[key] = value
    result = verify(mutated)
    several = isinstance(mutated.get("proof"), list) and len(mutated["proof"]) > 1
    names = [check.check for check in result.checks]
    # A proof set or chain whose proofs can be read adds its signers line after the issuer key
    # check; a single proof never does.
    if several and names[5:6] == ["signers"]:
        del names[5]
    assert names == CHECK_NAMES
    if result.verified:
        assert all(check.ok for check in result.checks[:-1])


@settings(max_examples=60, deadline=None)
@given(raw=st.binary(max_size=300) | st.text(max_size=300) | json_values.map(json.dumps))
def test_arbitrary_bytes_or_text_yield_named_checks_and_never_raise(raw):
    result = verify(raw)
    assert [check.check for check in result.checks] == CHECK_NAMES
    assert not result.verified


# ---------------------------------------------------------------- the independent signer (vc-js)


def test_a_credential_signed_by_vc_js_with_a_fresh_did_key_verifies(interop, tmp_path):
    keygen = interop.run("keygen.mjs", "key")
    assert keygen.returncode == 0, keygen.stderr
    key_file = tmp_path / "key.json"
    key_file.write_text(keygen.stdout, encoding="utf-8")
    did = "did:key:" + json.loads(keygen.stdout)["publicKeyMultibase"]
    unsigned = tmp_path / "unsigned.json"
    unsigned.write_text(json.dumps(credential(did), ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "signed.json"
    sign = interop.run("sign.mjs", str(unsigned), "--key", str(key_file), "--out", str(out))
    assert sign.returncode == 0, sign.stderr

    result = verify(out.read_bytes())
    assert result.verified, result.as_dict()
    assert outcome(result, "issuer_key") == (True, f"Signed by {did} with key {did}#{did[8:]}")
    assert read_json(out)["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
