"""The VC Data Model 2.0 rules (credentials.standards.data_model), against the W3C data-model
suite's own documents (tests/standards/vc-data-model, see its README) and the Recommendation."""

import base64
import copy
import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.standards import data_model, signing
from credentials.standards.jsonld.loader import CONTEXTS_DIR
from tests.credentials.standards_paths import STANDARDS_DIR, read_json

SUITE = STANDARDS_DIR / "vc-data-model" / "input"
V2 = "https://www.w3.org/ns/credentials/v2"
# The data-model suite's relatedResource fixture (VC-DM-TS tests/fixtures.js): the digests of
# the 2024-07-03 revision of the base context.
SUITE_SRI = "sha384-NSOcNpmdIVUxIJGvGUoe22FjTWrXiaXlsZ8q6912LdnR3KraQO2n75Ica4wK4Qeg"
SUITE_MULTIBASE = "uJKGMkOmFbVJhEfKTduMC2XCyvRAYLjOVmZWwIH1wQ7k"


def suite(name: str) -> dict[str, Any]:
    return dict(read_json(SUITE / name))


def codes(document: dict[str, Any]) -> list[str]:
    return [problem.code for problem in data_model.problems(document)]


def with_related(value: Any) -> dict[str, Any]:
    return {**suite("credential-ok.json"), "relatedResource": value}


@pytest.mark.parametrize(
    "name",
    [
        "credential-ok.json",
        "credential-status-ok.json",
        "credential-termsofuse-ok.json",
        "credential-evidence-ok.json",
        "credential-refresh-ok.json",
        "credential-schema-ok.json",
        "issuer-name-ok.json",
        "issuer-name-language-en-ok.json",
    ],
)
def test_the_suites_valid_credentials_break_no_rule(name):
    assert data_model.problems(suite(name)) == []


@pytest.mark.parametrize(
    ("name", "code", "section"),
    [
        ("credential-status-missing-type-fail.json", "credential_status_type_missing", "§4.10"),
        ("credential-status-nonurl-id-fail.json", "credential_status_id_invalid", "§4.10"),
        ("credential-termsofuse-no-type-fail.json", "terms_of_use_type_missing", "§5.5"),
        ("credential-evidence-missing-type-fail.json", "evidence_type_missing", "§5.6"),
        ("credential-refresh-no-type-fail.json", "refresh_service_type_missing", "§5.4"),
        ("credential-schema-no-type-fail.json", "credential_schema_type_missing", "§4.11"),
        ("credential-schema-no-id-fail.json", "credential_schema_id_invalid", "§4.11"),
        ("issuer-name-extra-prop-en-fail.json", "issuer_name_invalid", "§4.6"),
    ],
)
def test_each_of_the_suites_invalid_credentials_is_refused_naming_its_section(name, code, section):
    found = data_model.problems(suite(name))
    assert [problem.code for problem in found] == [code]
    assert f"(VC Data Model 2.0 {section})" in found[0].message


def test_the_message_says_what_is_missing_in_plain_words():
    (problem,) = data_model.problems(suite("credential-status-missing-type-fail.json"))
    assert problem.message == "credentialStatus needs a type (VC Data Model 2.0 §4.10)"


@pytest.mark.parametrize(
    "name", ["credentialStatus", "termsOfUse", "evidence", "refreshService", "credentialSchema"]
)
def test_every_member_of_a_list_needs_a_type(name):
    member = {"id": "https://example.org/1", "type": "Example"}
    document = {**suite("credential-ok.json"), name: [member, {"id": "https://example.org/2"}]}
    assert any(code.endswith("_type_missing") for code in codes(document))
    document[name] = [member, "https://example.org/2"]
    assert any(code.endswith("_not_object") for code in codes(document))


