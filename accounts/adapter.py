"""allauth's account adapter in MESHE's voice: its errors in the project's words, and the
portal's address in every e-mail it sends."""

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class AccountAdapter(DefaultAccountAdapter):
    # The messages a visitor can meet with e-mail sign-in; the project catalogue translates them.
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "account_inactive": _("This account is inactive."),
        "cannot_remove_primary_email": _("You cannot remove your primary e-mail address."),
        "duplicate_email": _("This e-mail address already belongs to your account."),
        "email_password_mismatch": _("The e-mail address or the password is not correct."),
        "email_taken": _("An account already uses this e-mail address."),
        "enter_current_password": _("Please enter your current password."),
        "incorrect_password": _("The password is not correct."),
        "invalid_password_reset": _("This link to reset your password is no longer valid."),
        "max_email_addresses": _("You cannot add more than %d e-mail addresses."),
        "too_many_login_attempts": _("Too many failed sign-in attempts. Please try again later."),
        "unknown_email": _("No account uses this e-mail address."),
        "unverified_primary_email": _("Your primary e-mail address must be verified first."),
    }

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """allauth's e-mail, signed with the portal's address rather than the request's host."""
        super().send_mail(
            template_prefix, email, {"portal_url": settings.MESHE_BASE_URL, **context}
        )
