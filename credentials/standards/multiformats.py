"""Base58btc, multibase and Ed25519 Multikey encodings (W3C Controlled Identifiers 1.0, §2.2)."""

import base64
import re
from typing import Final, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

BASE58BTC_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58BTC_INDEX: Final = {char: value for value, char in enumerate(BASE58BTC_ALPHABET)}
_BASE64URL_NO_PAD: Final = re.compile(r"[A-Za-z0-9_-]*")

# Multicodec codes as unsigned varints: ed25519-pub is 0xed, ed25519-priv is 0x1300.
ED25519_PUBLIC_KEY_HEADER: Final = b"\xed\x01"
ED25519_PRIVATE_KEY_HEADER: Final = b"\x80\x26"
ED25519_KEY_LENGTH: Final = 32

MultibaseEncoding = Literal["base58btc", "base64url"]


class MultiformatError(ValueError):
    """Raised when a base58btc, multibase or Multikey value is malformed."""


def base58btc_encode(data: bytes) -> str:
    """Return the base58btc (Bitcoin alphabet) text of data; each leading zero byte becomes '1'."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(BASE58BTC_ALPHABET[remainder])
    return "1" * zeros + "".join(reversed(digits))


def base58btc_decode(text: str) -> bytes:
    """Return the bytes of base58btc text; raises MultiformatError on a character outside the alphabet."""
    number = 0
    for position, char in enumerate(text):
        value = _BASE58BTC_INDEX.get(char)
        if value is None:
            raise MultiformatError(f"invalid base58btc character {char!r} at position {position}")
        number = number * 58 + value
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * zeros + body


def base64url_encode(data: bytes) -> str:
    """Return the base64url text of data without padding (RFC 4648 §5)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def base64url_decode(text: str) -> bytes:
    """Return the bytes of unpadded base64url text; raises MultiformatError on anything non-canonical."""
    if not _BASE64URL_NO_PAD.fullmatch(text) or len(text) % 4 == 1:
        raise MultiformatError(f"invalid base64url (no padding) text: {text!r}")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    # Unused low bits in the last character must be zero, so each value has one spelling.
    if base64url_encode(data) != text:
        raise MultiformatError(f"non-canonical base64url text: {text!r}")
    return data


def multibase_encode(data: bytes, *, encoding: MultibaseEncoding = "base58btc") -> str:
    """Return data as multibase text: 'z' + base58btc, or 'u' + unpadded base64url."""
    if encoding == "base58btc":
        return "z" + base58btc_encode(data)
    return "u" + base64url_encode(data)


def multibase_decode(text: str) -> bytes:
    """Return the bytes of 'z' (base58btc) or 'u' (base64url) multibase text; raises MultiformatError."""
    if not isinstance(text, str) or not text:
        raise MultiformatError("multibase value must be a non-empty string")
    prefix, body = text[0], text[1:]
    if prefix == "z":
        return base58btc_decode(body)
    if prefix == "u":
        return base64url_decode(body)
    raise MultiformatError(f"unsupported multibase prefix {prefix!r} (expected 'z' or 'u')")


def encode_ed25519_public_key(public_key: Ed25519PublicKey) -> str:
    """Return the Multikey publicKeyMultibase ('z6Mk…') of an Ed25519 public key."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return multibase_encode(ED25519_PUBLIC_KEY_HEADER + raw)


def decode_ed25519_public_key(public_key_multibase: str) -> Ed25519PublicKey:
    """Return the Ed25519 public key of a Multikey publicKeyMultibase; raises MultiformatError."""
    raw = _strip_multicodec_header(
        multibase_decode(public_key_multibase), ED25519_PUBLIC_KEY_HEADER, "ed25519-pub"
    )
    return Ed25519PublicKey.from_public_bytes(raw)


def encode_ed25519_private_key(private_key: Ed25519PrivateKey) -> str:
    """Return the Multikey secretKeyMultibase ('z3u2…') of an Ed25519 private key (its 32-byte seed)."""
    seed = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return multibase_encode(ED25519_PRIVATE_KEY_HEADER + seed)


def decode_ed25519_private_key(private_key_multibase: str) -> Ed25519PrivateKey:
    """Return the Ed25519 private key of a Multikey secretKeyMultibase; raises MultiformatError."""
    seed = _strip_multicodec_header(
        multibase_decode(private_key_multibase), ED25519_PRIVATE_KEY_HEADER, "ed25519-priv"
    )
    return Ed25519PrivateKey.from_private_bytes(seed)


def _strip_multicodec_header(data: bytes, header: bytes, codec: str) -> bytes:
    """Return the 32 key bytes after header; raises MultiformatError on a wrong codec or length."""
    if not data.startswith(header):
        raise MultiformatError(
            f"not an {codec} Multikey: header {data[:2].hex()!r}, expected {header.hex()!r}"
        )
    key = data[len(header) :]
    if len(key) != ED25519_KEY_LENGTH:
        raise MultiformatError(f"{codec} key must be {ED25519_KEY_LENGTH} bytes, got {len(key)}")
    return key
