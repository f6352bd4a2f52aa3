import re
from collections.abc import Iterable
from dataclasses import dataclass
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
from credentials.standards import currencies, verification, vocabularies
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

    def __init__(
        self,
        *args: Any,
        action: str,
        confirm_label: str,
        learner_sees_reason: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if not learner_sees_reason:
            # A credential signed through the VC-API has no learner on this portal.
            self.fields["reason"].help_text = _(
                "Your colleagues and the audit log keep the reason; the public never sees it. "
                "Required for “Other”."
            )
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


def _vocabulary(scheme: str, *, required: bool = True) -> list[tuple[str, object]]:
    # A required element starts on an empty "Choose…" prompt, never on the list's first
    # entry: a value nobody chose would be signed into every credential.
    choices: list[tuple[str, object]] = list(vocabularies.choices(scheme))
    return [("", _("Choose…") if required else _("— none —")), *choices]


def language_choices(kept: Iterable[str] = ()) -> list[tuple[str, str]]:
    """Languages by name in the visitor's language, stored as ISO 639-1 codes.

    The EU authority table's languages come first by name; a code saved before the names
    were offered (kept) stays a choice of its own, so editing never drops it.
    """
    named = {
        concept.annotations["iso639_1"]: concept.localized_label
        for concept in vocabularies.concepts(vocabularies.LANGUAGE)
        if concept.annotations.get("iso639_1")
    }
    choices = sorted(named.items(), key=lambda choice: choice[1].casefold())
    return choices + [(code, code) for code in kept if code not in named]


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

    required_css_class = "required"

    eqf_level = forms.ChoiceField(
        label=_("Level (EQF)"), error_messages={"required": _("Choose the level (EQF).")}
    )
    isced_field = forms.ChoiceField(label=_("Field of education (ISCED-F 2013)"), required=False)
    assessment_type = forms.ChoiceField(
        label=_("Type of assessment"),
        error_messages={"required": _("Choose the type of assessment.")},
    )
    form_of_participation = forms.ChoiceField(
        label=_("Form of participation"),
        error_messages={"required": _("Choose the form of participation.")},
    )
    learning_setting = forms.ChoiceField(label=_("Learning setting"), required=False)
    quality_assurance = forms.ChoiceField(
        label=_("Type of quality assurance"),
        error_messages={"required": _("Choose the type of quality assurance.")},
    )
    supervision_verification = forms.ChoiceField(
        label=_("Supervision and identity verification during assessment"), required=False
    )
    part_of = forms.CharField(
        label=_("Stacks into (links of larger credentials, one per line)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("The specification link of a credential here or at a partner institution."),
    )
    instruction_languages = forms.MultipleChoiceField(
        label=_("Languages of instruction"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "choice-list"}),
        help_text=_("Tick each language the teaching and assessment are in."),
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
        error_messages = {
            "title": {"required": _("Give the micro-credential a title.")},
            "description": {"required": _("Describe the micro-credential.")},
            "ects": {"required": _("Give the workload in ECTS.")},
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
        # Values passed as initial (the editor re-shown with one more outcome) win over the row's.
        passed = kwargs.get("initial") or {}
        if self.instance.pk:
            if "part_of" not in passed:
                self.initial["part_of"] = "\n".join(ref["url"] for ref in self.instance.part_of)
            if "instruction_languages" not in passed:
                self.initial["instruction_languages"] = list(self.instance.instruction_languages)
            if "start_dates" not in passed:
                self.initial["start_dates"] = "\n".join(self.instance.start_dates)
        kept = list(self.initial.get("instruction_languages") or [])
        if hasattr(self.data, "getlist"):
            kept += self.data.getlist(self.add_prefix("instruction_languages"))
        self.fields["instruction_languages"].choices = language_choices(kept)  # type: ignore[attr-defined]

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
        # Only listed names or codes saved earlier reach here; a code still has to look like one.
        codes = [code for code in self.cleaned_data["instruction_languages"] if code]
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


class PublishForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I have checked the preview: publish it for everyone to see."),
        error_messages={"required": _("Tick the box to confirm that you checked the preview.")},
    )


class LearningOutcomeForm(forms.Form):
    required_css_class = "required"

    text = forms.CharField(
        label=_("Learning outcome"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        validators=[validate_multiline_text],
        error_messages={"required": _("Write the learning outcome, or remove it.")},
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


# Django's own formset messages ("Please submit at least 1 form.") speak of forms, not of
# what staff describe; each formset of the editor says it in the editor's words.
_BROKEN_FORM = _("The form arrived incomplete. Reload the page and enter your changes again.")


class BaseLearningOutcomeFormSet(forms.BaseFormSet):
    default_error_messages = {
        "missing_management_form": _BROKEN_FORM,
        "too_few_forms": _("Add at least one learning outcome."),
        "too_many_forms": _("Give at most %(num)d learning outcomes."),
    }

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        # The box that works without JavaScript; the script shows a button of the same name.
        form.fields["DELETE"].label = _("Remove this outcome")


LearningOutcomeFormSet = forms.formset_factory(
    LearningOutcomeForm,
    formset=BaseLearningOutcomeFormSet,
    extra=1,
    min_num=1,
    validate_min=True,
    max_num=100,
    validate_max=True,
    can_delete=True,
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
    default_error_messages = {
        "missing_management_form": _BROKEN_FORM,
        "too_many_forms": _("Give at most %(num)d other languages."),
    }

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        form.fields["DELETE"].label = _("Remove this language")

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


# The editor shown again as typed, and its error summary ------------------------------------------


def _marked_for_removal(formset: forms.BaseFormSet, row: forms.BaseForm) -> bool:
    return bool(formset.can_delete and row["DELETE"].data)


@dataclass(frozen=True)
class TypedSoFar:
    """What was typed into the editor, to show it again as initial values: with one more
    outcome row and no errors for what is not filled in yet (the editor without JavaScript)."""

    form: dict[str, Any]
    outcomes: list[dict[str, Any]]
    outcomes_blank: int
    translations: list[dict[str, Any]]
    translations_blank: int

    @classmethod
    def read(
        cls, form: forms.BaseForm, outcomes: forms.BaseFormSet, translations: forms.BaseFormSet
    ) -> "TypedSoFar":
        outcome_rows, outcomes_blank = _typed_rows(outcomes, ("text", "skills"))
        translation_rows, translations_blank = _typed_rows(
            translations, ("language", "title", "description")
        )
        return cls(
            form={name: form[name].data for name in form.fields},
            outcomes=outcome_rows,
            outcomes_blank=outcomes_blank,
            translations=translation_rows,
            translations_blank=translations_blank,
        )


def _typed_rows(
    formset: forms.BaseFormSet, names: tuple[str, ...]
) -> tuple[list[dict[str, Any]], int]:
    """The rows with something typed, not marked for removal; and how many were left blank."""
    kept, blank = [], 0
    for row in formset.forms:
        if _marked_for_removal(formset, row):
            continue
        values = {name: row[name].data for name in names}
        if any(values.values()):
            kept.append(values)
        else:
            blank += 1
    return kept, blank


@dataclass(frozen=True)
class ErrorLink:
    """One problem of a submitted form, for the summary above it: where it is and what it is."""

    target: str
    label: str
    message: str


def error_summary(
    form: forms.BaseForm, formsets: Iterable[tuple[forms.BaseFormSet, str]]
) -> list[ErrorLink]:
    """Every error of a form and its formsets, in page order, each with the id of its field.

    formsets pairs each formset with the id of the fieldset that holds it, where errors of the
    formset as a whole (too few outcomes, a language given twice) point.
    """
    if not form.is_bound:
        return []
    found = [ErrorLink("", "", str(message)) for message in form.non_field_errors()]
    found += _field_errors(form, row=None)
    for formset, fieldset_id in formsets:
        found += [ErrorLink(fieldset_id, "", str(message)) for message in formset.non_form_errors()]
        for number, row in enumerate(formset.forms, start=1):
            if _marked_for_removal(formset, row):
                continue
            found += [ErrorLink(fieldset_id, "", str(m)) for m in row.non_field_errors()]
            found += _field_errors(row, row=number)
    return found


def _field_errors(form: forms.BaseForm, *, row: int | None) -> list[ErrorLink]:
    found = []
    for bound_field in form:
        label = str(bound_field.label)
        if row is not None:
            label = _("%(field)s, number %(number)s") % {"field": label, "number": row}
        found += [
            ErrorLink(bound_field.auto_id or "", label, str(message))
            for message in bound_field.errors
        ]
    return found


class EndorsementRecordForm(forms.Form):
    """An endorsement received from outside MESHE: pasted, or uploaded as a JSON file."""

    document = forms.CharField(
        label=_("Paste the endorsement (JSON)"),
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
        max_length=verification.DEFAULT_MAX_BYTES,
    )
    upload = forms.FileField(label=_("or upload the endorsement file"), required=False)

    def clean_upload(self) -> object:
        upload = self.cleaned_data.get("upload")
        if upload is not None and upload.size > verification.DEFAULT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s KiB; no endorsement is that large.")
                % {"limit": verification.DEFAULT_MAX_BYTES // 1024}
            )
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("document")) == bool(data.get("upload")):
            raise forms.ValidationError(_("Paste the endorsement or upload its file: one of them."))
        return data

    def endorsement(self) -> str | bytes:
        """The document given, as pasted or as the file's bytes."""
        upload = self.cleaned_data["upload"]
        return upload.read() if upload else self.cleaned_data["document"]
