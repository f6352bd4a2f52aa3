"""The outbox: signed deliveries and notices to partners, sent with retries, each at most once
at a time.

A row is claimed with a compare-and-set (queued and due, or sending with its lease run out →
sending) before the signed POST, which happens outside any transaction; the outcome is recorded
in one transaction, and only if the row is still the one this worker claimed. A failed attempt
that will be retried queues the row again with its next try (`next_attempt_at`) and schedules a
task for that very time (an ETA message), so a retry goes when the delivery log says it will.
The sweep is only for work that was lost: rows whose next try passed more than `sweep_grace()`
ago (their message was lost with a worker or a broker) and rows a lost worker left half-sent.
A message that comes early or twice finds the row not due, claimed or done, and does nothing.
Receivers are idempotent by credential id, so a row sent twice is still stored once.

A batch of deliveries (deliveries.deliveries_create_batch) is published on commit as a few
messages of many rows each (batch_chunks); a worker sends a message's rows one after another,
each claimed as above, over one kept-alive connection to the partner (transport.Session).
"""

import json
import logging
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, ngettext_lazy

from exchange import tasks
from exchange.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryFormat,
    Notice,
    NoticeKind,
    OutboxStatus,
    Partner,
    PartnerStatus,
)
from institutions.models import Membership, Role
from institutions.services import audit

if TYPE_CHECKING:
    from exchange.transport import Session

logger = logging.getLogger(__name__)

Kind = Literal["delivery", "notice"]
Outgoing = Delivery | Notice

# The first sentence of the admins' e-mail about a message given up on: a whole sentence per
# kind, so that each language can word it its own way.
UNDELIVERED_NOTICE: Final = {
    NoticeKind.DECISION: ngettext_lazy(
        "A recognition decision could not be delivered to %(partner)s after %(attempts)s attempt.",
        "A recognition decision could not be delivered to %(partner)s after %(attempts)s attempts.",
        "attempts",
    ),
    NoticeKind.STATUS: ngettext_lazy(
        "A status change could not be delivered to %(partner)s after %(attempts)s attempt.",
        "A status change could not be delivered to %(partner)s after %(attempts)s attempts.",
        "attempts",
    ),
    NoticeKind.ADOPTION: ngettext_lazy(
        "An adoption of an offer could not be delivered to %(partner)s after %(attempts)s attempt.",
        "An adoption of an offer could not be delivered to %(partner)s after %(attempts)s "
        "attempts.",
        "attempts",
    ),
    NoticeKind.PARTNERSHIP: ngettext_lazy(
        "A partnership message could not be delivered to %(partner)s after %(attempts)s attempt.",
        "A partnership message could not be delivered to %(partner)s after %(attempts)s attempts.",
        "attempts",
    ),
}

# How long one signed POST may take; a claimed row is leased for twice that.
SEND_TIMEOUT_SECONDS: Final = 10.0
LEASE: Final = timedelta(seconds=2 * SEND_TIMEOUT_SECONDS)
# At most this many rows of each kind are enqueued per sweep; the rest wait for the next one.
SWEEP_BATCH: Final = 500
# A scheduled retry may come this much before its next try and still be sent: clocks of two
# worker machines differ a little. Anything earlier is not due and does nothing.
EARLY_TOLERANCE: Final = timedelta(seconds=1)
# The sweep takes a queued row for lost once its next try is this many sweeps past (and at
# least SWEEP_GRACE_MIN_SECONDS): its own message had every chance to come on a busy queue.
SWEEP_GRACE_SWEEPS: Final = 2
SWEEP_GRACE_MIN_SECONDS: Final = 60

# Deliveries queued together (a batch) go to the workers a few to a message: each message's
# rows are sent one after another over one kept-alive connection to the partner
# (deliveries_send). A batch is cut into at least BATCH_MESSAGES messages, so that the
# exchange worker's threads keep several in flight, of at most BATCH_CHUNK rows each
# (exchange.tasks.deliver_batch's time limit allows that many sends).
BATCH_CHUNK: Final = 25
BATCH_MESSAGES: Final = 8
# Jitter source; tests seed it. Spreading retries needs no unpredictability.
_random = random.Random()  # noqa: S311


