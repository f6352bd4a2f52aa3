"""Reads for the exchange between nodes. What they return is public unless said otherwise."""

from django.conf import settings

from exchange.manifest import HostedInstitution
from exchange.models import Partner, PartnerStatus
from institutions.models import Institution


def hosted_institutions() -> list[HostedInstitution]:
    """Every institution this node hosts, by slug, as the public node manifest shows them."""
    return [
        HostedInstitution(
            slug=institution.slug,
            name=institution.name,
            country=institution.country,
            did=institution.did,
            did_document_url=institution.did_document_url,
        )
        for institution in Institution.objects.order_by("slug").only("slug", "name", "country")
    ]


def node_base_url() -> str:
    return str(settings.MESHE_BASE_URL)


def agreed_partner_name(*, did: str) -> str | None:
    """The name of the partner both sides confirmed under `did`, or None: the verifier's
    "issuer known" check for issuers on other nodes."""
    return (
        Partner.objects.filter(did=did, status=PartnerStatus.CONFIRMED)
        .values_list("name", flat=True)
        .first()
    )


def confirmed_partners() -> list[Partner]:
    """Partners both sides confirmed, by name: public, as on institution pages."""
    return list(Partner.objects.filter(status=PartnerStatus.CONFIRMED).order_by("name"))
