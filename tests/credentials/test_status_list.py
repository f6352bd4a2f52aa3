"""W3C Bitstring Status List: the spec's example, bit order, encoding limits and list credentials."""

import base64
import zlib
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from credentials.standards import didkey, signing, status_list
from credentials.standards.status_list import MIN_ENTRIES, StatusListError

# Bitstring Status List v1.0, §2.2 Example 2: an empty list of 131,072 entries.
SPEC_ENCODED_LIST = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
SPEC_SUBJECT: dict[str, Any] = {
    "id": "https://example.com/status/3#list",
    "type": "BitstringStatusList",
    "statusPurpose": "revocation",
    "encodedList": SPEC_ENCODED_LIST,
}
SPEC_LIST_CREDENTIAL: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "id": "https://example.com/credentials/status/3",
    "type": ["VerifiableCredential", "BitstringStatusListCredential"],
    "issuer": "did:example:12345",
    "validFrom": "2021-04-05T14:27:40Z",
    "credentialSubject": SPEC_SUBJECT,
}
LIST_URL = "https://uni-a.example/status/revocation/1"
ISSUER = "did:web:uni-a.example:institutions:uni-a"


def gzip_base64url(data: bytes) -> str:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    compressed = compressor.compress(data) + compressor.flush()
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def list_with(*indices: int) -> bytes:
    bitstring = status_list.empty_bitstring()
    for index in indices:
        bitstring = status_list.set_bit(bitstring, index, True)
    return bitstring


def test_an_empty_list_encodes_exactly_as_the_spec_example():
    assert status_list.encode_list(status_list.empty_bitstring()) == SPEC_ENCODED_LIST


