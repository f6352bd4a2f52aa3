import re
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credentials.catalogue import esco
from credentials.issuing import recipients
from credentials.models import (
    PRACTICAL_FIELDS,
    SPECIFICATION_FIELDS,
    MicroCredential,
    Pathway,
    StatusReason,
)
from credentials.standards import currencies, vocabularies
from meshe.plain_text import validate_multiline_text, validate_one_line_text


def esco_label(uri: str) -> str:
    """The skill's English label from the bundled ESCO index, or the URI when it is not there."""
    try:
        found = esco.skill(uri)
    except esco.IndexMissing:
        return uri
    return found.label if found else uri


class _LinkField(forms.URLField):
    """A web address, https assumed when none is typed; recipients.py decides what is valid."""

    default_validators: list[Any] = []


class IssueForm(forms.Form):
    # The recipient's fields carry no validators of their own: recipients.recipient_problems
    # checks them in clean(), as it does for the spreadsheet and the API.
    micro_credential = forms.ModelChoiceField(
        label=_("Micro-credential"), queryset=MicroCredential.objects.none()
    )
    holder_name = forms.CharField(
        label=_("Learner's full name"),
        widget=forms.TextInput(attrs={"maxlength": recipients.NAME_MAX}),
    )
    holder_email = forms.CharField(
        label=_("Learner's e-mail address"),
        widget=forms.EmailInput(attrs={"maxlength": recipients.EMAIL_MAX}),
    )
    awarded_date = forms.DateField(
        label=_("Date of achievement"),
        widget=forms.DateInput(attrs={"type": "date"}),
        initial=timezone.localdate,
    )
    valid_from = forms.DateField(
        label=_("Valid from"),
        widget=forms.DateInput(attrs={"type": "date"}),
        required=False,
        help_text=_("Leave empty to make it valid from now."),
    )
    grade = forms.CharField(
        label=_("Grade"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": recipients.GRADE_MAX}),
    )
    evidence_url = _LinkField(label=_("Evidence link"), required=False, assume_scheme="https")
    evidence_narrative = forms.CharField(
        label=_("Evidence"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args: object, micro_credentials: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["micro_credential"].queryset = micro_credentials  # type: ignore[attr-defined]

    def clean_valid_from(self) -> datetime | None:
        day = self.cleaned_data["valid_from"]
        if day is None:
            return None
        return datetime.combine(day, time.min, tzinfo=UTC)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        problems = recipients.recipient_problems(
            **{name: data.get(name) or "" for name in recipients.FIELDS},
            today=timezone.localdate(),
        )
        for name, message in problems.items():
            # A field Django could not read (empty, or not a date) already says so.
            if name not in self.errors:
                self.add_error(name, message)
        return data


# The listed reasons staff choose from, by status change.
STATUS_REASONS: dict[str, tuple[StatusReason, ...]] = {
    "revoke": (
        StatusReason.ISSUED_IN_ERROR,
        StatusReason.ACADEMIC_MISCONDUCT,
        StatusReason.RESULT_CHANGED,
        StatusReason.LEARNER_REQUEST,
        StatusReason.OTHER,
    ),
    "suspend": (
        StatusReason.ISSUED_IN_ERROR,
        StatusReason.ACADEMIC_MISCONDUCT,
        StatusReason.RESULT_CHANGED,
        StatusReason.LEARNER_REQUEST,
        StatusReason.OTHER,
    ),
    "reinstate": (
        StatusReason.QUESTION_RESOLVED,
        StatusReason.SUSPENDED_IN_ERROR,
        StatusReason.OTHER,
    ),
}


class StatusChangeForm(forms.Form):
    """A revocation, suspension or reinstatement, confirmed, with a reason from the list and
    the staff's own words (required for "Other")."""

    reason_code = forms.ChoiceField(
        label=_("Reason"), error_messages={"required": _("Choose a reason.")}
    )
    reason = forms.CharField(
        label=_("In your own words"),
        help_text=_("The learner sees the reason; the public never does. Required for “Other”."),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=1000,
        validators=[validate_multiline_text],
    )
    confirm = forms.BooleanField(
        error_messages={"required": _("Tick the box to confirm the change.")}
    )

    def __init__(self, *args: Any, action: str, confirm_label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason_code"].choices = [  # type: ignore[attr-defined]
            ("", _("— choose —")),
            *((reason.value, reason.label) for reason in STATUS_REASONS[action]),
        ]
        self.fields["confirm"].label = confirm_label

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["reason"] = cleaned.get("reason", "").strip()
        if cleaned.get("reason_code") == StatusReason.OTHER and not cleaned["reason"]:
            self.add_error("reason", _("Say in a few words why, when the reason is “Other”."))
        return cleaned


class RevokeForm(forms.Form):
    """Revoking is final: it takes a reason and a confirmation."""

    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )
    confirm = forms.BooleanField(label=_("I understand that revoking is final."))


def _vocabulary(scheme: str, *, required: bool = True) -> list[tuple[str, object]]:
    choices: list[tuple[str, object]] = list(vocabularies.choices(scheme))
    return choices if required else [("", _("— none —")), *choices]


# The free-text fields of a specification besides its title.
SPECIFICATION_TEXTS = (
    "description",
    "quality_assurance_note",
    "prerequisites",
    "criteria",
    "grading_scheme",
    "further_information",
)


class MicroCredentialForm(forms.ModelForm):
    """Every EU standard element; the eleven mandatory ones are required."""

    eqf_level = forms.ChoiceField(label=_("Level (EQF)"))
    isced_field = forms.ChoiceField(label=_("Field of education (ISCED-F 2013)"), required=False)
    assessment_type = forms.ChoiceField(label=_("Type of assessment"))
    form_of_participation = forms.ChoiceField(label=_("Form of participation"))
    learning_setting = forms.ChoiceField(label=_("Learning setting"), required=False)
    quality_assurance = forms.ChoiceField(label=_("Type of quality assurance"))
    supervision_verification = forms.ChoiceField(
        label=_("Supervision and identity verification during assessment"), required=False
    )
    part_of = forms.CharField(
        label=_("Stacks into (links of larger credentials, one per line)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("The specification link of a credential here or at a partner institution."),
    )
    instruction_languages = forms.CharField(
        label=_("Languages of instruction"),
        required=False,
        help_text=_("Language codes separated by commas, such as en, nl."),
    )

    start_dates = forms.CharField(
        label=_("Start dates"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("One date per line, such as 2027-03-01."),
    )

    class Meta:
        model = MicroCredential
        fields = [
            name
            for name in SPECIFICATION_FIELDS
            if name not in {"learning_outcomes", "title_translations", "description_translations"}
        ] + PRACTICAL_FIELDS
        widgets = {
            "schedule": forms.Textarea(attrs={"rows": 2}),
            "description": forms.Textarea(attrs={"rows": 4}),
            "quality_assurance_note": forms.Textarea(attrs={"rows": 2}),
            "prerequisites": forms.Textarea(attrs={"rows": 2}),
            "criteria": forms.Textarea(attrs={"rows": 2}),
            "grading_scheme": forms.Textarea(attrs={"rows": 2}),
            "further_information": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, scheme in vocabularies.SPECIFICATION_FIELD_SCHEMES.items():
            # A field the model lets stay blank gets a "none" choice.
            field = self.fields[name]
            field.choices = _vocabulary(scheme, required=field.required)  # type: ignore[attr-defined]
        self.fields["language"].widget = forms.Select(choices=settings.MESHE_CONTENT_LANGUAGES)
        # What staff type here is signed into every credential issued under it.
        for name in ("title", *SPECIFICATION_TEXTS):
            self.fields[name].validators.append(
                validate_one_line_text if name == "title" else validate_multiline_text
            )
        # Shown on the public offer page and sent in the partner feed.
        for name in ("enrolment_contact", "cost_note", "place"):
            self.fields[name].validators.append(validate_one_line_text)
        self.fields["schedule"].validators.append(validate_multiline_text)
        if self.instance.pk:
            self.initial["part_of"] = "\n".join(ref["url"] for ref in self.instance.part_of)
            self.initial["instruction_languages"] = ", ".join(self.instance.instruction_languages)
            self.initial["start_dates"] = "\n".join(self.instance.start_dates)

    def clean_part_of(self) -> list[dict[str, Any]]:
        validate = URLValidator(schemes=["https", "http"])
        references = []
        for line in self.cleaned_data["part_of"].splitlines():
            url = line.strip()
            if not url:
                continue
            try:
                validate(url)
            except ValidationError:
                raise ValidationError(_("%(url)s is not a link.") % {"url": url}) from None
            references.append({"url": url, "title": {"en": url}})
        return references

    def clean_instruction_languages(self) -> list[str]:
        codes = [c.strip().lower() for c in self.cleaned_data["instruction_languages"].split(",")]
        codes = [code for code in codes if code]
        unknown = [code for code in codes if not re.fullmatch(r"[a-z]{2,3}", code)]
        if unknown:
            raise ValidationError(
                _("Use two- or three-letter language codes: %(codes)s")
                % {"codes": ", ".join(unknown)}
            )
        return codes

    def clean_start_dates(self) -> list[str]:
        return practical_start_dates(self.cleaned_data["start_dates"])

    def clean_currency(self) -> str:
        code = self.cleaned_data["currency"].strip().upper()
        if code and not currencies.is_currency(code):
            raise ValidationError(
                _("%(code)s is not a currency code. Use the ISO 4217 code, such as EUR.")
                % {"code": code}
            )
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("part_of") and not data.get("is_partial"):
            self.add_error(
                "is_partial", _("Tick this when the micro-credential stacks into another one.")
            )
        practical_check(self, data)
        return data


def practical_start_dates(text: str) -> list[str]:
    """Start dates typed one per line (or separated by commas), as ISO dates in order."""
    found = set()
    for part in re.split(r"[\s,;]+", text.strip()):
        if not part:
            continue
        try:
            found.add(date.fromisoformat(part).isoformat())
        except ValueError:
            raise ValidationError(
                _("%(text)s is not a date. Write dates as year-month-day, such as 2027-03-01.")
                % {"text": part[:40]}
            ) from None
    return sorted(found)


def practical_check(form: forms.BaseForm, data: dict[str, Any]) -> None:
    """The practical fields that only make sense together."""
    if data.get("cost") == MicroCredential.Cost.FEE:
        if data.get("price") is None:
            form.add_error("price", _("Give the fee, or choose free or funded."))
        if not data.get("currency"):
            form.add_error("currency", _("Give the currency of the fee, such as EUR."))
    elif data.get("price") is not None:
        form.add_error("cost", _("Choose “A fee” to state an amount."))
    if data.get("duration_amount") and not data.get("duration_unit"):
        form.add_error("duration_unit", _("Say whether the duration is in days, weeks or months."))
    if data.get("starts_any_time") and data.get("start_dates"):
        form.add_error("start_dates", _("Give start dates, or tick “any time”, but not both."))


class LearningOutcomeForm(forms.Form):
    text = forms.CharField(
        label=_("Learning outcome"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        validators=[validate_multiline_text],
    )
    skills = forms.CharField(
        label=_("ESCO skills (links, one per line)"),
        widget=forms.Textarea(attrs={"rows": 2, "data-skill-list": ""}),
        required=False,
        help_text=_(
            "Search below, or paste ESCO skill links such as http://data.europa.eu/esco/skill/…"
        ),
    )

    def clean_skills(self) -> list[dict[str, str]]:
        skills: list[dict[str, str]] = []
        for line in self.cleaned_data["skills"].splitlines():
            if not line.strip():
                continue
            try:
                uri = esco.parse_skill_uri(line)
            except esco.InvalidSkillUri:
                raise ValidationError(
                    _("%(text)s is not an ESCO skill link.") % {"text": line.strip()}
                ) from None
            if uri not in {skill["uri"] for skill in skills}:
                skills.append({"uri": uri, "label": esco_label(uri)})
        return skills


LearningOutcomeFormSet = forms.formset_factory(
    LearningOutcomeForm, extra=1, min_num=1, validate_min=True, can_delete=True
)


class BulkUploadForm(forms.Form):
    micro_credential = forms.ModelChoiceField(
        label=_("Micro-credential"), queryset=MicroCredential.objects.none()
    )
    spreadsheet = forms.FileField(
        label=_("Spreadsheet (CSV or XLSX)"),
        help_text=_("Columns: name, email, awarded_date, grade, evidence_url, evidence_narrative."),
    )

    def __init__(self, *args: Any, micro_credentials: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["micro_credential"].queryset = micro_credentials  # type: ignore[attr-defined]

    def clean_spreadsheet(self) -> Any:
        upload = self.cleaned_data["spreadsheet"]
        limit = settings.MESHE_SPREADSHEET_MAX_BYTES
        if upload.size > limit:
            raise ValidationError(
                _("The file is larger than %(limit)s MB.") % {"limit": limit // (1024 * 1024)}
            )
        return upload


BULK_ACTIONS = [
    ("suspend", _("Suspend")),
    ("reinstate", _("Reinstate")),
    ("revoke", _("Revoke (final)")),
]


class BulkStatusSelectionForm(forms.Form):
    """The first step of a bulk status change: which credentials, and what to do."""

    credentials = forms.TypedMultipleChoiceField(coerce=UUID, choices=[], required=True)
    action = forms.ChoiceField(label=_("Action"), choices=BULK_ACTIONS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any UUID may be named; the selector keeps only the viewer's institution's.
        data = self.data.getlist("credentials") if hasattr(self.data, "getlist") else []
        self.fields["credentials"].choices = [(value, value) for value in data]  # type: ignore[attr-defined]


class TranslationForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"), choices=[("", "—"), *settings.MESHE_CONTENT_LANGUAGES]
    )
    title = forms.CharField(
        label=_("Title in this language"), max_length=300, validators=[validate_one_line_text]
    )
    description = forms.CharField(
        label=_("Description in this language"),
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[validate_multiline_text],
    )


class BaseTranslationFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        seen = set()
        for form in self.forms:
            language = form.cleaned_data.get("language")
            if not language or form.cleaned_data.get("DELETE"):
                continue
            if language in seen:
                raise ValidationError(_("Give each language once."))
            seen.add(language)


TranslationFormSet = forms.formset_factory(
    TranslationForm, formset=BaseTranslationFormSet, extra=1, can_delete=True
)


# Pathways ------------------------------------------------------------------------------------


class PathwayForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300, validators=[validate_one_line_text])
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea,
        required=False,
        validators=[validate_multiline_text],
    )
    awards = forms.ModelChoiceField(
        label=_("Stacked credential issued on completion"), queryset=MicroCredential.objects.none()
    )
    rule = forms.ChoiceField(label=_("Completed with"), choices=Pathway.Rule.choices)
    required_count = forms.IntegerField(
        label=_("Components required"),
        min_value=1,
        required=False,
        help_text=_("For “any number of”."),
    )
    required_ects = forms.DecimalField(
        label=_("ECTS required"),
        min_value=Decimal("0.01"),
        max_digits=6,
        decimal_places=2,
        required=False,
        help_text=_("For “at least a number of ECTS”."),
    )

    def __init__(self, *args: Any, awards: QuerySet[MicroCredential], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["awards"].queryset = awards  # type: ignore[attr-defined]


class PathwayComponentForm(forms.Form):
    micro_credential = forms.ModelChoiceField(
        label=_("A micro-credential on this portal"),
        queryset=MicroCredential.objects.none(),
        required=False,
    )
    external_url = forms.URLField(
        label=_("Or a partner's specification link"), max_length=500, required=False
    )
    external_title = forms.CharField(label=_("Its title"), max_length=300, required=False)
    external_ects = forms.DecimalField(
        label=_("Its ECTS"),
        min_value=Decimal("0.01"),
        max_digits=5,
        decimal_places=2,
        required=False,
    )

    def __init__(
        self, *args: Any, micro_credentials: QuerySet[MicroCredential], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["micro_credential"]
        field.queryset = micro_credentials  # type: ignore[attr-defined]
        field.label_from_instance = lambda mc: f"{mc.title} — {mc.institution.name}"  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        local = data.get("micro_credential")
        url = data.get("external_url")
        if bool(local) == bool(url):
            raise ValidationError(
                _("Choose a micro-credential or give a partner's link, not both.")
            )
        if url and (not data.get("external_title") or not data.get("external_ects")):
            raise ValidationError(_("A partner's specification needs a title and its ECTS."))
        return data
