"""Writes of the learner's wallet: credentials finding their learner (a credential joins an
account only through an e-mail address that the account has verified), share links, imports,
the public profile, and the learner's control of their data. Every write is logged in the
same transaction as a LearnerEvent; an issued credential is changed only through the
credentials services, which log what concerns its life as a CredentialEvent."""

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import User
from credentials.issuing import services as credential_services
from credentials.issuing import verifier
from credentials.issuing.services import claim_token_hash
from credentials.models import IssuedCredential
from credentials.standards import badge_images, credential_holder, credential_summary
from credentials.standards.verification import DEFAULT_MAX_BYTES, credential_payload
from institutions import selectors as institution_selectors
from institutions import services as institution_services
from learners import data_export, selectors
from learners.exceptions import AlreadyInWallet, ClaimError, WalletError
from learners.models import ImportedCredential, LearnerEvent, PublicProfile, ShareLink


@transaction.atomic
def account_security_event(*, user: User, action: str, subject: str = "", **detail: Any) -> None:
    """Records a security event of an account (a LearnerEvent.Action such as "signed_in") in
    the account's own history, which its owner downloads and which is deleted with it, and for
    staff also in their institutions' audit logs. `subject` (never personal data) goes on the
    account's record, `detail` on the audit's."""
    LearnerEvent.objects.create(user=user, action=action, subject=subject)
    institution_services.account_security_audit(user=user, action=action, **detail)


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
    return credential_services.credentials_holder_attach(
        holder=user, addresses=_verified_addresses(user)
    )


@transaction.atomic
def credential_claim(*, token: str, user: User) -> IssuedCredential:
    """Uses a claim link: the credential joins the user's wallet when one of the user's
    verified addresses is the one it was issued to. Idempotent for the learner who used it.
    Raises ClaimError otherwise."""
    credential = (
        IssuedCredential.objects.select_for_update()
        .filter(claim_token_hash=claim_token_hash(token))
        .first()
    )
    if credential is None:
        raise ClaimError(_("This link does not work: it was replaced by a newer one."))
    if credential.claim_expires_at is None:
        if credential.holder_id == user.pk:
            return credential  # spent by this learner already: nothing to do
        raise ClaimError(_("This link has already been used: the credential was claimed."))
    if credential.claim_expires_at <= timezone.now():
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
    credential_services.credential_claim_link_spend(credential=credential)
    return credential


# Share links ---------------------------------------------------------------------------------


@transaction.atomic
def share_link_create(
    *,
    user: User,
    credential: IssuedCredential,
    label: str = "",
    expires_at: datetime | None = None,
) -> ShareLink:
    """A new public link to one of the user's credentials; any number may exist. Raises
    WalletError for a credential the user does not hold or an expiry in the past."""
    if credential.holder_id != user.pk:
        raise WalletError(_("This credential is not in your wallet."))
    if expires_at is not None and expires_at <= timezone.now():
        raise WalletError(_("The expiry date must be in the future."))
    link = ShareLink.objects.create(
        credential=credential, owner=user, label=label.strip(), expires_at=expires_at
    )
    LearnerEvent.objects.create(
        user=user, action=LearnerEvent.Action.SHARE_CREATED, subject=str(link.public_id)
    )
    return link


@transaction.atomic
def share_link_revoke(*, user: User, link: ShareLink) -> ShareLink:
    """Stops the link for good. Idempotent: revoking a revoked link changes nothing."""
    if link.owner_id != user.pk:
        raise WalletError(_("This link is not yours."))
    now = timezone.now()
    changed = ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=now)
    if changed:
        LearnerEvent.objects.create(
            user=user, action=LearnerEvent.Action.SHARE_REVOKED, subject=str(link.public_id)
        )
    link.refresh_from_db(fields=["revoked_at"])
    return link


@transaction.atomic
def credential_page_set_public(
    *, user: User, credential: IssuedCredential, public: bool
) -> IssuedCredential:
    """Shows or hides the credential at its own address. Idempotent."""
    if credential.holder_id != user.pk:
        raise WalletError(_("This credential is not in your wallet."))
    changed = credential_services.credential_page_set_public(
        holder=user, credential=credential, public=public
    )
    if changed:
        LearnerEvent.objects.create(
            user=user,
            action=LearnerEvent.Action.PAGE_SHOWN if public else LearnerEvent.Action.PAGE_HIDDEN,
            subject=str(credential.public_id),
        )
    return credential


