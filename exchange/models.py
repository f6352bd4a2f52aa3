import uuid
from datetime import datetime, timedelta
from typing import Final

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credentials.models import IssuedCredential
from institutions.models import Institution

# How often at most a partner's last success is written (Partner.success_due).
PARTNER_SUCCESS_EVERY: Final = timedelta(seconds=30)


class PartnerStatus(models.TextChoices):
    REQUESTED = "requested", _("Request sent, awaiting their answer")
    RECEIVED = "received", _("Request received, awaiting our answer")
    CONFIRMED = "confirmed", _("Agreed")
    DECLINED = "declined", _("Declined")
    SUSPENDED = "suspended", _("Suspended")
    ENDED = "ended", _("Ended")


class Partner(models.Model):
    """A remote institution one of our institutions exchanges with, and the keys pinned for it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="partners")
    base_url = models.URLField(_("node URL"))
    did = models.CharField(_("DID"), max_length=500)
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country"), max_length=2, blank=True)
    # The partner's exchange endpoints as its node manifest lists them: name -> absolute URL.
    endpoints = models.JSONField(default=dict, blank=True)
    # [{"id": "<did>#key-1", "publicKeyMultibase": "z6Mk…"}]: the keys that may sign its messages.
    pinned_keys = models.JSONField(_("pinned keys"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PartnerStatus.choices, default=PartnerStatus.REQUESTED
    )
    # Which side suspended the partnership: only that side may resume it.
    suspended_by_us = models.BooleanField(default=False)
    request_note = models.TextField(_("note with the request"), blank=True)
    # A key that signed a message without appearing in the partner's DID document.
    key_alert = models.TextField(blank=True)
    key_alert_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_failure = models.TextField(blank=True)
    # Catalogue sync: the feed's modified_since watermark, ETag of the first page, progress.
    catalogue_watermark = models.CharField(max_length=40, blank=True)
    catalogue_etag = models.CharField(max_length=100, blank=True)
    sync_started_at = models.DateTimeField(null=True, blank=True)
    sync_finished_at = models.DateTimeField(null=True, blank=True)
    sync_pages = models.PositiveIntegerField(default=0)
    sync_offers = models.PositiveIntegerField(default=0)
    sync_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ("name",)
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=PartnerStatus.values), name="partner_status_valid"
            ),
            models.UniqueConstraint(fields=["institution", "did"], name="partner_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    @property
    def is_agreed(self) -> bool:
        return self.status == PartnerStatus.CONFIRMED

    def success_due(self, now: datetime) -> bool:
        """Whether an answer at `now` is worth writing as the last success: none is written,
        or one older than PARTNER_SUCCESS_EVERY, or a failure came after it. Writing every
        answer would make each request of a batch update this one row."""
        return (
            self.last_success_at is None
            or self.last_success_at <= now - PARTNER_SUCCESS_EVERY
            or (self.last_failure_at is not None and self.last_failure_at >= self.last_success_at)
        )


class PartnerOffer(models.Model):
    """A published specification from a partner's catalogue feed, kept as the feed gave it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="offers")
    remote_id = models.CharField(max_length=500)  # the offer's id in the feed (a URL)
    document = models.JSONField()  # the feed item verbatim
    title = models.CharField(max_length=300)
    language = models.CharField(max_length=10, blank=True)
    ects = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    eqf_level = models.PositiveSmallIntegerField(null=True, blank=True)
    isced_field = models.CharField(max_length=10, blank=True)
    participation = models.CharField(max_length=40, blank=True)
    modified_at = models.DateTimeField()  # as the partner reports it
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Adoption: this institution recognises the offer, for recognised_ects toward its programmes.
    adopted_at = models.DateTimeField(null=True, blank=True)
    adopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recognised_ects = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    adoption_note = models.TextField(blank=True)

    class Meta:
        ordering = ("title",)
        constraints = [
            models.UniqueConstraint(fields=["partner", "remote_id"], name="partner_offer_once"),
        ]

    def __str__(self) -> str:
        return self.title


class OutboxStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class Decision(models.TextChoices):
    PENDING = "", _("Awaiting decision")
    RECOGNISED = "recognised", _("Recognised")
    DECLINED = "declined", _("Declined")


