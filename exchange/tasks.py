from datetime import timedelta

from celery import shared_task
from django.conf import settings

# Outbox: deliveries and notices (exchange.outbox)


# Acknowledged late and idempotent: a message redelivered after a lost worker finds the row
# delivered, or leased to another worker, or claims it again once the lease ran out; one that
# comes before the row's next try does nothing. Transient failures are not retried by Celery:
# the outbox queues the row again with backoff, in the database, and sends this task again with
# an ETA of the row's next try; if that message is lost, the sweep finds the row overdue.
@shared_task(acks_late=True, time_limit=60, soft_time_limit=45)
def deliver(delivery_id: int) -> None:
    from exchange import outbox

    outbox.outgoing_send(kind="delivery", pk=delivery_id)


# A batch's deliveries, a chunk per message (outbox.BATCH_CHUNK, 25), sent one after another
# over one connection; each row is claimed as by `deliver`, so a copy of the message, or one
# redelivered after a lost worker, sends nothing twice. The time limit allows every send its
# whole timeout (25 times 10 s) and more.
@shared_task(acks_late=True, time_limit=330, soft_time_limit=300)
def deliver_batch(delivery_ids: list[int]) -> None:
    from exchange import outbox

    outbox.deliveries_send(pks=delivery_ids)


@shared_task(acks_late=True, time_limit=60, soft_time_limit=45)
def notice_send(notice_id: int) -> None:
    from exchange import outbox

    outbox.outgoing_send(kind="notice", pk=notice_id)


# A partner's recognition decision, e-mailed to the credential's holder once per decision. Only
# the mail server's errors are retried, with backoff; the service rolls back before raising.
@shared_task(
    acks_late=True,
    time_limit=60,
    soft_time_limit=45,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def notify_decision(delivery_id: int) -> None:
    from exchange import deliveries

    deliveries.delivery_decision_notify(delivery_id=delivery_id)


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def decisions_notify_sweep() -> None:
    from exchange import deliveries

    deliveries.decisions_notify_sweep(
        older_than=timedelta(seconds=settings.MESHE_WORK_SWEEP_SECONDS)
    )


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def outbox_sweep() -> None:
    from exchange import outbox

    outbox.outbox_sweep()


# Catalogue sync (exchange.catalogue_sync)


# The beat job: fans out one sync per confirmed partner, each idempotent and skipped while one
# of the same partner runs.
@shared_task(acks_late=True, time_limit=60, soft_time_limit=45)
def catalogues_sync() -> None:
    from exchange import catalogue_sync

    catalogue_sync.catalogues_sync_enqueue()


# Not retried: a failed sync records why on the partner, and the beat job tries again next time
# from the watermark of the last page stored.
@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700)
def partner_catalogue_sync(partner_id: int) -> None:
    from exchange import catalogue_sync

    catalogue_sync.partner_catalogue_sync(partner_id=partner_id)


# Housekeeping


# Ten minutes: twice the signature's allowed clock skew, so a replay of a forgotten nonce is
# refused for its stale `created` instead.
@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def nonces_forget() -> None:
    from datetime import timedelta

    from exchange import inbound

    inbound.seen_nonces_forget(older_than=timedelta(minutes=10))