def retry_delay(
    *, attempts: int, retry_after: float | None = None, rng: random.Random | None = None
) -> float:
    """Seconds to wait after the `attempts`-th failed try: min(cap, base * 2^(attempts - 1))
    times a jitter in [0.5, 1.5], or the partner's Retry-After when that is longer."""
    base = settings.MESHE_DELIVERY_RETRY_BASE_SECONDS
    cap = settings.MESHE_DELIVERY_RETRY_CAP_SECONDS
    exponent = min(max(attempts - 1, 0), 32)  # 2^32·base is past any cap; keeps floats sane
    delay = min(cap, base * 2**exponent) * (rng or _random).uniform(0.5, 1.5)
    if retry_after is not None and retry_after > delay:
        return float(retry_after)
    return float(delay)


def _model(kind: Kind) -> type[Delivery] | type[Notice]:
    if kind == "delivery":
        return Delivery
    if kind == "notice":
        return Notice
    raise ValueError(f"unknown outbox kind {kind!r}")


def sweep_grace() -> timedelta:
    """How long past its next try a queued row waits for its own scheduled message before the
    sweep sends it instead."""
    return timedelta(
        seconds=max(
            SWEEP_GRACE_MIN_SECONDS, SWEEP_GRACE_SWEEPS * settings.MESHE_OUTBOX_SWEEP_SECONDS
        )
    )


def _task(kind: Kind) -> Any:
    return tasks.deliver if kind == "delivery" else tasks.notice_send


def _enqueue(kind: Kind, pk: int) -> None:
    _task(kind).delay(pk)


def enqueue_on_commit(*, kind: Kind, pk: int) -> None:
    """Sends the row from a worker once the caller's transaction commits."""
    _task(kind).delay_on_commit(pk)


def batch_chunks(pks: Sequence[int]) -> list[list[int]]:
    """The rows of a batch as its messages carry them, in the given order: BATCH_MESSAGES
    messages (one a row when there are fewer rows), or more when they would carry more than
    BATCH_CHUNK rows each; their sizes differ by one at most."""
    count = min(len(pks), max(BATCH_MESSAGES, math.ceil(len(pks) / BATCH_CHUNK)))
    chunks: list[list[int]] = []
    start = 0
    for index in range(count):
        end = start + len(pks) // count + (1 if index < len(pks) % count else 0)
        chunks.append(list(pks[start:end]))
        start = end
    return chunks


def deliveries_enqueue_on_commit(*, pks: Sequence[int]) -> None:
    """Sends the deliveries from workers once the caller's transaction commits, a chunk of
    them per message (batch_chunks), all published by one callback; nothing on rollback. A
    copy of a message does nothing: sending claims each row only when it is queued and due."""
    chunks = batch_chunks(pks)
    if not chunks:
        return

    def publish() -> None:
        for chunk in chunks:
            tasks.deliver_batch.delay(chunk)

    transaction.on_commit(publish)


def schedule_on_commit(*, kind: Kind, pk: int, at: datetime) -> None:
    """Sends the row from a worker at `at` (an ETA message, held by the worker until then),
    once the caller's transaction commits. A copy of the message, or one that comes early,
    does nothing: sending claims the row only when it is queued and due."""
    _task(kind).apply_async_on_commit((pk,), eta=at)


@transaction.atomic
def notice_enqueue(*, partner: Partner, kind: str, payload: dict[str, Any]) -> Notice:
    """Queues a signed notice to the partner; it is sent on commit, then retried like a
    delivery. The caller audits what the notice says."""
    if kind not in NoticeKind.values:
        raise ValueError(f"unknown notice kind {kind!r}")
    notice = Notice.objects.create(
        partner=partner, kind=kind, payload=payload, next_attempt_at=timezone.now()
    )
    enqueue_on_commit(kind="notice", pk=notice.pk)
    return notice


class NotSealed(LookupError):
    """A delivery of a sealed EDC whose credential has none stored."""


def _requires_agreement(row: Outgoing) -> bool:
    """Deliveries, decisions and status notices need a confirmed partnership; partnership
    messages are how one is made, suspended or ended, so they always go."""
    return not (isinstance(row, Notice) and row.kind == NoticeKind.PARTNERSHIP)


