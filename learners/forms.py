from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from learners.models import User


class SignupDetailsForm(forms.Form):
    """The fields MESHE asks for at sign-up beyond allauth's e-mail and password."""

    name = forms.CharField(
        label=_("Full name"),
        max_length=200,
        help_text=_("As it should appear on your credentials."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def signup(self, request: HttpRequest, user: User) -> None:
        user.name = self.cleaned_data["name"]
        user.save(update_fields=["name"])
