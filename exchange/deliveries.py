"""Credentials sent to partners for recognition, and those partners sent us: the services
(writes, atomic and audited). exchange.messages parses what arrives, exchange.selectors reads.

Sending: `delivery_create` queues a Delivery that the outbox (exchange.outbox) signs and POSTs
to the partner's inbox. Receiving: `incoming_receive` verifies and stores what arrives at our
inbox, once per credential; `incoming_decide` records a recognition decision and sends it back
as a signed notice, which `delivery_decision_receive` records on the sender's side, and
`delivery_decision_notify` e-mails to the credential's holder.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final
from uuid import UUID

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from credentials.issuing import services as credential_services
from credentials.issuing import verifier
from credentials.models import (
    DECISION_SENT,
    CredentialEvent,
    CredentialStatus,
    IssuedCredential,
)
from exchange import messages, outbox, tasks
from exchange.exceptions import ExchangeError
from exchange.models import (
    Decision,
    Delivery,
    DeliveryFormat,
    IncomingCredential,
    IncomingStatus,
    NoticeKind,
    OutboxStatus,
    Partner,
    PartnerStatus,
)
from institutions.services import audit, audit_many

# Checks a delivered credential must pass to be stored at all: it is readable, it is a
# credential, and the sender's key signed it. Status and validity are stored, not refused.
REQUIRED_CHECKS: Final = ("json", "data_model", "proof", "issuer_key")
# A sealed EDC's: readable, sealed over exactly this payload by a certificate valid when it
# sealed, and an EDC by the Commission's shapes. Trust in the sealer is stored, not refused.
REQUIRED_SEALED_EDC_CHECKS: Final = ("json", "seal", "seal_certificate", "edc_shapes")
# A batch from a partner names the same few status lists of the sender's: each is read at
# most once a minute (the max-age every node serves them with), not once per credential. A
# status notice from the sender re-reads them at once (incoming_recheck).
SENDER_STATUS_LIST_REUSE_SECONDS: Final = 60
IN_FLIGHT: Final = (OutboxStatus.QUEUED, OutboxStatus.SENDING, OutboxStatus.DELIVERED)


class DeliveryError(ExchangeError):
    """A refused delivery, retry or recognition decision."""


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


def _check_sealable(credential: IssuedCredential) -> None:
    """Seals the credential's EDC if it is not yet; DeliveryError when it cannot be sealed."""
    if not credential_services.credential_edc(credential=credential).sealed_by:
        raise DeliveryError(
            _(
                "Its EDC is not sealed: the institution has no e-seal certificate, or it has "
                "expired. Send the Open Badges 3.0 credential instead."
            )
        )


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
    note = note.strip()[: messages.MAX_TEXT]
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
    delivery_format: str = DeliveryFormat.OB3,
) -> list[Delivery]:
    """Queues each credential for the partner, all or none, in the same few queries whatever
    the batch's size: raises one DeliveryError naming every credential that cannot be sent.
    Idempotent per (partner, credential) as delivery_create: an existing delivery is returned,
    queued again if it had failed. New and re-queued deliveries are audited one event each
    and sent on commit, a few deliveries per message (outbox.deliveries_enqueue_on_commit).
    A sealed-EDC batch seals each credential's EDC now (stored, as its download is), so a
    credential that cannot be sealed is named here rather than failing in the outbox."""
    now = timezone.now()
    problems = []
    for credential in credentials:
        try:
            _check_sendable(credential=credential, partner=partner, now=now)
            if delivery_format == DeliveryFormat.SEALED_EDC:
                _check_sealable(credential)
        except DeliveryError as exc:
            problems.append(f"{credential.holder_name}: {exc.message}")
    if problems:
        raise DeliveryError(_("Nothing was sent. %(problems)s") % {"problems": " ".join(problems)})
    note = note.strip()[: messages.MAX_TEXT]
    wanted = {credential.pk: credential for credential in credentials}
    found = {
        delivery.credential_id: delivery
        for delivery in Delivery.objects.filter(
            partner=partner, credential_id__in=wanted
        ).order_by()
    }
    inserted, ours = _deliveries_insert(
        [credential for pk, credential in wanted.items() if pk not in found],
        partner=partner,
        actor=actor,
        note=note,
        delivery_format=delivery_format,
        now=now,
    )
    found.update((delivery.credential_id, delivery) for delivery in inserted)
    created = [found[pk] for pk in wanted if found[pk].public_id in ours]  # in the batch's order
    requeued = _deliveries_requeue(
        [d for d in found.values() if d.status == OutboxStatus.FAILED], now=now
    )
    institution = partner.institution
    audit_many(
        institution=institution,
        actor=actor,
        action="delivery.created",
        details=[
            {
                "delivery": str(delivery.public_id),
                "credential": str(wanted[delivery.credential_id].public_id),
                "partner": partner.name,
                "by_learner": False,
            }
            for delivery in created
        ],
    )
    audit_many(
        institution=institution,
        actor=actor,
        action="delivery.requeued",
        details=[
            {"delivery": str(delivery.public_id), "partner": partner.name} for delivery in requeued
        ],
    )
    outbox.deliveries_enqueue_on_commit(pks=[d.pk for d in created] + [d.pk for d in requeued])
    for delivery in found.values():
        delivery.partner = partner
        delivery.credential = wanted[delivery.credential_id]
    return [found[credential.pk] for credential in credentials]


