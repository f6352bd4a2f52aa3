"""The W3C VC Data Model 2.0 rules MESHE enforces beyond the core shape, for signing and verifying.

One validator, so that what the issuer refuses to sign and what the verifier refuses to accept
never drift apart. Each refusal has a stable code (for the APIs) and an English sentence that
names the section of the VC Data Model 2.0 Recommendation it comes from. It is pure: the
digests of related resources are checked offline, against the bundled contexts only.

The core shape (@context, type, issuer, credentialSubject, dates) stays with the verifier's
data_model check and the VC-API's request checks; this module covers the optional properties
whose members the Recommendation constrains.
"""

import base64
import binascii
import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from credentials.standards.jsonld.loader import CONTEXTS_DIR, bundled_index
from credentials.standards.multiformats import MultiformatError, multibase_decode

SPEC: Final = "VC Data Model 2.0"
VERIFIABLE_CREDENTIAL: Final = "VerifiableCredential"

# property → its section: each value, or each member of a list, is an object with a type.
TYPED_PROPERTIES: Final[Mapping[str, str]] = {
    "credentialStatus": "§4.10",
    "credentialSchema": "§4.11",
    "refreshService": "§5.4",
    "termsOfUse": "§5.5",
    "evidence": "§5.6",
}
RELATED_RESOURCE_SECTION: Final = "§5.3"
NAMES_SECTION: Final = "§4.6"
_CODES: Final[Mapping[str, str]] = {
    "credentialStatus": "credential_status",
    "credentialSchema": "credential_schema",
    "refreshService": "refresh_service",
    "termsOfUse": "terms_of_use",
    "evidence": "evidence",
}

