"""Changes to institutions and their staff. Each one is atomic and audited."""

import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from credentials.multiformats import encode_ed25519_public_key
from institutions import tasks
from institutions.exceptions import InstitutionError
from institutions.key_storage import seal_private_key
from institutions.models import (
    ApiScope,
    ApiToken,
    AuditEvent,
    Institution,
    Invitation,
    KeyStatus,
    Membership,
    Role,
    SigningKey,
    api_token_digest,
)
from learners.models import User

INVITATION_LIFETIME = timedelta(days=14)


def audit(
    *, institution: Institution, actor: User | None, action: str, **detail: Any
) -> AuditEvent:
    """Records one event; call it inside the transaction of the change it describes."""
    return AuditEvent.objects.create(
        institution=institution, actor=actor, action=action, detail=detail
    )


@transaction.atomic
def institution_create(
    *, actor: User | None, slug: str, name: str, country: str, **fields: Any
) -> Institution:
    """Creates an institution and makes the actor, if any, its first administrator."""
    institution = Institution(slug=slug, name=name, country=country.upper(), **fields)
    institution.full_clean()
    institution.save()
    if actor is not None:
        Membership.objects.create(user=actor, institution=institution, role=Role.ADMIN)
    audit(institution=institution, actor=actor, action="institution.created", slug=slug)
    _signing_key_create(institution=institution, number=1)
    return institution


def _signing_key_create(*, institution: Institution, number: int) -> SigningKey:
    private_key = Ed25519PrivateKey.generate()
    public = encode_ed25519_public_key(private_key.public_key())
    return SigningKey.objects.create(
        institution=institution,
        number=number,
        public_key_multibase=public,
        sealed_private_key=seal_private_key(
            private_key, secret=settings.MESHE_KEY_ENCRYPTION_SECRET, bound_to=public
        ),
    )


@transaction.atomic
def signing_key_rotate(*, actor: User | None, institution: Institution) -> SigningKey:
    """Retires the active key and makes a new one active. Retired keys stay published."""
    Institution.objects.select_for_update().get(pk=institution.pk)
    keys = SigningKey.objects.filter(institution=institution)
    previous = keys.filter(status=KeyStatus.ACTIVE).first()
    if previous is not None:
        previous.status = KeyStatus.RETIRED
        previous.retired_at = timezone.now()
        previous.save(update_fields=["status", "retired_at"])
    last_number = keys.order_by("-number").values_list("number", flat=True).first() or 0
    key = _signing_key_create(institution=institution, number=last_number + 1)
    audit(
        institution=institution,
        actor=actor,
        action="signing_key.rotated",
        retired=previous.fragment if previous else None,
        active=key.fragment,
        public_key=key.public_key_multibase,
    )
    return key


@transaction.atomic
def invitation_create(
    *, actor: User, institution: Institution, email: str, role: str
) -> Invitation:
    """Invites `email` to the staff with `role` and e-mails the link on commit.

    Inviting someone who already has an open invitation renews it (new role, new
    expiry) and sends it again. Raises InstitutionError for a current member.
    """
    email = email.strip()
    if Membership.objects.filter(institution=institution, user__email__iexact=email).exists():
        raise InstitutionError(_("%(email)s is already a member of the staff.") % {"email": email})
    expires_at = timezone.now() + INVITATION_LIFETIME
    invitation = (
        Invitation.objects.select_for_update()
        .filter(institution=institution, email__iexact=email, accepted_at__isnull=True)
        .first()
    )
    if invitation is None:
        invitation = Invitation.objects.create(
            institution=institution, email=email, role=role, invited_by=actor, expires_at=expires_at
        )
    else:
        invitation.role = role
        invitation.invited_by = actor
        invitation.expires_at = expires_at
        invitation.save(update_fields=["role", "invited_by", "expires_at"])
    audit(institution=institution, actor=actor, action="invitation.sent", email=email, role=role)
    tasks.send_invitation.delay_on_commit(invitation.pk)
    return invitation


