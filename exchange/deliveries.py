"""Credentials sent to partners for recognition, and those partners sent us: services (writes,
atomic and audited) and selectors (reads, told who is asking).

Sending: `delivery_create` queues a Delivery that the outbox (exchange.outbox) signs and POSTs
to the partner's inbox. Receiving: `incoming_receive` verifies and stores what arrives at our
inbox, once per credential; `incoming_decide` records a recognition decision and sends it back
as a signed notice, which `delivery_decision_receive` records on the sender's side, and
`delivery_decision_notify` e-mails to the credential's holder.
"""

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final
from uuid import UUID

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from credentials import verifier
from credentials.models import CredentialEvent, CredentialStatus, IssuedCredential
from exchange import outbox, tasks
from exchange.exceptions import ExchangeError
from exchange.models import (
    Decision,
    Delivery,
    DeliveryAttempt,
    IncomingCredential,
    IncomingStatus,
    NoticeKind,
    OutboxStatus,
    Partner,
    PartnerStatus,
)
from institutions import selectors as institution_selectors
from institutions.models import Institution, Membership
from institutions.services import audit
from learners.explanations import (
    Element,
    concept_label,
    eqf_explanation,
    number_text,
    workload_explanation,
)
from learners.models import User
from meshe import plain_text

MAX_LEARNER_NAME: Final = 200
MAX_NOTE: Final = 2000
MAX_REASON: Final = 2000
MAX_PROGRAMME: Final = 300
# Checks a delivered credential must pass to be stored at all: it is readable, it is a
# credential, and the sender's key signed it. Status and validity are stored, not refused.
REQUIRED_CHECKS: Final = ("json", "data_model", "proof", "issuer_key")
# Rows of a delivery's attempt log the staff list shows.
ATTEMPTS_SHOWN: Final = 5
IN_FLIGHT: Final = (OutboxStatus.QUEUED, OutboxStatus.SENDING, OutboxStatus.DELIVERED)


class DeliveryError(ExchangeError):
    """A refused delivery, retry or recognition decision."""


class MessageInvalid(ValueError):
    """A message at our inbox or notices endpoint that is not the message it takes."""


class CredentialNotVerified(ValueError):
    """A delivered credential that fails verification or is not the sender's."""

    def __init__(self, detail: str, *, failed: Sequence[str], result: Mapping[str, Any]) -> None:
        super().__init__(detail)
        self.detail = detail
        self.failed = list(failed)
        self.result = result


class UnknownCredential(LookupError):
    """A notice about a credential we never sent or received from this partner."""


# Sending -----------------------------------------------------------------------------------


def _credential_problem(credential: IssuedCredential, now: datetime) -> str | None:
    if credential.status == CredentialStatus.REVOKED:
        return _("The credential is revoked.")
    if credential.status == CredentialStatus.SUSPENDED:
        return _("The credential is suspended.")
    if credential.valid_until is not None and credential.valid_until <= now:
        return _("The credential has expired.")
    return None


def _check_sendable(*, credential: IssuedCredential, partner: Partner, now: datetime) -> None:
    if partner.institution_id != credential.institution_id:
        raise DeliveryError(_("This partner is not a partner of the credential's issuer."))
    if partner.status != PartnerStatus.CONFIRMED:
        raise DeliveryError(
            _("%(partner)s is not an agreed partner (partnership: %(status)s).")
            % {"partner": partner.name, "status": partner.get_status_display()}
        )
    problem = _credential_problem(credential, now)
    if problem is not None:
        raise DeliveryError(problem)


