from django import forms
from django.utils.translation import gettext_lazy as _


class NodeForm(forms.Form):
    node = forms.URLField(
        label=_("Partner's node address"),
        assume_scheme="https",
        help_text=_("The address of the partner's MESHE portal, such as https://meshe.uni-b.eu."),
    )


class PartnershipRequestForm(forms.Form):
    node = forms.URLField(widget=forms.HiddenInput, assume_scheme="https")
    did = forms.CharField(widget=forms.HiddenInput, max_length=500)
    # The fingerprints the admin was shown: the request is refused if the keys changed since.
    fingerprints = forms.CharField(widget=forms.HiddenInput, max_length=5000)
    note = forms.CharField(
        label=_("Note for their administrators"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
