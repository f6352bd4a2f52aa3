from celery import shared_task
from django.db import InterfaceError, OperationalError


# A mail server or a database that fails is retried: at worst the invitee gets the same link
# twice, when the mail went out and recording it did not.
@shared_task(
    autoretry_for=(OSError, OperationalError, InterfaceError), retry_backoff=True, max_retries=5
)
def send_invitation(invitation_id: int) -> None:
    from institutions import services

    services.invitation_send(invitation_id=invitation_id)
