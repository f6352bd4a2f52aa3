"""Reads for the exchange between nodes. What they return is public unless said otherwise."""

from uuid import UUID

from django.conf import settings
from django.db.models import Case, QuerySet, When
from django.http import Http404

from credentials.models import MicroCredential
from exchange.manifest import HostedInstitution
from exchange.models import OfferRecognition, Partner, PartnerStatus
from institutions.models import Institution, Membership
from institutions.selectors import key_fingerprint


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


def partners_for_staff(*, viewer: Membership) -> QuerySet[Partner]:
    """The viewer's institution's partners in every state, requests to answer first."""
    return Partner.objects.filter(institution_id=viewer.institution_id).order_by(
        Case(When(status=PartnerStatus.RECEIVED, then=0), default=1), "name"
    )


def partner_for_staff(*, viewer: Membership, public_id: UUID) -> Partner:
    """One partner of the viewer's institution; 404 for anyone else's."""
    try:
        return Partner.objects.select_related("institution").get(
            institution_id=viewer.institution_id, public_id=public_id
        )
    except Partner.DoesNotExist:
        raise Http404 from None


def pinned_keys_with_fingerprints(*, partner: Partner) -> list[tuple[str, str]]:
    """Each pinned key's id with its SHA-256 fingerprint, for admins comparing by hand."""
    return [
        (key.get("id", ""), key_fingerprint(key.get("publicKeyMultibase", "")))
        for key in partner.pinned_keys
    ]


def offer_recognitions(*, micro_credential: MicroCredential) -> list[OfferRecognition]:
    """Partners, both sides agreed, that told us they recognise the offer: public."""
    return list(
        OfferRecognition.objects.filter(
            micro_credential=micro_credential, partner__status=PartnerStatus.CONFIRMED
        ).select_related("partner")
    )
