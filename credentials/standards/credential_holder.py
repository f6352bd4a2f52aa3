"""Whom a credential says it was issued to, and whether that is a given person.

Pure: plain values in, plain values out. Open Badges 3.0 names its holder in
`credentialSubject.identifier[]` (IdentityObjects: an e-mail address, salted and hashed as
MESHE issues it, or in clear; a name), a European Digital Credential in the subject's
`identifier` (its `notation` the same salted hash, the salt in its `schemeName`) and
`fullName`. Nothing here judges whether the document is authentic: the verifier does.
"""

import hmac
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from credentials.standards.achievement import IDENTITY_HASH_PREFIX, hash_email

# How credentials.standards.edc states the salt of its hashed identifier (HASH_SCHEME).
_EDC_SALT: Final = re.compile(r"followed by the salt '([^']*)'")


class HolderMatch(StrEnum):
    """How a credential's holder relates to a person."""

    ADDRESS = "address"  # a hashed or plain e-mail address of theirs
    NAME = "name"  # no e-mail address stated, and the name is theirs
    OTHER = "other"  # an e-mail address is stated, and none of theirs is it
    UNKNOWN = "unknown"  # neither an address nor a matching name


@dataclass(frozen=True, slots=True)
class Holder:
    """What a credential states about its holder."""

    hashed_emails: tuple[tuple[str, str], ...] = ()  # (identityHash, salt)
    emails: tuple[str, ...] = ()  # addresses given in clear
    names: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The first name stated, for display; empty when none is."""
        return self.names[0] if self.names else ""

    @property
    def states_an_address(self) -> bool:
        return bool(self.hashed_emails or self.emails)


def holder_of(document: Mapping[str, Any]) -> Holder:
    """The holder a credential (OB 3.0 / VC or EDC) states; empty when it states none."""
    subject = document.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else {}
    if not isinstance(subject, Mapping):
        return Holder()
    hashed: list[tuple[str, str]] = []
    emails: list[str] = []
    names: list[str] = []
    identifiers = subject.get("identifier")
    if isinstance(identifiers, Mapping):
        identifiers = [identifiers]
    for identity in identifiers if isinstance(identifiers, list) else []:
        if not isinstance(identity, Mapping):
            continue
        value = _text(identity.get("identityHash"))
        kind = _text(identity.get("identityType"))
        if value and kind == "emailAddress":
            if identity.get("hashed") is True:
                hashed.append((value, _text(identity.get("salt"))))
            else:
                emails.append(value)
        elif value and kind == "name" and identity.get("hashed") is not True:
            names.append(value)
        # EDC: the notation is the OB 3.0 hash, its scheme names the salt.
        notation = _text(identity.get("notation"))
        salt = _EDC_SALT.search(_text(identity.get("schemeName")))
        if notation.startswith(IDENTITY_HASH_PREFIX) and salt is not None:
            hashed.append((notation, salt.group(1)))
    for key in ("name", "fullName"):
        name = _language_text(subject.get(key))
        if name:
            names.append(name)
    given, family = (
        _language_text(subject.get("givenName")),
        _language_text(subject.get("familyName")),
    )
    if given and family:
        names.append(f"{given} {family}"[:_TEXT_LIMIT])
    email = _text(subject.get("email"))
    if email:
        emails.append(email)
    return Holder(hashed_emails=tuple(hashed), emails=tuple(emails), names=tuple(names))


def match(holder: Holder, *, addresses: Iterable[str], names: Iterable[str]) -> HolderMatch:
    """Whether the holder is the person with these (verified) addresses and names. An address
    decides when the credential states one: it is theirs, or another person's. Only when it
    states none does the name count, compared without case, accents or extra spaces."""
    own = {address.strip().lower() for address in addresses if address.strip()}
    if holder.states_an_address:
        if any(email.strip().lower() in own for email in holder.emails):
            return HolderMatch.ADDRESS
        for identity_hash, salt in holder.hashed_emails:
            if any(_same_hash(identity_hash, hash_email(address, salt)) for address in own):
                return HolderMatch.ADDRESS
        return HolderMatch.OTHER
    own_names = {normalised_name(name) for name in names} - {""}
    if any(normalised_name(name) in own_names for name in holder.names):
        return HolderMatch.NAME
    return HolderMatch.UNKNOWN


def normalised_name(name: str) -> str:
    """A name as two spellings of it compare: no case, accents, punctuation or extra spaces."""
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(
        " " if char in "-.,'\u2019" else char
        for char in decomposed
        if not unicodedata.combining(char)
    )
    return " ".join(letters.casefold().split())


def _same_hash(stated: str, computed: str) -> bool:
    # A hash written without its "sha256$" prefix, or in capitals, is the same hash.
    stated = stated.strip().lower().removeprefix(IDENTITY_HASH_PREFIX)
    return hmac.compare_digest(stated, computed.removeprefix(IDENTITY_HASH_PREFIX))


# What an import keeps of a stated name (ImportedCredential.holder_name holds 300 characters).
_TEXT_LIMIT: Final = 300


def _text(value: Any) -> str:
    # The rule of credential_summary._text: NUL cannot be stored in a PostgreSQL text column.
    return value.replace("\x00", "").strip()[:_TEXT_LIMIT] if isinstance(value, str) else ""


def _language_text(value: Any) -> str:
    """A plain string or a language map ({"en": "…"}): English when there is one."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, Mapping) and value:
        return _text(value.get("en")) or _text(next(iter(value.values())))
    return ""