def _request(row: Outgoing) -> tuple[str, dict[str, Any]]:
    """The endpoint and body of the signed POST; KeyError when the partner lists no endpoint."""
    partner = row.partner
    if isinstance(row, Delivery):
        credential = row.credential
        # A sealed EDC is sealed when the delivery is made (deliveries_create_batch), and stays.
        sealed = row.format == DeliveryFormat.SEALED_EDC
        if sealed and not credential.sealed_edc:
            raise NotSealed
        return partner.endpoints["inbox"], {
            "credential": json.loads(credential.sealed_edc if sealed else credential.document),
            "format": row.format,
            "learner": {"name": credential.holder_name},
            "note": row.consent_note,
            "delivery": str(row.public_id),
        }
    endpoint = "partnership" if row.kind == NoticeKind.PARTNERSHIP else "notices"
    return partner.endpoints[endpoint], row.payload


def _rows(kind: Kind, pks: Sequence[int]) -> dict[int, Outgoing]:
    """The rows with what sending them reads (partner, institution, credential), by pk."""
    related = (
        ("partner__institution", "credential") if kind == "delivery" else ("partner__institution",)
    )
    rows = _model(kind).objects.select_related(*related).filter(pk__in=pks).order_by()
    # One partner object for all its rows: what one send learns of it (its last success),
    # the next one knows.
    partners: dict[int, Partner] = {}
    for row in rows:
        row.partner = partners.setdefault(row.partner_id, row.partner)
    return {row.pk: row for row in rows}


def _claim(kind: Kind, pk: int, now: datetime, *, loaded: Outgoing | None) -> Outgoing | None:
    """The row, claimed for this worker (status sending, attempts + 1, leased), or None when
    it is not ours to send: gone, done, not due yet, leased to another worker, or claimed
    meanwhile. `loaded` is the row as read earlier (a batch's rows are read at once); the
    compare-and-set is on what was read, so a row changed since is not claimed."""
    model = _model(kind)
    row = loaded if loaded is not None else _rows(kind, [pk]).get(pk)
    if row is None:
        return None
    if row.status == OutboxStatus.SENDING:
        if row.lease_until is not None and row.lease_until >= now:
            return None
    elif row.status != OutboxStatus.QUEUED:
        return None
    elif row.next_attempt_at is not None and row.next_attempt_at > now + EARLY_TOLERANCE:
        return None  # an early or stale message: the row's own one comes at its next try
    if _requires_agreement(row) and row.partner.status != PartnerStatus.CONFIRMED:
        _hold_or_drop(kind, row, now)
        return None
    # Compare-and-set on (status, attempts): of two messages for the same row, one claims it.
    claimed = model.objects.filter(pk=pk, status=row.status, attempts=row.attempts).update(
        status=OutboxStatus.SENDING, attempts=row.attempts + 1, lease_until=now + LEASE
    )
    if not claimed:
        return None
    row.status = OutboxStatus.SENDING
    row.attempts += 1
    row.lease_until = now + LEASE
    return row


def _hold_or_drop(kind: Kind, row: Outgoing, now: datetime) -> None:
    """A suspended partnership holds the row queued, looked at again every sweep interval
    until it is resumed; one that ended (or never was) fails it, since nothing will ever take
    it."""
    model = _model(kind)
    if row.partner.status == PartnerStatus.SUSPENDED:
        again = now + timedelta(seconds=settings.MESHE_OUTBOX_SWEEP_SECONDS)
        with transaction.atomic():
            held = model.objects.filter(pk=row.pk, status=row.status, attempts=row.attempts).update(
                status=OutboxStatus.QUEUED, lease_until=None, next_attempt_at=again
            )
            if held:
                schedule_on_commit(kind=kind, pk=row.pk, at=again)
        return
    with transaction.atomic():
        failed = model.objects.filter(pk=row.pk, status=row.status, attempts=row.attempts).update(
            status=OutboxStatus.FAILED,
            lease_until=None,
            next_attempt_at=None,
            failed_at=now,
            last_error="not-a-partner: "
            + _("Partnership: %(status)s.") % {"status": row.partner.get_status_display()},
        )
        if failed:
            _record_failure(kind, row, reason="not-a-partner")


