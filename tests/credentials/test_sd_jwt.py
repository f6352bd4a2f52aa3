"""The pure SD-JWT, SD-JWT VC and Token Status List code, against the drafts' own examples."""

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.standards import jose, sd_jwt, sd_jwt_vc, token_status_list
from credentials.standards.multiformats import base64url_decode, base64url_encode
from tests.credentials import builder_samples


def test_token_status_list_packs_one_bit_entries_as_the_drafts_example():
    statuses = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
    packed = token_status_list.empty(16, bits=1)
    for index, status in enumerate(statuses):
        packed = token_status_list.set_status(packed, index, status, bits=1)
    assert packed == bytes([0xB9, 0xA3])
    assert token_status_list.encode_lst(packed) == "eNrbuRgAAhcBXQ"


def test_token_status_list_packs_two_bit_entries_as_the_drafts_example():
    statuses = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]
    packed = token_status_list.empty(12, bits=2)
    for index, status in enumerate(statuses):
        packed = token_status_list.set_status(packed, index, status, bits=2)
    assert packed == bytes([0xC9, 0x44, 0xF9])
    assert token_status_list.encode_lst(packed) == "eNo76fITAAPfAgc"
    decoded = token_status_list.decode_lst("eNo76fITAAPfAgc")
    assert [token_status_list.get_status(decoded, i) for i in range(12)] == statuses


def test_token_status_list_refuses_an_index_outside_the_list_and_a_status_too_wide():
    packed = token_status_list.empty(8)
    with pytest.raises(token_status_list.TokenStatusListError):
        token_status_list.get_status(packed, 8)
    with pytest.raises(token_status_list.TokenStatusListError):
        token_status_list.set_status(packed, 0, 4)


def test_token_status_list_refuses_a_zip_bomb():
    with pytest.raises(token_status_list.TokenStatusListError):
        token_status_list.decode_lst(token_status_list.encode_lst(bytes(4096)), max_bytes=1024)


def issue(claims, disclosable, key=None):
    key = key or Ed25519PrivateKey.generate()
    issued = sd_jwt.issue(
        claims=claims, disclosable=disclosable, header={"typ": "dc+sd-jwt"}, private_key=key
    )
    return key, issued


def test_an_sd_jwt_hides_disclosable_claims_and_gives_them_back_when_disclosed():
    key, issued = issue(
        {"iss": "did:web:x", "name": "Ana", "grade": "8.5", "title": "T"}, ["name", "grade"]
    )
    jwt, *disclosures, last = issued.split("~")
    assert last == "" and len(disclosures) == 2
    payload = json.loads(base64url_decode(jwt.split(".")[1]))
    assert "name" not in payload and "grade" not in payload
    assert payload["title"] == "T" and payload["_sd_alg"] == "sha-256"
    assert payload["_sd"] == sorted(payload["_sd"])
    verified = sd_jwt.verify(issued, public_jwk=jose.public_jwk(key))
    assert verified.claims == {"iss": "did:web:x", "name": "Ana", "grade": "8.5", "title": "T"}
    assert verified.header["alg"] == "EdDSA"


def test_a_presentation_of_some_disclosures_reveals_only_those():
    key, issued = issue({"name": "Ana", "grade": "8.5"}, ["name", "grade"])
    jwt, first, _second, _ = issued.split("~")
    name_first = json.loads(base64url_decode(first))[1] == "name"
    verified = sd_jwt.verify(f"{jwt}~{first}~", public_jwk=jose.public_jwk(key))
    assert set(verified.claims) == ({"name"} if name_first else {"grade"})


def test_a_forged_disclosure_or_another_key_fails():
    key, issued = issue({"name": "Ana"}, ["name"])
    jwt = issued.split("~")[0]
    forged = base64url_encode(json.dumps(["salt", "name", "Mallory"]).encode())
    with pytest.raises(sd_jwt.SdJwtError, match="not listed"):
        sd_jwt.verify(f"{jwt}~{forged}~", public_jwk=jose.public_jwk(key))
    with pytest.raises(sd_jwt.SdJwtError, match="does not verify"):
        sd_jwt.verify(issued, public_jwk=jose.public_jwk(Ed25519PrivateKey.generate()))


def test_metadata_claims_can_never_be_made_disclosable():
    with pytest.raises(ValueError, match="cnf"):
        issue({"cnf": {}, "name": "Ana"}, ["cnf", "name"])


def test_the_micro_credential_claims_carry_the_eleven_eu_elements():
    claims = sd_jwt_vc.build_claims(
        issuer=builder_samples.ISSUER,
        specification=builder_samples.SPECIFICATION,
        award=builder_samples.AWARD,
        holder_name="Ana Kowalska",
        holder_email="ana@example.eu",
        iss="did:web:example.eu:institutions:uni",
        vct="https://example.eu/sd-jwt-vc/types/eu-micro-credential/v1",
        holder_jwk={"kty": "OKP", "crv": "Ed25519", "x": "abc"},
        status=token_status_list.status_claim(uri="https://example.eu/s/1", index=7),
        issued_at=builder_samples.AWARD.issued_at,
    )
    elements = {
        "name",  # 1
        "title",  # 2
        "issuerCountry",  # 3
        "awardingBody",  # 4
        "issuanceDate",  # 5
        "learningOutcomes",  # 6
        "notionalWorkload",  # 7
        "level",  # 8
        "typeOfAssessment",  # 9
        "formOfParticipation",  # 10
        "qualityAssurance",  # 11
    }
    assert elements <= set(claims)
    assert elements <= set(sd_jwt_vc.DISCLOSABLE)
    assert claims["level"].startswith("EQF-")
    assert claims["notionalWorkload"]["unit"] == "ECTS"
    assert claims["status"] == {"status_list": {"idx": 7, "uri": "https://example.eu/s/1"}}
    assert claims["attestation_legal_category"] == "non-qualified-EAA"
    assert "attestation_legal_category" not in sd_jwt_vc.DISCLOSABLE
