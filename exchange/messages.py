"""Parsing of the JSON bodies the exchange endpoints take. Pure; raises InvalidMessage."""

import json
from collections.abc import Mapping
from typing import Any, Final

MAX_TEXT: Final = 2000
PARTNERSHIP_TYPES: Final = frozenset({"request", "accept", "decline", "suspend", "resume", "end"})


class InvalidMessage(ValueError):
    """A body that is not the message an endpoint takes; the text says why."""


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidMessage(f"the body is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise InvalidMessage("the body must be a JSON object")
    return value


def text(message: Mapping[str, Any], name: str, *, required: bool = True, limit: int = 500) -> str:
    """A string member of at most `limit` characters ('' when optional and absent)."""
    value = message.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value) or len(value) > limit:
        raise InvalidMessage(f"{name} must be a non-empty string of at most {limit} characters")
    return value


def partnership_message(body: bytes, *, sender_did: str, receiver_did: str) -> dict[str, Any]:
    """A partnership message from sender_did to receiver_did."""
    message = json_object(body)
    message_type = message.get("type")
    if message_type not in PARTNERSHIP_TYPES:
        raise InvalidMessage(f"type must be one of {', '.join(sorted(PARTNERSHIP_TYPES))}")
    sender = message.get("from")
    if not isinstance(sender, dict):
        raise InvalidMessage("from must describe the sending institution")
    if text(sender, "did") != sender_did:
        raise InvalidMessage("from.did must be the DID whose key signed the request")
    if text(message, "to") != receiver_did:
        raise InvalidMessage("to must be the DID of the institution this endpoint serves")
    return {
        "type": message_type,
        "from": {
            "did": sender_did,
            "name": text(sender, "name", required=False, limit=200),
            "node": text(sender, "node"),
        },
        "to": receiver_did,
        "note": text(message, "note", required=False, limit=MAX_TEXT),
    }
