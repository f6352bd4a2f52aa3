"""W3C Bitstring Status List v1.0 over plain values: encoding, bits, list credentials and entries.

A status list is a bitstring in which bit 0 is the most significant bit of byte 0 (the spec's
"left-most bit"). It travels as `encodedList`: GZIP, then multibase base64url without padding.
"""

import re
import zlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, Literal, get_args

from credentials.standards.multiformats import MultiformatError, base64url_decode, multibase_encode
from credentials.standards.signing import CREDENTIALS_V2_CONTEXT, format_created

# The spec's minimum: 16 KiB of bits, so that one index hides among many (herd privacy).
MIN_ENTRIES: Final = 131072
# A list of MIN_ENTRIES bits is 16 KiB; anything past 16 MiB decompressed is an attack.
MAX_DECOMPRESSED_BYTES: Final = 16 * 1024 * 1024
STATUS_LIST_CREDENTIAL_TYPE: Final = "BitstringStatusListCredential"
STATUS_LIST_TYPE: Final = "BitstringStatusList"
STATUS_LIST_ENTRY_TYPE: Final = "BitstringStatusListEntry"
# zlib's default level and a zero mtime make the encoding deterministic and byte-identical to
# pako's (vc-js), and to the spec's example of an empty list.
_COMPRESSION_LEVEL: Final = 6
_GZIP_WBITS: Final = 31
# An index is a base-10 string; more digits than this cannot address any list we would read.
_INDEX: Final = re.compile(r"[0-9]{1,12}")

StatusPurpose = Literal["revocation", "suspension"]
STATUS_PURPOSES: Final[tuple[StatusPurpose, ...]] = get_args(StatusPurpose)


class StatusListError(ValueError):
    """Raised when a status list, its encoding, an index or a list credential is malformed."""


# ---------------------------------------------------------------- bitstrings


def empty_bitstring(entries: int = MIN_ENTRIES) -> bytes:
    """Return an all-zero bitstring of `entries` bits; raises StatusListError below MIN_ENTRIES."""
    if entries < MIN_ENTRIES or entries % 8:
        raise StatusListError(
            f"a status list needs a multiple of 8 and at least {MIN_ENTRIES} entries, got {entries}"
        )
    return bytes(entries // 8)


def get_bit(bitstring: bytes, index: int) -> bool:
    """Return the bit at index (0 = most significant bit of byte 0); raises StatusListError out of range."""
    _check_index(bitstring, index)
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))


