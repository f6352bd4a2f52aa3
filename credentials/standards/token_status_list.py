"""IETF Token Status List (draft-ietf-oauth-status-list) over plain values: packing, `lst`, the
statuslist+jwt payload and the SD-JWT VC's `status` claim.

Unlike the W3C Bitstring Status List, each entry has `bits` bits, and entry 0 sits in the
*least* significant bits of byte 0. The list travels as `lst`: ZLIB (RFC 1950) DEFLATE, then
base64url without padding.
"""

import zlib
from typing import Any, Final

from credentials.standards.multiformats import base64url_decode, base64url_encode

BITS: Final = 2
# Status types of the draft's registry (section 7.1).
VALID: Final = 0x00
INVALID: Final = 0x01
SUSPENDED: Final = 0x02
# As many entries as a Bitstring Status List holds, so one index hides among as many others.
MIN_ENTRIES: Final = 131072
JWT_TYPE: Final = "statuslist+jwt"
# How long (seconds) a relying party may cache the list before fetching it again.
TTL_SECONDS: Final = 300
MAX_DECOMPRESSED_BYTES: Final = 16 * 1024 * 1024


class TokenStatusListError(ValueError):
    """Raised when a list, an index or a status value is malformed."""


def empty(entries: int = MIN_ENTRIES, *, bits: int = BITS) -> bytes:
    """Return an all-VALID packed list of `entries` entries; raises TokenStatusListError."""
    _check_bits(bits)
    if entries < 1 or (entries * bits) % 8:
        raise TokenStatusListError(f"{entries} entries of {bits} bits do not fill whole bytes")
    return bytes(entries * bits // 8)


def get_status(packed: bytes, index: int, *, bits: int = BITS) -> int:
    """Return the status of entry `index`; raises TokenStatusListError out of range."""
    byte, shift = _position(packed, index, bits)
    return (packed[byte] >> shift) & ((1 << bits) - 1)


def set_status(packed: bytes, index: int, status: int, *, bits: int = BITS) -> bytes:
    """Return a copy of `packed` with entry `index` set to `status`."""
    if not 0 <= status < (1 << bits):
        raise TokenStatusListError(f"status {status} does not fit in {bits} bits")
    byte, shift = _position(packed, index, bits)
    changed = bytearray(packed)
    mask = ((1 << bits) - 1) << shift
    changed[byte] = (changed[byte] & ~mask & 0xFF) | (status << shift)
    return bytes(changed)


def encode_lst(packed: bytes) -> str:
    """Return the list's `lst`: ZLIB at the highest level, base64url without padding."""
    return base64url_encode(zlib.compress(packed, 9))


def decode_lst(lst: str, *, max_bytes: int = MAX_DECOMPRESSED_BYTES) -> bytes:
    """Return the packed list of an `lst`, never inflating past max_bytes."""
    try:
        compressed = base64url_decode(lst)
        decompressor = zlib.decompressobj()
        packed = decompressor.decompress(compressed, max_bytes + 1)
    except (ValueError, zlib.error) as exc:
        raise TokenStatusListError(f"lst is not base64url ZLIB data: {exc}") from exc
    if len(packed) > max_bytes or not decompressor.eof:
        raise TokenStatusListError("lst is too large or truncated")
    return packed


def status_list_payload(*, uri: str, packed: bytes, issued_at: int) -> dict[str, Any]:
    """Return the claims of a statuslist+jwt; `sub` is the URI the referenced tokens name."""
    return {
        "sub": uri,
        "iat": issued_at,
        "ttl": TTL_SECONDS,
        "status_list": {"bits": BITS, "lst": encode_lst(packed)},
    }


def status_claim(*, uri: str, index: int) -> dict[str, Any]:
    """Return the `status` claim of a referenced token (an SD-JWT VC)."""
    return {"status_list": {"idx": index, "uri": uri}}


def _check_bits(bits: int) -> None:
    if bits not in (1, 2, 4, 8):
        raise TokenStatusListError(f"bits must be 1, 2, 4 or 8, not {bits}")


def _position(packed: bytes, index: int, bits: int) -> tuple[int, int]:
    _check_bits(bits)
    if isinstance(index, bool) or not isinstance(index, int):
        raise TokenStatusListError(f"an index must be an integer, got {index!r}")
    entries = len(packed) * 8 // bits
    if not 0 <= index < entries:
        raise TokenStatusListError(f"index {index} is outside the list (0 to {entries - 1})")
    per_byte = 8 // bits
    return index // per_byte, (index % per_byte) * bits
