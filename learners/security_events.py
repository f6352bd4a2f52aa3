"""Security events of accounts, from Django's and allauth's signals, into the audit logs.

Every account's events go to its own history (LearnerEvent); staff's also to the audit log of
each institution they work for (learners.services.account_security_event). They live here, in
the app above both the accounts and the institutions, so neither has to know of the other's log.
"""

from typing import Any

from allauth.account.signals import password_changed, password_reset, password_set
from allauth.mfa.signals import (
    authentication_failed,
    authenticator_added,
    authenticator_removed,
    authenticator_reset,
)
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.models import User
from learners import services
from learners.models import LearnerEvent
from meshe.rate_limits import client_address

Action = LearnerEvent.Action


def _where(request: HttpRequest | None) -> dict[str, str]:
    return {"ip": client_address(request)} if request is not None else {}


@receiver(user_logged_in, dispatch_uid="learners.audit.signed_in")
def audit_signed_in(sender: object, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    services.account_security_event(user=user, action=Action.SIGNED_IN, **_where(request))


@receiver(user_login_failed, dispatch_uid="learners.audit.sign_in_failed")
def audit_sign_in_failed(
    sender: object, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """A wrong password for a known account; guesses at unknown addresses name no one."""
    login = credentials.get("email") or credentials.get("username")
    user = User.objects.filter(email__iexact=login).first() if isinstance(login, str) else None
    if user is not None:
        services.account_security_event(
            user=user, action=Action.SIGN_IN_FAILED, factor="password", **_where(request)
        )


@receiver(authentication_failed, dispatch_uid="learners.audit.second_factor_failed")
def audit_second_factor_failed(
    sender: object, request: HttpRequest | None, user: User, authenticator: Any, **kwargs: Any
) -> None:
    services.account_security_event(
        user=user,
        action=Action.SIGN_IN_FAILED,
        subject=str(authenticator.type) if authenticator is not None else "",
        factor=str(authenticator.type) if authenticator is not None else "second factor",
        **_where(request),
    )


def _mfa_changed(change: str) -> Any:
    def record(
        sender: object, request: HttpRequest | None, user: User, authenticator: Any, **kwargs: Any
    ) -> None:
        kind = str(authenticator.type)
        services.account_security_event(
            user=user,
            action=Action.MFA_CHANGED,
            subject=f"{kind} {change}",
            change=change,
            type=kind,
            **_where(request),
        )

    return record


audit_mfa_added = _mfa_changed("added")
audit_mfa_removed = _mfa_changed("removed")
audit_mfa_reset = _mfa_changed("reset")
authenticator_added.connect(audit_mfa_added, dispatch_uid="learners.audit.mfa_added")
authenticator_removed.connect(audit_mfa_removed, dispatch_uid="learners.audit.mfa_removed")
authenticator_reset.connect(audit_mfa_reset, dispatch_uid="learners.audit.mfa_reset")


@receiver(password_changed, dispatch_uid="learners.audit.password_changed")
@receiver(password_set, dispatch_uid="learners.audit.password_set")
@receiver(password_reset, dispatch_uid="learners.audit.password_reset")
def audit_password_changed(
    sender: object, request: HttpRequest | None, user: User, **kwargs: Any
) -> None:
    services.account_security_event(user=user, action=Action.PASSWORD_CHANGED, **_where(request))