def deliveries_send(*, pks: Sequence[int]) -> None:
    """Sends each delivery as outgoing_send does, one after another in one transport session
    (a kept-alive connection to the partner); each one that fails is queued again with its own
    next try and message, as alone. Idempotent like outgoing_send."""
    from exchange import transport  # the transport imports models of other apps; keep it lazy

    rows = _rows("delivery", pks)
    waiting = [rows[pk] for pk in pks if pk in rows]
    with transport.Session() as session:
        row = _claim_next(waiting)
        while row is not None:
            attempt = _attempt("delivery", row, session)
            # The next row is claimed in the commit that records this one's outcome: one
            # commit a delivery instead of two.
            with transaction.atomic():
                _record("delivery", row, attempt)
                row = _claim_next(waiting)


def _claim_next(waiting: list[Outgoing]) -> Outgoing | None:
    """The first of the rows (read earlier) that this worker can claim, taken off the list
    with those it could not; None when there is none left."""
    while waiting:
        candidate = waiting.pop(0)
        claimed = _claim("delivery", candidate.pk, timezone.now(), loaded=candidate)
        if claimed is not None:
            return claimed
    return None


def outgoing_send(*, kind: Kind, pk: int) -> None:
    """Sends one delivery or notice if it is due and not held by another worker, and records
    the outcome: delivered, queued again with backoff, or failed (audited, admins e-mailed).
    Idempotent: a row already delivered, failed or being sent is left alone."""
    row = _claim(kind, pk, timezone.now(), loaded=None)
    if row is not None:
        _record(kind, row, _attempt(kind, row, session=None))


@dataclass(frozen=True, slots=True)
class _Attempt:
    """What one try at sending a claimed row came to."""

    finished: datetime
    http_status: int | None
    latency_ms: int
    error: str
    outcome: Literal["delivered", "retry", "failed"]
    retry_after: float | None = None


def _attempt(kind: Kind, row: Outgoing, session: "Session | None") -> _Attempt:
    """The signed POST of a claimed row and its outcome; writes nothing."""
    from exchange import transport  # the transport imports models of other apps; keep it lazy

    http_status: int | None = None
    latency_ms = 0
    error = ""
    retryable = False
    retry_after: float | None = None
    try:
        url, payload = _request(row)
    except KeyError:
        error = "no-endpoint: " + _("The partner's node lists no endpoint for this message.")
    except NotSealed:
        error = "not-sealed: " + _("The credential's EDC is not sealed.")
    else:
        try:
            reply = transport.partner_request(
                partner=row.partner,
                method="POST",
                url=url,
                payload=payload,
                timeout=SEND_TIMEOUT_SECONDS,
                session=session,
            )
        except transport.TransportError as exc:
            http_status = exc.status
            latency_ms = int(exc.latency_ms or 0)
            error = f"{exc.reason}: {exc.detail}" if exc.detail else str(exc.reason)
            retryable = bool(exc.retryable)
            retry_after = exc.retry_after
        except Exception as exc:  # anything else is retried until the give-up, not lost
            logger.exception("Sending %s %s failed unexpectedly", kind, row.pk)
            error = f"internal-error: {type(exc).__name__}"
            retryable = True
        else:
            return _Attempt(
                finished=timezone.now(),
                http_status=reply.status,
                latency_ms=int(reply.latency_ms),
                error="",
                outcome="delivered",
            )
    finished = timezone.now()
    give_up_at = row.created_at + timedelta(seconds=settings.MESHE_DELIVERY_GIVE_UP_SECONDS)
    return _Attempt(
        finished=finished,
        http_status=http_status,
        latency_ms=latency_ms,
        error=error,
        outcome="retry" if retryable and finished <= give_up_at else "failed",
        retry_after=retry_after,
    )


