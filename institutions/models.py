import uuid
from functools import cached_property

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _

from credentials.standards.did_resolution import url_to_did_web
from institutions.key_storage import open_private_bytes, open_private_key


class Institution(models.Model):
    """A university (or other provider) that describes, issues and exchanges micro-credentials."""

    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    # Names in other languages, keyed by language code: {"de": "…", "fr": "…"}.
    name_translations = models.JSONField(_("name in other languages"), default=dict, blank=True)
    country = models.CharField(
        _("country"), max_length=2, help_text=_("ISO 3166-1 alpha-2 code, such as BE or PT.")
    )
    schac_code = models.CharField(
        _("SCHAC home organisation"), max_length=100, blank=True, help_text=_("Such as uni-a.eu.")
    )
    erasmus_code = models.CharField(_("Erasmus code"), max_length=20, blank=True)
    pic = models.CharField(_("PIC"), max_length=20, blank=True)
    registration_number = models.CharField(
        _("legal registration number"),
        max_length=100,
        blank=True,
        help_text=_("As in the national register of legal entities, for the EDC."),
    )
    website = models.URLField(_("website"), blank=True)
    logo = models.ImageField(_("logo"), upload_to="institutions/logos/", blank=True)
    qa_evidence = models.TextField(
        _("quality-assurance evidence"),
        blank=True,
        help_text=_("Accreditation or external quality assurance the institution is subject to."),
    )
    qa_evidence_url = models.URLField(
        _("quality-assurance link"), blank=True, help_text=_("For example, the DEQAR record.")
    )
    require_mfa = models.BooleanField(
        _("staff must use two-factor authentication"),
        default=True,
    )
    # OB 3.0's JSON Schema allows one credentialStatus (1EdTech/openbadges-specification#623):
    # strict output publishes revocation only, so its credentials cannot be suspended.
    ob3_strict = models.BooleanField(
        _("Open Badges 3.0-strict credentials"),
        default=False,
        help_text=_(
            "New credentials carry one status entry (revocation), as the Open Badges 3.0 "
            "schema requires; they cannot be suspended."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")
        ordering = ("name",)
        constraints = [
            models.CheckConstraint(
                condition=Q(country__regex=r"^[A-Z]{2}$"), name="institution_country_iso"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("institutions:detail", kwargs={"slug": self.slug})

    @property
    def legal_identifier(self) -> str:
        """The strongest legal identifier known: registration, then PIC, Erasmus, SCHAC, DID."""
        return (
            self.registration_number or self.pic or self.erasmus_code or self.schac_code or self.did
        )

    @property
    def did(self) -> str:
        """did:web of the institution: the node's host (port percent-encoded), then the path."""
        return url_to_did_web(settings.MESHE_BASE_URL, ("institutions", self.slug))

    @property
    def did_document_url(self) -> str:
        return settings.MESHE_BASE_URL + reverse(
            "institutions:did_document", kwargs={"slug": self.slug}
        )


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    ISSUER = "issuer", _("Issuer")
    VIEWER = "viewer", _("Viewer")


class Membership(models.Model):
    """A person's role at an institution."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(_("joined"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "institution"], name="membership_unique"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.institution} ({self.role})"


class Invitation(models.Model):
    """An e-mailed offer to join an institution's staff with a role; used once."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.ISSUER)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(
                "institution",
                Lower("email"),
                condition=Q(accepted_at__isnull=True),
                name="invitation_one_open_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.institution}"

    def get_absolute_url(self) -> str:
        return reverse("institutions:invitation_accept", kwargs={"public_id": self.public_id})

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()

    @property
    def masked_email(self) -> str:
        """The invited address as a hint for whoever holds the link: its first character and
        its domain (j•••@uni.example), enough to know which address to sign in with."""
        local, _at, domain = self.email.partition("@")
        return f"{local[:1]}•••@{domain}"


class AuditEvent(models.Model):
    """Append-only record of who changed what at an institution."""

    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=60)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return f"{self.action} by {self.actor} at {self.institution}"


class KeyStatus(models.TextChoices):
    ACTIVE = "active", _("Signs new credentials")
    RETIRED = "retired", _("Retired: still verifies what it signed")


class SigningKey(models.Model):
    """An institution's Ed25519 key. The private half is sealed (institutions.key_storage)."""

    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="signing_keys"
    )
    number = models.PositiveIntegerField()
    public_key_multibase = models.CharField(max_length=64, unique=True)
    sealed_private_key = models.BinaryField()
    status = models.CharField(max_length=10, choices=KeyStatus.choices, default=KeyStatus.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("institution", "number")
        constraints = [
            models.UniqueConstraint(fields=["institution", "number"], name="signing_key_number"),
            models.UniqueConstraint(
                fields=["institution"],
                condition=Q(status="active"),
                name="signing_key_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.institution.slug} key-{self.number} ({self.status})"

    @property
    def fragment(self) -> str:
        return f"key-{self.number}"

    @property
    def verification_method(self) -> str:
        return f"{self.institution.did}#{self.fragment}"

    @cached_property
    def private_key(self) -> Ed25519PrivateKey:
        return open_private_key(
            bytes(self.sealed_private_key),
            secret=settings.MESHE_KEY_ENCRYPTION_SECRET,
            bound_to=self.public_key_multibase,
        )


class ESealCertificate(models.Model):
    """An institution's e-seal: the certificate chain it seals European Digital Credentials
    with, and the private key, sealed at rest like the signing keys and bound to the
    certificate's fingerprint. One per institution; replacing it deletes the old one."""

    institution = models.OneToOneField(Institution, on_delete=models.CASCADE, related_name="e_seal")
    certificate_chain_pem = models.TextField()
    sealed_private_key = models.BinaryField()
    fingerprint = models.CharField(max_length=64, unique=True)  # SHA-256 of the DER, hex
    subject = models.CharField(max_length=400)
    subject_dn = models.TextField()
    issuer_dn = models.TextField()
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    key_usage = models.CharField(max_length=200)
    self_signed = models.BooleanField()
    test_certificate = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.institution.slug} e-seal {self.subject}"

    def private_key_der(self) -> bytes:
        return open_private_bytes(
            bytes(self.sealed_private_key),
            secret=settings.MESHE_KEY_ENCRYPTION_SECRET,
            bound_to=self.fingerprint,
        )


class ApiScope(models.TextChoices):
    ISSUE = "credentials:issue", _("Issue credentials")
    STATUS = "credentials:status", _("Revoke, suspend and reinstate credentials")
    READ = "credentials:read", _("List and read credentials")


API_HMAC_PURPOSE = "meshe.institutions.ApiToken"


def api_token_digest(secret: str, *, key: str | bytes) -> str:
    """HMAC-SHA256 of a token's secret under a server key, so a copy of the database alone
    neither reveals a token nor lets anyone test guesses against it."""
    return salted_hmac(API_HMAC_PURPOSE, secret, secret=key, algorithm="sha256").hexdigest()


class ApiToken(models.Model):
    """A bearer token with which an institution's own systems call the API.

    Only an HMAC of the secret is kept; the token itself is shown once, when it is made.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    scopes = models.JSONField(_("scopes"), default=list)
    # Shown in lists and audit events so people can tell tokens apart; not a secret.
    prefix = models.CharField(max_length=12, unique=True)
    secret_digest = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return f"{self.institution.slug} {self.prefix} ({self.name})"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def matches(self, secret: str) -> bool:
        """Compares in constant time, under SECRET_KEY and then each of its fallbacks, so
        tokens survive a rotation of the key done the way Django documents it."""
        keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
        return any(
            constant_time_compare(self.secret_digest, api_token_digest(secret, key=key))
            for key in keys
        )
