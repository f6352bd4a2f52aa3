"""Issuing credentials into wallets over OpenID4VCI: offers, the pre-authorised code grant,
c_nonces, wallet-bound credentials in two formats, and the Token Status List behind the SD-JWT VCs.

Every write is atomic and audited (institutions AuditEvent, "wallet.*"). Secrets (pre-authorised
codes, PINs, access tokens) are kept only hashed. See docs/oid4vci.md.
"""

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import signing as django_signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from credentials import documents
from credentials.exceptions import CredentialError
from credentials.models import (
    CredentialStatus,
    IssuedCredential,
    TokenStatusList,
    WalletCredential,
    WalletNonceUse,
    WalletOffer,
)
from credentials.standards import (
    canonical_templates,
    jose,
    oid4vci,
    sd_jwt,
    sd_jwt_vc,
    signing,
    token_status_list,
)
from credentials.standards.oid4vci import OAuthError
from institutions import selectors as institution_selectors
from institutions import services as institution_services
from institutions.models import Institution

PRE_AUTHORIZED_CODE_LIFETIME: Final = timedelta(minutes=10)
ACCESS_TOKEN_LIFETIME: Final = timedelta(minutes=10)
NONCE_LIFETIME: Final = timedelta(minutes=5)
# Wrong PINs a code survives; the fifth kills it.
MAX_PIN_ATTEMPTS: Final = 5
TOKEN_STATUS_FILL_LIMIT: Final = 0.75
_NONCE_SALT: Final = "meshe.credentials.oid4vci.c_nonce"
# What each credential status is in the Token Status List.
TOKEN_STATUS: Final = {
    CredentialStatus.ISSUED: token_status_list.VALID,
    CredentialStatus.REVOKED: token_status_list.INVALID,
    CredentialStatus.SUSPENDED: token_status_list.SUSPENDED,
}


# URLs --------------------------------------------------------------------------------------


def credential_issuer_id(institution: Institution) -> str:
    """The institution's Credential Issuer Identifier: <base>/institutions/<slug>."""
    return f"{settings.MESHE_BASE_URL}/institutions/{institution.slug}"


def vct_url() -> str:
    return settings.MESHE_BASE_URL + reverse("wallet_issuance:type_metadata")