@transaction.atomic
def delivery_create(
    *,
    credential: IssuedCredential,
    partner: Partner,
    actor: User | None,
    by_learner: bool,
    note: str,
) -> Delivery:
    """Queues the credential for the partner and sends it on commit. Idempotent per (partner,
    credential): a second call returns the existing delivery, queued again if it had failed.
    Raises DeliveryError for a partner that is not agreed or not the issuer's, or a credential
    that is revoked, suspended or expired."""
    now = timezone.now()
    _check_sendable(credential=credential, partner=partner, now=now)
    note = note.strip()[:MAX_NOTE]
    existing = Delivery.objects.filter(partner=partner, credential=credential).first()
    if existing is None:
        try:
            with transaction.atomic():
                delivery = Delivery.objects.create(
                    partner=partner,
                    credential=credential,
                    requested_by=actor,
                    by_learner=by_learner,
                    consent_note=note,
                    next_attempt_at=now,
                )
        except IntegrityError:
            existing = Delivery.objects.get(partner=partner, credential=credential)
        else:
            audit(
                institution=credential.institution,
                actor=actor,
                action="delivery.created",
                delivery=str(delivery.public_id),
                credential=str(credential.public_id),
                partner=partner.name,
                by_learner=by_learner,
            )
            outbox.enqueue_on_commit(kind="delivery", pk=delivery.pk)
            return delivery
    if existing.status == OutboxStatus.FAILED:
        _requeue(existing, actor=actor, action="delivery.requeued", now=now)
    return existing


def _requeue(delivery: Delivery, *, actor: User | None, action: str, now: datetime) -> bool:
    """Moves a failed or queued delivery to queued, due now; audits and enqueues on commit.
    False when it was neither (a compare-and-set lost to a worker)."""
    changed = Delivery.objects.filter(
        pk=delivery.pk, status__in=(OutboxStatus.FAILED, OutboxStatus.QUEUED)
    ).update(status=OutboxStatus.QUEUED, next_attempt_at=now, failed_at=None, lease_until=None)
    if not changed:
        return False
    delivery.status = OutboxStatus.QUEUED
    delivery.next_attempt_at = now
    delivery.failed_at = None
    audit(
        institution=delivery.partner.institution,
        actor=actor,
        action=action,
        delivery=str(delivery.public_id),
        partner=delivery.partner.name,
    )
    outbox.enqueue_on_commit(kind="delivery", pk=delivery.pk)
    return True


@transaction.atomic
def deliveries_create_batch(
    *,
    credentials: Sequence[IssuedCredential],
    partner: Partner,
    actor: User | None,
    note: str,
) -> list[Delivery]:
    """Queues each credential for the partner (see delivery_create), all or none: raises one
    DeliveryError naming every credential that cannot be sent."""
    now = timezone.now()
    problems = []
    for credential in credentials:
        try:
            _check_sendable(credential=credential, partner=partner, now=now)
        except DeliveryError as exc:
            problems.append(f"{credential.holder_name}: {exc.message}")
    if problems:
        raise DeliveryError(_("Nothing was sent. %(problems)s") % {"problems": " ".join(problems)})
    return [
        delivery_create(
            credential=credential, partner=partner, actor=actor, by_learner=False, note=note
        )
        for credential in credentials
    ]


@transaction.atomic
def delivery_retry_now(*, delivery: Delivery, actor: User | None) -> Delivery:
    """Queues a failed or waiting delivery to be sent now, on commit. Raises DeliveryError
    when it is being sent or was delivered, or the partnership is not agreed."""
    if delivery.partner.status != PartnerStatus.CONFIRMED:
        raise DeliveryError(
            _("%(partner)s is not an agreed partner (partnership: %(status)s).")
            % {"partner": delivery.partner.name, "status": delivery.partner.get_status_display()}
        )
    if not _requeue(delivery, actor=actor, action="delivery.retried", now=timezone.now()):
        raise DeliveryError(_("This delivery is being sent or was delivered already."))
    return delivery


def status_notices_enqueue(*, credential: IssuedCredential) -> int:
    """Queues a status notice (sent on commit) to every partner holding a delivered or
    in-flight delivery of the credential; returns how many. Call it in the transaction of the
    status change."""
    deliveries = Delivery.objects.filter(
        credential=credential, status__in=IN_FLIGHT
    ).select_related("partner")
    count = 0
    for delivery in deliveries:
        outbox.notice_enqueue(
            partner=delivery.partner,
            kind=NoticeKind.STATUS,
            payload={
                "type": "status",
                "credentialId": credential.credential_id,
                "status": str(credential.status),
            },
        )
        count += 1
    return count