def invitation_send(*, invitation_id: int) -> None:
    """E-mails an open invitation's link; does nothing for an accepted or missing one."""
    invitation = (
        Invitation.objects.select_related("institution", "invited_by")
        .filter(pk=invitation_id, accepted_at__isnull=True)
        .first()
    )
    if invitation is None:
        return
    context = {
        "invitation": invitation,
        "url": settings.MESHE_BASE_URL + invitation.get_absolute_url(),
    }
    send_mail(
        subject=render_to_string("emails/invitation_subject.txt", context).strip(),
        message=render_to_string("emails/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now())


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """Makes the user a member with the invited role. Idempotent for the same user.

    Raises InstitutionError when the invitation has expired, was used by someone
    else, or is for an e-mail address the user has not verified.
    """
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        if invitation.accepted_by_id == user.pk:
            return Membership.objects.get(user=user, institution_id=invitation.institution_id)
        raise InstitutionError(_("This invitation has already been used."))
    if invitation.expires_at <= timezone.now():
        raise InstitutionError(_("This invitation has expired. Ask for a new one."))
    verified = EmailAddress.objects.filter(
        user=user, email__iexact=invitation.email, verified=True
    ).exists()
    if not verified:
        raise InstitutionError(
            _("This invitation is for %(email)s. Sign in with that verified address to accept it.")
            % {"email": invitation.email}
        )
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                user=user, institution_id=invitation.institution_id, role=invitation.role
            )
    except IntegrityError:
        raise InstitutionError(_("You are already a member of this institution's staff.")) from None
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit(
        institution=invitation.institution,
        actor=user,
        action="membership.joined",
        email=user.email,
        role=invitation.role,
    )
    return membership


def _ensure_an_admin_remains(membership: Membership) -> None:
    others = Membership.objects.filter(
        institution_id=membership.institution_id, role=Role.ADMIN
    ).exclude(pk=membership.pk)
    if membership.role == Role.ADMIN and not others.exists():
        raise InstitutionError(_("An institution needs at least one administrator."))


@transaction.atomic
def membership_change_role(*, actor: User, membership: Membership, role: str) -> Membership:
    """Gives a member another role; keeps at least one administrator. Idempotent."""
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == role:
        return membership
    if role != Role.ADMIN:
        _ensure_an_admin_remains(membership)
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit(
        institution=membership.institution,
        actor=actor,
        action="membership.role_changed",
        email=membership.user.email,
        previous=previous,
        role=role,
    )
    return membership


@transaction.atomic
def membership_remove(*, actor: User, membership: Membership) -> None:
    """Removes a member from the staff; keeps at least one administrator."""
    membership = (
        Membership.objects.select_for_update()
        .select_related("user", "institution")
        .get(pk=membership.pk)
    )
    _ensure_an_admin_remains(membership)
    membership.delete()
    audit(
        institution=membership.institution,
        actor=actor,
        action="membership.removed",
        email=membership.user.email,
    )


# API tokens --------------------------------------------------------------------------------

BEARER_TEXT_START = "meshe"
# How stale last_used_at may get: one write a minute per token, not one per request.
API_TOKEN_USE_RESOLUTION = timedelta(minutes=1)


@transaction.atomic
def api_token_create(
    *, actor: User, institution: Institution, name: str, scopes: Sequence[str]
) -> tuple[ApiToken, str]:
    """Makes a token and returns it with its full text, which is never available again.

    Raises InstitutionError for a missing name or an unknown or missing scope.
    """
    name = name.strip()
    if not name:
        raise InstitutionError(_("Give the token a name, such as the system that will use it."))
    if len(name) > 100:
        raise InstitutionError(_("The name is longer than 100 characters."))
    chosen = sorted(set(scopes))
    if not chosen or any(scope not in ApiScope.values for scope in chosen):
        raise InstitutionError(_("Choose at least one of the offered permissions."))
    secret = secrets.token_urlsafe(32)
    prefix = secrets.token_hex(4)
    while ApiToken.objects.filter(prefix=prefix).exists():
        prefix = secrets.token_hex(4)
    token = ApiToken.objects.create(
        institution=institution,
        name=name,
        scopes=chosen,
        prefix=prefix,
        secret_digest=api_token_digest(secret, key=settings.SECRET_KEY),
        created_by=actor,
    )
    audit(
        institution=institution,
        actor=actor,
        action="api_token.created",
        token=prefix,
        name=name,
        scopes=chosen,
    )
    return token, f"{BEARER_TEXT_START}_{prefix}_{secret}"


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    """Revokes for good: the next request with it is refused. Idempotent."""
    now = timezone.now()
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    token.refresh_from_db(fields=["revoked_at"])
    if revoked:
        audit(
            institution=token.institution,
            actor=actor,
            action="api_token.revoked",
            token=token.prefix,
            name=token.name,
        )
    return token


def api_token_mark_used(*, token: ApiToken) -> None:
    """Records that the token was just used, to the minute. Bookkeeping, not audited."""
    now = timezone.now()
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - API_TOKEN_USE_RESOLUTION)
    ).update(last_used_at=now)
