"""The realistic micro-credential the benchmark signs: the builder tests' sample, and variants of it.

Every variant has the same shape and different per-learner values, as a day of issuing one
specification has.
"""

import dataclasses
from datetime import timedelta
from typing import Any

from credentials.standards import ob3
from credentials.standards.achievement import Holder, hash_email
from tests.credentials.builder_samples import AWARD, HOLDER, ISSUER, SPECIFICATION

_NAMES = ("Ana Kowalska", "Jan de Vries", "Zoë Ødegård", "Μαρία Παπαδοπούλου", "Łukasz Wąs")


def credential(*, issuer_did: str | None = None) -> dict[str, Any]:
    """Return the sample's unsigned credential, issued by issuer_did when given."""
    issuer = dataclasses.replace(ISSUER, did=issuer_did) if issuer_did else ISSUER
    return ob3.build_achievement_credential(
        issuer=issuer, specification=SPECIFICATION, holder=HOLDER, award=AWARD
    )


def credentials(count: int, *, issuer_did: str | None = None) -> list[dict[str, Any]]:
    """Return count unsigned credentials of the sample's shape, each for another learner."""
    issuer = dataclasses.replace(ISSUER, did=issuer_did) if issuer_did else ISSUER
    documents = []
    for number in range(count):
        salt = f"{number:08x}-5a17"
        name = f"{_NAMES[number % len(_NAMES)]} {number}"
        uuid = f"6f1c2b8e-3d4a-4e5b-9c7d-{number:012x}"
        holder = Holder(
            name=name,
            identity_hash=hash_email(f"learner{number}@example.eu", salt),
            salt=salt,
        )
        award = dataclasses.replace(
            AWARD,
            credential_id=f"urn:uuid:{uuid}",
            public_url=f"https://meshe.example/credentials/{uuid}",
            issued_at=AWARD.issued_at + timedelta(minutes=number),
            awarded_date=AWARD.awarded_date - timedelta(days=number % 30),
            valid_until=AWARD.valid_until + timedelta(minutes=number)
            if AWARD.valid_until
            else None,
            grade=f"{6 + number % 5}.{number % 10}",
            evidence=(
                dataclasses.replace(
                    AWARD.evidence[0],
                    url=f"https://uni-a.example.eu/portfolio/learner-{number}/data-story",
                ),
            ),
            status=tuple(
                dataclasses.replace(entry, index=1000 + 7 * number) for entry in AWARD.status
            ),
        )
        documents.append(
            ob3.build_achievement_credential(
                issuer=issuer, specification=SPECIFICATION, holder=holder, award=award
            )
        )
    return documents
