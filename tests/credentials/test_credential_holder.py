"""Whom a credential was issued to, read from the golden OB 3.0 and EDC documents MESHE issues,
and compared with a person's addresses and name."""

import json
from pathlib import Path

import pytest

from credentials.standards.credential_holder import (
    Holder,
    HolderMatch,
    holder_of,
    match,
    normalised_name,
)

GOLDEN = Path(__file__).resolve().parent / "golden"
ANA = "ana.kowalska@example.eu"


@pytest.mark.parametrize("name", ["ob3-data-literacy.json", "edc-data-literacy.json"])
def test_the_holder_of_a_meshe_credential_is_its_learners_hashed_address_and_name(name):
    holder = holder_of(json.loads((GOLDEN / name).read_text()))
    assert holder.hashed_emails[0][1] == "c0ffee-5a17"
    assert holder.name == "Ana Kowalska"
    assert match(holder, addresses=["  Ana.Kowalska@Example.EU"], names=[]) is HolderMatch.ADDRESS
    # An address decides: the right name with another address is another person's.
    assert match(holder, addresses=["ana@other.eu"], names=["Ana Kowalska"]) is HolderMatch.OTHER


def test_a_hash_without_its_prefix_or_in_capitals_is_the_same_hash():
    document = json.loads((GOLDEN / "ob3-data-literacy.json").read_text())
    identity = document["credentialSubject"]["identifier"][0]
    identity["identityHash"] = identity["identityHash"].removeprefix("sha256$").upper()
    assert match(holder_of(document), addresses=[ANA], names=[]) is HolderMatch.ADDRESS


def test_an_address_in_clear_counts_as_one():
    holder = holder_of(
        {
            "credentialSubject": {
                "identifier": [
                    {
                        "identityHash": "Ana@Example.eu",
                        "identityType": "emailAddress",
                        "hashed": False,
                    }
                ]
            }
        }
    )
    assert match(holder, addresses=["ana@example.eu"], names=[]) is HolderMatch.ADDRESS


def test_with_no_address_the_name_decides_without_case_accents_or_spacing():
    holder = Holder(names=("JOSÉ  María  O'Neill",))
    assert match(holder, addresses=[ANA], names=["Jose Maria O Neill"]) is HolderMatch.NAME
    assert match(holder, addresses=[ANA], names=["Maria Jose"]) is HolderMatch.UNKNOWN
    assert normalised_name("  Zoë-Anne ") == "zoe anne"


def test_a_credential_naming_nobody_is_of_an_unknown_holder():
    assert match(holder_of({"credentialSubject": {}}), addresses=[ANA], names=[""]) is (
        HolderMatch.UNKNOWN
    )
    assert holder_of({"credentialSubject": "not an object"}) == Holder()
    # A hashed name says nothing that can be compared.
    hashed_name = {"identityHash": "sha256$00", "identityType": "name", "hashed": True}
    assert holder_of({"credentialSubject": {"identifier": [hashed_name]}}) == Holder()
