"""The OpenAPI 3.1 description of the JSON APIs, served at /api/v1/openapi.json.

Written by hand as data, next to the views it describes (credentials/api/views.py and the public
verifier); tests check it against the URL configuration and drive every operation with
schemathesis.
"""

import copy
from typing import Any, Final

# credentials.models.StatusReason's values (tests/credentials/test_status_changes.py checks).
STATUS_REASON_CODES: Final = (
    "issued_in_error",
    "academic_misconduct",
    "result_changed",
    "learner_request",
    "question_resolved",
    "suspended_in_error",
    "other",
)

JSON: Final = "application/json"
EXAMPLE_CREDENTIAL_ID: Final = "3f6f2c1e-8a55-4b8f-9d0e-2f4c1a7b9e21"
EXAMPLE_MICRO_CREDENTIAL_ID: Final = "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e"
EXAMPLE_DID: Final = "did:web:portal.example:institutions:uni-a"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _response(ref: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{ref}"}


def _json_body(schema: dict[str, Any], examples: dict[str, Any] | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": schema}
    if examples:
        content["examples"] = {name: {"value": value} for name, value in examples.items()}
    return {JSON: content}


def _errors(*statuses: str) -> dict[str, Any]:
    return {status: _response(ERROR_RESPONSES[status]) for status in statuses}


ERROR_RESPONSES: Final = {
    "400": "BadRequest",
    "401": "Unauthenticated",
    "403": "Forbidden",
    "404": "NotFound",
    "405": "MethodNotAllowed",
    "409": "Conflict",
    "413": "TooLarge",
    "422": "Invalid",
    "429": "TooManyRequests",
}

TOKEN: Final[list[dict[str, list[str]]]] = [{"bearerToken": []}]
PUBLIC: Final[list[dict[str, list[str]]]] = []

_RECIPIENT_PROPERTIES: Final = {
    "holder_name": {
        "type": "string",
        "minLength": 1,
        "maxLength": 200,
        "description": "The learner's name as it appears in the credential.",
    },
    "holder_email": {
        "type": "string",
        "format": "email",
        "maxLength": 254,
        "description": "Where the learner is told; only a salted hash goes into the credential.",
    },
    "awarded_date": {
        "type": "string",
        "format": "date",
        "description": "When the learner achieved it; not in the future.",
    },
    # Optional fields may also be null, which means the same as leaving them out.
    "grade": {"type": ["string", "null"], "maxLength": 100},
    "evidence_url": {
        "anyOf": [
            {"type": "string", "format": "uri", "maxLength": 200},
            {"enum": ["", None]},
        ]
    },
    "evidence_narrative": {"type": ["string", "null"], "maxLength": 10000},
}

_EXAMPLE_RECIPIENT: Final = {
    "holder_name": "Ana Kowalska",
    "holder_email": "ana@example.eu",
    "awarded_date": "2026-06-30",
    "grade": "8.5",
}

_EXAMPLE_CREDENTIAL: Final = {
    "id": EXAMPLE_CREDENTIAL_ID,
    "credential_id": f"urn:uuid:{EXAMPLE_CREDENTIAL_ID}",
    "status": "issued",
    "micro_credential": {
        "id": EXAMPLE_MICRO_CREDENTIAL_ID,
        "title": "Data Literacy for Public Policy",
        "version": 1,
    },
    "holder_name": "Ana Kowalska",
    "holder_email": "ana@example.eu",
    "awarded_date": "2026-06-30",
    "issued_at": "2026-07-01T09:00:00Z",
    "valid_from": "2026-07-01T09:00:00Z",
    "valid_until": None,
    "grade": "8.5",
    "url": f"https://portal.example/credentials/{EXAMPLE_CREDENTIAL_ID}",
    "document_url": f"https://portal.example/credentials/{EXAMPLE_CREDENTIAL_ID}.json",
}

_EXAMPLE_UNSIGNED: Final = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "id": "urn:uuid:0a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
    "type": ["VerifiableCredential"],
    "issuer": EXAMPLE_DID,
    "validFrom": "2026-07-01T00:00:00Z",
    "credentialSubject": {
        "id": "did:example:ana",
        "name": "Ana Kowalska",
    },
}

_EXAMPLE_SIGNED: Final = {
    **_EXAMPLE_UNSIGNED,
    "proof": [
        {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2026-07-01T09:00:00Z",
            "verificationMethod": f"{EXAMPLE_DID}#key-1",
            "proofPurpose": "assertionMethod",
            "proofValue": "z3FXQjecWufY46yg5abdVZsXqLhxhueuSoZgNSARiKBk9czhSePTFehP8c3PGfb6a22gkfUKKgZHGJLs9j1yeyV4k",
        }
    ],
}

_EXAMPLE_RESULT: Final = {
    "verified": True,
    "trust": "known_issuer",
    "summary": {
        "format": "vc",
        "holder": "Nora Nieuw",
        "title": "Sustainable Urban Mobility Planning",
        "issuer": {
            "id": "did:web:meshe.example:institutions:aldermoor",
            "name": "University of Aldermoor",
            "declared_name": "University of Aldermoor",
            "confirmed": True,
        },
        "awarded": "2026-12-07",
        "ects": 4,
        "eqf": 6,
        "grade": None,
    },
    "key_fingerprint": "9f2c4b1a5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081",
    "source": "json",
    "checks": [
        {
            "check": "json",
            "ok": True,
            "detail": "Well-formed JSON (1834 bytes)",
            "code": "json.ok",
            "outcome": "passed",
            "params": {"size": "1834"},
        },
        {
            "check": "proof",
            "ok": True,
            "detail": "Valid eddsa-rdfc-2022 signature",
            "code": "proof.ok",
            "outcome": "passed",
            "params": {},
        },
    ],
    "errors": [],
    "error_code": None,
    "warnings": [],
}

_CHECK: Final = {
    "type": "object",
    "required": ["check", "ok", "detail"],
    "properties": {
        "check": {"type": "string"},
        "ok": {"type": "boolean"},
        "detail": {"type": "string", "description": "A plain English sentence."},
        "code": {
            "type": "string",
            "description": (
                "Stable: what happened, as <check>.<reason> (json.ok, json.not_json, "
                "json.image_without_credential, proof.bad_signature, status.revoked, "
                "issuer_known.unknown, seal.signature_invalid, edc_shapes.ok, "
                "<check>.not_checked…)."
            ),
        },
        "outcome": {"enum": ["passed", "failed", "not_checked"]},
        "params": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "The values the detail names, for saying it in another language.",
        },
    },
}