def share_link_record_view(*, link: ShareLink) -> None:
    """Counts one view; concurrent views are all counted (the database adds, not Python)."""
    ShareLink.objects.filter(pk=link.pk).update(view_count=F("view_count") + 1)


# Imports -------------------------------------------------------------------------------------


def _verification_refusal(result: dict[str, Any]) -> str | None:
    """Why the verifier found the input not to be a credential at all, if it did."""
    for check in result["checks"]:
        if check["check"] in {"json", "data_model"} and not check["ok"]:
            return str(check["detail"])
    return None


def _holder_match(*, user: User, holder: credential_holder.Holder) -> credential_holder.HolderMatch:
    return credential_holder.match(holder, addresses=_verified_addresses(user), names=[user.name])


def _issued_here_id(credential_id: str) -> uuid.UUID | None:
    """The public id of a credential this portal issues as `urn:uuid:<public id>`."""
    if not credential_id.startswith("urn:uuid:"):
        return None
    try:
        return uuid.UUID(credential_id.removeprefix("urn:uuid:"))
    except ValueError:
        return None


def _already_held(*, user: User, credential_id: str, digest: str) -> None:
    """Raises AlreadyInWallet, with its page, for a credential the wallet holds: issued here
    or imported with the same id, or imported byte for byte when it states no id."""
    issued_here = _issued_here_id(credential_id)
    if issued_here is not None:
        issued = IssuedCredential.objects.filter(public_id=issued_here).first()
        if issued is not None:
            if issued.holder_id != user.pk:
                # Kept as an import, the claim would later add the issued copy too, counted
                # twice, and the import would keep its verdict after a revocation.
                raise WalletError(
                    _(
                        "This credential was issued on this portal: add it with the link in "
                        "its e-mail, or sign in with the address it was sent to."
                    )
                )
            raise AlreadyInWallet(
                _("This credential is already in your wallet: it was issued to you here."),
                url=selectors.wallet_credential_url(issued.public_id),
            )
    same = Q(digest=digest) | Q(credential_id=credential_id) if credential_id else Q(digest=digest)
    kept = ImportedCredential.objects.filter(same, owner=user).first()
    if kept is not None:
        raise AlreadyInWallet(
            _("This credential is already in your wallet, imported on %(date)s.")
            % {"date": date_format(timezone.localtime(kept.created_at), "DATE_FORMAT")},
            url=kept.get_absolute_url(),
        )


