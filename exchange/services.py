"""Partnerships between institutions on different nodes: request, answer, suspend, resume, end.

Each side keeps its own Partner row. A change made here is sent to the other side as a signed
partnership notice (exchange.outbox); a change the other side sends arrives through
`partnership_message_receive`.
"""

import secrets
from collections.abc import Mapping, Sequence
from typing import Any, Final

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from exchange import outbox, transport
from exchange.discovery import RemoteInstitution, RemoteKey
from exchange.exceptions import ExchangeError
from exchange.models import NoticeKind, Partner, PartnerStatus
from institutions.models import Institution
from institutions.services import audit
from meshe import plain_text

S = PartnerStatus
# What our admins may do, from which of our states, to which state; the message it sends.
LOCAL_TRANSITIONS: Final = {
    "accept": ({S.RECEIVED}, S.CONFIRMED),
    "decline": ({S.RECEIVED}, S.DECLINED),
    "suspend": ({S.CONFIRMED}, S.SUSPENDED),
    "resume": ({S.SUSPENDED}, S.CONFIRMED),
    "end": ({S.REQUESTED, S.RECEIVED, S.CONFIRMED, S.SUSPENDED}, S.ENDED),
}
# What a partner's message does to our row. A request is handled on its own.
REMOTE_TRANSITIONS: Final = {
    "accept": ({S.REQUESTED}, S.CONFIRMED),
    "decline": ({S.REQUESTED}, S.DECLINED),
    "suspend": ({S.CONFIRMED}, S.SUSPENDED),
    "resume": ({S.SUSPENDED}, S.CONFIRMED),
    "end": ({S.REQUESTED, S.RECEIVED, S.CONFIRMED, S.SUSPENDED}, S.ENDED),
}
MESSAGE_TYPES: Final = frozenset({"request", *REMOTE_TRANSITIONS})
MAX_NOTE = 2000


class UnexpectedMessage(ExchangeError):
    """A partnership message that does not fit the state of the partnership."""


def _send(partner: Partner, message_type: str, **fields: Any) -> None:
    institution = partner.institution
    outbox.notice_enqueue(
        partner=partner,
        kind=NoticeKind.PARTNERSHIP,
        payload={
            "type": message_type,
            "from": {
                "did": institution.did,
                "name": institution.name,
                "country": institution.country,
                "node": settings.MESHE_BASE_URL,
            },
            "to": partner.did,
            **fields,
        },
    )


def _describe(partner: Partner, remote: RemoteInstitution, keys: Sequence[RemoteKey]) -> None:
    partner.base_url = remote.endpoints["partnership"].split("/exchange/", 1)[0]
    partner.name = remote.name
    partner.country = remote.country
    partner.endpoints = dict(remote.endpoints)
    partner.pinned_keys = [key.as_pinned() for key in keys]


@transaction.atomic
def partnership_request(
    *,
    institution: Institution,
    actor: User,
    remote: RemoteInstitution,
    keys: Sequence[RemoteKey],
    note: str = "",
) -> Partner:
    """Asks a discovered institution to be a partner, pinning the keys shown to the admin.
    Asking again re-sends; asking an institution that asked us first accepts its request."""
    if remote.did == institution.did:
        raise ExchangeError(_("An institution cannot be its own partner."))
    if not keys:
        raise ExchangeError(_("That institution's DID document lists no key to pin."))
    partner = (
        Partner.objects.select_for_update().filter(institution=institution, did=remote.did).first()
    )
    if partner is not None and partner.status == S.RECEIVED:
        return partnership_change(partner=partner, actor=actor, action="accept")
    if partner is not None and partner.status in (S.CONFIRMED, S.SUSPENDED):
        raise ExchangeError(_("%(name)s is already a partner.") % {"name": partner.name})
    if partner is None:
        partner = Partner(institution=institution, did=remote.did)
    _describe(partner, remote, keys)
    partner.status = S.REQUESTED
    partner.request_note = note[:MAX_NOTE]
    partner.suspended_by_us = False
    partner.ended_at = None
    partner.save()
    audit(
        institution=institution,
        actor=actor,
        action="partner.requested",
        partner=remote.did,
        keys=[key.fingerprint for key in keys],
    )
    _send(partner, "request", note=partner.request_note)
    return partner


