"""Changes to institutions and their staff. Each one is atomic and audited."""

import base64
import binascii
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from credentials.standards import jades
from credentials.standards.multiformats import encode_ed25519_public_key
from institutions import publications, selectors, tasks
from institutions.e_seals import ESeal, is_test_certificate, load_stored
from institutions.exceptions import InstitutionError, KeyCustodyError
from institutions.key_storage import (
    KeyStorageError,
    open_private_bytes,
    open_private_key,
    seal_private_bytes,
    seal_private_key,
)
from institutions.models import (
    ApiScope,
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

INVITATION_LIFETIME = timedelta(days=14)


def audit(
    *, institution: Institution, actor: User | None, action: str, **detail: Any
) -> AuditEvent:
    """Records one event; call it inside the transaction of the change it describes."""
    return AuditEvent.objects.create(
        institution=institution, actor=actor, action=action, detail=detail
    )


def audit_many(
    *,
    institution: Institution,
    actor: User | None,
    action: str,
    details: Iterable[Mapping[str, Any]],
) -> list[AuditEvent]:
    """Records one event per detail, as audit() would one by one, in one INSERT; call it inside
    the transaction of the changes they describe."""
    return AuditEvent.objects.bulk_create(
        AuditEvent(institution=institution, actor=actor, action=action, detail=dict(detail))
        for detail in details
    )


@transaction.atomic
def account_security_audit(*, user: User, action: str, **detail: Any) -> None:
    """Records a security event of a staff member's account (an action such as "signed_in") as
    "account.<action>" in the audit log of each institution they work for; nothing for others."""
    memberships = Membership.objects.filter(user=user).values_list("institution_id", flat=True)
    AuditEvent.objects.bulk_create(
        AuditEvent(
            institution_id=institution_id,
            actor=user,
            action=f"account.{action}",
            detail={"email": user.email, **detail},
        )
        for institution_id in memberships
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
    publications.changed()  # the DID document changed: verifiers read it again
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
def e_seal_install(
    *, actor: User | None, institution: Institution, e_seal: ESeal, reason: str = ""
) -> ESealCertificate:
    """Makes `e_seal` the institution's e-seal, its key sealed at rest. Replacing one asks for
    a reason; credentials sealed with the old certificate are sealed again on their next
    download. Raises InstitutionError."""
    Institution.objects.select_for_update().get(pk=institution.pk)
    previous = ESealCertificate.objects.filter(institution=institution).first()
    if previous is not None and not reason.strip():
        raise InstitutionError(_("Say why the e-seal certificate is replaced."))
    facts = jades.describe(e_seal.certificate)
    if ESealCertificate.objects.filter(fingerprint=facts.fingerprint).exclude(
        institution=institution
    ):
        raise InstitutionError(_("This certificate is another institution's e-seal."))
    if previous is not None:
        previous.delete()
    installed = _e_seal_row(institution, e_seal)
    installed.save()
    audit(
        institution=institution,
        actor=actor,
        action="e_seal.replaced" if previous is not None else "e_seal.installed",
        subject=facts.subject_dn,
        issuer=facts.issuer_dn,
        fingerprint=facts.fingerprint,
        not_after=facts.not_after.isoformat(),
        **({"previous": previous.fingerprint, "reason": reason.strip()} if previous else {}),
    )
    return installed


def _e_seal_row(institution: Institution, e_seal: ESeal) -> ESealCertificate:
    """The unsaved row of an e-seal, its key sealed with this node's secret."""
    facts = jades.describe(e_seal.certificate)
    return ESealCertificate(
        institution=institution,
        certificate_chain_pem=e_seal.chain_pem(),
        sealed_private_key=seal_private_bytes(
            e_seal.key_der(),
            secret=settings.MESHE_KEY_ENCRYPTION_SECRET,
            bound_to=facts.fingerprint,
        ),
        fingerprint=facts.fingerprint,
        subject=facts.subject[:400],
        subject_dn=facts.subject_dn,
        issuer_dn=facts.issuer_dn,
        not_before=facts.not_before,
        not_after=facts.not_after,
        key_usage=", ".join(facts.key_usage),
        self_signed=facts.self_signed,
        test_certificate=is_test_certificate(e_seal.certificate),
    )


@transaction.atomic
def e_seal_remove(*, actor: User | None, institution: Institution, reason: str) -> None:
    """Removes the institution's e-seal, with a reason; its EDCs are offered unsealed after.
    Raises InstitutionError when it has none or no reason is given."""
    if not reason.strip():
        raise InstitutionError(_("Say why the e-seal certificate is removed."))
    Institution.objects.select_for_update().get(pk=institution.pk)
    current = ESealCertificate.objects.filter(institution=institution).first()
    if current is None:
        raise InstitutionError(_("This institution has no e-seal certificate."))
    current.delete()
    audit(
        institution=institution,
        actor=actor,
        action="e_seal.removed",
        subject=current.subject_dn,
        fingerprint=current.fingerprint,
        reason=reason.strip(),
    )


@transaction.atomic
def institution_output_set(
    *, actor: User | None, institution: Institution, ob3_strict: bool
) -> Institution:
    """Chooses the status entries of new credentials: revocation and suspension (the default),
    or revocation only (Open Badges 3.0-strict). Credentials already issued keep theirs."""
    current = Institution.objects.select_for_update().get(pk=institution.pk)
    if current.ob3_strict != ob3_strict:
        current.ob3_strict = ob3_strict
        current.save(update_fields=["ob3_strict"])
        audit(
            institution=current, actor=actor, action="institution.output_set", ob3_strict=ob3_strict
        )
    return current


# Key custody: the encryption secret's rotation, and backups ----------------------------------


def _public_of(private_key: Ed25519PrivateKey) -> str:
    return encode_ed25519_public_key(private_key.public_key())


def _open_with(key: SigningKey, secret: str) -> Ed25519PrivateKey | None:
    """The key's private half if `secret` opens it to its own public key; None otherwise."""
    try:
        private_key = open_private_key(
            bytes(key.sealed_private_key), secret=secret, bound_to=key.public_key_multibase
        )
    except KeyStorageError:
        return None
    return private_key if _public_of(private_key) == key.public_key_multibase else None


@dataclass
class ResealResult:
    resealed: list[SigningKey] = field(default_factory=list)
    already: list[SigningKey] = field(default_factory=list)
    # E-seal keys, re-sealed alongside the signing keys.
    e_seals: list[ESealCertificate] = field(default_factory=list)


def _open_e_seal_with(e_seal: ESealCertificate, secret: str) -> bytes | None:
    try:
        return open_private_bytes(
            bytes(e_seal.sealed_private_key), secret=secret, bound_to=e_seal.fingerprint
        )
    except KeyStorageError:
        return None


@transaction.atomic
def signing_keys_reseal(*, old_secret: str, new_secret: str, dry_run: bool = False) -> ResealResult:
    """Re-seals every signing key from old_secret to new_secret, all in one transaction.

    Keys already sealed with new_secret are left alone, so running it again changes nothing.
    Raises KeyCustodyError, having changed nothing, when a key opens with neither secret (or
    not to its own public key). With dry_run, checks the same and writes nothing.
    """
    if len(new_secret) < 32:
        raise KeyCustodyError("The new secret must be at least 32 characters long.")
    if new_secret == old_secret:
        raise KeyCustodyError("The new secret is the old one.")
    keys = list(SigningKey.objects.select_for_update().select_related("institution").order_by("pk"))
    result = ResealResult()
    opened: list[tuple[SigningKey, Ed25519PrivateKey]] = []
    unopenable: list[str] = []
    for key in keys:
        private_key = _open_with(key, old_secret)
        if private_key is not None:
            opened.append((key, private_key))
        elif _open_with(key, new_secret) is not None:
            result.already.append(key)
        else:
            unopenable.append(str(key))
    e_seal_keys: list[tuple[ESealCertificate, bytes]] = []
    for e_seal in ESealCertificate.objects.select_for_update().select_related("institution"):
        key_der = _open_e_seal_with(e_seal, old_secret)
        if key_der is not None:
            e_seal_keys.append((e_seal, key_der))
        elif _open_e_seal_with(e_seal, new_secret) is None:
            unopenable.append(str(e_seal))
    if unopenable:
        raise KeyCustodyError(
            "These keys open with neither the old nor the new secret, so nothing was changed: "
            + ", ".join(unopenable)
        )
    result.resealed = [key for key, _private_key in opened]
    result.e_seals = [e_seal for e_seal, _key_der in e_seal_keys]
    if dry_run:
        return result
    for e_seal, key_der in e_seal_keys:
        ESealCertificate.objects.filter(pk=e_seal.pk).update(
            sealed_private_key=seal_private_bytes(
                key_der, secret=new_secret, bound_to=e_seal.fingerprint
            )
        )
        audit(
            institution=e_seal.institution,
            actor=None,
            action="e_seal.resealed",
            fingerprint=e_seal.fingerprint,
        )
    for key, private_key in opened:
        sealed = seal_private_key(private_key, secret=new_secret, bound_to=key.public_key_multibase)
        SigningKey.objects.filter(pk=key.pk).update(sealed_private_key=sealed)
    by_institution: dict[int, list[SigningKey]] = {}
    for key in result.resealed:
        by_institution.setdefault(key.institution_id, []).append(key)
    for institution_keys in by_institution.values():
        audit(
            institution=institution_keys[0].institution,
            actor=None,
            action="signing_keys.resealed",
            keys=[key.fragment for key in institution_keys],
        )
    return result


def signing_keys_export(*, slugs: Sequence[str] | None) -> dict[str, Any]:
    """The private and public halves of the keys of the institutions `slugs` (None: all), as the
    payload of a backup (institutions.key_backup), and audits the export on each institution.
    Raises KeyCustodyError for an unknown slug or a key that does not open."""
    institutions = Institution.objects.order_by("slug").prefetch_related("signing_keys")
    if slugs is not None:
        institutions = institutions.filter(slug__in=slugs)
        missing = sorted(set(slugs) - {i.slug for i in institutions})
        if missing:
            raise KeyCustodyError("No institution has the short name " + ", ".join(missing) + ".")
    exported = []
    with transaction.atomic():
        for institution in institutions:
            keys = []
            for key in sorted(institution.signing_keys.all(), key=lambda k: k.number):
                try:
                    seed = key.private_key.private_bytes_raw()
                except KeyStorageError:
                    raise KeyCustodyError(
                        f"{key} does not open with MESHE_KEY_ENCRYPTION_SECRET."
                    ) from None
                keys.append(
                    {
                        "number": key.number,
                        "status": key.status,
                        "public_key_multibase": key.public_key_multibase,
                        "private_key_seed": base64.b64encode(seed).decode("ascii"),
                        "created_at": key.created_at.isoformat(),
                        "retired_at": key.retired_at.isoformat() if key.retired_at else None,
                    }
                )
            entry: dict[str, Any] = {"slug": institution.slug, "did": institution.did, "keys": keys}
            e_seal = ESealCertificate.objects.filter(institution=institution).first()
            if e_seal is not None:
                key_der = _open_e_seal_with(e_seal, settings.MESHE_KEY_ENCRYPTION_SECRET)
                if key_der is None:
                    raise KeyCustodyError(
                        f"{e_seal} does not open with MESHE_KEY_ENCRYPTION_SECRET."
                    )
                entry["e_seal"] = {
                    "certificate_chain_pem": e_seal.certificate_chain_pem,
                    "private_key_pkcs8": base64.b64encode(key_der).decode("ascii"),
                }
            audit(
                institution=institution,
                actor=None,
                action="signing_keys.exported",
                keys=[f"key-{k['number']}" for k in keys],
                **({"e_seal": e_seal.fingerprint} if e_seal is not None else {}),
            )
            exported.append(entry)
    return {
        "exported_at": timezone.now().isoformat(),
        "node": settings.MESHE_BASE_URL,
        "institutions": exported,
    }


def _imported_key(institution: Institution, entry: Any) -> SigningKey:
    """An unsaved SigningKey from one entry of a backup; raises KeyCustodyError."""
    if not isinstance(entry, dict):
        raise KeyCustodyError(f"{institution.slug}: a key entry is not an object.")
    number, status = entry.get("number"), entry.get("status")
    public = entry.get("public_key_multibase")
    if not isinstance(number, int) or number < 1 or status not in KeyStatus.values:
        raise KeyCustodyError(f"{institution.slug}: a key has no valid number or status.")
    try:
        seed = base64.b64decode(str(entry.get("private_key_seed")), validate=True)
        private_key = Ed25519PrivateKey.from_private_bytes(seed)
    except (binascii.Error, ValueError):
        raise KeyCustodyError(
            f"{institution.slug} key-{number}: the private key is malformed."
        ) from None
    if not isinstance(public, str) or _public_of(private_key) != public:
        raise KeyCustodyError(
            f"{institution.slug} key-{number}: the private key does not match its public key."
        )
    retired_at = entry.get("retired_at")
    return SigningKey(
        institution=institution,
        number=number,
        status=status,
        public_key_multibase=public,
        retired_at=datetime.fromisoformat(retired_at) if isinstance(retired_at, str) else None,
        sealed_private_key=seal_private_key(
            private_key, secret=settings.MESHE_KEY_ENCRYPTION_SECRET, bound_to=public
        ),
    )


def _imported_e_seal(institution: Institution, entry: Any) -> ESealCertificate:
    """An unsaved e-seal from a backup's entry, its key sealed with this node's secret; raises
    KeyCustodyError."""
    try:
        e_seal = load_stored(
            str(entry["certificate_chain_pem"]),
            base64.b64decode(str(entry["private_key_pkcs8"]), validate=True),
        )
    except (KeyError, TypeError, ValueError, AssertionError):
        raise KeyCustodyError(f"{institution.slug}: the e-seal is malformed.") from None
    if not e_seal.key_matches():
        raise KeyCustodyError(f"{institution.slug}: the e-seal key does not match its certificate.")
    return _e_seal_row(institution, e_seal)


@transaction.atomic
def signing_keys_import(*, payload: dict[str, Any], dry_run: bool = False) -> list[SigningKey]:
    """Restores the keys of a backup's payload, sealed with this node's secret: all of them or,
    raising KeyCustodyError, none. Refused: an institution this node lacks, a private key that
    does not match its public key, a key (or key number) already here, a second active key."""
    entries = payload.get("institutions")
    if not isinstance(entries, list):
        raise KeyCustodyError("The backup lists no institutions.")
    keys: list[SigningKey] = []
    imported_seals: list[ESealCertificate] = []
    problems = []
    for item in entries:
        slug = item.get("slug") if isinstance(item, dict) else None
        institution = Institution.objects.select_for_update().filter(slug=slug).first()
        if institution is None:
            raise KeyCustodyError(f"No institution here has the short name {slug!r}.")
        keys.extend(_imported_key(institution, entry) for entry in item.get("keys") or [])
        if item.get("e_seal") is not None:
            imported = _imported_e_seal(institution, item["e_seal"])
            if ESealCertificate.objects.filter(institution=institution).exists():
                problems.append(f"{slug} already has an e-seal certificate.")
            imported_seals.append(imported)
    publics = [key.public_key_multibase for key in keys]
    clashes = SigningKey.objects.filter(public_key_multibase__in=publics).select_related(
        "institution"
    )
    problems += [f"{key} is already here." for key in clashes]
    if len(set(publics)) != len(publics):
        problems.append("The backup holds a key twice.")
    for key in keys:
        here = SigningKey.objects.filter(institution=key.institution)
        if here.filter(number=key.number).exclude(public_key_multibase=key.public_key_multibase):
            problems.append(f"{key.institution.slug} already has another key-{key.number}.")
        if key.status == KeyStatus.ACTIVE and here.filter(status=KeyStatus.ACTIVE).exists():
            problems.append(f"{key.institution.slug} already has an active key.")
    if problems:
        raise KeyCustodyError("Nothing was imported. " + " ".join(dict.fromkeys(problems)))
    if dry_run:
        return keys
    try:
        with transaction.atomic():
            SigningKey.objects.bulk_create(keys)
            for imported in imported_seals:
                imported.save()
                audit(
                    institution=imported.institution,
                    actor=None,
                    action="e_seal.imported",
                    fingerprint=imported.fingerprint,
                )
    except IntegrityError:
        raise KeyCustodyError(
            "Nothing was imported: the keys clash with each other (two active keys for one "
            "institution, or one number twice)."
        ) from None
    publications.changed()  # the DID documents changed: verifiers read them again
    for institution in {key.institution for key in keys}:
        audit(
            institution=institution,
            actor=None,
            action="signing_keys.imported",
            keys=[key.fragment for key in keys if key.institution == institution],
        )
    return keys


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
    if not selectors.invitation_addressed_to(invitation=invitation, user=user):
        raise InstitutionError(
            _("This invitation is for %(email)s. Sign in with that verified address to accept it.")
            % {"email": invitation.masked_email}
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
