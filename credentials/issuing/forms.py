"""The public verify page's form: paste, upload or link one credential."""

from django import forms
from django.utils.translation import gettext_lazy as _

from credentials.standards.badge_images import MAX_IMAGE_BYTES


class VerifyForm(forms.Form):
    document = forms.CharField(
        label=_("Paste the credential (JSON)"), widget=forms.Textarea, required=False
    )
    upload = forms.FileField(
        label=_("or upload the credential file"),
        help_text=_("A JSON file, a badge image (PNG or SVG) or a European Digital Credential."),
        required=False,
    )
    url = forms.URLField(
        label=_("or give a link to the credential"), required=False, assume_scheme="https"
    )

    def clean_upload(self) -> object:
        upload = self.cleaned_data.get("upload")
        # A badge image is larger than the credential it carries; the verifier caps each.
        if upload is not None and upload.size > MAX_IMAGE_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s KiB; no credential is that large.")
                % {"limit": MAX_IMAGE_BYTES // 1024}
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