@transaction.atomic
def partnership_change(*, partner: Partner, actor: User, action: str) -> Partner:
    """Accepts, declines, suspends, resumes or ends a partnership, and tells the partner.
    Doing what is already done changes nothing and sends nothing."""
    sources, target = LOCAL_TRANSITIONS[action]
    current = Partner.objects.select_for_update().get(pk=partner.pk)
    if current.status == target and action != "resume":
        return current
    if current.status not in sources or (action == "resume" and not current.suspended_by_us):
        raise ExchangeError(
            _("The partnership cannot be changed that way (partnership: %(status)s).")
            % {"status": current.get_status_display()}
        )
    _apply(current, target, suspended_by_us=action == "suspend")
    audit(
        institution=current.institution,
        actor=actor,
        action=f"partner.{action}",
        partner=current.did,
    )
    _send(current, action)
    return current


def _apply(partner: Partner, target: str, *, suspended_by_us: bool) -> None:
    partner.status = target
    partner.suspended_by_us = suspended_by_us and target == S.SUSPENDED
    if target == S.CONFIRMED and partner.confirmed_at is None:
        partner.confirmed_at = timezone.now()
    if target == S.ENDED:
        partner.ended_at = timezone.now()
    partner.save()


@transaction.atomic
def partnership_message_receive(
    *,
    institution: Institution,
    partner: Partner | None,
    message: Mapping[str, Any],
    remote: RemoteInstitution | None = None,
    keys: Sequence[RemoteKey] = (),
) -> Partner:
    """Applies a partner's signed partnership message to our side. A request from an
    institution we do not know yet needs `remote` and `keys`, discovered from its node."""
    message_type = message["type"]
    if message_type == "request":
        return _request_receive(
            institution=institution, partner=partner, message=message, remote=remote, keys=keys
        )
    if partner is None:
        raise UnexpectedMessage(_("There is no partnership with the sender."))
    current = Partner.objects.select_for_update().get(pk=partner.pk)
    sources, target = REMOTE_TRANSITIONS[message_type]
    if current.status == target:
        return current
    if current.status not in sources or (message_type == "resume" and current.suspended_by_us):
        raise UnexpectedMessage(
            _("A “%(type)s” message does not apply to this partnership (status here: %(status)s).")
            % {"status": current.status, "type": message_type}
        )
    _apply(current, target, suspended_by_us=False)
    audit(
        institution=institution,
        actor=None,
        action=f"partner.{message_type}_received",
        partner=current.did,
    )
    return current


def _request_receive(
    *,
    institution: Institution,
    partner: Partner | None,
    message: Mapping[str, Any],
    remote: RemoteInstitution | None,
    keys: Sequence[RemoteKey],
) -> Partner:
    if partner is not None:
        partner = Partner.objects.select_for_update().get(pk=partner.pk)
        if partner.status in (S.RECEIVED, S.CONFIRMED, S.SUSPENDED):
            return partner
        if partner.status == S.REQUESTED:
            # Both asked each other: that is agreement on both sides.
            _apply(partner, S.CONFIRMED, suspended_by_us=False)
            audit(institution=institution, actor=None, action="partner.agreed", partner=partner.did)
            _send(partner, "accept")
            return partner
    if remote is None:
        raise UnexpectedMessage(_("The sender's node could not be read."))
    if partner is None:
        partner = Partner(institution=institution, did=remote.did)
    _describe(partner, remote, keys)
    partner.status = S.RECEIVED
    # Kept as text: control characters (which PostgreSQL cannot store, for NUL) are dropped.
    note = plain_text.CONTROL_CHARACTERS.sub("", str(message.get("note", "")))
    partner.request_note = note[:MAX_NOTE]
    partner.suspended_by_us = False
    partner.save()
    audit(
        institution=institution, actor=None, action="partner.request_received", partner=remote.did
    )
    return partner


def partner_echo(*, partner: Partner) -> int:
    """Sends the partner a signed echo and checks the signed answer; returns the round trip in
    ms. Records the partner's health either way; raises ExchangeError on failure."""
    ping = secrets.token_urlsafe(12)
    try:
        reply = transport.partner_request(
            partner=partner, method="POST", url=partner.endpoints["echo"], payload={"ping": ping}
        )
        if reply.json().get("echo") != ping:
            raise transport.TransportError(
                reason="wrong-echo",
                detail="the answer did not echo what was sent",
                status=reply.status,
                retryable=False,
                latency_ms=reply.latency_ms,
            )
    except (transport.TransportError, KeyError) as exc:
        reason = f"{exc.reason}: {exc.detail}" if isinstance(exc, transport.TransportError) else ""
        Partner.objects.filter(pk=partner.pk).update(
            last_failure_at=timezone.now(), last_failure=reason or "no echo endpoint"
        )
        raise ExchangeError(
            _("%(name)s did not answer properly: %(reason)s")
            % {"name": partner.name, "reason": reason or _("no echo endpoint is known")}
        ) from exc
    Partner.objects.filter(pk=partner.pk).update(last_success_at=timezone.now())
    return reply.latency_ms
