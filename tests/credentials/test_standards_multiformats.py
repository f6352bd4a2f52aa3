import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from credentials.standards.multiformats import (
    MultiformatError,
    base58btc_decode,
    base58btc_encode,
    base64url_decode,
    decode_ed25519_private_key,
    decode_ed25519_public_key,
    encode_ed25519_private_key,
    encode_ed25519_public_key,
    multibase_decode,
    multibase_encode,
)
from tests.credentials.standards_paths import VCJS_DIR, W3C_EDDSA_VECTORS, read_json

OB3_SEED_HEX = "6241a409e6707bb640a0140a8a32bc3d193c33a661747284d6adfa4ed4180be4"
OB3_PUBLIC_KEY_HEX = "4bdeafde2ea8beefadd8c699b5c7e0704cf51154d52e17b20b71337ca04cc5a5"
OB3_PUBLIC_KEY_MULTIBASE = "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"


@pytest.mark.parametrize(
    ("data", "text"),
    [
        # The examples of the IETF draft "The Base58 Encoding Scheme" (draft-msporny-base58-03).
        (b"Hello World!", "2NEpo7TZRRrLZSi2U"),
        (
            b"The quick brown fox jumps over the lazy dog.",
            "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z",
        ),
        (bytes.fromhex("0000287fb4cd"), "11233QC4"),
        (b"", ""),
    ],
)
def test_base58btc_matches_the_published_examples(data, text):
    assert base58btc_encode(data) == text
    assert base58btc_decode(text) == data


@given(st.binary(max_size=80))
def test_base58btc_round_trips_any_bytes_including_leading_zeros(data):
    assert base58btc_decode(base58btc_encode(data)) == data


@pytest.mark.parametrize("text", ["0", "O", "I", "l", "abc+", "2NEpo7 TZ"])
def test_base58btc_rejects_characters_outside_the_bitcoin_alphabet(text):
    with pytest.raises(MultiformatError, match="invalid base58btc character"):
        base58btc_decode(text)


@given(st.binary(max_size=80), st.sampled_from(["base58btc", "base64url"]))
def test_multibase_round_trips_in_both_encodings(data, encoding):
    text = multibase_encode(data, encoding=encoding)
    assert text[0] == ("z" if encoding == "base58btc" else "u")
    assert multibase_decode(text) == data


def test_multibase_base64url_has_no_padding_and_uses_the_url_alphabet():
    assert multibase_encode(b"\xfb\xff", encoding="base64url") == "u-_8"
    assert multibase_decode("u-_8") == b"\xfb\xff"


@pytest.mark.parametrize(
    "text",
    [
        "uQQ==",  # padding
        "u+/8",  # the standard, not the URL-safe, alphabet
        "uQ",  # a length no byte string encodes to
        "uQR",  # non-zero unused bits: 0x41 is spelled "QQ"
    ],
)
def test_multibase_rejects_malformed_base64url(text):
    with pytest.raises(MultiformatError):
        multibase_decode(text)


@pytest.mark.parametrize("text", ["", "f68656c6c6f", "mSGVsbG8", "Z6Mk"])
def test_multibase_rejects_an_empty_value_or_an_unsupported_prefix(text):
    with pytest.raises(MultiformatError):
        multibase_decode(text)


def test_the_w3c_vector_private_key_derives_its_public_key():
    key_pair = read_json(W3C_EDDSA_VECTORS / "keyPair.json")
    private_key = decode_ed25519_private_key(key_pair["privateKeyMultibase"])
    assert encode_ed25519_public_key(private_key.public_key()) == key_pair["publicKeyMultibase"]
    assert encode_ed25519_private_key(private_key) == key_pair["privateKeyMultibase"]


def test_the_ob3_vector_seed_gives_the_published_public_key_and_multikeys():
    private_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(OB3_SEED_HEX))
    public_key = private_key.public_key()
    assert public_key.public_bytes(Encoding.Raw, PublicFormat.Raw).hex() == OB3_PUBLIC_KEY_HEX
    assert encode_ed25519_public_key(public_key) == OB3_PUBLIC_KEY_MULTIBASE
    interop_key_pair = read_json(VCJS_DIR / "fixtures" / "ob-impl-keyPair.json")
    assert encode_ed25519_private_key(private_key) == interop_key_pair["privateKeyMultibase"]


def test_a_decoded_public_multikey_encodes_back_to_itself():
    key = decode_ed25519_public_key(OB3_PUBLIC_KEY_MULTIBASE)
    assert key.public_bytes(Encoding.Raw, PublicFormat.Raw).hex() == OB3_PUBLIC_KEY_HEX


def test_a_p256_multikey_is_refused_as_not_ed25519():
    # The issuer key of the W3C "employ" vector is a P-256 did:key.
    with pytest.raises(MultiformatError, match="not an ed25519-pub Multikey"):
        decode_ed25519_public_key("zDnaegE6RR3atJtHKwTRTWHsJ3kNHqFwv7n9YjTgmU7TyfU76")


def test_a_private_multikey_is_not_accepted_as_a_public_key_or_the_reverse():
    key_pair = read_json(W3C_EDDSA_VECTORS / "keyPair.json")
    with pytest.raises(MultiformatError, match="ed25519-pub"):
        decode_ed25519_public_key(key_pair["privateKeyMultibase"])
    with pytest.raises(MultiformatError, match="ed25519-priv"):
        decode_ed25519_private_key(key_pair["publicKeyMultibase"])


def test_a_multikey_of_the_wrong_length_is_refused():
    truncated = multibase_encode(b"\xed\x01" + bytes(31))
    with pytest.raises(MultiformatError, match="must be 32 bytes, got 31"):
        decode_ed25519_public_key(truncated)


def test_a_base64url_multikey_of_the_right_bytes_is_accepted():
    raw = bytes.fromhex(OB3_PUBLIC_KEY_HEX)
    key = decode_ed25519_public_key(multibase_encode(b"\xed\x01" + raw, encoding="base64url"))
    assert encode_ed25519_public_key(key) == OB3_PUBLIC_KEY_MULTIBASE


def test_base64url_decode_accepts_the_empty_string():
    assert base64url_decode("") == b""