# SRI algorithm (W3C Subresource Integrity) → hashlib name.
_SRI_ALGORITHMS: Final = {"sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}
# Multihash code → hashlib name; a bare 32-byte digestMultibase (as the W3C test suite sends)
# is read as SHA-256.
_MULTIHASH: Final = {0x12: "sha256", 0x20: "sha384", 0x13: "sha512"}

# Earlier published revisions of bundled contexts, which a related resource may still name:
# SHA-256 and SHA-384 of the bytes. The VC 2.0 base context of 2024-07-03 (w3c/vc-data-model
# 8d0ee107, quoted by the 2024 Candidate Recommendations; tests/standards/vc-data-model/).
PUBLISHED_REVISIONS: Final[Mapping[str, tuple[Mapping[str, str], ...]]] = {
    "https://www.w3.org/ns/credentials/v2": (
        {
            "sha256": "24a18c90e9856d526111f29376e302d970b2bd10182e33959995b0207d7043b9",
            "sha384": "35239c36999d2155312091af194a1edb61634d6ad789a5e5b19f2aebdd762dd9"
            "d1dcaada40eda7ef921c6b8c0ae107a0",
        },
    ),
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken rule: a stable code and a sentence naming the section."""

    code: str
    message: str


class DataModelError(ValueError):
    """The document breaks VC Data Model 2.0 rules; `problems` lists each, `detail` joins them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        self.detail = "; ".join(problem.message for problem in problems)
        super().__init__(self.detail)

    @property
    def code(self) -> str:
        return self.problems[0].code


def is_credential(document: Mapping[str, Any]) -> bool:
    """Whether the document says it is a verifiable credential (the rules apply to those only)."""
    types = document.get("type")
    return VERIFIABLE_CREDENTIAL in (types if isinstance(types, list) else [types])


def check(document: Mapping[str, Any]) -> None:
    """Raise DataModelError naming every broken rule; return quietly for a valid credential."""
    found = problems(document)
    if found:
        raise DataModelError(found)


def problems(document: Mapping[str, Any]) -> list[Problem]:
    """Return every broken rule of the credential, in a fixed order; empty when it is valid."""
    found: list[Problem] = []
    for name, section in TYPED_PROPERTIES.items():
        if name in document:
            found.extend(_typed_problems(name, document[name], section))
    if "relatedResource" in document:
        found.extend(_related_resource_problems(document["relatedResource"]))
    issuer = document.get("issuer")
    if isinstance(issuer, Mapping):
        for name in ("name", "description"):
            if name in issuer and not is_language_string(issuer[name]):
                found.append(_name_problem(f"issuer.{name}", f"issuer_{name}"))
    for name in ("name", "description"):
        if name in document and not is_language_string(document[name]):
            found.append(_name_problem(name, name))
    return found


def _where(section: str) -> str:
    return f"({SPEC} {section})"


def _typed_problems(name: str, value: Any, section: str) -> list[Problem]:
    code = _CODES[name]
    members = value if isinstance(value, list) else [value]
    if not members or not all(isinstance(member, Mapping) for member in members):
        return [
            Problem(
                f"{code}_not_object",
                f"{name} must be an object or a list of objects {_where(section)}",
            )
        ]
    found = []
    if not all(_has_type(member) for member in members):
        found.append(Problem(f"{code}_type_missing", f"{name} needs a type {_where(section)}"))
    if name in ("credentialStatus", "credentialSchema"):
        # Both point somewhere: a status list entry (optional id) or a schema (required id).
        required = name == "credentialSchema"
        for member in members:
            if "id" not in member and not required:
                continue
            if not _is_url(member.get("id")):
                found.append(
                    Problem(
                        f"{code}_id_invalid", f"{name} needs an id that is a URL {_where(section)}"
                    )
                )
                break
    return found


def _has_type(member: Mapping[str, Any]) -> bool:
    types = member.get("type")
    types = types if isinstance(types, list) else [types]
    return bool(types) and all(isinstance(each, str) and each for each in types)


def _is_url(value: Any) -> bool:
    """A single absolute URL, as §4.4 asks of identifiers: a scheme, a colon, no spaces."""
    if not isinstance(value, str) or ":" not in value or any(c.isspace() for c in value):
        return False
    scheme = value.split(":", 1)[0]
    return bool(scheme) and scheme[0].isalpha() and all(c.isalnum() or c in "+.-" for c in scheme)


def is_language_string(value: Any) -> bool:
    """A string, a language value object (@value, with @language or @direction), or a list of them."""
    values = value if isinstance(value, list) else [value]
    return bool(values) and all(_is_language_value(each) for each in values)


def _is_language_value(value: Any) -> bool:
    if isinstance(value, str):
        return True
    if not isinstance(value, Mapping) or not isinstance(value.get("@value"), str):
        return False
    if set(value) - {"@value", "@language", "@direction"}:
        return False
    return all(isinstance(value[key], str) for key in ("@language", "@direction") if key in value)


def _name_problem(where: str, code: str) -> Problem:
    return Problem(
        f"{code}_invalid",
        f"{where} must be a string or a language value object {_where(NAMES_SECTION)}",
    )


# ---------------------------------------------------------------- related resources


def _related_resource_problems(value: Any) -> list[Problem]:
    where = _where(RELATED_RESOURCE_SECTION)
    members = value if isinstance(value, list) else [value]
    if not members or not all(isinstance(member, Mapping) for member in members):
        return [
            Problem(
                "related_resource_not_object",
                f"relatedResource must be one or more objects, each with an id and a digest {where}",
            )
        ]
    found: list[Problem] = []
    seen: set[str] = set()
    for member in members:
        resource = member.get("id")
        if not _is_url(resource):
            found.append(
                Problem(
                    "related_resource_id_missing",
                    f"Each relatedResource needs an id that is a URL {where}",
                )
            )
            continue
        if resource in seen:
            found.append(
                Problem(
                    "related_resource_id_duplicate",
                    f"relatedResource lists {resource} more than once {where}",
                )
            )
        seen.add(resource)
        if "digestSRI" not in member and "digestMultibase" not in member:
            found.append(
                Problem(
                    "related_resource_digest_missing",
                    f"relatedResource {resource} needs a digestSRI or a digestMultibase {where}",
                )
            )
            continue
        found.extend(_digest_problems(resource, member))
    return found


def _digest_problems(resource: str, member: Mapping[str, Any]) -> list[Problem]:
    """Each digest must be well-formed; for a bundled resource it must match its bytes."""
    where = _where(RELATED_RESOURCE_SECTION)
    found = []
    for name, read in (("digestSRI", _read_sri), ("digestMultibase", _read_multibase)):
        if name not in member:
            continue
        digests = read(member[name])
        if digests is None:
            found.append(
                Problem(
                    "related_resource_digest_invalid",
                    f"The {name} of relatedResource {resource} is not a digest this verifier can read {where}",
                )
            )
            continue
        known = known_digests(resource)
        if known is None:
            continue  # not bundled: nothing is fetched, so it cannot be checked here
        if not any(
            known_digest.get(algorithm) == digest.hex()
            for algorithm, digest in digests
            for known_digest in known
        ):
            found.append(
                Problem(
                    "related_resource_digest_mismatch",
                    f"The {name} of relatedResource {resource} does not match the resource {where}",
                )
            )
    return found


def _read_sri(value: Any) -> list[tuple[str, bytes]] | None:
    """(algorithm, digest) pairs of an SRI value such as "sha384-<base64>"; None if unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    digests = []
    for token in value.split():
        algorithm, _dash, encoded = token.partition("-")
        encoded = encoded.split("?", 1)[0]  # SRI options follow a "?"
        if algorithm not in _SRI_ALGORITHMS or not encoded:
            return None
        try:
            # The standard alphabet, though the W3C suite sends base64url: both are unambiguous.
            digest = base64.b64decode(
                encoded.replace("-", "+").replace("_", "/") + "=" * (-len(encoded) % 4),
                validate=True,
            )
        except (binascii.Error, ValueError):
            return None
        if len(digest) != hashlib.new(_SRI_ALGORITHMS[algorithm]).digest_size:
            return None
        digests.append((_SRI_ALGORITHMS[algorithm], digest))
    return digests


def _read_multibase(value: Any) -> list[tuple[str, bytes]] | None:
    """The (algorithm, digest) of a multibase multihash, or of a bare 32-byte SHA-256 digest."""
    values = value if isinstance(value, list) else [value]
    digests = []
    for each in values:
        try:
            data = multibase_decode(each)
        except MultiformatError:
            return None
        if len(data) >= 2 and data[0] in _MULTIHASH and data[1] == len(data) - 2:
            algorithm = _MULTIHASH[data[0]]
            if hashlib.new(algorithm).digest_size != data[1]:
                return None
            digests.append((algorithm, data[2:]))
        elif len(data) == hashlib.sha256().digest_size:
            digests.append(("sha256", data))
        else:
            return None
    return digests or None


@functools.cache
def known_digests(resource: str) -> tuple[Mapping[str, str], ...] | None:
    """The hex digests of a bundled resource (its bundled bytes and published revisions), or None."""
    file_name = bundled_index().get(resource)
    if file_name is None:
        return None
    data = (CONTEXTS_DIR / file_name).read_bytes()
    bundled = {name: hashlib.new(name, data).hexdigest() for name in ("sha256", "sha384", "sha512")}
    return (bundled, *PUBLISHED_REVISIONS.get(resource, ()))
