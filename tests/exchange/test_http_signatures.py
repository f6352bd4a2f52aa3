import base64
import dataclasses

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exchange import http_signatures as hs
from exchange.http_signatures import Failure, Message, Response

# RFC 9421 Appendix B.1.4 test-key-ed25519 (JWK "d" and "x").
RFC_KEY = Ed25519PrivateKey.from_private_bytes(
    base64.urlsafe_b64decode("n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU=")
)
RFC_BODY = b'{"hello": "world"}'
NOW = 1_700_000_000
KEY = Ed25519PrivateKey.generate()
KEY_ID = "did:web:uni-a.example:institutions:uni-a#key-1"
PEER_KEY = Ed25519PrivateKey.generate()
PEER_KEY_ID = "did:web:uni-b.example:institutions:uni-b#key-1"
BODY = b'{"credential": "x"}'
URL = "https://uni-b.example/exchange/v1/uni-b/inbox?x=1"


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


def signed(body: bytes = BODY, *, created: int = NOW, nonce: str = "n-1") -> Message:
    message = Message(
        method="POST",
        target_uri=URL,
        headers={"Content-Type": "application/json"} if body else {},
        body=body,
    )
    added = hs.sign_request(message, private_key=KEY, key_id=KEY_ID, created=created, nonce=nonce)
    return with_headers(message, added)


def signed_with(components: tuple[str, ...], *, nonce: str | None = "n-1") -> Message:
    message = Message(
        method="POST", target_uri=URL, headers={"Content-Type": "application/json"}, body=BODY
    )
    added = hs.sign_components(
        message, components=components, private_key=KEY, key_id=KEY_ID, created=NOW, nonce=nonce
    )
    return with_headers(message, added)


def answer(request: Message, *, status: int = 200, body: bytes = b'{"ok":true}') -> Response:
    response = Response(status=status, headers={"Content-Type": "application/json"}, body=body)
    added = hs.sign_response(
        response,
        request=request,
        private_key=PEER_KEY,
        key_id=PEER_KEY_ID,
        created=NOW,
        nonce="r-1",
    )
    return dataclasses.replace(response, headers={**response.headers, **added})


def never_seen(key_id: str, nonce: str) -> bool:
    return False


def verify(message: Message, *, now: int = NOW, seen=never_seen) -> hs.Verification:
    keys = {KEY_ID: KEY.public_key()}
    return hs.verify_request(message, public_key_for=keys.get, now=now, seen_nonce=seen)


def verify_answer(response: Response, request: Message) -> hs.Verification:
    keys = {PEER_KEY_ID: PEER_KEY.public_key()}
    return hs.verify_response(
        response, request=request, public_key_for=keys.get, now=NOW, seen_nonce=never_seen
    )


def with_headers(message, headers: dict[str, str]):
    return dataclasses.replace(message, headers={**message.headers, **headers})


def without_header(message, name: str):
    return dataclasses.replace(
        message, headers={k: v for k, v in message.headers.items() if k != name}
    )


# ---------------------------------------------------------------- published vectors


def test_the_rfc_9530_sha256_digest_of_the_example_body_is_reproduced():
    assert hs.content_digest(RFC_BODY) == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"


def test_the_rfc_9421_b26_ed25519_signature_base_is_reproduced_byte_for_byte():
    components = ("date", "@method", "@path", "@authority", "content-type", "content-length")
    base = hs.signature_base(
        rfc_request(),
        components=components,
        key_id="test-key-ed25519",
        created=1618884473,
        include_alg=False,
    )
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


def test_the_rfc_9421_b26_ed25519_signature_is_reproduced_byte_for_byte():
    components = ("date", "@method", "@path", "@authority", "content-type", "content-length")
    headers = hs.sign_components(
        rfc_request(),
        components=components,
        private_key=RFC_KEY,
        key_id="test-key-ed25519",
        created=1618884473,
        label="sig-b26",
        include_alg=False,
    )
    assert headers == {
        "Signature-Input": (
            'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
            ';created=1618884473;keyid="test-key-ed25519"'
        ),
        "Signature": (
            "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:"
        ),
    }


def test_the_published_ed25519_key_is_the_one_the_vector_uses():
    assert base64.urlsafe_b64encode(RFC_KEY.public_key().public_bytes_raw()) == (
        b"JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs="
    )


# ---------------------------------------------------------------- requests


def test_a_signed_request_covers_what_the_protocol_says_with_all_parameters():
    message = signed()
    assert message.header("content-digest") == hs.content_digest(BODY)
    assert message.header("signature-input") == (
        'sig1=("@method" "@target-uri" "content-type" "content-digest");created=1700000000'
        ';keyid="did:web:uni-a.example:institutions:uni-a#key-1";alg="ed25519";nonce="n-1"'
    )


