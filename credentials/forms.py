from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credentials.models import MicroCredential
from credentials.verification import DEFAULT_MAX_BYTES


class IssueForm(forms.Form):
    micro_credential = forms.ModelChoiceField(
        label=_("Micro-credential"), queryset=MicroCredential.objects.none()
    )
    holder_name = forms.CharField(label=_("Learner's full name"), max_length=200)
    holder_email = forms.EmailField(label=_("Learner's e-mail address"))
    awarded_date = forms.DateField(
        label=_("Date of achievement"),
        widget=forms.DateInput(attrs={"type": "date"}),
        initial=timezone.localdate,
    )
    grade = forms.CharField(label=_("Grade"), max_length=100, required=False)
    evidence_url = forms.URLField(label=_("Evidence link"), required=False, assume_scheme="https")
    evidence_narrative = forms.CharField(
        label=_("Evidence"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args: object, micro_credentials: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["micro_credential"].queryset = micro_credentials  # type: ignore[attr-defined]

    def clean_awarded_date(self) -> object:
        awarded = self.cleaned_data["awarded_date"]
        if awarded > timezone.localdate():
            raise forms.ValidationError(_("The date of achievement cannot be in the future."))
        return awarded


class StatusChangeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (kept in the audit log)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=1000,
    )


class VerifyForm(forms.Form):
    document = forms.CharField(
        label=_("Paste the credential (JSON)"), widget=forms.Textarea, required=False
    )
    upload = forms.FileField(label=_("or upload the credential file"), required=False)
    url = forms.URLField(
        label=_("or give a link to the credential"), required=False, assume_scheme="https"
    )

    def clean_upload(self) -> object:
        upload = self.cleaned_data.get("upload")
        if upload is not None and upload.size > DEFAULT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s KiB; no credential is that large.")
                % {"limit": DEFAULT_MAX_BYTES // 1024}
            )
        return upload

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        given = [name for name in ("document", "upload", "url") if data.get(name)]
        if len(given) != 1:
            raise forms.ValidationError(
                _("Paste a credential, upload a file or give a link: exactly one of them.")
            )
        return data
