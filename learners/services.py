"""Credentials finding their learner. A credential joins an account only through an e-mail
address that the account has verified."""

from allauth.account.models import EmailAddress
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from credentials.models import CredentialEvent, IssuedCredential
from credentials.services import claim_token_hash
from learners.exceptions import ClaimError
from learners.models import User


def _verified_addresses(user: User) -> list[str]:
    return [
        email.lower()
        for email in EmailAddress.objects.filter(user=user, verified=True).values_list(
            "email", flat=True
        )
    ]


@transaction.atomic
def credentials_attach(*, user: User) -> int:
    """Attaches every unattached credential issued to one of the user's verified addresses;
    returns how many. Idempotent."""
    addresses = _verified_addresses(user)
    if not addresses:
        return 0
    # Issuers type addresses as they like: compare lower-cased, which the index covers.
    found = list(
        IssuedCredential.objects.select_for_update()
        .annotate(email_lower=Lower("holder_email"))
        .filter(holder__isnull=True, email_lower__in=addresses)
        .only("pk")
    )
    now = timezone.now()
    IssuedCredential.objects.filter(pk__in=[c.pk for c in found]).update(
        holder=user, claimed_at=now
    )
    CredentialEvent.objects.bulk_create(
        CredentialEvent(credential=c, actor=user, action=CredentialEvent.Action.CLAIMED)
        for c in found
    )
    return len(found)


@transaction.atomic
def credential_claim(*, token: str, user: User) -> IssuedCredential:
    """Uses a claim link: the credential joins the user's wallet when one of the user's
    verified addresses is the one it was issued to. Raises ClaimError otherwise."""
    credential = (
        IssuedCredential.objects.select_for_update()
        .filter(claim_token_hash=claim_token_hash(token))
        .first()
    )
    if credential is None:
        raise ClaimError(_("This link has already been used or was replaced by a newer one."))
    if credential.claim_expires_at is None or credential.claim_expires_at <= timezone.now():
        raise ClaimError(
            _(
                "This link has expired. Ask the institution for a new one, or sign up with the address it was sent to."
            )
        )
    if credential.holder_id is None:
        if credential.holder_email.lower() not in _verified_addresses(user):
            raise ClaimError(
                _(
                    "This credential was issued to %(email)s. Add and verify that address in your account to claim it."
                )
                % {"email": credential.holder_email}
            )
        credentials_attach(user=user)
    elif credential.holder_id != user.pk:
        raise ClaimError(_("This credential is already in another account's wallet."))
    # Single use: the link is spent even when signing in had already attached it.
    IssuedCredential.objects.filter(pk=credential.pk).update(
        claim_token_hash="", claim_expires_at=None
    )
    credential.refresh_from_db()
    return credential