def _deliveries_insert(
    credentials: Sequence[IssuedCredential],
    *,
    partner: Partner,
    actor: User | None,
    note: str,
    delivery_format: str,
    now: datetime,
) -> tuple[list[Delivery], set[UUID]]:
    """Inserts a queued delivery of each credential in one INSERT and reads the rows back in
    one query; returns them and the public ids of those inserted here (a row a concurrent call
    inserted first is kept, and returned too)."""
    if not credentials:
        return [], set()
    rows = [
        Delivery(
            partner=partner,
            credential=credential,
            requested_by=actor,
            by_learner=False,
            consent_note=note,
            format=delivery_format,
            next_attempt_at=now,
        )
        for credential in credentials
    ]
    # Skipping conflicts instead of failing: a concurrent batch's delivery of the same
    # credential stands (one per partner and credential), and ours is not made. The public ids
    # are made here, so reading the rows back tells ours from theirs.
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    inserted = list(
        Delivery.objects.filter(
            partner=partner, credential_id__in=[c.pk for c in credentials]
        ).order_by()
    )
    return inserted, {row.public_id for row in rows}


def _deliveries_requeue(failed: Sequence[Delivery], *, now: datetime) -> list[Delivery]:
    """Moves failed deliveries to queued, due now, in one compare-and-set UPDATE over the rows
    locked first; returns those it moved (a concurrent retry may have taken some)."""
    if not failed:
        return []
    locked = set(
        Delivery.objects.select_for_update()
        .filter(pk__in=[d.pk for d in failed], status=OutboxStatus.FAILED)
        .values_list("pk", flat=True)
    )
    Delivery.objects.filter(pk__in=locked, status=OutboxStatus.FAILED).update(
        status=OutboxStatus.QUEUED, next_attempt_at=now, failed_at=None, lease_until=None
    )
    moved = [d for d in failed if d.pk in locked]
    for delivery in moved:
        delivery.status = OutboxStatus.QUEUED
        delivery.next_attempt_at = now
        delivery.failed_at = None
        delivery.lease_until = None
    return moved


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
        reason=DECISION_SENT % {"partner": delivery.partner.name, "email": email},
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


def _failed_checks(result: Mapping[str, Any], names: Sequence[str]) -> list[str]:
    by_name = {check["check"]: check for check in result.get("checks", [])}
    # A check the result does not list did not pass: a document read as another kind is refused.
    return [name for name in names if not by_name.get(name, {}).get("ok")]


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


def _title(credential: Mapping[str, Any], result: Mapping[str, Any]) -> str:
    subject = credential.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else {}
    achievement = subject.get("achievement") if isinstance(subject, Mapping) else None
    name = achievement.get("name") if isinstance(achievement, Mapping) else None
    if not isinstance(name, str):
        name = credential.get("name")
    if not isinstance(name, str):  # an EDC's title is in its claims, as the summary reads it
        name = (result.get("summary") or {}).get("title")
    return name.strip()[:300] if isinstance(name, str) else ""


def incoming_receive(
    *, partner: Partner, message: messages.InboxMessage
) -> tuple[IncomingCredential, bool]:
    """Verifies a delivered credential (status lists over HTTP) and stores it once per
    (partner, credential id); returns the row and whether it is new. Raises
    CredentialNotVerified, storing nothing, when the proof or seal fails or the issuer is not
    the sender (a sealed EDC's payload names its issuer, and the seal covers the payload).
    Safe against concurrent duplicates (unique constraint)."""
    credential_id = message.credential["id"]
    result = verifier.verify(
        message.document, reuse_remote_status_seconds=SENDER_STATUS_LIST_REUSE_SECONDS
    )
    sealed = message.format == DeliveryFormat.SEALED_EDC
    failed = _failed_checks(result, REQUIRED_SEALED_EDC_CHECKS if sealed else REQUIRED_CHECKS)
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
    # No look for a stored copy first: a copy arrives only when an answer was lost, and the
    # unique constraint finds it at no cost to every other arrival.
    try:
        with transaction.atomic():
            incoming = IncomingCredential.objects.create(
                partner=partner,
                credential_id=credential_id,
                document=message.document,
                verification=result,
                verified=bool(result["verified"]),
                title=_title(message.credential, result),
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