def test_an_issuer_name_of_a_number_is_refused_and_a_language_value_is_accepted():
    base = suite("credential-ok.json")
    assert codes({**base, "issuer": {"id": "did:example:i", "name": 5}}) == ["issuer_name_invalid"]
    named = {"@value": "Uni", "@language": "en", "@direction": "ltr"}
    assert codes({**base, "issuer": {"id": "did:example:i", "name": [named, "Uni"]}}) == []
    assert codes({**base, "description": {"@value": 5}}) == ["description_invalid"]


# ---------------------------------------------------------------- relatedResource (§5.3)


def test_the_suites_related_resource_digests_are_accepted():
    assert codes(with_related({"id": V2, "digestSRI": SUITE_SRI})) == []
    assert codes(with_related({"id": V2, "digestMultibase": SUITE_MULTIBASE})) == []
    assert (
        codes(
            with_related([{"id": V2, "mediaType": "application/ld+json", "digestSRI": SUITE_SRI}])
        )
        == []
    )


def test_the_published_revisions_digests_are_those_of_its_bytes():
    data = (
        STANDARDS_DIR / "vc-data-model" / "contexts" / "credentials-v2-2024-07-03.jsonld"
    ).read_bytes()
    (revision,) = data_model.PUBLISHED_REVISIONS[V2]
    assert revision["sha256"] == hashlib.sha256(data).hexdigest()
    assert revision["sha384"] == hashlib.sha384(data).hexdigest()
    assert "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode() == SUITE_SRI


def test_a_digest_of_the_bundled_context_bytes_is_accepted_in_every_form():
    data = (CONTEXTS_DIR / "credentials-v2.jsonld").read_bytes()
    sri = "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode()
    multihash = b"\x12\x20" + hashlib.sha256(data).digest()
    multibase = "u" + base64.urlsafe_b64encode(multihash).rstrip(b"=").decode()
    assert codes(with_related({"id": V2, "digestSRI": sri, "digestMultibase": multibase})) == []


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ([V2], "related_resource_not_object"),
        ([{"digestMultibase": SUITE_MULTIBASE}], "related_resource_id_missing"),
        (
            [{"id": V2, "digestSRI": SUITE_SRI}, {"id": V2, "digestMultibase": SUITE_MULTIBASE}],
            "related_resource_id_duplicate",
        ),
        ([{"id": V2}], "related_resource_digest_missing"),
        # The suite's two wrong digests.
        (
            [{"id": V2, "digestMultibase": "uM4RgWQc3RUDtjJCSgTJtTfvpZ7SPEg_LNO0ESlovQC0"}],
            "related_resource_digest_mismatch",
        ),
        (
            [
                {
                    "id": V2,
                    "digestSRI": "sha384-_rCVIV7fSXXTNIvpiq26jRDyj8JG8TDjij-tD0ewLk4JpnXEz6a5AeeY_1qQ0d0P",
                }
            ],
            "related_resource_digest_mismatch",
        ),
        ([{"id": V2, "digestSRI": "md5-abc"}], "related_resource_digest_invalid"),
    ],
)
def test_a_malformed_related_resource_is_refused(value, code):
    assert code in codes(with_related(value))


def test_a_resource_this_node_does_not_hold_is_checked_for_form_only():
    elsewhere = {"id": "https://example.org/picture.png", "digestSRI": SUITE_SRI}
    assert codes(with_related([elsewhere])) == []


# ---------------------------------------------------------------- used by the signer


def test_the_signer_refuses_a_credential_the_data_model_forbids():
    signer = signing.Signer(
        private_key=Ed25519PrivateKey.generate(),
        verification_method="did:example:issuer#key-1",
        created="2026-01-01T00:00:00Z",
    )
    document = copy.deepcopy(suite("credential-status-missing-type-fail.json"))
    document["issuer"] = "did:example:issuer"
    with pytest.raises(data_model.DataModelError) as refused:
        signer.sign(document)
    assert refused.value.code == "credential_status_type_missing"
    document["credentialStatus"]["type"] = "https://example.org/examples#StatusList"
    assert signer.sign(document)["proof"]
