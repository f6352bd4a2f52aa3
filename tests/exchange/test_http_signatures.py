import base64
import dataclasses

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exchange import http_signatures as hs
from exchange.http_signatures import Failure, Message, SignatureParams

# RFC 9421 Appendix B.1.4 test-key-ed25519 (JWK "d" and "x").
RFC_KEY = Ed25519PrivateKey.from_private_bytes(
    base64.urlsafe_b64decode("n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU=")
)
RFC_BODY = b'{"hello": "world"}'
NOW = 1_700_000_000
KEY = Ed25519PrivateKey.generate()
KEY_ID = "did:web:uni-a.example:institutions:uni-a#key-1"
BODY = b'{"credential": "x"}'


def rfc_request() -> Message:
    """The test request of RFC 9421 Appendix B.2."""
    return Message(
        method="POST",
        target_uri="https://example.com/foo?param=Value&Pet=dog",
        headers={
            "Host": "example.com",
            "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
            "Content-Type": "application/json",
            "Content-Digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
            "Content-Length": "18",
        },
        body=RFC_BODY,
    )


def signed(
    body: bytes = BODY, *, created: int = NOW, nonce: str | None = "n-1", **kwargs
) -> Message:
    headers = {"Content-Type": "application/json", "Content-Digest": hs.content_digest(body)}
    message = Message(
        method="POST",
        target_uri="https://uni-b.example/exchange/v1/inbox?x=1",
        headers=headers if body else {},
        body=body,
    )
    params = SignatureParams(created=created, keyid=KEY_ID, nonce=nonce, tag="meshe")
    signature = hs.sign_message(message, private_key=KEY, params=params, **kwargs)
    return dataclasses.replace(message, headers={**message.headers, **signature.as_dict()})


def verify(message: Message, *, now: int = NOW, seen=lambda nonce: False, **kwargs):
    keys = {KEY_ID: KEY.public_key()}
    return hs.verify_message(message, public_key_for=keys.get, now=now, seen_nonce=seen, **kwargs)


def with_header(message: Message, name: str, value: str) -> Message:
    return dataclasses.replace(message, headers={**message.headers, name: value})


def test_the_rfc_9530_sha256_digest_of_the_example_body_is_reproduced():
    assert hs.content_digest(RFC_BODY) == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"


def test_the_rfc_9421_example_sha512_content_digest_matches_its_body():
    assert hs.content_digest(RFC_BODY, algorithm="sha-512") == rfc_request().header(
        "content-digest"
    )
    assert hs.content_digest_matches(rfc_request().header("content-digest") or "", RFC_BODY)


def test_the_rfc_9421_b26_ed25519_vector_is_reproduced_byte_for_byte():
    components = ("date", "@method", "@path", "@authority", "content-type", "content-length")
    params = SignatureParams(created=1618884473, keyid="test-key-ed25519", alg=None)
    base = hs.signature_base(rfc_request(), components, params.as_params())
    assert base == (
        '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
        '"@method": POST\n'
        '"@path": /foo\n'
        '"@authority": example.com\n'
        '"content-type": application/json\n'
        '"content-length": 18\n'
        '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
        '"content-length");created=1618884473;keyid="test-key-ed25519"'
    )
    headers = hs.sign_message(
        rfc_request(), private_key=RFC_KEY, params=params, components=components, label="sig-b26"
    )
    assert headers.signature_input == (
        'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
        ';created=1618884473;keyid="test-key-ed25519"'
    )
    assert headers.signature == (
        "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:"
    )


def test_the_rfc_9421_b26_signature_verifies_under_the_published_public_key():
    public_key = RFC_KEY.public_key()
    assert base64.urlsafe_b64encode(public_key.public_bytes_raw()) == (
        b"JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs="
    )
    components = ("@method", "@target-uri", "content-digest", "date")
    params = SignatureParams(created=1618884473, keyid="test-key-ed25519", alg=None)
    signature = hs.sign_message(
        rfc_request(), private_key=RFC_KEY, params=params, components=components
    )
    message = dataclasses.replace(
        rfc_request(), headers={**rfc_request().headers, **signature.as_dict()}
    )
    result = hs.verify_message(
        message,
        public_key_for={"test-key-ed25519": public_key}.get,
        now=1618884473,
        seen_nonce=lambda nonce: False,
        require_nonce=False,
    )
    assert result.ok, result


def test_a_derived_component_serialises_as_the_rfc_says():
    message = Message(method="GET", target_uri="https://Example.COM:443/a%20b?q=1&r")
    assert hs.component_value(message, "@authority") == "example.com"
    assert hs.component_value(message, "@path") == "/a%20b"
    assert hs.component_value(message, "@query") == "?q=1&r"
    bare = Message(method="GET", target_uri="http://example.com:8080")
    assert hs.component_value(bare, "@authority") == "example.com:8080"
    assert hs.component_value(bare, "@path") == "/"
    assert hs.component_value(bare, "@query") == "?"


