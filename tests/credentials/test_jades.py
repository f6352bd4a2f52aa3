import base64
import copy
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto import jwk, jws
from jwcrypto.common import JWSEHeaderParameter

from credentials.standards import jades
from credentials.standards.multiformats import base64url_decode, base64url_encode
from tests.credentials import e_seals

NOW = datetime.now(UTC)
# jwcrypto refuses critical header names it was not told of; JAdES's signing time is one.
JADES_HEADERS = {"sigT": JWSEHeaderParameter("JAdES claimed signing time", True, True, None)}
PAYLOAD = json.dumps({"id": "urn:uuid:1", "title": {"en": "Data Literacy — Ελληνικά 🎓"}})


def protected_header(document: dict) -> dict:
    return json.loads(base64url_decode(document["signatures"][0]["protected"]))


def sealed(key=None, *, chain=None, signing_time=None) -> tuple[dict, list]:
    key = key or e_seals.rsa_key()
    chain = chain or [e_seals.certificate(key)]
    document = jades.seal(PAYLOAD, key=key, chain=chain, signing_time=signing_time or NOW)
    return document, chain


# ---------------------------------------------------------------- the Commission's sample


def test_the_commissions_sealed_sample_verifies_with_its_certificate_judged_at_the_signing_time():
    verdict = jades.verify(e_seals.sealed_sample(), trust_anchors=[], now=NOW)

    assert verdict.failure is None
    assert verdict.algorithm == "RS256"
    assert verdict.certificate is not None
    assert verdict.certificate.subject == "ORGANIZACION TEST"
    assert verdict.signing_time == e_seals.SAMPLE_SIGNING_TIME
    assert (
        json.loads(verdict.payload)["id"] == "urn:credential:1018d05f-21d5-4555-b7f0-8fabfd22ca75"
    )


@pytest.mark.date_sensitive
def test_the_sample_certificate_has_expired_since_it_sealed_and_the_verdict_says_so_apart():
    verdict = jades.verify(e_seals.sealed_sample(), trust_anchors=[], now=NOW)
    before_expiry = jades.verify(
        e_seals.sealed_sample(), trust_anchors=[], now=datetime(2024, 1, 1, tzinfo=UTC)
    )

    assert verdict.sealed and verdict.expired_since
    assert before_expiry.sealed and not before_expiry.expired_since


def test_the_sample_is_trusted_only_when_its_ca_is_a_configured_trust_anchor():
    other_ca, _ = e_seals.certificate_authority()

    assert jades.verify(e_seals.sealed_sample(), trust_anchors=[], now=NOW).trust == "no_anchors"
    assert (
        jades.verify(e_seals.sealed_sample(), trust_anchors=[other_ca], now=NOW).trust
        == "untrusted"
    )
    assert (
        jades.verify(e_seals.sealed_sample(), trust_anchors=[e_seals.sample_ca()], now=NOW).trust
        == "trusted"
    )


def test_the_samples_timestamps_and_validation_data_are_named_as_not_checked():
    verdict = jades.verify(e_seals.sealed_sample(), trust_anchors=[], now=NOW)

    assert set(verdict.not_checked) == {"adoTst", "sigTst", "arcTst", "xVals", "rVals"}


def test_the_jades_kid_of_a_certificate_is_its_issuer_and_serial_as_the_sample_spells_it():
    header = protected_header(e_seals.sealed_sample())
    leaf = jades._chain(header)[0]

    assert base64.b64encode(jades._issuer_serial(leaf)).decode() == header["kid"]


def test_a_tampered_sample_fails_on_its_signature():
    document = e_seals.sealed_sample()
    document["payload"] = document["payload"].replace("ORGANIZACION TEST", "ORGANIZACION FALSA")
    if document["payload"] == e_seals.sealed_sample()["payload"]:
        document["payload"] = document["payload"].replace('"id"', '"id" ', 1)

    assert jades.verify(document, trust_anchors=[], now=NOW).failure == "signature_invalid"


def test_a_sample_whose_signing_time_is_changed_fails_on_its_signature():
    document = e_seals.sealed_sample()
    header = protected_header(document)
    header["sigT"] = "2024-01-01T00:00:00Z"
    document["signatures"][0]["protected"] = base64url_encode(json.dumps(header).encode())

    assert jades.verify(document, trust_anchors=[], now=NOW).failure == "signature_invalid"