def test_a_signed_request_verifies_and_reports_what_it_signed():
    result = verify(signed())
    assert result == hs.Verification(ok=True, key_id=KEY_ID, created=NOW, nonce="n-1")


def test_a_request_without_a_body_signs_only_method_and_target_and_verifies():
    message = signed(b"")
    assert "content-digest" not in (message.header("signature-input") or "")
    assert message.header("content-digest") is None
    assert verify(message).ok


def test_a_tampered_body_is_refused_by_its_digest():
    message = dataclasses.replace(signed(), body=b'{"credential": "y"}')
    assert verify(message).failure == Failure.DIGEST_MISMATCH


def test_a_body_and_digest_replaced_together_are_refused_by_the_signature():
    other = b'{"credential": "y"}'
    message = with_headers(
        dataclasses.replace(signed(), body=other), {"Content-Digest": hs.content_digest(other)}
    )
    assert verify(message).failure == Failure.BAD_SIGNATURE


def test_a_tampered_method_is_refused():
    assert verify(dataclasses.replace(signed(), method="PUT")).failure == Failure.BAD_SIGNATURE


def test_a_tampered_target_is_refused():
    message = dataclasses.replace(signed(), target_uri=URL.replace("inbox", "notices"))
    assert verify(message).failure == Failure.BAD_SIGNATURE


def test_a_tampered_content_type_is_refused():
    message = with_headers(signed(), {"Content-Type": "text/plain"})
    assert verify(message).failure == Failure.BAD_SIGNATURE


@pytest.mark.parametrize("skew", [301, -301], ids=["too-old", "from-the-future"])
def test_a_created_time_more_than_five_minutes_off_is_refused(skew):
    assert verify(signed(created=NOW - skew)).failure == Failure.CLOCK_SKEW


@pytest.mark.parametrize("skew", [300, -300], ids=["old", "future"])
def test_a_created_time_exactly_five_minutes_off_is_accepted(skew):
    assert verify(signed(created=NOW - skew)).ok


def test_a_signature_without_a_nonce_is_refused():
    components = ("@method", "@target-uri", "content-type", "content-digest")
    assert verify(signed_with(components, nonce=None)).failure == Failure.MISSING_NONCE


def test_a_replayed_nonce_is_refused():
    seen: set[tuple[str, str]] = set()

    def seen_before(key_id: str, nonce: str) -> bool:
        was_seen = (key_id, nonce) in seen
        seen.add((key_id, nonce))
        return was_seen

    message = signed()
    assert verify(message, seen=seen_before).ok
    assert seen == {(KEY_ID, "n-1")}
    assert verify(message, seen=seen_before).failure == Failure.REPLAYED_NONCE


@pytest.mark.parametrize(
    "tamper",
    [
        lambda m: dataclasses.replace(m, method="PUT"),
        lambda m: dataclasses.replace(m, body=b"{}"),
        lambda m: dataclasses.replace(m, target_uri="https://uni-b.example/"),
    ],
    ids=["method", "body", "target"],
)
def test_a_forged_request_does_not_use_up_its_nonce(tamper):
    asked: list[str] = []

    def seen(key_id: str, nonce: str) -> bool:
        asked.append(nonce)
        return False

    assert not verify(tamper(signed()), seen=seen).ok
    assert asked == []


def test_a_key_that_is_not_known_is_refused():
    result = hs.verify_request(
        signed(), public_key_for=lambda key_id: None, now=NOW, seen_nonce=never_seen
    )
    assert result.failure == Failure.UNKNOWN_KEY
    assert result.key_id == KEY_ID


def test_a_signature_by_another_key_under_the_same_keyid_is_refused():
    result = hs.verify_request(
        signed(),
        public_key_for={KEY_ID: Ed25519PrivateKey.generate().public_key()}.get,
        now=NOW,
        seen_nonce=never_seen,
    )
    assert result.failure == Failure.BAD_SIGNATURE


@pytest.mark.parametrize(
    "components",
    [
        ("@target-uri", "content-type", "content-digest"),
        ("@method", "content-type", "content-digest"),
        ("@method", "@target-uri", "content-digest"),
        ("@method", "@target-uri", "content-type"),
        ("@method", "@authority", "@path", "content-type", "content-digest"),
    ],
    ids=["method", "target", "content-type", "content-digest", "authority-and-path"],
)
def test_a_signature_that_leaves_out_a_required_component_is_refused(components):
    assert verify(signed_with(components)).failure == Failure.COMPONENT_NOT_COVERED


@pytest.mark.parametrize("name", ["Signature", "Signature-Input"])
def test_a_missing_signature_field_is_refused(name):
    assert verify(without_header(signed(), name)).failure == Failure.MISSING_SIGNATURE


