from celery import shared_task


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_invitation(invitation_id: int) -> None:
    from institutions import services

    services.invitation_send(invitation_id=invitation_id)
