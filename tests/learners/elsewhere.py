"""Credentials made elsewhere, for importing: signed here in the test with a fresh did:key
issuer, which any verifier resolves offline."""

import json
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.standards import didkey, signing
from credentials.standards.achievement import hash_email
from exchange.models import Partner, PartnerStatus
from tests.factories import InstitutionFactory


def ob3_credential(issuer_did: str, **changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:0b3f1c2e-7d7a-4c1e-9a53-2f5f0c9d8e11",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_did, "type": ["Profile"], "name": "Université d'Exemple"},
        "validFrom": "2025-01-01T00:00:00Z",
        "name": "Marine Biology Field Methods",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "urn:uuid:6c1b8a4e-1111-4a2b-8c3d-123456789abc",
                "type": ["Achievement"],
                "name": "Marine Biology Field Methods",
                "description": "Sampling and identifying coastal species.",
                "criteria": {"narrative": "Passed the field assessment."},
                "creditsAvailable": 3,
                "alignment": [
                    {
                        "type": ["Alignment"],
                        "targetType": "ext:EQFLevel",
                        "targetName": "Level 7",
                        "targetUrl": "http://data.europa.eu/snb/eqf/7",
                    }
                ],
            },
        },
    }
    document.update(changes)
    return document


SALT = "f3a1c9e2b7d4"


def holder_identifiers(*, email: str | None = None, name: str | None = None) -> list[dict]:
    """The subject's IdentityObjects as MESHE writes them: the address salted and hashed, the
    name in clear."""
    found: list[dict[str, Any]] = []
    if email is not None:
        found.append(
            {
                "type": "IdentityObject",
                "identityHash": hash_email(email, SALT),
                "identityType": "emailAddress",
                "hashed": True,
                "salt": SALT,
            }
        )
    if name is not None:
        found.append(
            {
                "type": "IdentityObject",
                "identityHash": name,
                "identityType": "name",
                "hashed": False,
            }
        )
    return found


def issuer_did(key: Ed25519PrivateKey) -> str:
    return didkey.did_key_for(key.public_key())


def known_partner(key: Ed25519PrivateKey, name: str = "Université d'Exemple") -> Partner:
    """Makes the did:key issuer of `key` a partner both sides confirmed: an issuer this
    portal knows."""
    return Partner.objects.create(
        institution=InstitutionFactory(),
        base_url="https://uni-x.example",
        did=issuer_did(key),
        name=name,
        status=PartnerStatus.CONFIRMED,
    )


def signed_elsewhere(
    *,
    key: Ed25519PrivateKey | None = None,
    holder_email: str | None = None,
    holder_name: str | None = None,
    **changes: Any,
) -> str:
    """A credential of a university that is not on this node, signed by a did:key issuer (a
    fresh one unless `key` is given), issued to whom `holder_email`/`holder_name` say (to
    nobody named when neither is given)."""
    key = key or Ed25519PrivateKey.generate()
    document = ob3_credential(issuer_did(key), **changes)
    identifiers = holder_identifiers(email=holder_email, name=holder_name)
    if identifiers:
        document["credentialSubject"]["identifier"] = identifiers
    signed = signing.sign_document(
        document,
        private_key=key,
        verification_method=didkey.verification_method_id_for(key.public_key()),
        created=signing.format_created(datetime(2025, 1, 1, tzinfo=UTC)),
    )
    return json.dumps(signed, ensure_ascii=False, indent=2)


def tampered(text: str) -> str:
    document = json.loads(text)
    document["name"] = document["credentialSubject"]["achievement"]["name"] = "Marine Biology PhD"
    return json.dumps(document)


EDC_DOCUMENT = {
    "@context": [
        "https://www.w3.org/2018/credentials/v1",
        "http://data.europa.eu/snb/model/context/edc-ap",
    ],
    "id": "urn:uuid:6f1c2b8e-3d4a-4e5b-9c7d-8e9f0a1b2c3d",
    "type": ["VerifiableCredential", "EuropeanDigitalCredential"],
    "issuer": {
        "id": "did:web:uni-x.example",
        "type": "Organisation",
        "legalName": {"en": "Universidad de Ejemplo"},
    },
    "issued": "2025-06-30T14:05:00Z",
    "credentialSubject": {
        "id": "urn:uuid:809752bc-8882-5b0b-81d4-b7649c99f301",
        "type": "Person",
        "hasClaim": {
            "id": "urn:uuid:ff813be3-501d-57bd-b0e4-9687164dc2e3",
            "type": "LearningAchievement",
            "title": {"en": "Applied Spanish B2"},
            "specifiedBy": {
                "id": "urn:uuid:ab13be3e-501d-57bd-b0e4-9687164dc2e3",
                "type": "LearningAchievementSpecification",
                "creditPoint": {
                    "framework": {"id": "http://data.europa.eu/snb/education-credit/6fcec5c5af"},
                    "point": "4",
                },
                "eqfLevel": {"id": "http://data.europa.eu/snb/eqf/5"},
            },
        },
    },
}