_SUMMARY: Final = {
    "description": (
        "What the credential claims, read from it (null when it is not readable as a "
        "credential). Parts it lacks are null. Only `issuer.confirmed` says whether this "
        "node vouches for the issuer's name."
    ),
    "oneOf": [
        {"type": "null"},
        {
            "type": "object",
            "required": ["format", "holder", "title", "issuer", "awarded", "ects", "eqf", "grade"],
            "properties": {
                "format": {"enum": ["vc", "edc"]},
                "holder": {"type": ["string", "null"], "description": "The holder's name."},
                "title": {"type": ["string", "null"]},
                "issuer": {
                    "type": "object",
                    "required": ["id", "name", "declared_name", "confirmed"],
                    "properties": {
                        "id": {"type": ["string", "null"]},
                        "name": {
                            "type": ["string", "null"],
                            "description": (
                                "The name this node knows the issuer by when confirmed, "
                                "else the name the credential declares."
                            ),
                        },
                        "declared_name": {"type": ["string", "null"]},
                        "confirmed": {
                            "type": "boolean",
                            "description": "An institution of this node or an agreed partner.",
                        },
                    },
                },
                "awarded": {
                    "type": ["string", "null"],
                    "format": "date",
                    "description": "The day of the award in Brussels.",
                },
                "ects": {"type": ["number", "null"]},
                "eqf": {"type": ["integer", "null"], "minimum": 1, "maximum": 8},
                "grade": {"type": ["string", "null"]},
            },
        },
    ],
}