def test_an_unsigned_body_is_refused_as_unsigned():
    message = Message(method="POST", target_uri=URL, body=BODY)
    assert verify(message).failure == Failure.MISSING_SIGNATURE


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Signature-Input", "sig1"),
        ("Signature-Input", "sig1=("),
        ("Signature-Input", 'sig1=("@method""@target-uri");created=1'),
        ("Signature-Input", 'sig1=("@method");created=1.5;keyid="k";nonce="n"'),
        ("Signature-Input", 'sig1=("@method");created=1;keyid="k";nonce="n", sig1=()'),
        ("Signature-Input", 'sig1=("@method");keyid="k";nonce="n"'),
        ("Signature-Input", 'sig1=("@method");created=1;nonce="n"'),
        ("Signature-Input", 'sig1=("@method");created=1;keyid="k";nonce=?1'),
        ("Signature-Input", 'sig1=("@method");created=1;keyid="k";nonce="n";alg="hmac-sha256"'),
        ("Signature-Input", 'sig1=("\u00e9")'),
        ("Signature-Input", 'other=("@method");created=1;keyid="k";nonce="n"'),
        ("Signature-Input", "SIG1=()"),
        ("Signature-Input", 'sig1=:AAAA:;created=1;keyid="k"'),
        ("Signature", "sig1=:not base64!:"),
        ("Signature", "sig1=:AAAA"),
        ("Signature", 'sig1=("@method")'),
        ("Signature", "sig1=:AAAA:, sig2=:AAAA:"),
    ],
)
def test_a_malformed_signature_field_is_refused_without_an_exception(name, value):
    assert verify(with_headers(signed(), {name: value})).failure == Failure.MALFORMED_SIGNATURE


@pytest.mark.parametrize("value", ["sha-256=abc", "sha-256=:!!:", "sha-256", "md5=:AAAA:"])
def test_a_malformed_content_digest_is_refused_without_an_exception(value):
    message = with_headers(signed(), {"Content-Digest": value})
    assert verify(message).failure == Failure.DIGEST_MISMATCH


def test_a_body_without_its_content_digest_is_refused():
    assert verify(without_header(signed(), "Content-Digest")).failure == Failure.DIGEST_MISMATCH


def test_a_sha512_content_digest_is_accepted_when_it_is_signed():
    message = Message(
        method="POST",
        target_uri=URL,
        headers={
            "Content-Type": "application/json",
            "Content-Digest": rfc_request().header("content-digest") or "",
        },
        body=RFC_BODY,
    )
    added = hs.sign_request(message, private_key=KEY, key_id=KEY_ID, created=NOW, nonce="n")
    assert "Content-Digest" not in added
    assert verify(with_headers(message, added)).ok


# ---------------------------------------------------------------- answers


def test_a_signed_answer_covers_status_type_digest_and_the_request_signature():
    response = answer(signed())
    assert response.header("signature-input") == (
        'sig1=("@status" "content-type" "content-digest" "signature";req;key="sig1")'
        ';created=1700000000;keyid="did:web:uni-b.example:institutions:uni-b#key-1"'
        ';alg="ed25519";nonce="r-1"'
    )
    assert verify_answer(response, signed()).ok


def test_an_answer_without_a_body_or_content_type_verifies():
    request = signed()
    response = Response(status=304)
    added = hs.sign_response(
        response, request=request, private_key=PEER_KEY, key_id=PEER_KEY_ID, created=NOW, nonce="r"
    )
    assert added["Content-Digest"] == hs.content_digest(b"")
    assert verify_answer(with_headers(response, added), request).ok


def test_an_answer_to_another_request_is_refused():
    response = answer(signed(nonce="n-1"))
    assert verify_answer(response, signed(nonce="n-2")).failure == Failure.BAD_SIGNATURE


def test_an_answer_with_a_changed_status_is_refused():
    response = dataclasses.replace(answer(signed()), status=201)
    assert verify_answer(response, signed()).failure == Failure.BAD_SIGNATURE


def test_an_answer_with_a_changed_body_is_refused():
    response = dataclasses.replace(answer(signed()), body=b'{"ok":false}')
    assert verify_answer(response, signed()).failure == Failure.DIGEST_MISMATCH


def test_an_answer_that_does_not_cover_the_request_signature_is_refused():
    request = signed()
    response = Response(status=200, headers={"Content-Type": "application/json"}, body=b"{}")
    added = hs.sign_components(
        response,
        request=request,
        components=("@status", "content-type", "content-digest", '"@method";req'),
        private_key=PEER_KEY,
        key_id=PEER_KEY_ID,
        created=NOW,
        nonce="r",
    )
    result = verify_answer(with_headers(response, added), request)
    assert result.failure == Failure.COMPONENT_NOT_COVERED


def test_an_unsigned_answer_is_refused():
    response = Response(status=200, headers={"Content-Type": "application/json"}, body=b"{}")
    assert verify_answer(response, signed()).failure == Failure.MISSING_SIGNATURE
