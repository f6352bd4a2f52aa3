import secrets
import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from credentials.models import IssuedCredential


def share_slug() -> str:
    """128 random bits, URL-safe: a link nobody can guess or enumerate."""
    return secrets.token_urlsafe(16)


class ShareLink(models.Model):
    """A public, revocable link to one credential in its owner's wallet."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slug = models.CharField(max_length=32, unique=True, default=share_slug, editable=False)
    credential = models.ForeignKey(
        IssuedCredential, on_delete=models.CASCADE, related_name="share_links"
    )
    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="share_links")
    label = models.CharField(
        _("label"),
        max_length=100,
        blank=True,
        help_text=_("Only you see it: who you gave the link to, for example."),
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    view_count = models.PositiveIntegerField(_("views"), default=0)

    class Meta:
        verbose_name = _("share link")
        verbose_name_plural = _("share links")
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return self.label or self.slug[:6]

    def get_absolute_url(self) -> str:
        return reverse("learners:shared", kwargs={"slug": self.slug})

    @property
    def url(self) -> str:
        return settings.MESHE_BASE_URL + self.get_absolute_url()

    def is_active(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class ImportedCredential(models.Model):
    """A credential from elsewhere that the learner keeps here, verbatim, with the verdict of
    the portal's verifier at the time it was last checked."""

    class Format(models.TextChoices):
        VC = "vc", _("Open Badges 3.0 / W3C Verifiable Credential")
        EDC = "edc", _("European Digital Credential")

    class Holder(models.TextChoices):
        """Whom the credential was issued to, as compared with its owner's account
        (credentials.standards.credential_holder.HolderMatch)."""

        ADDRESS = "address", _("Issued to you")
        NAME = "name", _("Issued to you, matched by name")
        OTHER = "other", _("Issued to another person")
        UNKNOWN = "unknown", _("Holder not shown")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="imported_credentials")
    format = models.CharField(max_length=3, choices=Format.choices)
    document = models.TextField()  # exactly as uploaded or pasted
    digest = models.CharField(max_length=64)  # SHA-256 of the document: one copy per wallet
    # The credential's own id, when it states one: one copy per wallet, whatever its bytes.
    credential_id = models.CharField(max_length=500, blank=True)
    holder = models.CharField(
        _("holder"), max_length=8, choices=Holder.choices, default=Holder.UNKNOWN
    )
    holder_name = models.CharField(_("holder's name"), max_length=300, blank=True)
    # What the cards show, read from the document when it was imported.
    title = models.CharField(_("title"), max_length=300)
    issuer_id = models.CharField(_("issuer identifier"), max_length=500, blank=True)
    issuer_name = models.CharField(_("issuer"), max_length=300, blank=True)
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    ects = models.DecimalField(_("ECTS"), max_digits=6, decimal_places=2, null=True, blank=True)
    eqf_level = models.CharField(_("EQF level"), max_length=200, blank=True)
    # The verifier's answer ({"verified", "checks", "errors", "warnings"}); null when the
    # document's seal cannot be checked here (EDC).
    verification = models.JSONField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("imported"), auto_now_add=True)

    class Meta:
        verbose_name = _("imported credential")
        verbose_name_plural = _("imported credentials")
        ordering = ("-created_at", "-pk")
        constraints = [
            models.UniqueConstraint(fields=["owner", "digest"], name="imported_once_per_wallet"),
            models.UniqueConstraint(
                fields=["owner", "credential_id"],
                condition=~models.Q(credential_id=""),
                name="imported_id_once_per_wallet",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("learners:imported", kwargs={"public_id": self.public_id})

    @property
    def verified(self) -> bool:
        return bool(self.verification and self.verification.get("verified"))

    @property
    def holder_is_owner(self) -> bool:
        """Whether the credential shows it was issued to the wallet's owner."""
        return self.holder in {self.Holder.ADDRESS, self.Holder.NAME}

    @property
    def checkable(self) -> bool:
        """Whether this portal can check its seal at all: a W3C VC's proof, or a sealed EDC's
        JAdES seal (verified when imported); an unsealed EDC has none."""
        return self.format == self.Format.VC or self.verification is not None


class PublicProfile(models.Model):
    """The learner's optional public page, listing the credentials they chose."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="public_profile")
    slug = models.SlugField(_("address"), max_length=60, unique=True)
    is_public = models.BooleanField(_("show my public profile"), default=False)
    headline = models.CharField(_("headline"), max_length=200, blank=True)
    credentials = models.ManyToManyField(IssuedCredential, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("public profile")
        verbose_name_plural = _("public profiles")

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        return reverse("learners:profile_public", kwargs={"slug": self.slug})


class LearnerEvent(models.Model):
    """Append-only log of what a learner did with their wallet and of their account's security
    events (sign-ins, failed ones, second factors, passwords). It goes with the account,
    except the record that an account was deleted, which names no one."""

    class Action(models.TextChoices):
        SHARE_CREATED = "share_created", _("Share link created")
        SHARE_REVOKED = "share_revoked", _("Share link revoked")
        PAGE_SHOWN = "page_shown", _("Credential's own page shown")
        PAGE_HIDDEN = "page_hidden", _("Credential's own page hidden")
        IMPORTED = "imported", _("Credential imported")
        REVERIFIED = "reverified", _("Imported credential checked again")
        IMPORT_REMOVED = "import_removed", _("Imported credential removed")
        PROFILE_CHANGED = "profile_changed", _("Public profile changed")
        DATA_EXPORTED = "data_exported", _("Data downloaded")
        ACCOUNT_DELETED = "account_deleted", _("Account deleted")
        # Security events of the account; for staff, their institutions' audit logs too.
        SIGNED_IN = "signed_in", _("Signed in")
        SIGN_IN_FAILED = "sign_in_failed", _("Failed sign-in")
        MFA_CHANGED = "mfa_changed", _("Two-factor authentication changed")
        PASSWORD_CHANGED = "password_changed", _("Password changed")

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="wallet_events"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    # The public id (or count) of what was acted on; never personal data.
    subject = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "pk")

    def __str__(self) -> str:
        return f"{self.action} {self.subject}"
