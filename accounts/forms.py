"""allauth's account forms with MESHE's labels: "E-mail address", "Remember me", sentence case.

allauth's own labels ("Email", "Remember Me") come from its catalogue, whose German says "du";
these subclasses (ACCOUNT_FORMS in settings) relabel the fields with MESHE's msgids, so the
project catalogue, which says "Sie", is the one that answers. Behaviour is allauth's.
"""

from typing import Any

from allauth.account import forms as allauth_forms
from django import forms
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrPromise

EMAIL = _("E-mail address")
PASSWORD = _("Password")
PASSWORD_AGAIN = _("Password (again)")
NEW_PASSWORD = _("New password")
NEW_PASSWORD_AGAIN = _("New password (again)")
CURRENT_PASSWORD = _("Current password")


def relabel(form: forms.Form, labels: dict[str, StrPromise]) -> None:
    """Give each named field that the form has MESHE's label, and the same text as placeholder."""
    for name, label in labels.items():
        field = form.fields.get(name)
        if field is None:
            continue
        field.label = label
        if "placeholder" in field.widget.attrs:
            field.widget.attrs["placeholder"] = label


class LoginForm(allauth_forms.LoginForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        relabel(self, {"login": EMAIL, "password": PASSWORD, "remember": _("Remember me")})


class SignupForm(allauth_forms.SignupForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        relabel(self, {"email": EMAIL, "password1": PASSWORD, "password2": PASSWORD_AGAIN})


class ResetPasswordForm(allauth_forms.ResetPasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        relabel(self, {"email": EMAIL})


class ResetPasswordKeyForm(allauth_forms.ResetPasswordKeyForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        relabel(self, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD_AGAIN})


class ChangePasswordForm(allauth_forms.ChangePasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        relabel(
            self,
            {
                "oldpassword": CURRENT_PASSWORD,
                "password1": NEW_PASSWORD,
                "password2": NEW_PASSWORD_AGAIN,
            },
        )


class SetPasswordForm(allauth_forms.SetPasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        relabel(self, {"password1": PASSWORD, "password2": PASSWORD_AGAIN})


class AddEmailForm(allauth_forms.AddEmailForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        relabel(self, {"email": EMAIL})


class ReauthenticateForm(allauth_forms.ReauthenticateForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        relabel(self, {"password": PASSWORD})
