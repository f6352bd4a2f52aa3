from datetime import date, datetime, time
from typing import Any

from django import forms
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from credentials.models import IssuedCredential
from credentials.standards.badge_images import MAX_IMAGE_BYTES
from credentials.standards.verification import DEFAULT_MAX_BYTES
from learners.selectors import WalletSort, WalletStatus


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


class WalletFilterForm(forms.Form):
    """The wallet's filters, read from the query string; anything unknown means "all"."""

    institution = forms.ChoiceField(label=_("Institution"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=WalletSort.choices)

    def __init__(self, *args: Any, institutions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        institution = self.fields["institution"]
        status = self.fields["status"]
        assert isinstance(institution, forms.ChoiceField)
        assert isinstance(status, forms.ChoiceField)
        institution.choices = [("", _("All institutions")), *institutions]
        status.choices = [("", _("Any status")), *WalletStatus.choices]

    def filters(self) -> dict[str, str]:
        """The valid filters; an invalid value is dropped rather than shown as an error."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "institution": data.get("institution") or "",
            "status": data.get("status") or "",
            "sort": data.get("sort") or WalletSort.NEWEST,
        }


class ShareLinkForm(forms.Form):
    label = forms.CharField(
        label=_("Label (only you see it)"),
        max_length=100,
        required=False,
        help_text=_("For example, who you are sending it to."),
    )
    expires_on = forms.DateField(
        label=_("Stops working after (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_expires_on(self) -> date | None:
        expires_on: date | None = self.cleaned_data.get("expires_on")
        if expires_on is not None and expires_on < timezone.localdate():
            raise forms.ValidationError(_("Choose today or a later date."))
        return expires_on

    def expires_at(self) -> datetime | None:
        """The end of the chosen day, in the portal's time zone."""
        expires_on = self.cleaned_data.get("expires_on")
        if expires_on is None:
            return None
        return timezone.make_aware(datetime.combine(expires_on, time.max))


# A baked badge image is larger than the credential inside it; the service holds the credential
# itself to DEFAULT_MAX_BYTES.
UPLOAD_MAX_BYTES = max(DEFAULT_MAX_BYTES, MAX_IMAGE_BYTES)


class ImportForm(forms.Form):
    upload = forms.FileField(
        label=_("Upload the credential file (JSON)"),
        help_text=_("A JSON file, or a badge image (PNG or SVG) with the credential baked in."),
        required=False,
    )
    document = forms.CharField(
        label=_("or paste the credential (JSON)"), widget=forms.Textarea, required=False
    )

    def clean_upload(self) -> object:
        upload = self.cleaned_data.get("upload")
        if upload is not None and upload.size > UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s KiB; no credential is that large.")
                % {"limit": UPLOAD_MAX_BYTES // 1024}
            )
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        given = [name for name in ("upload", "document") if data.get(name)]
        if len(given) != 1 and not self.errors:
            raise forms.ValidationError(_("Upload a file or paste a credential: one of them."))
        return data

    def raw(self) -> bytes | str:
        upload = self.cleaned_data.get("upload")
        if upload:
            return bytes(upload.read(UPLOAD_MAX_BYTES + 1))
        return str(self.cleaned_data["document"])


class CredentialsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.version.title} — {obj.institution.name}"


class ProfileForm(forms.Form):
    is_public = forms.BooleanField(label=_("Show my public profile"), required=False)
    slug = forms.SlugField(
        label=_("Address"),
        max_length=60,
        min_length=3,
        required=False,
        help_text=_("Letters, digits and hyphens. Leave empty for one we make up."),
    )
    headline = forms.CharField(
        label=_("Headline"),
        max_length=200,
        required=False,
        help_text=_("One line under your name, such as what you study or do."),
    )
    credentials = CredentialsField(
        label=_("Credentials to show"),
        queryset=IssuedCredential.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["credentials"]
        assert isinstance(field, CredentialsField)
        # Only the learner's own credentials can be chosen; anything else is a form error.
        field.queryset = (
            IssuedCredential.objects.filter(holder=user)
            .select_related("version", "institution")
            .defer("document")
            .order_by("-issued_at")
        )


class DeleteAccountForm(forms.Form):
    """Asks for the password, or for accounts without one (institutional sign-in) the
    e-mail address typed out, so that one careless click cannot delete an account."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirmation = forms.CharField(label=_("Type your e-mail address to confirm"), required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if user.has_usable_password():
            del self.fields["confirmation"]
            self.fields["password"].required = True
        else:
            del self.fields["password"]
            self.fields["confirmation"].required = True

    def clean_password(self) -> str:
        password = str(self.cleaned_data.get("password") or "")
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password."))
        return password

    def clean_confirmation(self) -> str:
        typed = str(self.cleaned_data.get("confirmation") or "").strip()
        if typed.lower() != self.user.email.lower():
            raise forms.ValidationError(_("Type %(email)s exactly.") % {"email": self.user.email})
        return typed
