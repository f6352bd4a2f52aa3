from typing import Any

from allauth.account.signals import email_confirmed, email_removed
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from learners import services


@receiver(email_confirmed)
def attach_on_email_confirmed(
    sender: object, request: object, email_address: Any, **kwargs: Any
) -> None:
    """Credentials issued to an address appear as soon as the address is verified, and imports
    issued to it become the learner's own."""
    services.credentials_attach(user=email_address.user)
    services.imported_holders_match(user=email_address.user)


@receiver(email_removed)
def match_holders_on_email_removed(
    sender: object, request: object, user: Any, email_address: Any, **kwargs: Any
) -> None:
    """An import issued to an address the learner removed is another person's again."""
    services.imported_holders_match(user=user)


@receiver(user_logged_in)
def attach_on_login(sender: object, request: object, user: Any, **kwargs: Any) -> None:
    """And on every sign-in, for credentials issued since."""
    services.credentials_attach(user=user)