def credential_import(*, user: User, raw: bytes | str) -> ImportedCredential:
    """Keeps a credential from elsewhere, verbatim, with the verdict of the same verifier as
    /verify (an EDC is kept unverified: its seal cannot be checked here) and whom it was
    issued to. Raises WalletError, having written nothing, for input that is too large or not
    a credential, for a credential issued to an e-mail address that is none of the learner's
    verified ones (another person's) or for one this portal issued (it enters the wallet by
    its claim link, with its live status), and AlreadyInWallet for one the wallet holds
    already (same id, or the same bytes when it states no id).

    The verifier may fetch the issuer's DID document, so it runs before the transaction.
    A baked badge image (PNG or SVG, Open Badges 3.0) is read for the credential it carries."""
    if isinstance(raw, bytes):
        try:
            # The same reading as every door of the verifier: JSON, or a baked PNG or SVG.
            raw, _source = credential_payload(raw)
        except badge_images.BadgeImageError as exc:
            raise WalletError(
                _("This image does not carry a credential we can read (%(problem)s).")
                % {"problem": exc}
            ) from None
    size = len(raw.encode("utf-8") if isinstance(raw, str) else raw)
    if size > DEFAULT_MAX_BYTES:
        raise WalletError(
            _("The credential is larger than %(limit)s KiB; no credential is that large.")
            % {"limit": DEFAULT_MAX_BYTES // 1024}
        )
    try:
        # utf-8-sig: a byte-order mark, which some editors write, is not part of the JSON.
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise WalletError(_("This file is not text: a credential is a JSON file.")) from None
    try:
        document = credential_summary.parse(text)
        # A sealed EDC is read for what it carries; the verifier checks its seal below.
        sealed = credential_summary.sealed_payload(document)
        document = sealed if sealed is not None else document
        summary = credential_summary.summarise(document)
    except credential_summary.NotACredential as exc:
        raise WalletError(
            _("This is not a credential we can read (%(problem)s).") % {"problem": exc}
        ) from None
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    stated_id = document.get("id")
    credential_id = stated_id.strip()[:500] if isinstance(stated_id, str) else ""
    _already_held(user=user, credential_id=credential_id, digest=digest)
    holder = credential_holder.holder_of(document)
    matched = _holder_match(user=user, holder=holder)
    if matched is credential_holder.HolderMatch.OTHER:
        # Kept, it would be someone else's record in this wallet; the learner whose address
        # it is only needs to verify that address first.
        raise WalletError(
            _(
                "This credential was issued to another person: the e-mail address it names is "
                "none of the verified addresses of your account. If it is yours, add and verify "
                "the address it was sent to in your account, then import it again."
            )
        )
    verification = None
    if summary.format == "vc" or sealed is not None:
        verification = verifier.verify(text)
        refusal = _verification_refusal(verification)
        if refusal is not None:
            raise WalletError(
                _("This is not a credential we can read: %(problem)s") % {"problem": refusal}
            )
    with transaction.atomic():
        _already_held(user=user, credential_id=credential_id, digest=digest)
        try:
            with transaction.atomic():
                imported = ImportedCredential.objects.create(
                    owner=user,
                    format=summary.format,
                    document=text,
                    digest=digest,
                    credential_id=credential_id,
                    holder=matched.value,
                    holder_name=holder.name,
                    title=summary.title or _("Untitled credential"),
                    issuer_id=summary.issuer_id[:500],
                    issuer_name=summary.issuer_name,
                    issued_at=summary.issued_at,
                    valid_until=summary.valid_until,
                    ects=summary.ects,
                    eqf_level=summary.eqf_level[:200],
                    verification=verification,
                    verified_at=timezone.now() if verification is not None else None,
                )
        except IntegrityError:
            # The same credential, imported at the same moment from another tab.
            raise WalletError(_("This credential is already in your wallet.")) from None
        LearnerEvent.objects.create(
            user=user, action=LearnerEvent.Action.IMPORTED, subject=str(imported.public_id)
        )
    return imported


@transaction.atomic
def imported_holders_match(*, user: User) -> int:
    """Compares the holder of each of the user's imports with their verified addresses and
    name as they are now (an address verified since makes a credential theirs; one removed,
    another person's); returns how many changed. Idempotent. Runs when an address is verified
    or removed (learners.signals) and when one import is checked again."""
    changed = 0
    addresses, names = _verified_addresses(user), [user.name]
    for imported in ImportedCredential.objects.filter(owner=user).only("document", "holder"):
        try:
            document = credential_summary.parse(imported.document)
        except credential_summary.NotACredential:
            continue
        matched = credential_holder.match(
            credential_holder.holder_of(document), addresses=addresses, names=names
        )
        if matched.value != imported.holder:
            changed += ImportedCredential.objects.filter(pk=imported.pk).update(
                holder=matched.value
            )
    return changed


def imported_credential_reverify(*, user: User, imported: ImportedCredential) -> ImportedCredential:
    """Checks an import again now (status lists change), and whom it was issued to against the
    learner's verified addresses and name as they are now, and keeps both. Raises
    WalletError for one whose seal cannot be checked here. Verifies outside the transaction."""
    if imported.owner_id != user.pk:
        raise WalletError(_("This credential is not in your wallet."))
    if not imported.checkable:
        raise WalletError(_("This credential's seal cannot be checked here; nothing was changed."))
    verification = verifier.verify(imported.document)
    now = timezone.now()
    holder = imported.holder
    try:
        document = credential_summary.parse(imported.document)
    except credential_summary.NotACredential:
        pass
    else:
        holder = _holder_match(user=user, holder=credential_holder.holder_of(document)).value
    with transaction.atomic():
        ImportedCredential.objects.filter(pk=imported.pk).update(
            verification=verification, verified_at=now, holder=holder
        )
        LearnerEvent.objects.create(
            user=user, action=LearnerEvent.Action.REVERIFIED, subject=str(imported.public_id)
        )
    imported.verification, imported.verified_at, imported.holder = verification, now, holder
    return imported


@transaction.atomic
def imported_credential_remove(*, user: User, imported: ImportedCredential) -> None:
    """Deletes an import from the wallet. Idempotent."""
    if imported.owner_id != user.pk:
        raise WalletError(_("This credential is not in your wallet."))
    deleted, _rows = ImportedCredential.objects.filter(pk=imported.pk).delete()
    if deleted:
        LearnerEvent.objects.create(
            user=user, action=LearnerEvent.Action.IMPORT_REMOVED, subject=str(imported.public_id)
        )


# Public profile ------------------------------------------------------------------------------


def _generated_slug(user: User) -> str:
    base = slugify(user.name)[:40] or "learner"
    return f"{base}-{secrets.token_hex(3)}"


@transaction.atomic
def profile_save(
    *,
    user: User,
    is_public: bool,
    slug: str = "",
    headline: str = "",
    credentials: Iterable[IssuedCredential] = (),
) -> PublicProfile:
    """Creates or changes the user's public profile; a blank address gets a generated one.
    Raises WalletError for an address that is taken or a credential the user does not hold."""
    chosen = list(credentials)
    if any(credential.holder_id != user.pk for credential in chosen):
        raise WalletError(_("Only credentials in your wallet can be shown on your profile."))
    profile = PublicProfile.objects.select_for_update().filter(user=user).first()
    slug = slug.strip().lower() or (profile.slug if profile else _generated_slug(user))
    if PublicProfile.objects.filter(slug=slug).exclude(user=user).exists():
        raise WalletError(_("The address %(slug)s is taken; choose another.") % {"slug": slug})
    if profile is None:
        profile = PublicProfile(user=user)
    profile.slug = slug
    profile.is_public = is_public
    profile.headline = headline.strip()
    try:
        with transaction.atomic():
            profile.save()
    except IntegrityError:
        raise WalletError(
            _("The address %(slug)s is taken; choose another.") % {"slug": slug}
        ) from None
    profile.credentials.set(chosen)
    LearnerEvent.objects.create(user=user, action=LearnerEvent.Action.PROFILE_CHANGED)
    return profile


# The learner's data --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Export:
    filename: str
    content: bytes


@transaction.atomic
def account_export(*, user: User) -> Export:
    """A zip of all the user's data (see learners.data_export); the download is logged."""
    now = timezone.now()
    LearnerEvent.objects.create(user=user, action=LearnerEvent.Action.DATA_EXPORTED)
    content = data_export.archive(selectors.account_data(user=user), exported_at=now)
    return Export(filename=f"meshe-data-{now:%Y-%m-%d}.zip", content=content)


@transaction.atomic
def account_delete(*, user: User) -> int:
    """Erases the user's personal data and account: e-mail addresses, share links (which stop
    working), imports, profile and activity log go; issued credentials stay valid but are
    detached from the account. Returns how many were detached. Raises WalletError for a
    member of an institution's staff, who must be removed from it first."""
    memberships = list(
        institution_selectors.memberships_for_user(user=user).select_related("institution")
    )
    if memberships:
        raise WalletError(
            _(
                "You are on the staff of %(institutions)s. Ask an administrator there to remove "
                "you first: staff accounts sign credentials and appear in audit logs."
            )
            % {"institutions": ", ".join(m.institution.name for m in memberships)}
        )
    user = User.objects.select_for_update().get(pk=user.pk)
    detached = credential_services.credentials_holder_detach(holder=user)
    ShareLink.objects.filter(owner=user).delete()
    ImportedCredential.objects.filter(owner=user).delete()
    PublicProfile.objects.filter(user=user).delete()
    LearnerEvent.objects.filter(user=user).delete()
    EmailAddress.objects.filter(user=user).delete()
    user.delete()
    LearnerEvent.objects.create(
        user=None,
        action=LearnerEvent.Action.ACCOUNT_DELETED,
        subject=f"{detached} issued credentials detached",
    )
    return detached