SCHEMAS: Final[dict[str, Any]] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "examples": ["invalid_fields"]},
                    "message": {"type": "string"},
                    "fields": {
                        "type": "object",
                        "description": "Messages by field; items of a batch are recipients[N].field.",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                },
            }
        },
    },
    "Recipient": {
        "type": "object",
        "required": ["holder_name", "holder_email", "awarded_date"],
        "properties": _RECIPIENT_PROPERTIES,
        "additionalProperties": False,
    },
    "IssueRequest": {
        "type": "object",
        "required": ["micro_credential", "holder_name", "holder_email", "awarded_date"],
        "properties": {
            "micro_credential": {
                "type": "string",
                "format": "uuid",
                "description": "A published micro-credential of the token's institution.",
            },
            "valid_from": {
                "anyOf": [{"type": "string", "format": "date-time"}, {"enum": ["", None]}]
            },
            **_RECIPIENT_PROPERTIES,
        },
        "additionalProperties": False,
    },
    "BatchRequest": {
        "type": "object",
        "required": ["micro_credential", "recipients"],
        "properties": {
            "micro_credential": {"type": "string", "format": "uuid"},
            "valid_from": {
                "anyOf": [{"type": "string", "format": "date-time"}, {"enum": ["", None]}]
            },
            "recipients": {
                "type": "array",
                "minItems": 1,
                "maxItems": 100,
                "items": _ref("Recipient"),
            },
        },
        "additionalProperties": False,
    },
    "Credential": {
        "type": "object",
        "required": [
            "id",
            "credential_id",
            "status",
            "micro_credential",
            "holder_name",
            "holder_email",
            "awarded_date",
            "issued_at",
            "valid_from",
            "valid_until",
            "grade",
            "url",
            "document_url",
        ],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "credential_id": {"type": "string", "description": "The id inside the signed VC."},
            "status": {"type": "string", "enum": ["issued", "suspended", "revoked"]},
            "micro_credential": {
                "type": "object",
                "required": ["id", "title", "version"],
                "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "title": {"type": "string"},
                    "version": {"type": "integer", "minimum": 1},
                },
            },
            "holder_name": {"type": "string"},
            "holder_email": {"type": "string"},
            "awarded_date": {"type": "string", "format": "date"},
            "issued_at": {"type": "string", "format": "date-time"},
            "valid_from": {
                "anyOf": [{"type": "string", "format": "date-time"}, {"enum": ["", None]}]
            },
            "valid_until": {"type": ["string", "null"], "format": "date-time"},
            "grade": {"type": "string"},
            "url": {"type": "string", "format": "uri"},
            "document_url": {"type": "string", "format": "uri"},
        },
    },
    "CredentialWithDocument": {
        "allOf": [
            _ref("Credential"),
            {
                "type": "object",
                "required": ["document"],
                "properties": {
                    "document": {
                        "type": "object",
                        "description": "The signed Open Badges 3.0 credential (VC 2.0, eddsa-rdfc-2022).",
                    }
                },
            },
        ]
    },
    "CredentialList": {
        "type": "object",
        "required": ["credentials", "next_cursor"],
        "properties": {
            "credentials": {"type": "array", "items": _ref("Credential")},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as cursor for the next page; null on the last page.",
            },
        },
    },
    "StatusChangeRequest": {
        "type": "object",
        "properties": {
            "reason_code": {
                "type": ["string", "null"],
                "enum": [*STATUS_REASON_CODES, None],
                "description": "Why, from the portal's list; `other` with `reason` in words.",
            },
            "reason": {
                "type": ["string", "null"],
                "maxLength": 1000,
                "description": "Kept in the audit log and shown to the learner; never public.",
            },
        },
        "additionalProperties": False,
    },
    "VerificationResult": {
        "type": "object",
        "required": ["verified", "checks", "errors", "warnings"],
        "properties": {
            "verified": {"type": "boolean"},
            "trust": {
                "enum": ["known_issuer", "unknown_issuer", "invalid", "not_checkable"],
                "description": (
                    "How far to trust what the credential says. known_issuer: verified, and "
                    "issued by an institution of this node or an agreed partner. "
                    "unknown_issuer: the signature holds, but the issuer's name is its own "
                    "claim. invalid: a check failed (error_code names the first). "
                    "not_checkable: an unsealed European Digital Credential. A sealed one "
                    "(JAdES) is known_issuer when its certificate leads to a trust anchor "
                    "the operator configured, unknown_issuer otherwise."
                ),
            },
            "summary": _SUMMARY,
            "key_fingerprint": {
                "type": ["string", "null"],
                "description": (
                    "SHA-256 of the signing key's publicKeyMultibase, as institution pages "
                    "show it; null unless verified."
                ),
            },
            "source": {
                "enum": ["json", "png", "svg"],
                "description": "Where the credential was read: JSON itself or a badge image.",
            },
            "checks": {"type": "array", "items": _CHECK},
            "errors": {"type": "array", "items": {"type": "string"}},
            "error_code": {
                "type": ["string", "null"],
                "description": "The code of the first failed check, null when none failed.",
            },
            "warnings": {"type": "array", "items": {"type": "string"}},
            "proofs": {
                "type": "array",
                "description": "Each proof, only for a credential with several (a proof set "
                "or chain); see docs/standards.md.",
                "items": {
                    "type": "object",
                    "required": ["signer", "purpose", "role", "previousProof", "valid"],
                    "properties": {
                        "id": {"type": ["string", "null"]},
                        "verificationMethod": {"type": ["string", "null"]},
                        "signer": {"type": ["string", "null"]},
                        "purpose": {"type": ["string", "null"]},
                        "role": {"type": "string", "enum": ["issuer", "other"]},
                        "previousProof": {"type": "array", "items": {"type": "string"}},
                        "valid": {"type": "boolean"},
                        "detail": {"type": "string"},
                    },
                },
            },
            "seal": {
                "type": "object",
                "description": (
                    "Only for a sealed European Digital Credential: the JAdES seal's validity "
                    "and failure, algorithm, signing time, certificate (subject, issuer, "
                    "validity, fingerprint), trust (trusted, untrusted, no_anchors), whether "
                    "the certificate has expired since, and what it carries that was not "
                    "checked offline; see docs/standards.md."
                ),
            },
            "endorsements": {
                "type": "object",
                "description": (
                    "Only for a credential whose achievement carries endorsements: each "
                    "verified on its own (at most 10; not_checked counts the rest). A bad "
                    "endorsement never makes the credential invalid; see docs/standards.md."
                ),
                "required": ["checked", "not_checked"],
                "properties": {
                    "checked": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["id", "endorser", "comment", "state"],
                            "properties": {
                                "id": {"type": ["string", "null"]},
                                "endorser": {
                                    "type": ["object", "null"],
                                    "properties": {
                                        "id": {"type": "string"},
                                        "name": {"type": "string"},
                                        "known": {"type": "boolean"},
                                    },
                                },
                                "subject": {"type": "string"},
                                "comment": {"type": "string"},
                                "state": {
                                    "enum": [
                                        "verified",
                                        "endorser_unknown",
                                        "revoked",
                                        "invalid",
                                        "unchecked",
                                        "not_endorsement",
                                    ]
                                },
                            },
                        },
                    },
                    "not_checked": {"type": "integer", "minimum": 0},
                },
            },
        },
    },
    "PresentationVerificationResult": {
        "allOf": [
            _ref("VerificationResult"),
            {
                "type": "object",
                "required": ["credentials"],
                "properties": {
                    "credentials": {"type": "array", "items": _ref("VerificationResult")}
                },
            },
        ]
    },
    "FailedVerification": {
        "description": "A verification that did not pass: the full result, and the first error.",
        "allOf": [
            _ref("Error"),
            _ref("VerificationResult"),
            {"type": "object", "properties": {"verified": {"const": False}}},
        ],
    },
    "IssueCredentialRequest": {
        "type": "object",
        "required": ["credential"],
        "properties": {
            "credential": {
                "type": "object",
                "description": "An unsigned VC 2.0 (or 1.1) credential whose issuer is the token's institution's DID.",
            },
            "options": {
                "type": "object",
                "properties": {
                    "credentialId": {
                        "type": "string",
                        "description": "The credential's id (a URL); must equal credential.id when it has one. Unique on the node.",
                    },
                    "credentialStatus": {
                        "type": "boolean",
                        "default": True,
                        "description": "false: sign without this node's revocation and suspension entries (kept as 'without status', never revocable).",
                    },
                },
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
    },
    "IssueCredentialResponse": {
        "type": "object",
        "required": ["verifiableCredential"],
        "properties": {"verifiableCredential": {"type": "object"}},
    },
    "VerifyCredentialRequest": {
        "type": "object",
        "required": ["verifiableCredential"],
        "properties": {
            "verifiableCredential": {"type": "object"},
            "options": {"type": "object"},
        },
        "additionalProperties": False,
    },
    "VerifyPresentationRequest": {
        "type": "object",
        "required": ["verifiablePresentation"],
        "properties": {
            "verifiablePresentation": {"type": "object"},
            "options": {
                "type": "object",
                "properties": {
                    "challenge": {"type": "string"},
                    "domain": {"type": "string"},
                },
            },
        },
        "additionalProperties": False,
    },
    "StatusEntry": {
        "type": "object",
        "required": ["statusPurpose", "status"],
        "properties": {
            "type": {"const": "BitstringStatusListEntry"},
            "statusPurpose": {"type": "string", "enum": ["revocation", "suspension"]},
            "status": {
                "description": "true sets the status (revoked, suspended), false clears it.",
                "oneOf": [
                    {"type": "boolean"},
                    {"type": "string", "enum": ["true", "false", "1", "0", "revoked", "suspended"]},
                ],
            },
        },
    },
    "UpdateStatusRequest": {
        "type": "object",
        "required": ["credentialId", "credentialStatus"],
        "properties": {
            "credentialId": {
                "type": "string",
                "description": "The credential's id (urn:uuid:…) as issued by this portal.",
            },
            "credentialStatus": {
                "oneOf": [
                    _ref("StatusEntry"),
                    {"type": "array", "minItems": 1, "items": _ref("StatusEntry")},
                ]
            },
        },
        "additionalProperties": False,
    },
    "UpdateStatusResponse": {
        "type": "object",
        "required": ["credentialId", "credentialStatus"],
        "properties": {
            "credentialId": {"type": "string"},
            "credentialStatus": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["type", "statusPurpose", "status"],
                    "properties": {
                        "type": {"const": "BitstringStatusListEntry"},
                        "statusPurpose": {"type": "string"},
                        "status": {"type": "boolean"},
                    },
                },
            },
        },
    },
}