def set_bit(bitstring: bytes, index: int, value: bool) -> bytes:
    """Return a copy of bitstring with the bit at index set to value; raises StatusListError out of range."""
    _check_index(bitstring, index)
    changed = bytearray(bitstring)
    mask = 0x80 >> (index % 8)
    if value:
        changed[index // 8] |= mask
    else:
        changed[index // 8] &= 0xFF ^ mask
    return bytes(changed)


def _check_index(bitstring: bytes, index: int) -> None:
    """Raise StatusListError unless index is an int addressing a bit of bitstring."""
    if isinstance(index, bool) or not isinstance(index, int):
        raise StatusListError(f"a status list index must be an integer, got {index!r}")
    if not 0 <= index < len(bitstring) * 8:
        raise StatusListError(
            f"index {index} is outside the status list (0 to {len(bitstring) * 8 - 1})"
        )


# ---------------------------------------------------------------- encodedList


def encode_list(bitstring: bytes) -> str:
    """Return the deterministic encodedList ('u' + base64url(GZIP)); raises StatusListError if too short."""
    if len(bitstring) * 8 < MIN_ENTRIES:
        raise StatusListError(
            f"a status list needs at least {MIN_ENTRIES} entries, got {len(bitstring) * 8}"
        )
    compressor = zlib.compressobj(_COMPRESSION_LEVEL, zlib.DEFLATED, _GZIP_WBITS)
    compressed = compressor.compress(bytes(bitstring)) + compressor.flush()
    return multibase_encode(compressed, encoding="base64url")


def decode_list(
    encoded_list: str,
    *,
    max_bytes: int = MAX_DECOMPRESSED_BYTES,
    min_entries: int = MIN_ENTRIES,
) -> bytes:
    """Return the bitstring of an encodedList, never inflating past max_bytes; raises StatusListError."""
    if not isinstance(encoded_list, str) or not encoded_list.startswith("u"):
        raise StatusListError("encodedList must be multibase base64url text starting with 'u'")
    try:
        compressed = base64url_decode(encoded_list[1:])
    except MultiformatError as exc:
        raise StatusListError("encodedList is not base64url text") from exc
    decompressor = zlib.decompressobj(_GZIP_WBITS)
    try:
        # max_length bounds the output, so a small zip bomb cannot allocate its full size.
        bitstring = decompressor.decompress(compressed, max_bytes + 1)
    except zlib.error as exc:
        raise StatusListError("encodedList is not GZIP data") from exc
    if len(bitstring) > max_bytes:
        raise StatusListError(f"the status list inflates to more than {max_bytes} bytes")
    if not decompressor.eof:
        raise StatusListError("encodedList is truncated GZIP data")
    if decompressor.unused_data:
        raise StatusListError("encodedList has data after the end of its GZIP stream")
    if len(bitstring) * 8 < min_entries:
        raise StatusListError(
            f"the status list has {len(bitstring) * 8} entries, fewer than the {min_entries} required"
        )
    return bitstring


# ---------------------------------------------------------------- credentials and entries


def build_status_list_credential(
    *,
    list_url: str,
    issuer_did: str,
    purpose: StatusPurpose,
    encoded_list: str,
    valid_from: datetime,
) -> dict[str, Any]:
    """Return an unsigned VC 2.0 BitstringStatusListCredential; raises StatusListError if unreadable."""
    _check_purpose(purpose)
    # Refuse to publish a list that no verifier (including ours) would read.
    decode_list(encoded_list)
    return {
        "@context": [CREDENTIALS_V2_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", STATUS_LIST_CREDENTIAL_TYPE],
        "issuer": issuer_did,
        "validFrom": format_created(valid_from),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": STATUS_LIST_TYPE,
            "statusPurpose": purpose,
            "encodedList": encoded_list,
        },
    }


# The terms of a BitstringStatusListEntry as the status/v1 context defines them, inline: a
# VC 1.1 credential needs them (VC 2.0's base context has them), and a verifier that holds only
# the VC base contexts, as the W3C test suites do, can still read the credential offline.
STATUS_ENTRY_TERMS: Final = {
    "BitstringStatusListEntry": {
        "@id": "https://www.w3.org/ns/credentials/status#BitstringStatusListEntry",
        "@context": {
            "@protected": True,
            "id": "@id",
            "type": "@type",
            "statusListCredential": {
                "@id": "https://www.w3.org/ns/credentials/status#statusListCredential",
                "@type": "@id",
            },
            "statusListIndex": "https://www.w3.org/ns/credentials/status#statusListIndex",
            "statusPurpose": "https://www.w3.org/ns/credentials/status#statusPurpose",
        },
    }
}


def status_entry(
    *, list_url: str, purpose: StatusPurpose, index: int, entry_id: str | None = None
) -> dict[str, Any]:
    """Return a BitstringStatusListEntry for index in the list at list_url (id defaults to list_url#index)."""
    _check_purpose(purpose)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise StatusListError(f"a status list index must be a non-negative integer, got {index!r}")
    return {
        "id": entry_id if entry_id is not None else f"{list_url}#{index}",
        "type": STATUS_LIST_ENTRY_TYPE,
        "statusPurpose": purpose,
        # The spec writes the index as a base-10 string, so any size survives JSON.
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def parse_index(value: Any) -> int:
    """Return a statusListIndex (base-10 string or JSON integer) as an int; raises StatusListError."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and _INDEX.fullmatch(value):
        return int(value)
    raise StatusListError(f"statusListIndex must be a non-negative base-10 integer, got {value!r}")


def read_status(status_list_credential: Mapping[str, Any], *, purpose: str, index: int) -> bool:
    """Return the bit at index of a status list credential for purpose; raises StatusListError."""
    return get_bit(status_bits(status_list_credential, purpose=purpose), index)


def status_bits(status_list_credential: Mapping[str, Any], *, purpose: str) -> bytes:
    """Return the decoded bitstring of a status list credential for purpose; raises StatusListError."""
    if not isinstance(status_list_credential, Mapping):
        raise StatusListError("the status list credential is not a JSON object")
    if STATUS_LIST_CREDENTIAL_TYPE not in _values(status_list_credential.get("type")):
        raise StatusListError(
            f"the status list credential's type lacks {STATUS_LIST_CREDENTIAL_TYPE}"
        )
    subject = status_list_credential.get("credentialSubject")
    if not isinstance(subject, Mapping):
        raise StatusListError("the status list credential's credentialSubject is not an object")
    if STATUS_LIST_TYPE not in _values(subject.get("type")):
        raise StatusListError(f"the status list's type is not {STATUS_LIST_TYPE}")
    # The spec lets one list serve several purposes; the entry's purpose must be among them.
    purposes = _values(subject.get("statusPurpose"))
    if purpose not in purposes:
        raise StatusListError(
            f"the status list is for {', '.join(map(str, purposes)) or 'no purpose'}, not {purpose}"
        )
    encoded_list = subject.get("encodedList")
    if not isinstance(encoded_list, str):
        raise StatusListError("the status list has no encodedList")
    return decode_list(encoded_list)


def _check_purpose(purpose: str) -> None:
    """Raise StatusListError unless purpose is one this portal publishes."""
    if purpose not in STATUS_PURPOSES:
        raise StatusListError(f"status purpose must be one of {STATUS_PURPOSES}, got {purpose!r}")


def _values(value: Any) -> list[Any]:
    """Return a JSON-LD value as a list: a list as is, a missing value as [], anything else as [value]."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]
