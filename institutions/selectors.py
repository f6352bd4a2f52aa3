"""Reads of institutions and their staff. Every selector is told who is asking."""

import hashlib
import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from institutions.did_documents import PublishedKey, build_did_document
from institutions.models import (
    ApiToken,
    AuditEvent,
    ESealCertificate,
    Institution,
    Invitation,
    KeyStatus,
    Membership,
    Role,
    SigningKey,
    api_token_digest,
)

# Who may do what, by role. Admin includes everything an issuer may do.
MANAGE_STAFF = frozenset({Role.ADMIN})
ISSUE = frozenset({Role.ADMIN, Role.ISSUER})
VIEW = frozenset({Role.ADMIN, Role.ISSUER, Role.VIEWER})


def memberships_for_user(*, user: User) -> QuerySet[Membership]:
    """The user's memberships with their institutions, by institution name."""
    if not user.is_authenticated:
        return Membership.objects.none()
    return (
        Membership.objects.filter(user=user)
        .select_related("institution")
        .order_by("institution__name")
    )


def membership_for_staff(*, user: User, slug: str, roles: Iterable[str] = VIEW) -> Membership:
    """The user's membership at the institution `slug`.

    Raises Http404 to outsiders (so they learn nothing, not even that it exists)
    and PermissionDenied to members whose role is not in `roles`.
    """
    if not user.is_authenticated:
        raise Http404
    try:
        membership = Membership.objects.select_related("institution").get(
            user=user, institution__slug=slug
        )
    except Membership.DoesNotExist:
        raise Http404 from None
    if membership.role not in roles:
        raise PermissionDenied
    return membership


def members_of_institution(*, viewer: Membership) -> QuerySet[Membership]:
    """The staff of the viewer's institution, admins first."""
    return (
        Membership.objects.filter(institution_id=viewer.institution_id)
        .select_related("user")
        .order_by("role", "user__email")
    )


def member_of_institution(*, viewer: Membership, membership_id: int) -> Membership:
    """One membership of the viewer's institution; 404 for any other institution's."""
    try:
        return Membership.objects.select_related("user", "institution").get(
            pk=membership_id, institution_id=viewer.institution_id
        )
    except Membership.DoesNotExist:
        raise Http404 from None


def open_invitations(*, viewer: Membership) -> QuerySet[Invitation]:
    """Invitations of the viewer's institution that are not yet accepted."""
    return Invitation.objects.filter(
        institution_id=viewer.institution_id, accepted_at__isnull=True
    ).select_related("invited_by")


def audit_events(
    *,
    viewer: Membership,
    action_prefix: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEvent]:
    """The audit log of the viewer's institution, newest first, with who acted. Only
    administrators read it (PermissionDenied otherwise). Dates are whole days, both included,
    in the portal's time zone."""
    if viewer.role not in MANAGE_STAFF:
        raise PermissionDenied
    events = AuditEvent.objects.filter(institution_id=viewer.institution_id).select_related("actor")
    if action_prefix:
        events = events.filter(action__startswith=action_prefix)
    if since is not None:
        events = events.filter(created_at__gte=_start_of(since))
    if until is not None:
        events = events.filter(created_at__lt=_start_of(until + timedelta(days=1)))
    return events.order_by("-created_at", "-pk")


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def invitation_by_public_id(*, public_id: UUID) -> Invitation:
    """An invitation by its link. Whoever holds the link sees the institution and the role;
    the address itself only when it is one of theirs (invitation_addressed_to)."""
    try:
        return Invitation.objects.select_related("institution").get(public_id=public_id)
    except Invitation.DoesNotExist:
        raise Http404 from None


def invitation_addressed_to(*, invitation: Invitation, user: User) -> bool:
    """Whether the invited address is one the user verified."""
    return EmailAddress.objects.filter(
        user=user, email__iexact=invitation.email, verified=True
    ).exists()


def institution_requires_mfa_for(*, user: User) -> bool:
    """Whether any institution the user works for asks its staff for a second factor."""
    return Membership.objects.filter(user=user, institution__require_mfa=True).exists()


def public_institution(*, slug: str) -> Institution:
    """An institution as the public sees it."""
    try:
        return Institution.objects.get(slug=slug)
    except Institution.DoesNotExist:
        raise Http404 from None


def did_document(*, slug: str) -> dict[str, Any]:
    """The public DID document of an institution, with every key it ever signed with."""
    institution = public_institution(slug=slug)
    keys = [
        PublishedKey(
            fragment=key.fragment,
            public_key_multibase=key.public_key_multibase,
            active=key.status == KeyStatus.ACTIVE,
        )
        for key in institution.signing_keys.order_by("number")
    ]
    return build_did_document(did=institution.did, keys=keys)


def key_fingerprint(public_key_multibase: str) -> str:
    """The SHA-256 of a key as its DID document writes it, for people who compare keys by hand."""
    return hashlib.sha256(public_key_multibase.encode()).hexdigest()


def published_keys(*, institution: Institution) -> list[tuple[SigningKey, str]]:
    """The institution's keys with their SHA-256 fingerprints, for people who check by hand."""
    return [
        (key, key_fingerprint(key.public_key_multibase))
        for key in institution.signing_keys.order_by("number")
    ]


def signing_keys(*, viewer: Membership) -> QuerySet[SigningKey]:
    """The keys of the viewer's institution, newest first."""
    return SigningKey.objects.filter(institution_id=viewer.institution_id).order_by("-number")


def active_signing_key(*, institution: Institution) -> SigningKey:
    """The key that signs the institution's new credentials."""
    return SigningKey.objects.select_related("institution").get(
        institution=institution, status=KeyStatus.ACTIVE
    )


# API tokens ------------------------------------------------------------------------------


# meshe_<8 hex>_<43 base64url>: the shape api_token_create makes; anything else is refused
# before the database is asked.
def e_seal(*, viewer: Membership) -> ESealCertificate | None:
    """The e-seal certificate of the viewer's institution, None when it has none."""
    return ESealCertificate.objects.filter(institution_id=viewer.institution_id).first()


def e_seal_of(*, institution: Institution) -> ESealCertificate | None:
    """The certificate that seals the institution's European Digital Credentials, if any."""
    return ESealCertificate.objects.filter(institution=institution).first()


API_TOKEN_TEXT = re.compile(r"meshe_(?P<prefix>[0-9a-f]{8})_(?P<secret>[A-Za-z0-9_-]{43})")


def api_tokens(*, viewer: Membership) -> QuerySet[ApiToken]:
    """The tokens of the viewer's institution, newest first, with who made them."""
    return ApiToken.objects.filter(institution_id=viewer.institution_id).select_related(
        "created_by"
    )


def api_token_for_admin(*, viewer: Membership, public_id: UUID) -> ApiToken:
    """One token of the viewer's institution; 404 for any other institution's."""
    try:
        return ApiToken.objects.select_related("institution").get(
            public_id=public_id, institution_id=viewer.institution_id
        )
    except ApiToken.DoesNotExist:
        raise Http404 from None


def api_token_presented(*, text: str) -> ApiToken | None:
    """The token whose full text this is, revoked or not; None for anything else.

    The secret is compared in constant time; an unknown prefix costs the same HMAC.
    """
    match = API_TOKEN_TEXT.fullmatch(text)
    if match is None:
        return None
    token = (
        ApiToken.objects.select_related("institution", "created_by")
        .filter(prefix=match["prefix"])
        .first()
    )
    if token is None:
        api_token_digest(match["secret"], key=settings.SECRET_KEY)
        return None
    return token if token.matches(match["secret"]) else None