def test_a_sample_carrying_a_critical_header_this_verifier_does_not_know_fails():
    document = e_seals.sealed_sample()
    header = protected_header(document)
    header["crit"] = [*header["crit"], "sigD"]
    document["signatures"][0]["protected"] = base64url_encode(json.dumps(header).encode())

    assert jades.verify(document, trust_anchors=[], now=NOW).failure == "unknown_critical_header"


# ---------------------------------------------------------------- MESHE's own seals


@pytest.mark.parametrize("make_key", [e_seals.rsa_key, e_seals.p256_key], ids=["rsa", "p256"])
def test_a_meshe_seal_verifies_here_and_is_baseline_b(make_key):
    document, chain = sealed(make_key())
    header = protected_header(document)

    verdict = jades.verify(document, trust_anchors=chain, now=NOW)

    assert verdict.sealed and verdict.trust == "trusted" and verdict.payload == PAYLOAD
    assert document["payload"] == PAYLOAD  # unencoded: the JSON text itself
    assert header["b64"] is False and set(header["crit"]) == {"b64", "sigT"}
    assert header["alg"] == ("RS256" if make_key is e_seals.rsa_key else "ES256")
    assert verdict.not_checked == ()


@pytest.mark.parametrize("make_key", [e_seals.rsa_key, e_seals.p256_key], ids=["rsa", "p256"])
def test_a_meshe_seal_verifies_with_jwcrypto_an_independent_jose_library(make_key):
    document, chain = sealed(make_key())
    token = jws.JWS(header_registry=JADES_HEADERS)
    token.deserialize(json.dumps(document))
    public = jwk.JWK.from_pyca(chain[0].public_key())

    token.verify(public)

    assert token.payload == PAYLOAD  # jwcrypto gives an unencoded payload back as text


def test_jwcrypto_refuses_a_tampered_meshe_seal():
    document, chain = sealed()
    document["payload"] = PAYLOAD.replace("Data", "Dada")
    token = jws.JWS(header_registry=JADES_HEADERS)
    token.deserialize(json.dumps(document))

    with pytest.raises(jws.InvalidJWSSignature):
        token.verify(jwk.JWK.from_pyca(chain[0].public_key()))


