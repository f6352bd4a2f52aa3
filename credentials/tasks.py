from celery import shared_task


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_holders(credential_ids: list[int]) -> None:
    from credentials import services

    services.holders_notify(credential_ids=credential_ids)
