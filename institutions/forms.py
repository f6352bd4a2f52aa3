from django import forms
from django.utils.translation import gettext_lazy as _

from institutions.models import ApiScope, Role


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.ISSUER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("Which system will use it, such as “Student information system”."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Permissions"),
        choices=ApiScope.choices,
        widget=forms.CheckboxSelectMultiple,
    )