def test_signature_parameters_are_written_in_a_fixed_order_with_alg_ed25519():
    message = signed()
    assert message.header("signature-input") == (
        'sig1=("@method" "@target-uri" "content-type" "content-digest");created=1700000000'
        ';keyid="did:web:uni-a.example:institutions:uni-a#key-1";nonce="n-1";alg="ed25519"'
        ';tag="meshe"'
    )


def test_a_signed_request_verifies_and_reports_what_it_signed():
    result = verify(signed())
    assert result.ok
    assert result.failure is None
    assert result.key_id == KEY_ID
    assert result.created == NOW
    assert result.nonce == "n-1"
    assert result.tag == "meshe"
    assert result.components == ("@method", "@target-uri", "content-type", "content-digest")


def test_a_signed_request_without_a_body_verifies():
    assert verify(signed(b"")).ok


def test_a_request_signed_over_authority_path_and_query_verifies():
    components = ("@method", "@authority", "@path", "@query", "content-digest")
    assert verify(signed(components=components)).ok


def test_a_request_signed_without_its_query_is_refused():
    components = ("@method", "@authority", "@path", "content-digest")
    assert verify(signed(components=components)).failure == Failure.COMPONENT_NOT_COVERED


@pytest.mark.parametrize(
    "components",
    [("@target-uri", "content-digest"), ("@method", "content-digest"), ("@method", "@target-uri")],
    ids=["method", "target", "content-digest"],
)
def test_a_signature_that_leaves_out_a_required_component_is_refused(components):
    assert verify(signed(components=components)).failure == Failure.COMPONENT_NOT_COVERED


def test_a_tampered_method_is_refused():
    message = dataclasses.replace(signed(), method="PUT")
    assert verify(message).failure == Failure.BAD_SIGNATURE


def test_a_tampered_target_is_refused():
    message = dataclasses.replace(signed(), target_uri="https://uni-b.example/other?x=1")
    assert verify(message).failure == Failure.BAD_SIGNATURE


def test_a_tampered_content_type_is_refused():
    assert verify(with_header(signed(), "Content-Type", "text/plain")).failure == (
        Failure.BAD_SIGNATURE
    )


def test_a_tampered_body_is_refused_by_its_digest():
    message = dataclasses.replace(signed(), body=b'{"credential": "y"}')
    assert verify(message).failure == Failure.DIGEST_MISMATCH


def test_a_body_and_digest_replaced_together_are_refused_by_the_signature():
    other = b'{"credential": "y"}'
    message = with_header(
        dataclasses.replace(signed(), body=other), "Content-Digest", hs.content_digest(other)
    )
    assert verify(message).failure == Failure.BAD_SIGNATURE


def test_a_tampered_signature_parameter_is_refused():
    text = signed().header("signature-input") or ""
    message = with_header(signed(), "Signature-Input", text.replace('"meshe"', '"other"'))
    assert verify(message).failure == Failure.BAD_SIGNATURE


def test_a_flipped_signature_bit_is_refused():
    signature = bytearray(base64.b64decode((signed().header("signature") or "")[6:-1]))
    signature[0] ^= 1
    value = "sig1=" + hs.serialize_byte_sequence(bytes(signature))
    assert verify(with_header(signed(), "Signature", value)).failure == Failure.BAD_SIGNATURE


def test_a_body_without_content_digest_is_refused():
    message = signed()
    headers = {k: v for k, v in message.headers.items() if k != "Content-Digest"}
    result = verify(dataclasses.replace(message, headers=headers))
    assert result.failure == Failure.MISSING_DIGEST


def test_a_body_whose_digest_is_not_signed_is_refused():
    result = verify(signed(components=("@method", "@target-uri")))
    assert result.failure == Failure.COMPONENT_NOT_COVERED


def test_a_key_that_is_not_pinned_is_refused():
    result = hs.verify_message(
        signed(), public_key_for=lambda key_id: None, now=NOW, seen_nonce=lambda nonce: False
    )
    assert result.failure == Failure.UNKNOWN_KEY


@pytest.mark.parametrize("skew", [301, -301], ids=["too-old", "from-the-future"])
def test_a_created_time_more_than_five_minutes_off_is_refused(skew):
    assert verify(signed(created=NOW - skew)).failure == Failure.CLOCK_SKEW


@pytest.mark.parametrize("skew", [300, -300], ids=["old", "future"])
def test_a_created_time_exactly_five_minutes_off_is_accepted(skew):
    assert verify(signed(created=NOW - skew)).ok


def test_a_replayed_nonce_is_refused():
    seen: set[str] = set()

    def seen_before(nonce: str) -> bool:
        was_seen = nonce in seen
        seen.add(nonce)
        return was_seen

    message = signed()
    assert verify(message, seen=seen_before).ok
    assert verify(message, seen=seen_before).failure == Failure.REPLAYED_NONCE