@transaction.atomic
def delivery_decision_receive(*, partner: Partner, message: Mapping[str, Any]) -> Delivery:
    """Records the partner's recognition decision on our delivery and e-mails it to the
    credential's holder on commit; raises UnknownCredential when we never delivered that
    credential to it. Idempotent: the same decision twice is recorded, audited and e-mailed
    once; a changed decision is e-mailed again."""
    public_id = _issued_public_id(message["credentialId"])
    delivery = (
        Delivery.objects.select_for_update()
        .filter(partner=partner, credential__public_id=public_id)
        .first()
        if public_id is not None
        else None
    )
    if delivery is None:
        raise UnknownCredential(message["credentialId"])
    fields = {
        "decision": message["decision"],
        "decision_ects": message["ects"],
        "decision_programme": message["programme"],
        "decision_reason": message["reason"],
        "decided_at": message["decidedAt"],
    }
    if all(getattr(delivery, name) == value for name, value in fields.items()):
        return delivery
    for name, value in fields.items():
        setattr(delivery, name, value)
    delivery.decision_notified_at = None
    delivery.save(update_fields=[*fields, "decision_notified_at"])
    audit(
        institution=partner.institution,
        actor=None,
        action="delivery.decided",
        delivery=str(delivery.public_id),
        partner=partner.name,
        decision=message["decision"],
        ects=None if message["ects"] is None else str(message["ects"]),
        programme=message["programme"],
        reason=message["reason"],
    )
    tasks.notify_decision.delay_on_commit(delivery.pk)
    return delivery


def decisions_notify_sweep(*, older_than: timedelta) -> int:
    """Enqueues the e-mail of decisions made more than `older_than` ago (by the partner's
    clock) that were not e-mailed, e.g. because the queue was down; returns how many."""
    pending = list(
        Delivery.objects.filter(
            decision_notified_at__isnull=True, decided_at__lte=timezone.now() - older_than
        )
        .exclude(decision=Decision.PENDING)
        .values_list("pk", flat=True)[:500]
    )
    for pk in pending:
        tasks.notify_decision.delay(pk)
    return len(pending)


@transaction.atomic
def delivery_decision_notify(*, delivery_id: int) -> None:
    """E-mails the credential's holder (their account's address, else the one it was issued
    to) the partner's decision with a link to the credential in their wallet, and records it
    on the credential's event log. Once per decision: does nothing for a delivery without a
    decision or whose decision was e-mailed already. The mail server's OSError rolls it all
    back, so the task's retry sends it."""
    delivery = (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("partner", "credential__holder", "credential__version")
        .filter(pk=delivery_id, decision_notified_at__isnull=True)
        .exclude(decision=Decision.PENDING)
        .first()
    )
    if delivery is None:
        return
    credential = delivery.credential
    holder = credential.holder
    email = holder.email if holder is not None and holder.email else credential.holder_email
    context = {
        "delivery": delivery,
        "credential": credential,
        "email": email,
        "url": settings.MESHE_BASE_URL
        + reverse("learners:credential", kwargs={"public_id": credential.public_id}),
    }
    delivery.decision_notified_at = timezone.now()
    delivery.save(update_fields=["decision_notified_at"])
    CredentialEvent.objects.create(
        credential=credential,
        actor=None,
        action=CredentialEvent.Action.NOTIFIED,
        reason=_("Recognition decision of %(partner)s e-mailed to %(email)s")
        % {"partner": delivery.partner.name, "email": email},
    )
    send_mail(
        subject=render_to_string("emails/recognition_decision_subject.txt", context).strip(),
        message=render_to_string("emails/recognition_decision.txt", context),
        from_email=None,
        recipient_list=[email],
    )


def _issued_public_id(credential_id: str) -> UUID | None:
    """The public id of one of our credentials from its document id (urn:uuid:…)."""
    if not credential_id.startswith("urn:uuid:"):
        return None
    try:
        return UUID(credential_id.removeprefix("urn:uuid:"))
    except ValueError:
        return None


# Receiving ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InboxMessage:
    """A credential delivered to our inbox, as parsed: the credential as an object and as the
    exact JSON text it arrived in."""

    credential: dict[str, Any]
    document: str
    learner_name: str
    note: str


