"""Parsing of the JSON bodies the exchange endpoints take: partnership messages, delivered
credentials and notices. Pure; raises InvalidMessage saying what is wrong."""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from django.utils.translation import gettext as _

from credentials.models import CredentialStatus
from credentials.standards import jades, strict_json
from credentials.standards.verification import DEFAULT_MAX_BYTES, is_sealed
from exchange.models import Decision, DeliveryFormat
from meshe import plain_text

MAX_TEXT: Final = 2000
MAX_LEARNER_NAME: Final = 200
MAX_REASON: Final = 2000
MAX_PROGRAMME: Final = 300
PARTNERSHIP_TYPES: Final = frozenset({"request", "accept", "decline", "suspend", "resume", "end"})


class InvalidMessage(ValueError):
    """A body that is not the message an endpoint takes; the text says why."""


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object."""
    try:
        return strict_json.load_object(body)
    except strict_json.JsonRefused as exc:
        if exc.problem is strict_json.Problem.NOT_OBJECT:
            raise InvalidMessage("the body must be a JSON object") from None
        raise InvalidMessage(f"the body is not JSON: {exc}") from None


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


# Delivered credentials and notices ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InboxMessage:
    """A credential delivered to our inbox, as parsed: the credential as an object (a sealed
    EDC's payload, for one sealed) and the exact JSON text it arrived in (the seal with it)."""

    credential: dict[str, Any]
    document: str
    learner_name: str
    note: str
    format: str = DeliveryFormat.OB3


def _top_level_values(text: str) -> dict[str, str]:
    """The exact JSON text of each member of the object `text` (which the strict reader has
    read, so no name repeats); raises ValueError when `text` is not one JSON object."""
    decoder = json.JSONDecoder()
    whitespace = re.compile(r"[ \t\n\r]*")

    def skip(index: int) -> int:
        match = whitespace.match(text, index)
        return match.end() if match else index

    index = skip(0)
    if text[index : index + 1] != "{":
        raise ValueError("not an object")
    index = skip(index + 1)
    values: dict[str, str] = {}
    if text[index : index + 1] == "}":
        return values
    while True:
        if text[index : index + 1] != '"':
            raise ValueError("expected a member name")
        name, index = json.decoder.scanstring(text, index + 1)  # type: ignore[attr-defined]  # public in CPython, untyped
        index = skip(index)
        if text[index : index + 1] != ":":
            raise ValueError("expected ':'")
        index = skip(index + 1)
        _value, end = decoder.raw_decode(text, index)
        values[name] = text[index:end]
        index = skip(end)
        if text[index : index + 1] == ",":
            index = skip(index + 1)
            continue
        if text[index : index + 1] == "}":
            break
        raise ValueError("expected ',' or '}'")
    if skip(index + 1) != len(text):
        raise ValueError("text after the object")
    return values


def _body_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, read strictly; raises InvalidMessage."""
    try:
        return strict_json.load_object(body)
    except strict_json.JsonRefused as exc:
        if exc.problem is strict_json.Problem.NOT_OBJECT:
            raise InvalidMessage(_("The body is not a JSON object.")) from None
        raise InvalidMessage(_("The body is not JSON.")) from exc


def inbox_message_parse(body: bytes) -> InboxMessage:
    """The delivered credential, learner and note of an inbox body; raises InvalidMessage
    saying what is wrong. Pure."""
    message = _body_object(body)
    text = body.decode("utf-8").removeprefix("\ufeff")
    credential = message.get("credential")
    if not isinstance(credential, dict):
        raise InvalidMessage(_("The message has no credential object."))
    delivery_format = DeliveryFormat.SEALED_EDC if is_sealed(credential) else DeliveryFormat.OB3
    if message.get("format", delivery_format) != delivery_format:
        raise InvalidMessage(
            _("format must be ob3 for a credential with a proof, sealed-edc for a sealed EDC.")
        )
    if delivery_format == DeliveryFormat.SEALED_EDC:
        credential = _sealed_payload(credential)
    if not isinstance(credential.get("id"), str) or not credential["id"].strip():
        raise InvalidMessage(_("The credential has no id."))
    if len(credential["id"]) > 500:
        raise InvalidMessage(_("The credential's id is too long."))
    learner = message.get("learner", {})
    if learner is None:
        learner = {}
    if not isinstance(learner, dict):
        raise InvalidMessage(_("learner must be an object."))
    name = learner.get("name", "")
    if name is None:
        name = ""
    if (
        not isinstance(name, str)
        or len(name) > MAX_LEARNER_NAME
        or plain_text.control_character_problem(name, multiline=False)
    ):
        raise InvalidMessage(
            _("learner.name must be text of at most %(count)s characters.")
            % {"count": MAX_LEARNER_NAME}
        )
    note = message.get("note", "")
    if note is None:
        note = ""
    if (
        not isinstance(note, str)
        or len(note) > MAX_TEXT
        or plain_text.control_character_problem(note)
    ):
        raise InvalidMessage(
            _("note must be text of at most %(count)s characters.") % {"count": MAX_TEXT}
        )
    try:
        document = _top_level_values(text)["credential"]
    except (ValueError, KeyError) as exc:  # the strict reader read it, so this is not expected
        raise InvalidMessage(_("The body is not a JSON object.")) from exc
    return InboxMessage(
        credential=credential,
        document=document,
        learner_name=name.strip(),
        note=note.strip(),
        format=delivery_format,
    )


def _sealed_payload(seal: Mapping[str, Any]) -> dict[str, Any]:
    """The EDC a JAdES seal carries, read strictly within the verifier's document cap (the
    seal itself is checked on verification); raises InvalidMessage."""
    try:
        return strict_json.load_object(jades.payload_text(seal), max_bytes=DEFAULT_MAX_BYTES)
    except strict_json.JsonRefused as exc:
        if exc.problem is strict_json.Problem.TOO_LARGE:
            raise InvalidMessage(
                _("The sealed credential is larger than %(size)s KiB.")
                % {"size": DEFAULT_MAX_BYTES // 1024}
            ) from None
        raise InvalidMessage(_("The sealed credential's payload is not a JSON object.")) from None
    except ValueError:
        raise InvalidMessage(_("The sealed credential is not a JAdES seal.")) from None


def _decision_message(body: Mapping[str, Any]) -> dict[str, Any]:
    decision = body.get("decision")
    if decision not in (Decision.RECOGNISED, Decision.DECLINED):
        raise InvalidMessage(_("decision must be recognised or declined."))
    ects = body.get("ects")
    if ects is not None:
        if isinstance(ects, bool) or not isinstance(ects, int | float | str):
            raise InvalidMessage(_("ects must be a number."))
        try:
            ects = Decimal(str(ects)).quantize(Decimal("0.1"))
        except ArithmeticError as exc:
            raise InvalidMessage(_("ects must be a number.")) from exc
        if not Decimal(0) <= ects < Decimal(1000):
            raise InvalidMessage(_("ects must be between 0 and 999."))
    texts = {}
    for name, limit in (("programme", MAX_PROGRAMME), ("reason", MAX_REASON)):
        value = body.get(name) or ""
        if (
            not isinstance(value, str)
            or len(value) > limit
            or plain_text.control_character_problem(value, multiline=name != "programme")
        ):
            raise InvalidMessage(
                _("%(name)s must be text of at most %(count)s characters.")
                % {"name": name, "count": limit}
            )
        texts[name] = value.strip()
    decided = body.get("decidedAt")
    try:
        decided_at = datetime.fromisoformat(decided) if isinstance(decided, str) else None
    except ValueError:
        decided_at = None
    if decided_at is None or decided_at.tzinfo is None:
        raise InvalidMessage(_("decidedAt must be a date and time with a time zone."))
    return {
        "type": "decision",
        "credentialId": body["credentialId"],
        "decision": decision,
        "ects": ects,
        **texts,
        "decidedAt": decided_at,
    }


def notice_message_parse(body: bytes) -> dict[str, Any]:
    """A decision or status notice, checked and with typed values; raises InvalidMessage."""
    message = _body_object(body)
    if message.get("type") == "adoption":
        return _adoption_message(message)
    if message.get("type") == "endorsement":
        return _endorsement_message(message)
    credential_id = message.get("credentialId")
    if not isinstance(credential_id, str) or not credential_id or len(credential_id) > 500:
        raise InvalidMessage(_("credentialId must be the credential's id."))
    if message.get("type") == "decision":
        return _decision_message(message)
    if message.get("type") == "status":
        if message.get("status") not in CredentialStatus.values:
            raise InvalidMessage(_("status must be issued, suspended or revoked."))
        return {"type": "status", "credentialId": credential_id, "status": message["status"]}
    raise InvalidMessage(_("type must be decision, status, adoption or endorsement."))


def _adoption_message(message: Mapping[str, Any]) -> dict[str, Any]:
    offer_id, adopted = message.get("offerId"), message.get("adopted")
    if not isinstance(offer_id, str) or not offer_id or len(offer_id) > 500:
        raise InvalidMessage(_("offerId must be the offer's id from the catalogue feed."))
    if not isinstance(adopted, bool):
        raise InvalidMessage(_("adopted must be true or false."))
    note = message.get("note") or ""
    if (
        not isinstance(note, str)
        or len(note) > MAX_TEXT
        or plain_text.control_character_problem(note)
    ):
        raise InvalidMessage(_("note must be plain text of at most 2,000 characters."))
    ects = None
    if adopted:
        try:
            ects = Decimal(str(message.get("recognisedEcts")))
        except ArithmeticError as exc:
            raise InvalidMessage(_("recognisedEcts must be a number.")) from exc
        if not ects.is_finite() or not 0 <= ects < 1000:
            raise InvalidMessage(_("recognisedEcts must be between 0 and 999."))
    return {"type": "adoption", "offerId": offer_id, "adopted": adopted, "ects": ects, "note": note}


def _endorsement_message(message: Mapping[str, Any]) -> dict[str, Any]:
    """An endorsement notice: the offer and the signed EndorsementCredential (verified by the
    receiver, never trusted for being in the message)."""
    offer_id, endorsement = message.get("offerId"), message.get("endorsement")
    if not isinstance(offer_id, str) or not offer_id or len(offer_id) > 500:
        raise InvalidMessage(_("offerId must be the offer's id from the catalogue feed."))
    if not isinstance(endorsement, dict):
        raise InvalidMessage(_("endorsement must be the signed EndorsementCredential."))
    return {"type": "endorsement", "offerId": offer_id, "endorsement": endorsement}