def test_a_list_of_131072_zero_bits_encodes_to_a_short_string():
    assert len(status_list.encode_list(bytes(MIN_ENTRIES // 8))) < 100


def test_the_spec_example_decodes_to_131072_unset_entries():
    bitstring = status_list.decode_list(SPEC_ENCODED_LIST)
    assert len(bitstring) * 8 == MIN_ENTRIES
    assert not any(bitstring)


def test_the_spec_example_credential_says_entry_94567_is_not_revoked():
    assert status_list.read_status(SPEC_LIST_CREDENTIAL, purpose="revocation", index=94567) is False


@pytest.mark.parametrize(
    ("index", "byte", "value"),
    [(0, 0, 0x80), (1, 0, 0x40), (7, 0, 0x01), (8, 1, 0x80), (MIN_ENTRIES - 1, 16383, 0x01)],
)
def test_index_zero_is_the_most_significant_bit_of_the_first_byte(index, byte, value):
    bitstring = list_with(index)
    assert bitstring[byte] == value
    assert sum(bitstring) == value


@given(st.sets(st.integers(min_value=0, max_value=MIN_ENTRIES * 2 - 1), max_size=40))
def test_set_bits_survive_an_encode_decode_round_trip(indices):
    bitstring = bytes(MIN_ENTRIES * 2 // 8)
    for index in indices:
        bitstring = status_list.set_bit(bitstring, index, True)
    decoded = status_list.decode_list(status_list.encode_list(bitstring))
    assert decoded == bitstring
    # Only bits of non-zero bytes can be set; asking get_bit about each of them finds them all.
    candidates = [n * 8 + bit for n, byte in enumerate(decoded) if byte for bit in range(8)]
    assert {i for i in candidates if status_list.get_bit(decoded, i)} == indices


@given(
    st.binary(max_size=2048),
    st.integers(min_value=0, max_value=MIN_ENTRIES // 8),
    st.integers(min_value=0, max_value=64),
)
def test_any_bitstring_survives_an_encode_decode_round_trip(data, offset, extra):
    size = MIN_ENTRIES // 8 + extra
    offset = min(offset, size - len(data))
    bitstring = bytes(offset) + data + bytes(size - offset - len(data))
    encoded = status_list.encode_list(bitstring)
    assert encoded.startswith("u")
    assert "=" not in encoded
    assert status_list.decode_list(encoded) == bitstring


@given(st.integers(min_value=0, max_value=MIN_ENTRIES - 1), st.booleans())
def test_setting_a_bit_changes_that_bit_only(index, value):
    start = bytes([0b10101010]) * (MIN_ENTRIES // 8)
    changed = status_list.set_bit(start, index, value)
    assert status_list.get_bit(changed, index) is value
    differing = [i for i in range(len(start)) if start[i] != changed[i]]
    assert differing in ([], [index // 8])
    assert status_list.set_bit(changed, index, status_list.get_bit(start, index)) == start


@pytest.mark.parametrize("index", [-1, MIN_ENTRIES, True, 1.0])
def test_an_index_outside_the_list_is_refused(index):
    with pytest.raises(StatusListError):
        status_list.get_bit(status_list.empty_bitstring(), index)
    with pytest.raises(StatusListError):
        status_list.set_bit(status_list.empty_bitstring(), index, True)


def test_a_list_shorter_than_131072_entries_is_neither_made_encoded_nor_decoded():
    with pytest.raises(StatusListError):
        status_list.empty_bitstring(MIN_ENTRIES - 8)
    with pytest.raises(StatusListError):
        status_list.encode_list(bytes(MIN_ENTRIES // 8 - 1))
    with pytest.raises(StatusListError, match="fewer than"):
        status_list.decode_list(gzip_base64url(bytes(MIN_ENTRIES // 8 - 1)))


def test_a_zip_bomb_is_refused_once_it_inflates_past_the_limit():
    bomb = gzip_base64url(bytes(17 * 1024 * 1024))
    assert len(bomb) < 40_000
    with pytest.raises(StatusListError, match="more than"):
        status_list.decode_list(bomb)
    with pytest.raises(StatusListError, match="more than 20000 bytes"):
        status_list.decode_list(gzip_base64url(bytes(20001)), max_bytes=20000)


@pytest.mark.parametrize(
    ("encoded", "message"),
    [
        (SPEC_ENCODED_LIST[1:], "starting with 'u'"),
        ("z" + SPEC_ENCODED_LIST[1:], "starting with 'u'"),
        (SPEC_ENCODED_LIST + "==", "base64url"),
        (SPEC_ENCODED_LIST.replace("-", "+"), "base64url"),
        ("u" + base64.urlsafe_b64encode(zlib.compress(bytes(16384))).rstrip(b"=").decode(), "GZIP"),
        (gzip_base64url(bytes(16384))[:-12], "truncated"),
        (
            "u"
            + base64.urlsafe_b64encode(
                base64.urlsafe_b64decode(SPEC_ENCODED_LIST[1:] + "==") + b"junk"
            )
            .rstrip(b"=")
            .decode(),
            "after the end",
        ),
    ],
)
def test_a_malformed_encoded_list_is_refused_with_a_reason(encoded, message):
    with pytest.raises(StatusListError, match=message):
        status_list.decode_list(encoded)


def test_a_status_list_credential_has_the_vc_2_shape():
    encoded = status_list.encode_list(list_with(3))
    credential = status_list.build_status_list_credential(
        list_url=LIST_URL,
        issuer_did=ISSUER,
        purpose="suspension",
        encoded_list=encoded,
        valid_from=datetime(2025, 1, 2, 3, 4, 5, 678, tzinfo=UTC),
    )
    assert credential == {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": LIST_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": ISSUER,
        "validFrom": "2025-01-02T03:04:05Z",
        "credentialSubject": {
            "id": LIST_URL + "#list",
            "type": "BitstringStatusList",
            "statusPurpose": "suspension",
            "encodedList": encoded,
        },
    }


def test_a_status_list_credential_can_be_signed_and_its_proof_verifies():
    key = Ed25519PrivateKey.generate()
    credential = status_list.build_status_list_credential(
        list_url=LIST_URL,
        issuer_did=didkey.did_key_for(key.public_key()),
        purpose="revocation",
        encoded_list=SPEC_ENCODED_LIST,
        valid_from=datetime(2025, 1, 1, tzinfo=UTC),
    )
    signed = signing.sign_document(
        credential,
        private_key=key,
        verification_method=didkey.verification_method_id_for(key.public_key()),
        created="2025-01-01T00:00:00Z",
    )
    assert signing.verify_proof(signed, public_key=key.public_key()).verified


@pytest.mark.parametrize(
    "arguments",
    [
        {"purpose": "message"},
        {"encoded_list": gzip_base64url(bytes(100))},
        {"encoded_list": "not a list"},
    ],
)
def test_a_status_list_credential_is_not_built_from_a_bad_purpose_or_list(arguments):
    with pytest.raises(StatusListError):
        status_list.build_status_list_credential(
            **{
                "list_url": LIST_URL,
                "issuer_did": ISSUER,
                "purpose": "revocation",
                "encoded_list": SPEC_ENCODED_LIST,
                "valid_from": datetime(2025, 1, 1, tzinfo=UTC),
                **arguments,
            }
        )


def test_a_status_entry_names_its_list_purpose_and_index_as_a_string():
    assert status_list.status_entry(list_url=LIST_URL, purpose="revocation", index=94567) == {
        "id": LIST_URL + "#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": LIST_URL,
    }
    entry = status_list.status_entry(
        list_url=LIST_URL, purpose="suspension", index=0, entry_id="urn:uuid:1"
    )
    assert entry["id"] == "urn:uuid:1"


@pytest.mark.parametrize("index", [-1, True, "3"])
def test_a_status_entry_refuses_an_index_that_is_not_a_non_negative_integer(index):
    with pytest.raises(StatusListError):
        status_list.status_entry(list_url=LIST_URL, purpose="revocation", index=index)


@pytest.mark.parametrize(("value", "index"), [("94567", 94567), ("0", 0), (12, 12)])
def test_a_status_list_index_is_read_from_a_base_10_string_or_an_integer(value, index):
    assert status_list.parse_index(value) == index


@pytest.mark.parametrize("value", ["-1", "1.5", " 1", "0x10", "١٢", "", None, True, -3, "9" * 40])
def test_a_status_list_index_that_is_not_a_base_10_integer_is_refused(value):
    with pytest.raises(StatusListError):
        status_list.parse_index(value)


def test_reading_a_status_returns_the_bit_for_that_purpose():
    credential = {
        **SPEC_LIST_CREDENTIAL,
        "credentialSubject": {
            **SPEC_SUBJECT,
            "encodedList": status_list.encode_list(list_with(42)),
        },
    }
    assert status_list.read_status(credential, purpose="revocation", index=42) is True
    assert status_list.read_status(credential, purpose="revocation", index=43) is False


def test_a_list_that_serves_several_purposes_is_read_for_each():
    credential = {
        **SPEC_LIST_CREDENTIAL,
        "credentialSubject": {
            **SPEC_SUBJECT,
            "statusPurpose": ["revocation", "suspension"],
        },
    }
    assert status_list.read_status(credential, purpose="suspension", index=1) is False


def subject_with(**changes):
    return {
        **SPEC_LIST_CREDENTIAL,
        "credentialSubject": {**SPEC_SUBJECT, **changes},
    }


@pytest.mark.parametrize(
    ("credential", "message"),
    [
        ({**SPEC_LIST_CREDENTIAL, "type": ["VerifiableCredential"]}, "lacks"),
        ({**SPEC_LIST_CREDENTIAL, "credentialSubject": [{}]}, "not an object"),
        (subject_with(type="StatusList2021"), "type is not"),
        (subject_with(statusPurpose="suspension"), "not revocation"),
        (subject_with(encodedList=None), "no encodedList"),
        (subject_with(encodedList=gzip_base64url(bytes(8))), "fewer than"),
        ([], "not a JSON object"),
    ],
)
def test_reading_a_status_refuses_a_list_credential_of_the_wrong_shape_or_purpose(
    credential, message
):
    with pytest.raises(StatusListError, match=message):
        status_list.read_status(credential, purpose="revocation", index=0)
