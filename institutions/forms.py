from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from institutions.models import ApiScope, Role


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.ISSUER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class OutputForm(forms.Form):
    ob3_strict = forms.BooleanField(
        label=_("Open Badges 3.0-strict credentials"),
        required=False,
        help_text=_(
            "New credentials then carry only a revocation entry, as the Open Badges 3.0 schema "
            "requires, and cannot be suspended (only revoked). Credentials already issued keep "
            "what they have."
        ),
    )


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


class AuditFilterForm(forms.Form):
    action = forms.CharField(
        label=_("Action starts with"),
        max_length=60,
        required=False,
        help_text=_("Such as credential., account.sign_in_failed or signing_key."),
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput({"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput({"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(_("The first day is after the last."))
        return data

    def filters(self) -> dict[str, Any]:
        """The filters for institutions.selectors.audit_events; none while the form is invalid."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "action_prefix": data["action"].strip(),
            "since": data["since"],
            "until": data["until"],
        }


class ESealUploadForm(forms.Form):
    """The e-seal upload; replacing a certificate also asks for confirmation and a reason."""

    file = forms.FileField(
        label=_("Certificate and key"),
        help_text=_(
            "A PKCS#12 file (.p12, .pfx), or a PEM file with the passphrase-protected private "
            "key and the certificate chain, at most 64 KB."
        ),
    )
    passphrase = forms.CharField(
        label=_("Passphrase"), strip=False, widget=forms.PasswordInput, max_length=1000
    )
    reason = forms.CharField(
        label=_("Why is the certificate replaced?"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm = forms.BooleanField(
        label=_("Replace the current certificate: credentials are sealed with the new one."),
        required=False,
    )

    def __init__(self, *args: Any, replacing: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.replacing = replacing
        if not replacing:
            del self.fields["reason"]
            del self.fields["confirm"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.replacing:
            if not data.get("confirm"):
                self.add_error("confirm", _("Tick the box to confirm the change."))
            if not (data.get("reason") or "").strip():
                self.add_error("reason", _("Say why the e-seal certificate is replaced."))
        return data


class ESealRemoveForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the certificate removed?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm = forms.BooleanField(
        label=_(
            "Remove the certificate: new downloads of European Digital Credentials are unsealed."
        ),
        error_messages={"required": _("Tick the box to confirm the change.")},
    )
