from celery import shared_task


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_holder(credential_id: int) -> None:
    from credentials import services

    services.holder_notify(credential_id=credential_id)