_ERROR_DESCRIPTIONS: Final = {
    "BadRequest": "The body is not JSON, not an object, or (VC-API) not a valid request.",
    "Unauthenticated": "No API token, a malformed or unknown one, or a revoked one.",
    "Forbidden": "The token lacks the scope this operation needs.",
    "NotFound": "No such credential or micro-credential at the token's institution.",
    "MethodNotAllowed": "The path exists, but not with this method.",
    "Conflict": "The credential or micro-credential is in a state that refuses the change.",
    "TooLarge": "The body is over the size limit.",
    "Invalid": "The body or query is well-formed but some fields are not valid.",
    "TooManyRequests": "Over the abuse limit: per token, or per address for the public verifiers.",
}

RESPONSES: Final[dict[str, Any]] = {
    name: {"description": description, "content": _json_body(_ref("Error"))}
    for name, description in _ERROR_DESCRIPTIONS.items()
}
RESPONSES["Unauthenticated"]["headers"] = {
    "WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer challenge."}
}
RESPONSES["TooManyRequests"]["headers"] = {
    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
}

_PUBLIC_ID: Final = {
    "name": "public_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
    "example": EXAMPLE_CREDENTIAL_ID,
}


def _status_change(action: str, summary: str) -> dict[str, Any]:
    return {
        "post": {
            "operationId": f"credential_{action}",
            "summary": summary,
            "tags": ["Issuer API"],
            "security": TOKEN,
            "description": "Needs the scope credentials:status. Idempotent.",
            "parameters": [_PUBLIC_ID],
            "requestBody": {
                "required": False,
                "content": _json_body(
                    _ref("StatusChangeRequest"),
                    {"reason": {"reason_code": "other", "reason": "Assessment irregularity"}},
                ),
            },
            "responses": {
                "200": {
                    "description": "The credential after the change.",
                    "content": _json_body(_ref("Credential")),
                },
                **_errors("400", "401", "403", "404", "409", "413", "422"),
            },
        }
    }


