import re
import uuid

from django.conf import settings
from django.core.validators import MinValueValidator, URLValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from credentials.content_language import in_active_language
from institutions.models import Institution


class MicroCredential(models.Model):
    """The specification ("offer") of a micro-credential: every EU standard element.

    Staff edit these fields; issuing snapshots them into a MicroCredentialVersion, so an
    issued credential always points at exactly what it was issued under.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        RETIRED = "retired", _("Retired")

    class DurationUnit(models.TextChoices):
        DAYS = "days", _("days")
        WEEKS = "weeks", _("weeks")
        MONTHS = "months", _("months")

    class Cost(models.TextChoices):
        FEE = "fee", _("A fee")
        FREE = "free", _("Free")
        FUNDED = "funded", _("Funded (free for eligible learners)")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="micro_credentials"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    language = models.CharField(
        _("main language"), max_length=8, default="en", help_text=_("Of the title and description.")
    )
    title = models.CharField(_("title"), max_length=300)
    # Other languages, keyed by language code: {"de": "…"}.
    title_translations = models.JSONField(default=dict, blank=True)
    description = models.TextField(_("description"))
    description_translations = models.JSONField(default=dict, blank=True)
    # [{"text": "…", "esco": ["http://data.europa.eu/esco/skill/…", …]}, …]
    learning_outcomes = models.JSONField(_("learning outcomes"), default=list)
    ects = models.DecimalField(_("workload in ECTS"), max_digits=5, decimal_places=2)
    workload_hours = models.PositiveIntegerField(_("workload in hours"), null=True, blank=True)
    eqf_level = models.URLField(_("EQF level"))
    isced_field = models.URLField(_("field of education (ISCED-F)"), blank=True)
    assessment_type = models.URLField(_("type of assessment"))
    form_of_participation = models.URLField(_("form of participation"))
    learning_setting = models.URLField(_("learning setting"), blank=True)
    quality_assurance = models.URLField(_("type of quality assurance"))
    quality_assurance_note = models.TextField(_("quality assurance details"), blank=True)
    supervision_verification = models.URLField(
        _("supervision and identity verification"), blank=True
    )
    prerequisites = models.TextField(_("prerequisites"), blank=True)
    criteria = models.TextField(_("assessment criteria"), blank=True)
    grading_scheme = models.TextField(_("grading scheme"), blank=True)
    is_partial = models.BooleanField(
        _("stackable towards a larger credential"),
        default=False,
    )
    # URLs of the specifications this one stacks into, possibly at a partner institution.
    part_of = models.JSONField(default=list, blank=True)
    further_information = models.TextField(_("further information"), blank=True)
    further_information_url = models.URLField(_("further information link"), blank=True)
    instruction_languages = models.JSONField(default=list, blank=True)
    validity_months = models.PositiveIntegerField(
        _("valid for (months)"), null=True, blank=True, help_text=_("Empty: does not expire.")
    )
    # Practical information for someone considering the course: it changes from one intake to
    # the next and is no part of what a credential attests, so versions do not snapshot it
    # (PRACTICAL_FIELDS below). Language of instruction and mode are instruction_languages
    # and form_of_participation above, which credentials do carry.
    enrolment_url = models.URLField(
        _("enrolment link"),
        blank=True,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text=_("The page where learners sign up."),
    )
    enrolment_contact = models.CharField(
        _("enrolment contact"),
        max_length=300,
        blank=True,
        help_text=_("An e-mail address or a sentence, such as “Write to the study office”."),
    )
    start_dates = models.JSONField(_("start dates"), default=list, blank=True)  # ["2027-03-01"]
    starts_any_time = models.BooleanField(_("learners can start at any time"), default=False)
    duration_amount = models.PositiveSmallIntegerField(_("duration"), null=True, blank=True)
    duration_unit = models.CharField(
        _("duration unit"), max_length=6, choices=DurationUnit.choices, blank=True
    )
    schedule = models.TextField(
        _("schedule"), blank=True, help_text=_("Such as “Tuesday evenings, 18:00 to 21:00”.")
    )
    cost = models.CharField(_("cost"), max_length=6, choices=Cost.choices, blank=True)
    price = models.DecimalField(
        _("fee"),
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    currency = models.CharField(
        _("currency"), max_length=3, blank=True, help_text=_("The ISO 4217 code, such as EUR.")
    )
    cost_note = models.CharField(
        _("about the cost"),
        max_length=300,
        blank=True,
        help_text=_(
            "Such as “Funded by the Erasmus+ programme for staff of partner universities”."
        ),
    )
    place = models.CharField(
        _("place"), max_length=200, blank=True, help_text=_("City and campus, for on-site parts.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("micro-credential")
        verbose_name_plural = _("micro-credentials")
        ordering = ("title",)
        constraints = [
            models.CheckConstraint(condition=Q(ects__gt=0), name="micro_credential_ects_positive"),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gte=0),
                name="micro_credential_price_not_negative",
            ),
        ]
        indexes = [
            # The catalogue feed pages through an institution's offers by modification time.
            models.Index(fields=["institution", "updated_at", "id"], name="micro_credential_feed"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def localized_title(self) -> str:
        """The title in the visitor's language when staff gave one, else in the main language."""
        return in_active_language(
            {**self.title_translations, self.language: self.title}, main=self.language
        )

    @property
    def localized_description(self) -> str:
        """The description in the visitor's language when staff gave one, else the main one."""
        return in_active_language(
            {**self.description_translations, self.language: self.description},
            main=self.language,
        )