def _top_level_values(text: str) -> dict[str, str]:
    """The exact JSON text of each member of the object `text` (the last one of a repeated
    name, as json.loads keeps); raises ValueError when `text` is not one JSON object."""
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


def inbox_message_parse(body: bytes) -> InboxMessage:
    """The delivered credential, learner and note of an inbox body; raises MessageInvalid
    saying what is wrong. Pure."""
    try:
        text = body.decode("utf-8")
        message = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MessageInvalid(_("The body is not JSON.")) from exc
    if not isinstance(message, dict):
        raise MessageInvalid(_("The body is not a JSON object."))
    credential = message.get("credential")
    if not isinstance(credential, dict):
        raise MessageInvalid(_("The message has no credential object."))
    if not isinstance(credential.get("id"), str) or not credential["id"].strip():
        raise MessageInvalid(_("The credential has no id."))
    if len(credential["id"]) > 500:
        raise MessageInvalid(_("The credential's id is too long."))
    learner = message.get("learner", {})
    if learner is None:
        learner = {}
    if not isinstance(learner, dict):
        raise MessageInvalid(_("learner must be an object."))
    name = learner.get("name", "")
    if name is None:
        name = ""
    if (
        not isinstance(name, str)
        or len(name) > MAX_LEARNER_NAME
        or plain_text.control_character_problem(name, multiline=False)
    ):
        raise MessageInvalid(
            _("learner.name must be text of at most %(count)s characters.")
            % {"count": MAX_LEARNER_NAME}
        )
    note = message.get("note", "")
    if note is None:
        note = ""
    if (
        not isinstance(note, str)
        or len(note) > MAX_NOTE
        or plain_text.control_character_problem(note)
    ):
        raise MessageInvalid(
            _("note must be text of at most %(count)s characters.") % {"count": MAX_NOTE}
        )
    try:
        document = _top_level_values(text)["credential"]
    except (ValueError, KeyError) as exc:  # json.loads read it, so this is not expected
        raise MessageInvalid(_("The body is not a JSON object.")) from exc
    return InboxMessage(
        credential=credential, document=document, learner_name=name.strip(), note=note.strip()
    )


def _failed_checks(result: Mapping[str, Any], names: Sequence[str]) -> list[str]:
    by_name = {check["check"]: check for check in result.get("checks", [])}
    return [name for name in names if name in by_name and not by_name[name]["ok"]]


def _credential_status(result: Mapping[str, Any]) -> str:
    """revoked / suspended as the issuer's status lists say at verification, else valid."""
    for check in result.get("checks", []):
        if check["check"] == "status" and not check["ok"]:
            if "Revoked by the issuer" in check["detail"]:
                return IncomingStatus.REVOKED
            if "Suspended by the issuer" in check["detail"]:
                return IncomingStatus.SUSPENDED
    return IncomingStatus.VALID


def _issuer_id(credential: Mapping[str, Any]) -> str:
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else ""


def _title(credential: Mapping[str, Any]) -> str:
    subject = credential.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else {}
    achievement = subject.get("achievement") if isinstance(subject, Mapping) else None
    name = achievement.get("name") if isinstance(achievement, Mapping) else None
    if not isinstance(name, str):
        name = credential.get("name")
    return name.strip()[:300] if isinstance(name, str) else ""


def _stored(partner: Partner, credential_id: str) -> IncomingCredential | None:
    return IncomingCredential.objects.filter(partner=partner, credential_id=credential_id).first()