def _record(kind: Kind, row: Outgoing, attempt: _Attempt) -> None:
    """Writes one attempt's outcome in one transaction, if this worker still holds the row."""
    model = _model(kind)
    now, http_status, latency_ms = attempt.finished, attempt.http_status, attempt.latency_ms
    error, outcome, retry_after = attempt.error, attempt.outcome, attempt.retry_after
    with transaction.atomic():
        if isinstance(row, Delivery):
            DeliveryAttempt.objects.create(
                delivery=row, http_status=http_status, latency_ms=max(latency_ms, 0), error=error
            )
        held = model.objects.filter(pk=row.pk, status=OutboxStatus.SENDING, attempts=row.attempts)
        if outcome == "delivered":
            updated = held.update(
                status=OutboxStatus.DELIVERED,
                delivered_at=now,
                lease_until=None,
                next_attempt_at=None,
                last_status=http_status,
                last_error="",
            )
            if row.partner.success_due(now):
                Partner.objects.filter(pk=row.partner_id).update(last_success_at=now)
                row.partner.last_success_at = now
            if updated and isinstance(row, Delivery):
                audit(
                    institution=row.partner.institution,
                    actor=None,
                    action="delivery.delivered",
                    delivery=str(row.public_id),
                    partner=row.partner.name,
                    attempts=row.attempts,
                )
            return
        Partner.objects.filter(pk=row.partner_id).update(last_failure_at=now, last_failure=error)
        row.partner.last_failure_at = now
        if outcome == "retry":
            delay = retry_delay(attempts=row.attempts, retry_after=retry_after)
            next_attempt_at = now + timedelta(seconds=delay)
            requeued = held.update(
                status=OutboxStatus.QUEUED,
                lease_until=None,
                next_attempt_at=next_attempt_at,
                last_status=http_status,
                last_error=error,
            )
            if requeued:
                schedule_on_commit(kind=kind, pk=row.pk, at=next_attempt_at)
            return
        updated = held.update(
            status=OutboxStatus.FAILED,
            lease_until=None,
            next_attempt_at=None,
            failed_at=now,
            last_status=http_status,
            last_error=error,
        )
        if updated:
            _record_failure(kind, row, reason=error)


def _record_failure(kind: Kind, row: Outgoing, *, reason: str) -> None:
    """Audits a row given up on and e-mails the institution's admins on commit."""
    institution = row.partner.institution
    audit(
        institution=institution,
        actor=None,
        action=f"{kind}.failed",
        **{kind: str(row.public_id)},
        partner=row.partner.name,
        attempts=row.attempts,
        reason=reason,
    )
    recipients = list(
        Membership.objects.filter(institution=institution, role=Role.ADMIN)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if not recipients:
        return
    facts = {"partner": row.partner.name, "attempts": row.attempts}
    if isinstance(row, Delivery):
        subject = _("A credential could not be delivered to %(partner)s") % facts
        headline = ngettext(
            "The credential of %(learner)s could not be delivered to %(partner)s after "
            "%(attempts)s attempt.",
            "The credential of %(learner)s could not be delivered to %(partner)s after "
            "%(attempts)s attempts.",
            row.attempts,
        ) % {**facts, "learner": row.credential.holder_name}
    else:
        subject = _("A message could not be delivered to %(partner)s") % facts
        headline = UNDELIVERED_NOTICE[NoticeKind(row.kind)] % facts
    message = (
        headline
        + "\n\n"
        + _(
            "Last error: %(reason)s\n\nYou can send it again from the delivery log of "
            "%(institution)s."
        )
        % {"reason": reason, "institution": institution.name}
    )
    transaction.on_commit(lambda: _mail(subject=subject, message=message, recipients=recipients))


def _mail(*, subject: str, message: str, recipients: list[str]) -> None:
    # After the commit: the failure is recorded whether or not the mail server answers.
    try:
        send_mail(subject=subject, message=message, from_email=None, recipient_list=recipients)
    except OSError:
        logger.exception("Could not e-mail the admins about a failed delivery")


def outbox_sweep() -> int:
    """Enqueues what was lost, and returns how many: queued rows whose next try passed more
    than sweep_grace() ago (their scheduled message never came: a worker holding it died, or
    the broker lost it) and sending rows whose lease ran out (their worker died). A retry whose
    message is on its way is left to it. Safe to run concurrently: sending claims each row."""
    now = timezone.now()
    lost = Q(status=OutboxStatus.QUEUED) & (
        Q(next_attempt_at__lte=now - sweep_grace()) | Q(next_attempt_at__isnull=True)
    )
    due = lost | Q(status=OutboxStatus.SENDING, lease_until__lt=now)
    count = 0
    kinds: tuple[Kind, ...] = ("delivery", "notice")
    for kind in kinds:
        model = _model(kind)
        pks = list(
            model.objects.filter(due)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        if not pks:
            continue
        # Due now, as the delivery log then says: the task sends it at once, and the next
        # sweeps leave it to that task for another grace period.
        model.objects.filter(lost, pk__in=pks).update(next_attempt_at=now)
        for pk in pks:
            _enqueue(kind, pk)
        count += len(pks)
    return count