def endpoints(institution: Institution) -> oid4vci.Endpoints:
    def url(name: str) -> str:
        return settings.MESHE_BASE_URL + reverse(
            f"wallet_issuance:{name}", kwargs={"slug": institution.slug}
        )

    return oid4vci.Endpoints(
        credential_issuer=credential_issuer_id(institution),
        token=url("token"),
        nonce=url("nonce"),
        credential=url("credential"),
        vct=vct_url(),
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _pin_hash(code: str, pin: str) -> str:
    return hmac.new(code.encode(), pin.encode(), hashlib.sha256).hexdigest()


# The offer ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewOffer:
    """An offer as its holder sees it once: the link carries the code, which is kept only hashed."""

    offer: WalletOffer
    uri: str


def _pin_address(user: User, credential: IssuedCredential) -> str:
    verified = {
        address.lower(): address
        for address in EmailAddress.objects.filter(user=user, verified=True).values_list(
            "email", flat=True
        )
    }
    if credential.holder_email.lower() in verified:
        return verified[credential.holder_email.lower()]
    if user.email.lower() in verified:
        return verified[user.email.lower()]
    if verified:
        return next(iter(verified.values()))
    raise CredentialError(_("Verify your e-mail address first: the PIN is sent there."))


@transaction.atomic
def wallet_offer_create(*, user: User, credential: IssuedCredential) -> NewOffer:
    """Makes a 10-minute, single-use offer of the holder's credential and e-mails its PIN to a
    verified address on commit; earlier open offers of it stop working. Raises CredentialError
    unless the credential is the user's and valid."""
    current = IssuedCredential.objects.select_for_update().get(pk=credential.pk)
    if current.holder_id != user.pk:
        raise CredentialError(_("This credential is not in your wallet."))
    if current.status != CredentialStatus.ISSUED:
        raise CredentialError(_("A revoked or suspended credential cannot go into a wallet."))
    address = _pin_address(user, current)
    now = timezone.now()
    WalletOffer.objects.filter(
        credential=current, redeemed_at__isnull=True, blocked_at__isnull=True
    ).update(blocked_at=now)
    code = secrets.token_urlsafe(32)
    pin = f"{secrets.randbelow(10**oid4vci.PIN_LENGTH):0{oid4vci.PIN_LENGTH}d}"
    offer = WalletOffer.objects.create(
        credential=current,
        created_by=user,
        code_hash=_sha256(code),
        pin_hash=_pin_hash(code, pin),
        pin_sent_to=address,
        expires_at=now + PRE_AUTHORIZED_CODE_LIFETIME,
    )
    institution_services.audit(
        institution=current.institution,
        actor=user,
        action="wallet.offer_created",
        credential=str(current.public_id),
        offer=str(offer.public_id),
    )
    context = {
        "credential": current,
        "pin": pin,
        "expires_at": offer.expires_at,
        "institution": current.institution,
    }
    subject = render_to_string("emails/wallet_pin_subject.txt", context).strip()
    message = render_to_string("emails/wallet_pin.txt", context)
    # Sent from here on commit rather than by a task, so the PIN never waits in the broker.
    transaction.on_commit(
        lambda: send_mail(
            subject=subject, message=message, from_email=None, recipient_list=[address]
        )
    )
    uri = oid4vci.offer_uri(
        oid4vci.credential_offer(
            credential_issuer=credential_issuer_id(current.institution), pre_authorized_code=code
        )
    )
    return NewOffer(offer=offer, uri=uri)


# Token endpoint ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int


def token_exchange(
    *, institution: Institution, pre_authorized_code: str, tx_code: str | None
) -> AccessToken:
    """Redeems a pre-authorised code and its PIN for an access token, once. A wrong PIN is
    counted (and kept: the count commits even though the request fails); the fifth kills the
    code. Raises OAuthError invalid_grant or invalid_request."""
    failure: OAuthError | None = None
    with transaction.atomic():
        offer = (
            # Only the offer row is locked: created_by is a nullable (outer) join.
            WalletOffer.objects.select_for_update(of=("self",))
            .select_related("credential__institution", "created_by")
            .filter(code_hash=_sha256(pre_authorized_code), credential__institution=institution)
            .first()
        )
        now = timezone.now()
        if offer is None:
            raise OAuthError("invalid_grant", "The pre-authorized code is not valid.")
        if offer.redeemed_at is not None or offer.blocked_at is not None:
            raise OAuthError("invalid_grant", "The pre-authorized code has been used up.")
        if offer.expires_at <= now:
            raise OAuthError("invalid_grant", "The pre-authorized code has expired.")
        if not tx_code:
            raise OAuthError("invalid_request", "The tx_code (the e-mailed PIN) is required.")
        if not hmac.compare_digest(offer.pin_hash, _pin_hash(pre_authorized_code, tx_code)):
            offer.failed_attempts += 1
            fields = ["failed_attempts"]
            if offer.failed_attempts >= MAX_PIN_ATTEMPTS:
                offer.blocked_at = now
                fields.append("blocked_at")
                institution_services.audit(
                    institution=institution,
                    actor=offer.created_by,
                    action="wallet.offer_blocked",
                    offer=str(offer.public_id),
                    attempts=offer.failed_attempts,
                )
            offer.save(update_fields=fields)
            failure = OAuthError("invalid_grant", "The tx_code is not correct.")
        elif offer.credential.status != CredentialStatus.ISSUED:
            raise OAuthError("invalid_grant", "The credential is no longer valid.")
        else:
            token = secrets.token_urlsafe(32)
            offer.redeemed_at = now
            offer.access_token_hash = _sha256(token)
            offer.access_token_expires_at = now + ACCESS_TOKEN_LIFETIME
            offer.save(
                update_fields=["redeemed_at", "access_token_hash", "access_token_expires_at"]
            )
            institution_services.audit(
                institution=institution,
                actor=offer.created_by,
                action="wallet.code_redeemed",
                offer=str(offer.public_id),
            )
    if failure is not None:
        raise failure
    return AccessToken(token=token, expires_in=int(ACCESS_TOKEN_LIFETIME.total_seconds()))


# Nonces ------------------------------------------------------------------------------------


def nonce_issue(*, institution: Institution) -> tuple[str, int]:
    """A fresh c_nonce and its lifetime in seconds. Stateless (signed and timestamped), so the
    unauthenticated Nonce Endpoint writes nothing; only a used nonce is stored."""
    value = django_signing.TimestampSigner(salt=_NONCE_SALT).sign(
        f"{institution.slug}.{secrets.token_urlsafe(16)}"
    )
    return value, int(NONCE_LIFETIME.total_seconds())


def _nonce_consume(*, institution: Institution, nonce: str) -> None:
    """Raises OAuthError("invalid_nonce") unless the nonce is ours, this issuer's, unexpired and
    unused; then marks it used. Call inside a transaction."""
    # Each refusal says what to do next: the answer carries a fresh c_nonce, and the Nonce
    # Endpoint gives more.
    fetch_another = (
        "Make a new key proof with the c_nonce in this answer, or with one from the Nonce "
        f"Endpoint ({endpoints(institution).nonce}), and send the request again."
    )
    lifetime = int(NONCE_LIFETIME.total_seconds())
    try:
        value = django_signing.TimestampSigner(salt=_NONCE_SALT).unsign(
            nonce, max_age=NONCE_LIFETIME
        )
    except django_signing.SignatureExpired as exc:
        raise OAuthError(
            "invalid_nonce", f"The c_nonce has expired (it lives {lifetime} s). {fetch_another}"
        ) from exc
    except django_signing.BadSignature as exc:
        raise OAuthError(
            "invalid_nonce", f"The c_nonce was not issued here. {fetch_another}"
        ) from exc
    if value.split(".", 1)[0] != institution.slug:
        raise OAuthError(
            "invalid_nonce",
            f"The c_nonce was issued by another credential issuer. {fetch_another}",
        )
    now = timezone.now()
    WalletNonceUse.objects.filter(expires_at__lt=now).delete()
    try:
        with transaction.atomic():
            WalletNonceUse.objects.create(
                nonce_hash=_sha256(nonce), expires_at=now + NONCE_LIFETIME
            )
    except IntegrityError as exc:
        raise OAuthError(
            "invalid_nonce",
            "The c_nonce has been used: a c_nonce is good for one credential request, and each "
            f"format of an offer is a request of its own. {fetch_another}",
        ) from exc


# Credential endpoint -----------------------------------------------------------------------


def offer_for_access_token(*, institution: Institution, access_token: str) -> WalletOffer:
    """The offer an unexpired access token was issued for; raises OAuthError invalid_token."""
    offer = (
        WalletOffer.objects.select_related("credential", "created_by")
        .filter(
            access_token_hash=_sha256(access_token),
            credential__institution=institution,
            access_token_expires_at__gt=timezone.now(),
        )
        .first()
    )
    if offer is None or not access_token:
        raise OAuthError("invalid_token", "The access token is not valid.", status=401)
    return offer


@transaction.atomic
def wallet_credential_issue(
    *, institution: Institution, offer: WalletOffer, request_body: Any, now: int | None = None
) -> dict[str, Any]:
    """Checks the request, its key proof and nonce, then issues the credential bound to the
    proof's key in the format asked for, once per offer and format; returns the Credential
    Response. Raises OAuthError with the error OpenID4VCI names."""
    request = oid4vci.parse_credential_request(request_body)
    try:
        proof = oid4vci.verify_proof(
            request.proof_jwt,
            audience=credential_issuer_id(institution),
            now=int(timezone.now().timestamp()) if now is None else now,
        )
        _nonce_consume(institution=institution, nonce=proof.nonce)
    except OAuthError as exc:
        if exc.wants_fresh_nonce:
            exc.attach_fresh_nonce(*nonce_issue(institution=institution))
        raise
    offer = WalletOffer.objects.select_for_update().get(pk=offer.pk)
    credential = (
        IssuedCredential.objects.select_for_update(of=("self",))
        .select_related("institution", "version__micro_credential__institution")
        .select_related("revocation_list", "suspension_list")
        .get(pk=offer.credential_id)
    )
    if credential.status != CredentialStatus.ISSUED:
        raise OAuthError("credential_request_denied", "The credential is no longer valid.")
    format_ = oid4vci.CONFIGURATIONS[request.configuration_id]
    if offer.credentials.filter(format=format_).exists():
        raise OAuthError(
            "credential_request_denied", "This offer has already delivered that credential."
        )
    if format_ == WalletCredential.Format.LDP_VC:
        issued = _issue_ldp_vc(
            credential=credential, offer=offer, holder_did=proof.did, jwk=proof.jwk
        )
        payload: Any = json.loads(issued.document)
    else:
        issued = _issue_sd_jwt(credential=credential, offer=offer, proof=proof)
        payload = issued.document
    institution_services.audit(
        institution=institution,
        actor=offer.created_by,
        action="wallet.credential_issued",
        credential=str(credential.public_id),
        offer=str(offer.public_id),
        format=format_,
        holder_key=jose.thumbprint(proof.jwk),
    )
    return {"credentials": [{"credential": payload}]}


def _issue_ldp_vc(
    *, credential: IssuedCredential, offer: WalletOffer, holder_did: str, jwk: dict[str, str]
) -> WalletCredential:
    """The stored OB 3.0 credential, its subject now the holder's DID, signed again by the
    institution's active key: same id, same claims, same Bitstring Status List entries."""
    document = documents.signed_document(credential)
    document.pop("proof")
    document["credentialSubject"] = {"id": holder_did, **document["credentialSubject"]}
    key = institution_selectors.active_signing_key(institution=credential.institution)
    signed = signing.sign_document(
        document,
        private_key=key.private_key,
        verification_method=key.verification_method,
        created=signing.format_created(timezone.now()),
        canonicalizer=canonical_templates.canonicalize_fast,
    )
    return WalletCredential.objects.create(
        credential=credential,
        offer=offer,
        format=WalletCredential.Format.LDP_VC,
        holder_jwk=jwk,
        holder_id=holder_did,
        document=json.dumps(signed, ensure_ascii=False, separators=(",", ":")),
    )


def _issue_sd_jwt(
    *, credential: IssuedCredential, offer: WalletOffer, proof: oid4vci.Proof
) -> WalletCredential:
    institution = credential.institution
    row, index = _allocate_token_status(institution)
    key = institution_selectors.active_signing_key(institution=institution)
    claims = sd_jwt_vc.build_claims(
        issuer=documents.issuer(institution),
        specification=documents.specification(credential.version),
        award=documents.award(credential),
        holder_name=credential.holder_name,
        holder_email=credential.holder_email,
        iss=institution.did,
        vct=vct_url(),
        holder_jwk=proof.jwk,
        status=token_status_list.status_claim(uri=row.url, index=index),
        issued_at=timezone.now(),
    )
    document = sd_jwt.issue(
        claims=claims,
        disclosable=sd_jwt_vc.DISCLOSABLE,
        header={"typ": sd_jwt_vc.JWT_TYPE, "kid": key.verification_method},
        private_key=key.private_key,
    )
    return WalletCredential.objects.create(
        credential=credential,
        offer=offer,
        format=WalletCredential.Format.SD_JWT,
        holder_jwk=proof.jwk,
        holder_id="urn:ietf:params:oauth:jwk-thumbprint:sha-256:" + jose.thumbprint(proof.jwk),
        document=document,
        token_status_list=row,
        token_status_index=index,
    )


# Token Status List -------------------------------------------------------------------------


def _publish_token_status(row: TokenStatusList, *, statuses: bytes) -> None:
    """Signs the statuslist+jwt for `statuses` and stores it with a fresh ETag."""
    key = institution_selectors.active_signing_key(institution=row.institution)
    row.statuses = statuses
    row.document = jose.sign_compact(
        {"typ": token_status_list.JWT_TYPE, "kid": key.verification_method},
        token_status_list.status_list_payload(
            uri=row.url, packed=statuses, issued_at=int(timezone.now().timestamp())
        ),
        key.private_key,
    )
    row.etag = hashlib.sha256(row.document.encode()).hexdigest()[:32]


def _allocate_token_status(institution: Institution) -> tuple[TokenStatusList, int]:
    """A random free index in the institution's open list (a new list when it is full);
    never reused. Serialised per institution by locking its row."""
    Institution.objects.select_for_update().filter(pk=institution.pk).first()
    row = (
        TokenStatusList.objects.select_for_update()
        .select_related("institution")
        .filter(institution=institution)
        .order_by("-number")
        .first()
    )
    if row is None or row.allocated_count >= row.size * TOKEN_STATUS_FILL_LIMIT:
        size = token_status_list.MIN_ENTRIES
        row = TokenStatusList(
            institution=institution,
            number=row.number + 1 if row else 1,
            size=size,
            allocated=bytes(size // 8),
        )
        _publish_token_status(row, statuses=token_status_list.empty(size))
        row.save()
    allocated = bytearray(row.allocated)
    while True:
        index = secrets.randbelow(row.size)
        if not allocated[index // 8] & (0x80 >> (index % 8)):
            break
    allocated[index // 8] |= 0x80 >> (index % 8)
    row.allocated = bytes(allocated)
    row.allocated_count += 1
    row.save(update_fields=["allocated", "allocated_count", "updated_at"])
    return row, index


def token_status_sync(*, credential: IssuedCredential, status: str) -> None:
    """Sets every SD-JWT VC issued from `credential` to `status` in its Token Status List and
    re-signs the lists that changed. Idempotent; runs inside the status change's transaction,
    on credentials.hooks.credential_status_changed (connected in credentials.apps)."""
    value = TOKEN_STATUS[CredentialStatus(status)]
    entries: dict[int, list[int]] = {}
    for list_id, index in WalletCredential.objects.filter(
        credential_id=credential.pk, format=WalletCredential.Format.SD_JWT
    ).values_list("token_status_list_id", "token_status_index"):
        if list_id is not None and index is not None:  # always set for an SD-JWT VC
            entries.setdefault(list_id, []).append(index)
    for list_id, indexes in entries.items():
        row = (
            TokenStatusList.objects.select_for_update()
            .select_related("institution")
            .get(pk=list_id)
        )
        statuses = bytes(row.statuses)
        for index in indexes:
            statuses = token_status_list.set_status(statuses, index, value)
        if statuses != bytes(row.statuses):
            _publish_token_status(row, statuses=statuses)
            row.save(update_fields=["statuses", "document", "etag", "updated_at"])


# Reads ---------------------------------------------------------------------------------------


def institution_for_issuer(*, slug: str) -> Institution | None:
    """The institution a credential issuer URL names, or None."""
    return Institution.objects.filter(slug=slug).first()


def open_offer_for_holder(
    *, user: User, credential: IssuedCredential, offer_id: Any
) -> WalletOffer | None:
    """The holder's own offer of their credential while its code can still be redeemed."""
    return WalletOffer.objects.filter(
        public_id=offer_id,
        credential=credential,
        created_by=user,
        redeemed_at__isnull=True,
        blocked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).first()


def token_status_list_for(*, slug: str, number: int) -> TokenStatusList | None:
    return (
        TokenStatusList.objects.select_related("institution")
        .filter(institution__slug=slug, number=number)
        .first()
    )


def type_metadata() -> Mapping[str, Any]:
    return sd_jwt_vc.type_metadata(vct=vct_url())