def incoming_receive(*, partner: Partner, message: InboxMessage) -> tuple[IncomingCredential, bool]:
    """Verifies a delivered credential (status lists over HTTP) and stores it once per
    (partner, credential id); returns the row and whether it is new. Raises
    CredentialNotVerified, storing nothing, when the proof fails or the issuer is not the
    sender. Safe against concurrent duplicates (unique constraint)."""
    credential_id = message.credential["id"]
    result = verifier.verify(message.document)
    failed = _failed_checks(result, REQUIRED_CHECKS)
    if failed:
        raise CredentialNotVerified(
            _("The credential failed these checks: %(checks)s.") % {"checks": ", ".join(failed)},
            failed=failed,
            result=result,
        )
    issuer = _issuer_id(message.credential)
    if issuer != partner.did:
        raise CredentialNotVerified(
            _("The credential's issuer %(issuer)s is not the sender %(sender)s.")
            % {"issuer": issuer or "-", "sender": partner.did},
            failed=["issuer"],
            result=result,
        )
    existing = _stored(partner, credential_id)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            incoming = IncomingCredential.objects.create(
                partner=partner,
                credential_id=credential_id,
                document=message.document,
                verification=result,
                verified=bool(result["verified"]),
                title=_title(message.credential),
                learner_name=message.learner_name,
                consent_note=message.note,
                credential_status=_credential_status(result),
                status_checked_at=timezone.now(),
            )
            audit(
                institution=partner.institution,
                actor=None,
                action="incoming.received",
                incoming=str(incoming.public_id),
                partner=partner.name,
                credential=credential_id,
                verified=incoming.verified,
            )
    except IntegrityError:
        return IncomingCredential.objects.get(partner=partner, credential_id=credential_id), False
    return incoming, True


def incoming_acknowledgement(incoming: IncomingCredential) -> dict[str, Any]:
    """What the inbox answers for a stored credential, the first time and every time after."""
    return {
        "received": incoming.credential_id,
        "verified": incoming.verified,
        "checks": incoming.verification.get("checks", []),
        "incoming": str(incoming.public_id),
    }


def incoming_recheck(*, incoming: IncomingCredential, actor: User | None) -> IncomingCredential:
    """Verifies the stored credential again (its issuer's status lists over HTTP) and records
    the result; audited when the status changed or a person asked."""
    result = verifier.verify(incoming.document)
    status = _credential_status(result)
    with transaction.atomic():
        before = IncomingCredential.objects.select_for_update().get(pk=incoming.pk)
        before_status = before.credential_status
        IncomingCredential.objects.filter(pk=incoming.pk).update(
            verification=result,
            verified=bool(result["verified"]),
            credential_status=status,
            status_checked_at=timezone.now(),
        )
        if actor is not None or status != before_status:
            audit(
                institution=incoming.partner.institution,
                actor=actor,
                action="incoming.rechecked",
                incoming=str(incoming.public_id),
                status=status,
                previous_status=before_status,
            )
    incoming.refresh_from_db()
    return incoming


def incoming_status_receive(*, partner: Partner, message: Mapping[str, Any]) -> IncomingCredential:
    """Handles a partner's status notice by checking the credential's status lists ourselves
    (the notice is a hint, not evidence); raises UnknownCredential when we hold no such
    credential from that partner."""
    incoming = (
        IncomingCredential.objects.select_related("partner__institution")
        .filter(partner=partner, credential_id=message["credentialId"])
        .first()
    )
    if incoming is None:
        raise UnknownCredential(message["credentialId"])
    return incoming_recheck(incoming=incoming, actor=None)


