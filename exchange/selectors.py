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
            schac_code=institution.schac_code,
            erasmus_code=institution.erasmus_code,
        )
        for institution in Institution.objects.order_by("slug").only(
            "slug", "name", "country", "schac_code", "erasmus_code"
        )
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


def confirmed_partners(*, institution: Institution) -> list[Partner]:
    """The institution's partners both sides confirmed, by name: public, as on its page."""
    return list(
        Partner.objects.filter(institution=institution, status=PartnerStatus.CONFIRMED).order_by(
            "name"
        )
    )
