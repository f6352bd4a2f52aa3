from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PartnerStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    CONFIRMED = "confirmed", _("Confirmed")


class Partner(models.Model):
    """A remote institution this node exchanges with, and the keys pinned for it."""

    base_url = models.URLField(_("node URL"))
    did = models.CharField(_("DID"), max_length=500, unique=True)
    name = models.CharField(_("name"), max_length=200)
    # Multibase Ed25519 public keys (as in the partner's DID document) that may sign its requests.
    pinned_keys = models.JSONField(_("pinned key fingerprints"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PartnerStatus.choices, default=PartnerStatus.PROPOSED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ("name",)
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=PartnerStatus.values), name="partner_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"