def _decision_message(body: Mapping[str, Any]) -> dict[str, Any]:
    decision = body.get("decision")
    if decision not in (Decision.RECOGNISED, Decision.DECLINED):
        raise MessageInvalid(_("decision must be recognised or declined."))
    ects = body.get("ects")
    if ects is not None:
        if isinstance(ects, bool) or not isinstance(ects, int | float | str):
            raise MessageInvalid(_("ects must be a number."))
        try:
            ects = Decimal(str(ects)).quantize(Decimal("0.1"))
        except ArithmeticError as exc:
            raise MessageInvalid(_("ects must be a number.")) from exc
        if not Decimal(0) <= ects < Decimal(1000):
            raise MessageInvalid(_("ects must be between 0 and 999."))
    texts = {}
    for name, limit in (("programme", MAX_PROGRAMME), ("reason", MAX_REASON)):
        value = body.get(name) or ""
        if (
            not isinstance(value, str)
            or len(value) > limit
            or plain_text.control_character_problem(value, multiline=name != "programme")
        ):
            raise MessageInvalid(
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
        raise MessageInvalid(_("decidedAt must be a date and time with a time zone."))
    return {
        "type": "decision",
        "credentialId": body["credentialId"],
        "decision": decision,
        "ects": ects,
        **texts,
        "decidedAt": decided_at,
    }


def notice_message_parse(body: bytes) -> dict[str, Any]:
    """A decision or status notice, checked and with typed values; raises MessageInvalid."""
    try:
        message = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MessageInvalid(_("The body is not JSON.")) from exc
    if not isinstance(message, dict):
        raise MessageInvalid(_("The body is not a JSON object."))
    if message.get("type") == "adoption":
        return _adoption_message(message)
    credential_id = message.get("credentialId")
    if not isinstance(credential_id, str) or not credential_id or len(credential_id) > 500:
        raise MessageInvalid(_("credentialId must be the credential's id."))
    if message.get("type") == "decision":
        return _decision_message(message)
    if message.get("type") == "status":
        if message.get("status") not in CredentialStatus.values:
            raise MessageInvalid(_("status must be issued, suspended or revoked."))
        return {"type": "status", "credentialId": credential_id, "status": message["status"]}
    raise MessageInvalid(_("type must be decision, status or adoption."))


def _adoption_message(message: Mapping[str, Any]) -> dict[str, Any]:
    offer_id, adopted = message.get("offerId"), message.get("adopted")
    if not isinstance(offer_id, str) or not offer_id or len(offer_id) > 500:
        raise MessageInvalid(_("offerId must be the offer's id from the catalogue feed."))
    if not isinstance(adopted, bool):
        raise MessageInvalid(_("adopted must be true or false."))
    note = message.get("note") or ""
    if not isinstance(note, str) or len(note) > 2000 or plain_text.control_character_problem(note):
        raise MessageInvalid(_("note must be plain text of at most 2,000 characters."))
    ects = None
    if adopted:
        try:
            ects = Decimal(str(message.get("recognisedEcts")))
        except ArithmeticError as exc:
            raise MessageInvalid(_("recognisedEcts must be a number.")) from exc
        if not ects.is_finite() or not 0 <= ects < 1000:
            raise MessageInvalid(_("recognisedEcts must be between 0 and 999."))
    return {"type": "adoption", "offerId": offer_id, "adopted": adopted, "ects": ects, "note": note}


@transaction.atomic
def incoming_decide(
    *,
    incoming: IncomingCredential,
    actor: User | None,
    decision: str,
    ects: Decimal | None,
    programme: str,
    reason: str,
) -> IncomingCredential:
    """Records the recognition decision and queues it, signed, to the sender on commit.
    A decision may be changed; each change is audited and sent. The same decision twice is
    recorded once. Raises DeliveryError for a decline without a reason."""
    programme, reason = programme.strip(), reason.strip()
    if decision == Decision.DECLINED:
        if not reason:
            raise DeliveryError(_("Say why the credential is not recognised."))
        ects, programme = None, ""
    elif decision == Decision.RECOGNISED:
        if ects is not None and ects < 0:
            raise DeliveryError(_("The ECTS credits cannot be negative."))
        if ects is not None and not programme:
            raise DeliveryError(_("Name the programme the credits count toward."))
    else:
        raise DeliveryError(_("Choose whether the credential is recognised."))
    current = IncomingCredential.objects.select_for_update().get(pk=incoming.pk)
    unchanged = (
        current.decision == decision
        and current.decision_ects == ects
        and current.decision_programme == programme
        and current.decision_reason == reason
    )
    if unchanged:
        return current
    previous = current.decision
    now = timezone.now()
    current.decision = decision
    current.decision_ects = ects
    current.decision_programme = programme
    current.decision_reason = reason
    current.decided_by = actor
    current.decided_at = now
    current.save(
        update_fields=[
            "decision",
            "decision_ects",
            "decision_programme",
            "decision_reason",
            "decided_by",
            "decided_at",
        ]
    )
    partner = Partner.objects.select_related("institution").get(pk=current.partner_id)
    audit(
        institution=partner.institution,
        actor=actor,
        action="incoming.decided" if not previous else "incoming.decision_changed",
        incoming=str(current.public_id),
        partner=partner.name,
        decision=decision,
        previous=previous,
        ects=None if ects is None else str(ects),
        programme=programme,
        reason=reason,
    )
    outbox.notice_enqueue(
        partner=partner,
        kind=NoticeKind.DECISION,
        payload={
            "type": "decision",
            "credentialId": current.credential_id,
            "decision": decision,
            "ects": None if ects is None else str(ects),
            "programme": programme,
            "reason": reason,
            "decidedAt": now.isoformat(),
        },
    )
    return current


# Selectors ---------------------------------------------------------------------------------


def deliveries_for_staff(
    *, viewer: Membership, status: str = "", partner: str = "", decision: str | None = None
) -> QuerySet[Delivery]:
    """The deliveries of the viewer's institution, newest first, with the latest attempts and
    what the list shows. `partner` is a partner's public id; `decision` "" means pending."""
    deliveries = Delivery.objects.filter(partner__institution_id=viewer.institution_id)
    if status in OutboxStatus.values:
        deliveries = deliveries.filter(status=status)
    if partner:
        try:
            deliveries = deliveries.filter(partner__public_id=UUID(partner))
        except ValueError:
            deliveries = deliveries.none()
    if decision is not None and decision in Decision.values:
        deliveries = deliveries.filter(decision=decision)
    return deliveries.select_related(
        "partner", "credential__version", "requested_by"
    ).prefetch_related(
        Prefetch(
            "attempt_log",
            queryset=DeliveryAttempt.objects.order_by("-at", "-pk")[:ATTEMPTS_SHOWN],
            to_attr="recent_attempts",
        )
    )


def delivery_for_staff(*, viewer: Membership, public_id: UUID) -> Delivery:
    """One delivery of the viewer's institution; 404 for any other institution's."""
    try:
        return Delivery.objects.select_related("partner__institution", "credential").get(
            public_id=public_id, partner__institution_id=viewer.institution_id
        )
    except Delivery.DoesNotExist:
        raise Http404 from None


def partners_of(*, viewer: Membership) -> QuerySet[Partner]:
    """The viewer's institution's partners, by name, for filters."""
    return Partner.objects.filter(institution_id=viewer.institution_id).order_by("name")


def confirmed_partners_of(*, institution: Institution) -> QuerySet[Partner]:
    """The partners both sides agreed with, by name: whom credentials may be sent to."""
    return Partner.objects.filter(institution=institution, status=PartnerStatus.CONFIRMED).order_by(
        "name"
    )


def sendable_credentials(*, viewer: Membership, search: str = "") -> QuerySet[IssuedCredential]:
    """The viewer's institution's valid credentials, newest first, for the batch send form."""
    now = timezone.now()
    credentials = IssuedCredential.objects.filter(
        institution_id=viewer.institution_id, status=CredentialStatus.ISSUED
    ).filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
    if search:
        credentials = credentials.filter(
            Q(holder_name__icontains=search)
            | Q(holder_email__icontains=search)
            | Q(version__micro_credential__title__icontains=search)
        )
    return credentials.select_related("version").order_by("-issued_at", "-pk")


def incoming_for_staff(
    *, viewer: Membership, decision: str | None = None, partner: str = ""
) -> QuerySet[IncomingCredential]:
    """Credentials partners sent the viewer's institution, newest first. `decision` "" means
    pending; `partner` is a partner's public id."""
    incoming = IncomingCredential.objects.filter(partner__institution_id=viewer.institution_id)
    if decision is not None and decision in Decision.values:
        incoming = incoming.filter(decision=decision)
    if partner:
        try:
            incoming = incoming.filter(partner__public_id=UUID(partner))
        except ValueError:
            incoming = incoming.none()
    return incoming.select_related("partner").defer("document")


def incoming_credential_for_staff(*, viewer: Membership, public_id: UUID) -> IncomingCredential:
    """One credential sent to the viewer's institution; 404 for any other institution's."""
    try:
        return IncomingCredential.objects.select_related("partner__institution", "decided_by").get(
            public_id=public_id, partner__institution_id=viewer.institution_id
        )
    except IncomingCredential.DoesNotExist:
        raise Http404 from None


def may_decide(viewer: Membership) -> bool:
    return viewer.role in institution_selectors.ISSUE


def require_decider(viewer: Membership) -> None:
    """Raises PermissionDenied for a member who may read but not decide or send."""
    if not may_decide(viewer):
        raise PermissionDenied


def deliveries_of_credential(*, credential: IssuedCredential) -> QuerySet[Delivery]:
    """Where the credential was sent, newest first: for its holder's page."""
    return Delivery.objects.filter(credential=credential).select_related("partner")


# The EU elements of a received credential ---------------------------------------------------

_TARGETS: Final = {
    "ext:EQFLevel": "eqf",
    "ext:AssessmentType": "assessment",
    "ext:FormOfParticipation": "participation",
    "ext:QualityAssurance": "quality",
}


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def credential_elements(document: Mapping[str, Any]) -> list[Element]:
    """The eleven mandatory EU elements as an OB 3.0 credential from a MESHE node carries
    them (credentials.ob3 documents the paths); what it lacks shows empty. Pure."""
    subject = document.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else {}
    achievement = _get(subject, "achievement")
    issuer = document.get("issuer")
    learner = ""
    for identifier in _get(subject, "identifier") or []:
        if _get(identifier, "identityType") == "name" and not _get(identifier, "hashed"):
            learner = _text(_get(identifier, "identityHash"))
    found: dict[str, str] = {}
    for alignment in _get(achievement, "alignment") or []:
        key = _TARGETS.get(_text(_get(alignment, "targetType")))
        if key and key not in found:
            found[key] = _text(_get(alignment, "targetUrl")) or _text(_get(alignment, "targetName"))
    narrative = _text(_get(_get(achievement, "criteria"), "narrative"))
    outcomes = tuple(
        match.group(1).strip()
        for match in re.finditer(r"^\d+\.\s+(.+)$", narrative.split("\n\n**")[0], re.MULTILINE)
    )
    ects = _get(achievement, "creditsAvailable")
    try:
        ects_text = number_text(Decimal(str(ects))) if isinstance(ects, int | float | str) else ""
    except ArithmeticError:
        ects_text = ""
    hours = re.search(r"\((\d+) hours\)", narrative)
    workload = _("%(ects)s ECTS") % {"ects": ects_text} if ects_text else ""
    if hours:
        workload += " · " + _("%(hours)s hours") % {"hours": hours.group(1)}
    country = _text(_get(_get(issuer, "address"), "addressCountryCode"))
    issued = _text(document.get("validFrom")) or _text(_get(subject, "awardedDate"))
    return [
        Element(number=1, name=_("Learner"), value=learner, explanation=_("Who earned it.")),
        Element(
            number=2,
            name=_("Title"),
            value=_text(_get(achievement, "name")) or _text(document.get("name")),
            explanation=_("What the micro-credential is called, as the institution published it."),
        ),
        Element(
            number=3,
            name=_("Country of the issuer"),
            value=country,
            explanation=_("Where the awarding institution is established."),
        ),
        Element(
            number=4,
            name=_("Awarding body"),
            value=_text(_get(issuer, "name")) or _text(_get(issuer, "id")) or _text(issuer),
            explanation=_("The institution that assessed the learner and signed the credential."),
        ),
        Element(
            number=5,
            name=_("Date of issuing"),
            value=issued[:10],
            explanation=_("When the institution issued the credential."),
        ),
        Element(
            number=6,
            name=_("Learning outcomes"),
            value="" if outcomes else narrative[:2000],
            items=outcomes,
            explanation=_("What the learner knows and can do, as the institution assessed it."),
        ),
        Element(
            number=7,
            name=_("Workload"),
            value=workload,
            explanation=workload_explanation(ects_text or None),
        ),
        Element(
            number=8,
            name=_("Level"),
            value=concept_label(found.get("eqf", "")),
            explanation=eqf_explanation(found.get("eqf", "")),
        ),
        Element(
            number=9,
            name=_("Type of assessment"),
            value=concept_label(found.get("assessment", "")),
            explanation=_("How the learning was checked before the credential was awarded."),
        ),
        Element(
            number=10,
            name=_("Form of participation"),
            value=concept_label(found.get("participation", "")),
            explanation=_("Online, on site, or a mix (blended)."),
        ),
        Element(
            number=11,
            name=_("Quality assurance"),
            value=concept_label(found.get("quality", "")),
            explanation=_("Who checks the quality of the course and its assessment."),
        ),
    ]