PATHS: Final[dict[str, Any]] = {
    "/api/v1/credentials": {
        "post": {
            "operationId": "credential_issue",
            "summary": "Issue one credential",
            "tags": ["Issuer API"],
            "security": TOKEN,
            "description": "Needs the scope credentials:issue. Signs at once; the learner is e-mailed.",
            "requestBody": {
                "required": True,
                "content": _json_body(
                    _ref("IssueRequest"),
                    {
                        "learner": {
                            "micro_credential": EXAMPLE_MICRO_CREDENTIAL_ID,
                            **_EXAMPLE_RECIPIENT,
                        }
                    },
                ),
            },
            "responses": {
                "201": {
                    "description": "Issued: the credential with its signed document.",
                    "headers": {"Location": {"schema": {"type": "string"}}},
                    "content": _json_body(_ref("CredentialWithDocument")),
                },
                **_errors("400", "401", "403", "404", "409", "413", "422"),
            },
        },
        "get": {
            "operationId": "credential_list",
            "summary": "List credentials, newest first",
            "tags": ["Issuer API"],
            "security": TOKEN,
            "description": "Needs the scope credentials:read. Cursor pagination.",
            "parameters": [
                {
                    "name": "status",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["issued", "suspended", "revoked"]},
                },
                {
                    "name": "micro_credential",
                    "in": "query",
                    "schema": {"type": "string", "format": "uuid"},
                },
                {"name": "holder_email", "in": "query", "schema": {"type": "string"}},
                {
                    "name": "issued_after",
                    "in": "query",
                    "schema": {"type": "string", "format": "date-time"},
                },
                {
                    "name": "issued_before",
                    "in": "query",
                    "schema": {"type": "string", "format": "date-time"},
                },
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
                },
                {"name": "cursor", "in": "query", "schema": {"type": "string"}},
            ],
            "responses": {
                "200": {
                    "description": "One page of credentials.",
                    "content": _json_body(
                        _ref("CredentialList"),
                        {"page": {"credentials": [_EXAMPLE_CREDENTIAL], "next_cursor": None}},
                    ),
                },
                **_errors("401", "403", "422"),
            },
        },
    },
    "/api/v1/credentials/batch": {
        "post": {
            "operationId": "credential_issue_batch",
            "summary": "Issue to many learners at once: all or nothing",
            "tags": ["Issuer API"],
            "security": TOKEN,
            "description": (
                "Needs the scope credentials:issue. Every item is checked first; when any is "
                "invalid nothing is issued and the answer names each item's errors."
            ),
            "requestBody": {
                "required": True,
                "content": _json_body(
                    _ref("BatchRequest"),
                    {
                        "two learners": {
                            "micro_credential": EXAMPLE_MICRO_CREDENTIAL_ID,
                            "recipients": [
                                _EXAMPLE_RECIPIENT,
                                {
                                    "holder_name": "Jan Novák",
                                    "holder_email": "jan@example.eu",
                                    "awarded_date": "2026-06-30",
                                },
                            ],
                        }
                    },
                ),
            },
            "responses": {
                "201": {
                    "description": "Issued, in the order given.",
                    "content": _json_body(
                        {
                            "type": "object",
                            "required": ["credentials"],
                            "properties": {
                                "credentials": {"type": "array", "items": _ref("Credential")}
                            },
                        }
                    ),
                },
                **_errors("400", "401", "403", "404", "409", "413", "422"),
            },
        }
    },
    "/api/v1/credentials/{public_id}": {
        "get": {
            "operationId": "credential_get",
            "summary": "One credential, with its signed document",
            "tags": ["Issuer API"],
            "security": TOKEN,
            "description": "Needs the scope credentials:read.",
            "parameters": [_PUBLIC_ID],
            "responses": {
                "200": {
                    "description": "The credential.",
                    "content": _json_body(_ref("CredentialWithDocument")),
                },
                **_errors("401", "403", "404"),
            },
        }
    },
    "/api/v1/credentials/{public_id}/revoke": _status_change("revoke", "Revoke for good"),
    "/api/v1/credentials/{public_id}/suspend": _status_change("suspend", "Suspend"),
    "/api/v1/credentials/{public_id}/reinstate": _status_change("reinstate", "Lift a suspension"),
    "/api/v1/verify": {
        "post": {
            "operationId": "verify",
            "summary": "Verify a credential (public)",
            "tags": ["Verification"],
            "security": PUBLIC,
            "description": (
                "What the credential claims (`summary`), how far to trust it (`trust`), and "
                "every named check with a plain-words detail and a stable code. Always 200: the "
                "verdict is in `verified` and `trust`, also for input that is not a credential "
                "at all. The body may be the credential's JSON, a baked Open Badges 3.0 badge "
                "image (PNG or SVG) or a European Digital Credential (read, not checkable)."
            ),
            "requestBody": {
                # Anything at all is answered with a verdict, so no body is "invalid".
                "required": False,
                "content": {
                    **_json_body(
                        {
                            "description": (
                                "A credential, ideally; anything else fails the json check."
                            )
                        },
                        {"credential": _EXAMPLE_SIGNED},
                    ),
                    "image/png": {"schema": {"type": "string", "format": "binary"}},
                    "image/svg+xml": {"schema": {"type": "string"}},
                },
            },
            "responses": {
                "200": {
                    "description": "The verdict.",
                    "content": _json_body(_ref("VerificationResult"), {"valid": _EXAMPLE_RESULT}),
                }
            },
        }
    },
    "/api/v1/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "tags": ["Verification"],
            "security": PUBLIC,
            "responses": {
                "200": {"description": "OpenAPI 3.1.", "content": _json_body({"type": "object"})}
            },
        }
    },
    "/vc-api/credentials/issue": {
        "post": {
            "operationId": "vc_api_issue_credential",
            "summary": "W3C VC-API: sign a credential as the token's institution",
            "tags": ["VC-API"],
            "security": TOKEN,
            "description": (
                "Needs the scope credentials:issue. Signs with eddsa-rdfc-2022 under the "
                "institution's did:web with its active key. The issuer must be that DID; "
                "terms no context defines are refused (JSON-LD safe mode), and so is a "
                "credential the VC Data Model 2.0 forbids (the error code names the rule, the "
                "message its section). The signed credential is kept and listed for the "
                "institution's staff, with a revocation and a suspension entry unless "
                "options.credentialStatus is false; its status changes through "
                "/vc-api/credentials/status. An id another credential on the node has is 409."
            ),
            "requestBody": {
                "required": True,
                "content": _json_body(
                    _ref("IssueCredentialRequest"),
                    {"credential": {"credential": _EXAMPLE_UNSIGNED, "options": {}}},
                ),
            },
            "responses": {
                "201": {
                    "description": "The signed credential.",
                    "content": _json_body(
                        _ref("IssueCredentialResponse"),
                        {"signed": {"verifiableCredential": _EXAMPLE_SIGNED}},
                    ),
                },
                **_errors("400", "401", "403", "409", "413"),
            },
        }
    },
    "/vc-api/credentials/verify": {
        "post": {
            "operationId": "vc_api_verify_credential",
            "summary": "W3C VC-API: verify a credential (public)",
            "tags": ["VC-API"],
            "security": PUBLIC,
            "description": (
                "VC 2.0 and VC 1.1; one proof, a proof set or a proof chain. 200 when it "
                "verifies, 400 with the full result when it does not."
            ),
            "requestBody": {
                "required": True,
                "content": _json_body(
                    _ref("VerifyCredentialRequest"),
                    {"credential": {"verifiableCredential": _EXAMPLE_SIGNED, "options": {}}},
                ),
            },
            "responses": {
                "200": {
                    "description": "Verified.",
                    "content": _json_body(_ref("VerificationResult"), {"valid": _EXAMPLE_RESULT}),
                },
                "400": {
                    "description": "Malformed, or does not verify (then with the full result).",
                    "content": _json_body({"anyOf": [_ref("FailedVerification"), _ref("Error")]}),
                },
                **_errors("405", "413"),
            },
        }
    },
    "/vc-api/presentations/verify": {
        "post": {
            "operationId": "vc_api_verify_presentation",
            "summary": "W3C VC-API: verify a presentation and its credentials (public)",
            "tags": ["VC-API"],
            "security": PUBLIC,
            "description": (
                "Checks the presentation's authentication proof, for options.challenge and "
                "options.domain when given, and verifies every credential in it."
            ),
            "requestBody": {
                "required": True,
                "content": _json_body(_ref("VerifyPresentationRequest")),
            },
            "responses": {
                "200": {
                    "description": "Verified.",
                    "content": _json_body(_ref("PresentationVerificationResult")),
                },
                "400": {
                    "description": "Malformed, or does not verify (then with the full result).",
                    "content": _json_body({"anyOf": [_ref("FailedVerification"), _ref("Error")]}),
                },
                **_errors("405", "413"),
            },
        }
    },
    "/vc-api/credentials/status": {
        "post": {
            "operationId": "vc_api_update_status",
            "summary": "W3C VC-API: revoke, suspend or reinstate a credential",
            "tags": ["VC-API"],
            "security": TOKEN,
            "description": (
                "Needs the scope credentials:status. Works on credentials issued through the "
                "issuer API or the portal and on those signed through /vc-api/credentials/issue "
                "with status entries (they carry BitstringStatusListEntry statuses). The change "
                "is recorded with the reason code other and the words “Changed through the "
                "VC-API.”; no answer carries a reason."
            ),
            "requestBody": {
                "required": True,
                "content": _json_body(
                    _ref("UpdateStatusRequest"),
                    {
                        "revoke": {
                            "credentialId": f"urn:uuid:{EXAMPLE_CREDENTIAL_ID}",
                            "credentialStatus": [
                                {
                                    "type": "BitstringStatusListEntry",
                                    "statusPurpose": "revocation",
                                    "status": True,
                                }
                            ],
                        }
                    },
                ),
            },
            "responses": {
                "200": {
                    "description": "The credential's status now.",
                    "content": _json_body(_ref("UpdateStatusResponse")),
                },
                **_errors("400", "401", "403", "404", "409", "413"),
            },
        }
    },
}