# What staff describe of a specification, and what a version snapshots.
SPECIFICATION_FIELDS = [
    "language",
    "title",
    "title_translations",
    "description",
    "description_translations",
    "learning_outcomes",
    "ects",
    "workload_hours",
    "eqf_level",
    "isced_field",
    "assessment_type",
    "form_of_participation",
    "learning_setting",
    "quality_assurance",
    "quality_assurance_note",
    "supervision_verification",
    "prerequisites",
    "criteria",
    "grading_scheme",
    "is_partial",
    "part_of",
    "further_information",
    "further_information_url",
    "instruction_languages",
    "validity_months",
]

# What a prospective learner needs to act, edited with the specification but not snapshotted.
PRACTICAL_FIELDS = [
    "enrolment_url",
    "enrolment_contact",
    "start_dates",
    "starts_any_time",
    "duration_amount",
    "duration_unit",
    "schedule",
    "cost",
    "price",
    "currency",
    "cost_note",
    "place",
]


class MicroCredentialVersion(models.Model):
    """An immutable snapshot of a specification, as credentials were issued under it."""

    micro_credential = models.ForeignKey(
        MicroCredential, on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ("micro_credential", "number")
        constraints = [
            models.UniqueConstraint(
                fields=["micro_credential", "number"], name="micro_credential_version_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.micro_credential} v{self.number}"

    @property
    def title(self) -> str:
        return self.snapshot["title"][self.snapshot["language"]]

    @property
    def description(self) -> str:
        return self.snapshot["description"][self.snapshot["language"]]

    @property
    def localized_title(self) -> str:
        """The title as issued, in the visitor's language when it has one, else the main one."""
        return in_active_language(self.snapshot["title"], main=self.snapshot["language"])

    @property
    def localized_description(self) -> str:
        """The description as issued, in the visitor's language when it has one, else the main one."""
        return in_active_language(self.snapshot["description"], main=self.snapshot["language"])

    @cached_property
    def url(self) -> str:
        """The achievement's identifier in issued credentials (a bulk chunk asks once per row)."""
        return settings.MESHE_BASE_URL + reverse(
            "credentials:specification_version",
            kwargs={"public_id": self.micro_credential.public_id, "number": self.number},
        )

    @property
    def badge_url(self) -> str:
        """The path of its badge picture (no credential inside), for pages to show."""
        return reverse(
            "credentials:specification_badge",
            kwargs={"public_id": self.micro_credential.public_id, "number": self.number},
        )


class StatusPurpose(models.TextChoices):
    REVOCATION = "revocation", _("Revocation")
    SUSPENSION = "suspension", _("Suspension")


class StatusList(models.Model):
    """One Bitstring Status List of an institution, and its signed credential as served."""

    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="status_lists"
    )
    purpose = models.CharField(max_length=10, choices=StatusPurpose.choices)
    number = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    bits = models.BinaryField()  # the published statuses
    allocated = models.BinaryField()  # which indexes belong to a credential
    allocated_count = models.PositiveIntegerField(default=0)
    document = models.TextField()  # the signed BitstringStatusListCredential, verbatim
    etag = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("institution", "purpose", "number")
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "purpose", "number"], name="status_list_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.institution.slug} {self.purpose} list {self.number}"

    @cached_property
    def url(self) -> str:
        """Asked once per credential a bulk chunk issues onto this list: reversed once."""
        return settings.MESHE_BASE_URL + reverse(
            "credentials:status_list",
            kwargs={"slug": self.institution.slug, "purpose": self.purpose, "number": self.number},
        )


class SignedDocumentField(models.TextField):
    """A signed document's text, kept verbatim.

    Its own placeholder keeps Django's bulk inserts of these rows on PostgreSQL to a VALUES
    list: Django's other way, one UNNEST array per column, escapes every document into an array
    literal, which for a chunk of bulk-issued credentials cost more than the insert itself
    (docs/performance.md)."""

    def get_placeholder_sql(
        self, value: object, compiler: object, connection: object
    ) -> tuple[str, list[object]]:
        return "%s", [value]


class CredentialStatus(models.TextChoices):
    ISSUED = "issued", _("Valid")
    SUSPENDED = "suspended", _("Suspended")
    REVOKED = "revoked", _("Revoked")


class IssuedCredential(models.Model):
    """A credential as issued: the signed document verbatim, plus what the portal needs to find it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The foreign keys below without an index of their own lead an index of Meta: a second one
    # would only cost every insert (docs/performance.md).
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="issued_credentials", db_index=False
    )
    version = models.ForeignKey(
        MicroCredentialVersion, on_delete=models.PROTECT, related_name="issued_credentials"
    )
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="credentials",
    )
    holder_name = models.CharField(_("learner's name"), max_length=200)
    holder_email = models.EmailField(_("learner's e-mail address"))
    identity_salt = models.CharField(max_length=64)
    issued_at = models.DateTimeField()
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)
    awarded_date = models.DateField()
    grade = models.CharField(_("grade"), max_length=100, blank=True)
    evidence_url = models.URLField(_("evidence link"), blank=True)
    evidence_narrative = models.TextField(_("evidence"), blank=True)
    status = models.CharField(
        max_length=10, choices=CredentialStatus.choices, default=CredentialStatus.ISSUED
    )
    revocation_list = models.ForeignKey(
        StatusList, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    revocation_index = models.PositiveIntegerField()
    suspension_list = models.ForeignKey(
        StatusList, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    suspension_index = models.PositiveIntegerField()
    # Whether the signed document carries the suspension entry: not when the institution chose
    # Open Badges 3.0-strict output at issue (then the suspension position is kept, unused).
    offers_suspension = models.BooleanField(default=True)
    document = SignedDocumentField()  # the signed OB 3.0 credential exactly as signed
    # The EDC exactly as sealed (JAdES), and the fingerprint of the e-seal certificate that
    # sealed it; empty until its first download after the institution installed a certificate.
    sealed_edc = models.TextField(blank=True)
    sealed_edc_certificate = models.CharField(max_length=64, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    # The single-use claim link e-mailed to the learner; only its SHA-256 is kept.
    claim_token_hash = models.CharField(max_length=64, blank=True)
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The holder's choice: whether the credential's own address (inside the signed document,
    # on the PDF's QR code) shows it to anyone. Share links work either way.
    public_page = models.BooleanField(default=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("issued credential")
        verbose_name_plural = _("issued credentials")
        ordering = ("-issued_at",)
        constraints = [
            models.UniqueConstraint(
                fields=["revocation_list", "revocation_index"], name="credential_revocation_index"
            ),
            models.UniqueConstraint(
                fields=["suspension_list", "suspension_index"], name="credential_suspension_index"
            ),
        ]
        indexes = [
            # Looked up by equality only: no pattern index beside it.
            models.Index(fields=["claim_token_hash"], name="credential_claim_token"),
            models.Index(Lower("holder_email"), name="credential_holder_email_lower"),
            # The staff list, newest first, a page at a time; and the dashboard's month edges.
            models.Index(
                fields=["institution", "-issued_at", "-id"], name="credential_institution_newest"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version.micro_credential} → {self.holder_name}"

    def get_absolute_url(self) -> str:
        return reverse("credentials:public", kwargs={"public_id": self.public_id})

    @property
    def credential_id(self) -> str:
        return f"urn:uuid:{self.public_id}"


class StatusReason(models.TextChoices):
    """Why staff changed a credential's status: a short list, with free text beside it."""

    ISSUED_IN_ERROR = "issued_in_error", _("Issued in error")
    ACADEMIC_MISCONDUCT = "academic_misconduct", _("Academic misconduct")
    RESULT_CHANGED = "result_changed", _("Assessment result changed")
    LEARNER_REQUEST = "learner_request", _("At the learner's request")
    QUESTION_RESOLVED = "question_resolved", _("The open question is resolved")
    SUSPENDED_IN_ERROR = "suspended_in_error", _("Suspended in error")
    OTHER = "other", _("Other")


# What a status change made through the W3C VC-API records: the API carries no reason, so the
# listed code is "Other" and the words say where the change came from (docs/standards.md).
# Stored in English, as every msgid, and shown in the reader's language (status_reason_shown).
VC_API_STATUS_REASON = gettext_noop("Changed through the VC-API.")
_PORTAL_STATUS_REASONS = frozenset({VC_API_STATUS_REASON})
# What the portal notes when it e-mails a learner, stored in English with the values filled in
# (CredentialEvent.reason) and shown in the reader's language, like the reason above.
CLAIM_LINK_SENT = gettext_noop("Claim link e-mailed to %(email)s")
DECISION_SENT = gettext_noop("Recognition decision of %(partner)s e-mailed to %(email)s")
_PORTAL_NOTES = tuple(
    (
        msgid,
        re.compile(re.sub(r"%\\\((\w+)\\\)s", r"(?P<\1>.+)", re.escape(msgid))),
    )
    for msgid in (CLAIM_LINK_SENT, DECISION_SENT)
)


def status_reason_shown(reason: str) -> str:
    """A stored reason as shown: the staff's words as written, the portal's own in the active
    language."""
    if reason in _PORTAL_STATUS_REASONS:
        return gettext(reason)
    for msgid, pattern in _PORTAL_NOTES:
        found = pattern.fullmatch(reason)
        if found:
            return gettext(msgid) % found.groupdict()
    return reason


class IssuedTally(models.Model):
    """How many credentials of one version an institution issued in one UTC month, by status and
    by whether a learner holds them. Database triggers keep it on every insert, update and delete
    of IssuedCredential (migration 0008), whichever code writes, so the dashboard's and the staff
    list's totals are exact and cost the same at a million credentials as at ten."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(MicroCredentialVersion, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()  # the first day of issued_at's month, in UTC
    status = models.CharField(max_length=10, choices=CredentialStatus.choices)
    claimed = models.BooleanField()
    count = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "version", "month", "status", "claimed"],
                name="issued_tally_bucket",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.institution_id} {self.version_id} {self.month} {self.status}: {self.count}"


class CredentialEvent(models.Model):
    """Append-only audit log of an issued credential's life."""

    class Action(models.TextChoices):
        ISSUED = "issued", _("Issued")
        NOTIFIED = "notified", _("Learner notified")
        CLAIMED = "claimed", _("Claimed by the learner")
        SUSPENDED = "suspended", _("Suspended")
        REINSTATED = "reinstated", _("Reinstated")
        REVOKED = "revoked", _("Revoked")
        SEALED = "sealed", _("Sealed as a European Digital Credential")

    credential = models.ForeignKey(
        IssuedCredential, on_delete=models.CASCADE, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    # For status changes: the listed reason, and the staff's words. The learner and staff see
    # them; the public sees only that and when the status changed.
    reason_code = models.CharField(max_length=30, choices=StatusReason.choices, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "pk")

    def __str__(self) -> str:
        return f"{self.credential_id} {self.action}"

    @property
    def reason_shown(self) -> str:
        return status_reason_shown(self.reason)


class ApiCredential(models.Model):
    """A credential an institution's systems signed through the W3C VC-API under its DID.

    Its content is the caller's, so it is kept apart from IssuedCredential (which MESHE builds
    from a specification), but it is as accountable: stored verbatim, listed for the staff, and
    revocable through its status entries unless the caller asked for none (`with_status`).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="api_credentials"
    )
    # The signed document's id (or the VC-API's options.credentialId); empty when it has none.
    credential_id = models.CharField(max_length=2000, blank=True)
    types = models.JSONField(default=list)
    subject_id = models.CharField(max_length=2000, blank=True)
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    token_prefix = models.CharField(max_length=16, blank=True)
    status = models.CharField(
        max_length=10, choices=CredentialStatus.choices, default=CredentialStatus.ISSUED
    )
    # The last status change's listed reason and words, as CredentialEvent keeps them for issued
    # credentials; staff and the audit log see them, the public never does.
    status_reason_code = models.CharField(max_length=30, choices=StatusReason.choices, blank=True)
    status_reason = models.TextField(blank=True)
    # False for an institution's Open Badges 3.0-strict output: the revocation entry only.
    offers_suspension = models.BooleanField(default=True)
    revocation_list = models.ForeignKey(
        StatusList, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revocation_index = models.PositiveIntegerField(null=True, blank=True)
    suspension_list = models.ForeignKey(
        StatusList, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    suspension_index = models.PositiveIntegerField(null=True, blank=True)
    document = models.TextField()  # the signed credential exactly as signed

    class Meta:
        verbose_name = _("credential signed through the VC-API")
        verbose_name_plural = _("credentials signed through the VC-API")
        ordering = ("-issued_at", "-pk")
        constraints = [
            # One credential per id on the node; IssuedCredential ids are checked by the service.
            models.UniqueConstraint(
                fields=["credential_id"],
                condition=~Q(credential_id=""),
                name="api_credential_id_unique",
            ),
            models.UniqueConstraint(
                fields=["revocation_list", "revocation_index"],
                name="api_credential_revocation_index",
            ),
            models.UniqueConstraint(
                fields=["suspension_list", "suspension_index"],
                name="api_credential_suspension_index",
            ),
            # Status entries come as a set: both lists and indexes, or none at all.
            models.CheckConstraint(
                condition=Q(
                    revocation_list__isnull=False,
                    revocation_index__isnull=False,
                    suspension_list__isnull=False,
                    suspension_index__isnull=False,
                )
                | Q(
                    revocation_list__isnull=True,
                    revocation_index__isnull=True,
                    suspension_list__isnull=True,
                    suspension_index__isnull=True,
                ),
                name="api_credential_status_all_or_none",
            ),
        ]

    def __str__(self) -> str:
        return self.credential_id or f"VC-API credential {self.public_id}"

    @property
    def status_reason_shown(self) -> str:
        return status_reason_shown(self.status_reason)

    @property
    def with_status(self) -> bool:
        return self.revocation_list_id is not None


class BulkIssueJob(models.Model):
    """A spreadsheet of learners to issue one micro-credential to, validated before issuing."""

    class Status(models.TextChoices):
        VALIDATED = "validated", _("Checked, waiting for confirmation")
        RUNNING = "running", _("Issuing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Stopped by an error")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="+")
    micro_credential = models.ForeignKey(
        MicroCredential, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    filename = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.VALIDATED)
    total_rows = models.PositiveIntegerField(default=0)
    valid_rows = models.PositiveIntegerField(default=0)
    issued_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # When the last chunk committed: a running job that stops moving was lost with its
    # worker, and services.bulk_jobs_resume enqueues it again.
    progressed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.filename} → {self.micro_credential}"

    @property
    def percent(self) -> int:
        return round(100 * self.issued_count / self.valid_rows) if self.valid_rows else 100


class BulkIssueRow(models.Model):
    """One spreadsheet row: its values, what was wrong with it, and what became of it."""

    class Status(models.TextChoices):
        INVALID = "invalid", _("Not valid")
        PENDING = "pending", _("To issue")
        ISSUED = "issued", _("Issued")

    job = models.ForeignKey(BulkIssueJob, on_delete=models.CASCADE, related_name="rows")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    email = models.CharField(max_length=254)
    awarded_date = models.DateField(null=True)
    grade = models.CharField(max_length=100, blank=True)
    evidence_url = models.CharField(max_length=500, blank=True)
    evidence_narrative = models.TextField(blank=True)
    errors = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices)
    credential = models.OneToOneField(
        IssuedCredential, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ("job", "number")
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="bulk_row_number"),
        ]
        indexes = [models.Index(fields=["job", "status", "number"])]

    def __str__(self) -> str:
        return f"row {self.number}: {self.email}"


# Pathways: larger credentials stacked from micro-credentials ----------------------------------


class Pathway(models.Model):
    """A larger credential made of micro-credentials, possibly from several institutions,
    and the rule that says when a learner has completed it."""

    class Rule(models.TextChoices):
        ALL_OF = "all_of", _("All of the components")
        ANY_N = "any_n", _("Any number of the components")
        MIN_ECTS = "min_ects", _("At least a number of ECTS")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="pathways")
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    rule = models.CharField(_("rule"), max_length=10, choices=Rule.choices, default=Rule.ALL_OF)
    required_count = models.PositiveIntegerField(
        _("components required"), null=True, blank=True, help_text=_("For “any number of”.")
    )
    required_ects = models.DecimalField(
        _("ECTS required"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("For “at least a number of ECTS”."),
    )
    # The stacked credential issued on completion; the service keeps it the same institution's.
    awards = models.ForeignKey(
        MicroCredential,
        on_delete=models.PROTECT,
        related_name="awarded_by_pathways",
        verbose_name=_("stacked credential"),
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("pathway")
        verbose_name_plural = _("pathways")
        ordering = ("title",)
        constraints = [
            # A CHECK passes on NULL, so "required" is spelt out as isnull=False.
            models.CheckConstraint(
                condition=(
                    Q(rule="any_n", required_count__isnull=False, required_count__gte=1)
                    | (~Q(rule="any_n") & Q(required_count__isnull=True))
                ),
                name="pathway_required_count_for_any_n",
            ),
            models.CheckConstraint(
                condition=(
                    Q(rule="min_ects", required_ects__isnull=False, required_ects__gt=0)
                    | (~Q(rule="min_ects") & Q(required_ects__isnull=True))
                ),
                name="pathway_required_ects_for_min_ects",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class PathwayComponent(models.Model):
    """One part of a pathway: a specification on this node (of any institution), or a
    partner's specification elsewhere, named by its URL."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="components")
    micro_credential = models.ForeignKey(
        MicroCredential,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pathway_components",
    )
    external_url = models.URLField(_("specification link"), max_length=500, blank=True)
    external_title = models.CharField(_("title"), max_length=300, blank=True)
    external_ects = models.DecimalField(
        _("workload in ECTS"), max_digits=5, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ("pathway", "pk")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        micro_credential__isnull=False,
                        external_url="",
                        external_title="",
                        external_ects__isnull=True,
                    )
                    | (
                        Q(micro_credential__isnull=True, external_ects__isnull=False)
                        & Q(external_ects__gt=0)
                        & ~Q(external_url="")
                        & ~Q(external_title="")
                    )
                ),
                name="pathway_component_local_or_external",
            ),
            models.UniqueConstraint(
                fields=["pathway", "micro_credential"],
                condition=Q(micro_credential__isnull=False),
                name="pathway_component_local_once",
            ),
            models.UniqueConstraint(
                fields=["pathway", "external_url"],
                condition=~Q(external_url=""),
                name="pathway_component_external_once",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return self.micro_credential.title if self.micro_credential else self.external_title


# Wallet issuance (OpenID4VCI) -----------------------------------------------------------------


class WalletOffer(models.Model):
    """A credential offer made to the holder: a short-lived, single-use pre-authorised code
    and the PIN e-mailed with it, both kept only hashed; then the access token it bought."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    credential = models.ForeignKey(
        IssuedCredential, on_delete=models.CASCADE, related_name="wallet_offers"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # SHA-256 of the pre-authorised code; the PIN's hash is keyed by the code, so a copy of
    # the database alone cannot be searched for the six digits.
    code_hash = models.CharField(max_length=64, unique=True)
    pin_hash = models.CharField(max_length=64)
    pin_sent_to = models.EmailField()
    expires_at = models.DateTimeField()
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    # Set when the code is spent (redeemed) or killed (too many wrong PINs, a newer offer).
    redeemed_at = models.DateTimeField(null=True, blank=True)
    blocked_at = models.DateTimeField(null=True, blank=True)
    access_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"wallet offer {self.public_id} for {self.credential_id}"


class WalletNonceUse(models.Model):
    """A c_nonce a wallet has used in a proof, kept until it would have expired anyway,
    so that no nonce proves possession twice."""

    nonce_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.nonce_hash[:12]


class TokenStatusList(models.Model):
    """One IETF Token Status List of an institution (2 bits an entry), and its signed
    statuslist+jwt as served."""

    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="token_status_lists"
    )
    number = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    statuses = models.BinaryField()  # the published statuses, packed as the list's `lst`
    allocated = models.BinaryField()  # one bit an entry: the index belongs to a credential
    allocated_count = models.PositiveIntegerField(default=0)
    document = models.TextField()  # the signed statuslist+jwt, verbatim
    etag = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("institution", "number")
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "number"], name="token_status_list_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.institution.slug} token status list {self.number}"

    @property
    def url(self) -> str:
        return settings.MESHE_BASE_URL + reverse(
            "wallet_issuance:token_status_list",
            kwargs={"slug": self.institution.slug, "number": self.number},
        )


class WalletCredential(models.Model):
    """A credential as a wallet received it, bound to the wallet's key: the signed document
    verbatim. An ldp_vc shares the issued credential's Bitstring Status List entries; an SD-JWT
    VC has its own entry in a Token Status List."""

    class Format(models.TextChoices):
        LDP_VC = "ldp_vc", _("W3C VC with Data Integrity proof (ldp_vc)")
        SD_JWT = "dc+sd-jwt", _("SD-JWT VC (dc+sd-jwt)")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    credential = models.ForeignKey(
        IssuedCredential, on_delete=models.CASCADE, related_name="wallet_credentials"
    )
    offer = models.ForeignKey(WalletOffer, on_delete=models.CASCADE, related_name="credentials")
    format = models.CharField(max_length=12, choices=Format.choices)
    holder_jwk = models.JSONField()  # the public key the credential is bound to
    holder_id = models.CharField(max_length=500)  # did:key / did:jwk, or the JWK thumbprint URI
    document = models.TextField()  # JSON-LD text or the compact SD-JWT, exactly as issued
    token_status_list = models.ForeignKey(
        TokenStatusList, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    token_status_index = models.PositiveIntegerField(null=True, blank=True)
    issued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-issued_at",)
        constraints = [
            models.UniqueConstraint(fields=["offer", "format"], name="wallet_credential_once"),
            models.UniqueConstraint(
                fields=["token_status_list", "token_status_index"],
                name="wallet_credential_token_status_index",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        format="dc+sd-jwt",
                        token_status_list__isnull=False,
                        token_status_index__isnull=False,
                    )
                    | Q(
                        format="ldp_vc",
                        token_status_list__isnull=True,
                        token_status_index__isnull=True,
                    )
                ),
                name="wallet_credential_token_status_for_sd_jwt",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.credential_id} as {self.format}"


class Endorsement(models.Model):
    """An organisation's signed word about an offer (an OB 3.0 EndorsementCredential), stored
    verbatim: one this node's institution gave a partner's offer (`endorser_institution`), or
    one about an offer of this node (`micro_credential`), received from a partner over the
    exchange or recorded by an admin. Credentials issued afterwards carry the second kind."""

    class Source(models.TextChoices):
        ISSUED = "issued", _("Given by this institution")
        PARTNER = "partner", _("Received from a partner")
        RECORDED = "recorded", _("Recorded by an administrator")

    class State(models.TextChoices):
        VERIFIED = "verified", _("Verified")
        ENDORSER_UNKNOWN = "endorser_unknown", _("Endorser unknown")
        REVOKED = "revoked", _("Revoked")
        INVALID = "invalid", _("Signature invalid")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    source = models.CharField(max_length=10, choices=Source.choices)
    # The offer of this node it endorses (received or recorded ones).
    micro_credential = models.ForeignKey(
        MicroCredential,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="endorsements",
    )
    # The institution of this node that signed it (issued ones).
    endorser_institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    credential_id = models.CharField(max_length=500)
    subject_id = models.CharField(max_length=500)  # the endorsed offer's address
    endorser_did = models.CharField(max_length=500)
    endorser_name = models.CharField(max_length=300)
    comment = models.TextField()
    issued_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    # What the last verification of the stored document found.
    state = models.CharField(max_length=20, choices=State.choices)
    checked_at = models.DateTimeField()
    revocation_list = models.ForeignKey(
        StatusList, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revocation_index = models.PositiveIntegerField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    document = models.TextField()  # the signed EndorsementCredential exactly as signed

    class Meta:
        verbose_name = _("endorsement")
        verbose_name_plural = _("endorsements")
        ordering = ("-issued_at",)
        constraints = [
            models.UniqueConstraint(
                fields=["micro_credential", "credential_id"], name="endorsement_received_once"
            ),
            models.UniqueConstraint(
                fields=["revocation_list", "revocation_index"], name="endorsement_revocation_index"
            ),
            models.CheckConstraint(
                condition=Q(source="issued", endorser_institution__isnull=False)
                | Q(~Q(source="issued"), micro_credential__isnull=False),
                name="endorsement_issued_or_received",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.endorser_name} → {self.subject_id}"