class DeliveryFormat(models.TextChoices):
    """What a delivery carries as its `credential` (docs/exchange.md)."""

    OB3 = "ob3", _("Open Badges 3.0 credential")
    SEALED_EDC = "sealed-edc", _("Sealed European Digital Credential")


class Outgoing(models.Model):
    """What every signed message we send to a partner keeps: state, retries, last error."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(
        max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # A worker holds a sending row until then; after it, the sweeper sends the row again.
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Delivery(Outgoing):
    """A credential sent to a partner for recognition, and the partner's decision."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="deliveries")
    credential = models.ForeignKey(
        IssuedCredential, on_delete=models.PROTECT, related_name="deliveries"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    by_learner = models.BooleanField(default=False)
    consent_note = models.TextField(_("note for the partner"), blank=True)
    format = models.CharField(
        max_length=12, choices=DeliveryFormat.choices, default=DeliveryFormat.OB3
    )
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    decision_ects = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    decision_programme = models.CharField(max_length=300, blank=True)
    decision_reason = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # When the holder was e-mailed the current decision; cleared when a new decision arrives.
    decision_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = _("deliveries")
        ordering = ("-created_at", "-pk")
        constraints = [
            models.UniqueConstraint(fields=["partner", "credential"], name="delivery_once"),
            models.CheckConstraint(
                condition=Q(status__in=OutboxStatus.values), name="delivery_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.credential_id} to {self.partner_id} ({self.status})"


class DeliveryAttempt(models.Model):
    """One try at sending a delivery: when, what the partner answered, how long it took."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(auto_now_add=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ("-at", "-pk")

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.at}: {self.http_status or self.error}"


class NoticeKind(models.TextChoices):
    DECISION = "decision", _("Recognition decision")
    STATUS = "status", _("Status change")
    PARTNERSHIP = "partnership", _("Partnership message")
    ADOPTION = "adoption", _("Adoption of an offer")
    ENDORSEMENT = "endorsement", _("Endorsement of an offer")


class Notice(Outgoing):
    """A signed message to a partner other than a credential: a decision, a status change, or a
    partnership request or answer. Sent with the same retries as deliveries."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=12, choices=NoticeKind.choices)
    payload = models.JSONField()

    class Meta:
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return f"{self.kind} to {self.partner_id} ({self.status})"


class IncomingStatus(models.TextChoices):
    VALID = "valid", _("Valid")
    SUSPENDED = "suspended", _("Suspended by the issuer")
    REVOKED = "revoked", _("Revoked by the issuer")


class IncomingCredential(models.Model):
    """A credential a partner delivered to us for recognition, stored as received."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="incoming")
    credential_id = models.CharField(max_length=500)
    document = models.TextField()  # the credential exactly as received
    verification = models.JSONField()  # the verifier's report at arrival or the last re-check
    verified = models.BooleanField()
    title = models.CharField(max_length=300)
    learner_name = models.CharField(max_length=200, blank=True)
    consent_note = models.TextField(blank=True)
    credential_status = models.CharField(
        max_length=10, choices=IncomingStatus.choices, default=IncomingStatus.VALID
    )
    status_checked_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    decision_ects = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    decision_programme = models.CharField(max_length=300, blank=True)
    decision_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-received_at", "-pk")
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "credential_id"], name="incoming_credential_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} from {self.partner_id}"


class SeenNonce(models.Model):
    """A nonce of a signed request we accepted, kept for the signature window to refuse replays."""

    key_id = models.CharField(max_length=600)
    nonce = models.CharField(max_length=200)
    seen_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key_id", "nonce"], name="nonce_once"),
        ]

    def __str__(self) -> str:
        return self.nonce


class OfferRecognition(models.Model):
    """A partner's word that it recognises one of our published offers, and for how much: what
    the offer's public page shows under "where it is recognised"."""

    micro_credential = models.ForeignKey(
        "credentials.MicroCredential", on_delete=models.CASCADE, related_name="recognitions"
    )
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="recognitions")
    recognised_ects = models.DecimalField(max_digits=5, decimal_places=1)
    note = models.TextField(blank=True)
    recognised_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("partner__name",)
        constraints = [
            models.UniqueConstraint(
                fields=["micro_credential", "partner"], name="offer_recognition_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.micro_credential_id} recognised by {self.partner_id}"