@pytest.mark.parametrize("algorithm", ["RS256", "PS256", "ES256"])
def test_a_seal_made_by_jwcrypto_verifies_here(algorithm):
    key = e_seals.p256_key() if algorithm == "ES256" else e_seals.rsa_key()
    leaf = e_seals.certificate(key)
    protected = {
        "alg": algorithm,
        "b64": False,
        "crit": ["b64", "sigT"],
        "x5c": [base64.b64encode(jades._der(leaf)).decode()],
        "sigT": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    token = jws.JWS(PAYLOAD, header_registry=JADES_HEADERS)
    token.add_signature(jwk.JWK.from_pyca(key), None, json.dumps(protected))
    flattened = json.loads(token.serialize())
    document = {
        "payload": flattened["payload"],
        "signatures": [{name: flattened[name] for name in ("protected", "signature")}],
    }

    verdict = jades.verify(document, trust_anchors=[leaf], now=NOW)

    assert verdict.sealed and verdict.algorithm == algorithm and verdict.trust == "trusted"


def test_a_tampered_meshe_seal_fails():
    document, chain = sealed()
    document["payload"] = PAYLOAD.replace("Data", "Dada")

    assert jades.verify(document, trust_anchors=chain, now=NOW).failure == "signature_invalid"


def test_a_seal_whose_certificate_is_swapped_for_another_fails():
    document, _ = sealed()
    other = e_seals.certificate(e_seals.rsa_key())
    header = protected_header(document)
    header["x5c"] = [base64.b64encode(jades._der(other)).decode()]
    header.pop("x5t#S256")
    document["signatures"][0]["protected"] = base64url_encode(json.dumps(header).encode())

    assert jades.verify(document, trust_anchors=[], now=NOW).failure == "signature_invalid"


def test_a_chain_through_a_ca_is_trusted_when_the_ca_is_an_anchor_and_not_otherwise():
    ca, ca_key = e_seals.certificate_authority()
    key = e_seals.p256_key()
    leaf = e_seals.certificate(key, issuer=(ca, ca_key))
    document, _ = sealed(key, chain=[leaf, ca])
    unrelated_ca, _ = e_seals.certificate_authority()

    assert jades.verify(document, trust_anchors=[ca], now=NOW).trust == "trusted"
    assert jades.verify(document, trust_anchors=[unrelated_ca], now=NOW).trust == "untrusted"


def test_a_certificate_issued_by_a_non_ca_does_not_lead_to_the_anchor():
    not_a_ca_key = e_seals.rsa_key()
    not_a_ca = e_seals.certificate(not_a_ca_key, name="Not a CA")
    key = e_seals.rsa_key()
    leaf = e_seals.certificate(key, issuer=(not_a_ca, not_a_ca_key))
    document, _ = sealed(key, chain=[leaf])

    assert jades.verify(document, trust_anchors=[not_a_ca], now=NOW).trust == "untrusted"


def test_a_seal_made_outside_its_certificates_validity_fails():
    key = e_seals.rsa_key()
    leaf = e_seals.certificate(
        key, not_before=NOW - timedelta(days=30), lifetime=timedelta(days=10)
    )
    document, _ = sealed(key, chain=[leaf], signing_time=NOW - timedelta(days=1))

    verdict = jades.verify(document, trust_anchors=[leaf], now=NOW)

    assert verdict.failure == "certificate_not_valid_at_signing"


def test_a_seal_dated_in_the_future_fails():
    document, chain = sealed(signing_time=NOW + timedelta(days=1))

    assert jades.verify(document, trust_anchors=chain, now=NOW).failure == "signing_time_in_future"


def test_a_certificate_without_sealing_key_usage_fails():
    key = e_seals.rsa_key()
    leaf = e_seals.certificate(key, key_usage=e_seals.ENCIPHERING_ONLY)
    document, _ = sealed(key, chain=[leaf])

    assert jades.verify(document, trust_anchors=[leaf], now=NOW).failure == "key_usage"


def test_sealing_refuses_keys_other_than_rsa_and_p256_and_a_certificate_of_another_key():
    with pytest.raises(jades.SealError):
        jades.seal(
            PAYLOAD,
            key=ec.generate_private_key(ec.SECP384R1()),
            chain=[e_seals.certificate(e_seals.rsa_key())],
            signing_time=NOW,
        )
    with pytest.raises(jades.SealError):
        jades.seal(
            PAYLOAD,
            key=e_seals.rsa_key(),
            chain=[e_seals.certificate(e_seals.rsa_key())],
            signing_time=NOW,
        )


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d.pop("signatures"),
        lambda d: d["signatures"].append(copy.deepcopy(d["signatures"][0])),
        lambda d: d["signatures"][0].update(protected="%%%"),
        lambda d: d["signatures"][0].update(signature=7),
        lambda d: d.update(payload=["not", "text"]),
    ],
    ids=["no-signatures", "two-signatures", "bad-protected", "bad-signature", "payload-not-text"],
)
def test_a_malformed_seal_is_named_malformed(breakage):
    document, chain = sealed()
    breakage(document)

    assert jades.verify(document, trust_anchors=chain, now=NOW).failure == "malformed"


def test_a_seal_with_an_unsupported_algorithm_or_no_certificate_is_named_so():
    document, chain = sealed()
    header = protected_header(document)
    document["signatures"][0]["protected"] = base64url_encode(
        json.dumps({**header, "alg": "HS256"}).encode()
    )
    no_certificate, _ = sealed()
    header = protected_header(no_certificate)
    header.pop("x5c")
    no_certificate["signatures"][0]["protected"] = base64url_encode(json.dumps(header).encode())

    assert jades.verify(document, trust_anchors=chain, now=NOW).failure == "unsupported_algorithm"
    assert jades.verify(no_certificate, trust_anchors=chain, now=NOW).failure == "no_certificate"


def test_headers_nested_past_any_readers_depth_are_malformed_not_a_crash():
    deep = base64url_encode(b"[" * 200_000)
    now = datetime.now(UTC)
    protected = {"payload": "{}", "signatures": [{"protected": deep, "signature": ""}]}
    assert jades.verify(protected, trust_anchors=[], now=now).failure == jades.Failure.MALFORMED
    with pytest.raises(ValueError):
        jades.payload_text(protected)
    key = e_seals.p256_key()
    sealed = jades.seal("{}", key=key, chain=[e_seals.certificate(key)], signing_time=now)
    sealed["signatures"][0]["header"] = {"etsiU": [deep]}  # an unsigned property: skipped
    assert jades.verify(sealed, trust_anchors=[], now=now).sealed