# Every operation but this document is behind an abuse limit (meshe.rate_limits).
for _operations in PATHS.values():
    for _operation in _operations.values():
        if _operation["operationId"] != "openapi":
            _operation["responses"]["429"] = _response(ERROR_RESPONSES["429"])

SPEC: Final[dict[str, Any]] = {
    "openapi": "3.1.0",
    "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
    "info": {
        "title": "MESHE API",
        "version": "1.0.0",
        "summary": "Issue, manage and verify signed micro-credentials.",
        "description": (
            "The issuer API lets an institution's own systems issue and manage Open Badges 3.0 "
            "credentials; tokens are made by the institution's administrators on its staff "
            "page and sent as `Authorization: Bearer meshe_…`. The VC-API endpoints follow the "
            "W3C VC-API so that standard tools and test suites can drive the portal. Every "
            'refusal is `{"error": {"code", "message", "fields"?}}`.'
        ),
        "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
    },
    "tags": [
        {"name": "Issuer API", "description": "Token-authenticated, per institution."},
        {"name": "VC-API", "description": "W3C Verifiable Credentials API."},
        {"name": "Verification", "description": "Public."},
    ],
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "responses": RESPONSES,
        "securitySchemes": {
            "bearerToken": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "meshe_<prefix>_<secret>",
                "description": (
                    "An institution's API token with scopes credentials:issue, "
                    "credentials:status and/or credentials:read."
                ),
            }
        },
    },
}


def document(*, base_url: str) -> dict[str, Any]:
    """The OpenAPI document with this node as its server."""
    spec = copy.deepcopy(SPEC)
    spec["servers"] = [{"url": base_url}]
    return spec