def test_a_forged_signature_does_not_use_up_its_nonce():
    asked: list[str] = []
    message = dataclasses.replace(signed(), method="PUT")

    def seen(nonce: str) -> bool:
        asked.append(nonce)
        return False

    verify(message, seen=seen)
    assert asked == []


def test_a_signature_without_a_nonce_is_refused_when_one_is_required():
    assert verify(signed(nonce=None)).failure == Failure.MISSING_NONCE
    assert verify(signed(nonce=None), require_nonce=False).ok


def test_another_algorithm_is_refused():
    text = (signed().header("signature-input") or "").replace('"ed25519"', '"rsa-pss-sha512"')
    assert verify(with_header(signed(), "Signature-Input", text)).failure == (
        Failure.UNSUPPORTED_ALGORITHM
    )


@pytest.mark.parametrize("name", ["Signature", "Signature-Input"])
def test_a_missing_signature_field_is_refused(name):
    message = signed()
    headers = {k: v for k, v in message.headers.items() if k != name}
    assert verify(dataclasses.replace(message, headers=headers)).failure == (
        Failure.MISSING_SIGNATURE
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Signature-Input", "sig1"),
        ("Signature-Input", "sig1=("),
        ("Signature-Input", 'sig1=("@method""@target-uri");created=1'),
        ("Signature-Input", 'sig1=("@method";sf);created=1;keyid="k"'),
        ("Signature-Input", 'sig1=("@method");created=1.5;keyid="k"'),
        ("Signature-Input", 'sig1=("@method");created=1;created=2'),
        ("Signature-Input", 'sig1=("\u00e9")'),
        ("Signature-Input", 'sig1=("@method"),'),
        ("Signature-Input", "SIG1=()"),
        ("Signature-Input", 'sig1=:AAAA:;created=1;keyid="k"'),
        ("Signature", "sig1=:not base64!:"),
        ("Signature", "sig1=:AAAA"),
        ("Signature", 'sig1=("@method")'),
        ("Signature", ""),
    ],
)
def test_a_malformed_signature_field_is_refused_without_an_exception(name, value):
    result = verify(with_header(signed(), name, value))
    assert not result.ok
    assert result.failure in {
        Failure.MALFORMED_SIGNATURE,
        Failure.MISSING_SIGNATURE,
        Failure.UNKNOWN_LABEL,
    }


@pytest.mark.parametrize(
    ("params", "failure"),
    [
        (';keyid="k"', Failure.MISSING_PARAMETER),
        (";created=1700000000", Failure.MISSING_PARAMETER),
        (';created="1700000000";keyid="k"', Failure.MISSING_PARAMETER),
        (';created=1700000000;keyid="k";nonce=?1', Failure.MALFORMED_SIGNATURE),
        (';created=1700000000;keyid="k";expires=1', Failure.EXPIRED),
    ],
)
def test_bad_signature_parameters_are_refused(params, failure):
    components = '("@method" "@target-uri" "content-type" "content-digest")'
    result = verify(with_header(signed(), "Signature-Input", "sig1=" + components + params))
    assert result.failure == failure


def test_a_covered_header_the_message_lacks_is_refused():
    components = '("@method" "@target-uri" "content-digest" "x-missing")'
    text = "sig1=" + components + f';created={NOW};keyid="{KEY_ID}"'
    assert verify(with_header(signed(), "Signature-Input", text)).failure == (
        Failure.MISSING_COMPONENT
    )


def test_an_unsupported_derived_component_is_refused():
    components = '("@method" "@target-uri" "content-digest" "@status")'
    text = "sig1=" + components + f';created={NOW};keyid="{KEY_ID}"'
    assert verify(with_header(signed(), "Signature-Input", text)).failure == (
        Failure.UNSUPPORTED_COMPONENT
    )


@pytest.mark.parametrize("value", ["sha-256=abc", "sha-256=:!!:", "sha-256", "=:AAAA:"])
def test_a_malformed_content_digest_is_refused_without_an_exception(value):
    assert verify(with_header(signed(), "Content-Digest", value)).failure == (
        Failure.MALFORMED_DIGEST
    )


def test_a_content_digest_with_no_known_algorithm_does_not_match():
    assert not hs.content_digest_matches("md5=:AAAA:", BODY)


def test_a_label_can_be_chosen_among_several_signatures():
    message = signed(label="other")
    assert verify(message, label="other").ok
    assert verify(message, label="sig1").failure == Failure.UNKNOWN_LABEL


def test_strings_are_escaped_when_serialised():
    assert hs.serialize_string('a"b\\c') == '"a\\"b\\\\c"'
    with pytest.raises(hs.MalformedFieldError):
        hs.serialize_string("é")
