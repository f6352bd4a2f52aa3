"""Reads for the exchange between nodes. What they return is public unless said otherwise;
those for staff are told who is asking and see only the viewer's institution."""

from typing import Final
from uuid import UUID

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, Prefetch, Q, QuerySet, When
from django.http import Http404
from django.utils import timezone

from credentials import hooks
from credentials.models import CredentialStatus, IssuedCredential, MicroCredential
from exchange.manifest import HostedInstitution
from exchange.models import (
    Decision,
    Delivery,
    DeliveryAttempt,
    IncomingCredential,
    OfferRecognition,
    OutboxStatus,
    Partner,
    PartnerStatus,
)
from institutions import selectors as institution_selectors
from institutions.models import Institution, Membership
from institutions.selectors import key_fingerprint

# Rows of a delivery's attempt log the staff list shows.
ATTEMPTS_SHOWN: Final = 5


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


def confirmed_partners(*, institution: Institution) -> QuerySet[Partner]:
    """The institution's partners both sides confirmed, by name: public, as on its page, and
    whom its credentials may be sent to."""
    return Partner.objects.filter(institution=institution, status=PartnerStatus.CONFIRMED).order_by(
        "name"
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


def deliveries_for_staff(
    *, viewer: Membership, status: str = "", partner: str = "", decision: str | None = None
) -> QuerySet[Delivery]:
    """The deliveries of the viewer's institution, newest first, with the latest attempts and
    what the list shows. `partner` is a partner's public id; `decision` "" means pending."""
    deliveries = Delivery.objects.filter(partner__institution_id=viewer.institution_id)
    if status in OutboxStatus.values:
        deliveries = deliveries.filter(status=status)
    if partner:
        try:
            deliveries = deliveries.filter(partner__public_id=UUID(partner))
        except ValueError:
            deliveries = deliveries.none()
    if decision is not None and decision in Decision.values:
        deliveries = deliveries.filter(decision=decision)
    return deliveries.select_related(
        "partner", "credential__version", "requested_by"
    ).prefetch_related(
        Prefetch(
            "attempt_log",
            queryset=DeliveryAttempt.objects.order_by("-at", "-pk")[:ATTEMPTS_SHOWN],
            to_attr="recent_attempts",
        )
    )


def delivery_for_staff(*, viewer: Membership, public_id: UUID) -> Delivery:
    """One delivery of the viewer's institution; 404 for any other institution's."""
    try:
        return Delivery.objects.select_related("partner__institution", "credential").get(
            public_id=public_id, partner__institution_id=viewer.institution_id
        )
    except Delivery.DoesNotExist:
        raise Http404 from None


def sendable_credentials(*, viewer: Membership, search: str = "") -> QuerySet[IssuedCredential]:
    """The viewer's institution's valid credentials, newest first, for the batch send form."""
    now = timezone.now()
    credentials = IssuedCredential.objects.filter(
        institution_id=viewer.institution_id, status=CredentialStatus.ISSUED
    ).filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
    if search:
        credentials = credentials.filter(
            Q(holder_name__icontains=search)
            | Q(holder_email__icontains=search)
            | Q(version__micro_credential__title__icontains=search)
        )
    return credentials.select_related("version").order_by("-issued_at", "-pk")


def incoming_for_staff(
    *, viewer: Membership, decision: str | None = None, partner: str = ""
) -> QuerySet[IncomingCredential]:
    """Credentials partners sent the viewer's institution, newest first. `decision` "" means
    pending; `partner` is a partner's public id."""
    incoming = IncomingCredential.objects.filter(partner__institution_id=viewer.institution_id)
    if decision is not None and decision in Decision.values:
        incoming = incoming.filter(decision=decision)
    if partner:
        try:
            incoming = incoming.filter(partner__public_id=UUID(partner))
        except ValueError:
            incoming = incoming.none()
    return incoming.select_related("partner").defer("document")


def incoming_credential_for_staff(*, viewer: Membership, public_id: UUID) -> IncomingCredential:
    """One credential sent to the viewer's institution; 404 for any other institution's."""
    try:
        return IncomingCredential.objects.select_related("partner__institution", "decided_by").get(
            public_id=public_id, partner__institution_id=viewer.institution_id
        )
    except IncomingCredential.DoesNotExist:
        raise Http404 from None


def may_decide(viewer: Membership) -> bool:
    return viewer.role in institution_selectors.ISSUE


def require_decider(viewer: Membership) -> None:
    """Raises PermissionDenied for a member who may read but not decide or send."""
    if not may_decide(viewer):
        raise PermissionDenied


def deliveries_of_credential(*, credential: IssuedCredential) -> QuerySet[Delivery]:
    """Where the credential was sent, newest first: for its holder's page."""
    return Delivery.objects.filter(credential=credential).select_related("partner")


def delivery_counts(*, institution_id: int) -> hooks.DeliveryCounts:
    """What the institution sent to partners for recognition and what became of it, in one
    query: for its dashboard (answers credentials.hooks)."""
    counts = Delivery.objects.filter(credential__institution_id=institution_id).aggregate(
        sent=Count("pk"),
        delivered=Count("pk", filter=Q(status=OutboxStatus.DELIVERED)),
        recognised=Count("pk", filter=Q(decision=Decision.RECOGNISED)),
        declined=Count("pk", filter=Q(decision=Decision.DECLINED)),
        failed=Count("pk", filter=Q(status=OutboxStatus.FAILED)),
    )
    return hooks.DeliveryCounts(**counts)
