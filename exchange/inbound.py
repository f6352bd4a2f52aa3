"""The receiving side of the exchange: signed_endpoint checks who signed a request, refuses
what the protocol refuses, and signs every answer with the receiving institution's key.

Views mounted at /exchange/v1/<slug>/<name> are wrapped with @signed_endpoint() and find the
sender in request.exchange. Refusals are RFC 9457 problems whose `reason` names the check
(docs/exchange.md).
"""

import functools
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from http_message_signatures import HTTPMessageSignaturesException

from credentials.issuing import verifier
from credentials.standards.did_resolution import (
    ResolutionError,
    find_verification_method,
    public_key_of,
)
from credentials.standards.multiformats import MultiformatError, decode_ed25519_public_key
from exchange import http_signatures as hs
from exchange.models import Partner, PartnerStatus, SeenNonce
from institutions import services as institution_services
from institutions.models import Institution
from institutions.selectors import active_signing_key
from meshe import rate_limits

PROBLEM_CONTENT_TYPE: Final = "application/problem+json"
PROBLEM_TYPE_PREFIX: Final = "urn:meshe:exchange:problem:"

View = Callable[..., HttpResponseBase]


@dataclass(frozen=True, slots=True)
class Inbound:
    """Who sent an accepted request: what a signed endpoint's view finds in request.exchange.

    sender_keys are the authentication keys of the sender's DID document when it was resolved
    for this request (an unknown sender or a rotation), ready to pin; otherwise empty.
    """

    institution: Institution
    partner: Partner | None
    sender_did: str
    key_id: str
    sender_keys: list[dict[str, str]] = field(default_factory=list)


class ExchangeRequest(HttpRequest):
    """The request a signed endpoint's view receives; only for type annotations."""

    exchange: Inbound


def problem(
    request: HttpRequest | None,
    *,
    status: int,
    reason: str,
    title: str,
    detail: str,
    extensions: Mapping[str, Any] | None = None,
) -> JsonResponse:
    """An RFC 9457 problem answer, with `extensions` as extra members; signed endpoints sign it
    like any other answer."""
    body: dict[str, Any] = {
        **(extensions or {}),
        "type": PROBLEM_TYPE_PREFIX + reason,
        "title": title,
        "status": status,
        "detail": detail,
        "reason": reason,
    }
    if request is not None:
        body["instance"] = request.get_full_path()
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)


def too_many_requests(request: HttpRequest, retry_after: int) -> JsonResponse:
    """The 429 problem of an exchange endpoint; senders retry after Retry-After seconds."""
    response = problem(
        request,
        status=429,
        reason="rate-limited",
        title=_("Too many requests"),
        detail=rate_limits.retry_message(retry_after),
    )
    response["Retry-After"] = str(retry_after)
    return response


def signed_endpoint(*, allow_unknown_sender: bool = False) -> Callable[[View], View]:
    """Wrap an exchange view: verify the request's signature and the partnership, then sign
    the view's answer. allow_unknown_sender (partnership requests only) lets an institution
    without a confirmed partnership, or without a Partner row at all, through."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            # Checking a signature may resolve a DID over the network: count before that.
            by_address = rate_limits.hit("exchange_ip", rate_limits.client_ip(request))
            if not by_address.allowed:
                return too_many_requests(request, by_address.retry_after)
            institution = Institution.objects.filter(slug=kwargs["slug"]).first()
            if institution is None:
                return problem(
                    request,
                    status=404,
                    reason="unknown-institution",
                    title=_("Unknown institution"),
                    detail=_("No institution of this node has this address."),
                )
            try:
                body = request.body
            except RequestDataTooBig:
                # Unsigned: without the body there is no request signature to bind an answer to.
                return problem(
                    request,
                    status=413,
                    reason="too-large",
                    title=_("The request is too large"),
                    detail=_("The body is larger than %(size)s KiB.")
                    % {"size": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024},
                )
            message = hs.Message(
                method=request.method or "GET",
                # The public address, not what a TLS-terminating proxy forwarded to us.
                target_uri=settings.MESHE_BASE_URL + request.get_full_path(),
                headers=dict(request.headers),
                body=body,
            )
            response = _receive(
                request, view, args, kwargs, message=message, institution=institution,
                allow_unknown_sender=allow_unknown_sender,
            )  # fmt: skip
            return _sign_answer(response, request=message, institution=institution)

        return csrf_exempt(wrapper)

    return decorate


def _receive(
    request: HttpRequest,
    view: View,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    message: hs.Message,
    institution: Institution,
    allow_unknown_sender: bool,
) -> HttpResponseBase:
    sender = _Sender(receiver=institution, allow_unknown_sender=allow_unknown_sender)
    verification = hs.verify_request(
        message,
        public_key_for=sender.public_key_for,
        now=int(time.time()),
        # A request refused for the partnership leaves no trace, not even its nonce.
        seen_nonce=lambda key_id, nonce: sender.refusal is None and _nonce_seen(key_id, nonce),
    )
    if not verification.ok:
        assert verification.failure is not None  # a refusal always names its check
        return problem(
            request,
            status=401,
            reason=verification.failure,
            title=_("The request is not signed as the exchange protocol requires"),
            detail=verification.detail,
        )
    if sender.refusal is not None:
        reason, detail = sender.refusal
        return problem(
            request,
            status=403,
            reason=reason,
            title=_("No agreed partnership with the sender"),
            detail=detail,
        )
    by_partner = rate_limits.hit("exchange", sender.did)
    if not by_partner.allowed:
        return too_many_requests(request, by_partner.retry_after)
    sender.accepted()
    exchange_request = cast(ExchangeRequest, request)
    exchange_request.exchange = Inbound(
        institution=institution,
        partner=sender.partner,
        sender_did=sender.did,
        key_id=verification.key_id,
        sender_keys=sender.document_keys,
    )
    return view(exchange_request, *args, **kwargs)


def _sign_answer(
    response: HttpResponseBase, *, request: hs.Message, institution: Institution
) -> HttpResponseBase:
    """The answer with the institution's signature bound to the request's; unsigned when the
    request carried no usable sig1 signature to bind it to."""
    if not isinstance(response, HttpResponse):
        raise TypeError("signed endpoints answer with a whole HttpResponse, not a stream")
    key = active_signing_key(institution=institution)
    try:
        added = hs.sign_response(
            hs.Response(
                status=response.status_code, headers=dict(response.headers), body=response.content
            ),
            request=request,
            private_key=key.private_key,
            key_id=key.verification_method,
            created=int(time.time()),
            nonce=secrets.token_urlsafe(16),
        )
    except HTTPMessageSignaturesException:
        return response
    for name, value in added.items():
        response[name] = value
    return response


class _Sender:
    """Finds the key of a request's keyid for one receiving institution, and remembers what
    it learnt (the partner, keys to pin, a refusal) for after the signature is checked."""

    def __init__(self, *, receiver: Institution, allow_unknown_sender: bool) -> None:
        self.receiver = receiver
        self.allow_unknown_sender = allow_unknown_sender
        self.partner: Partner | None = None
        self.did = ""
        self.document_keys: list[dict[str, str]] = []
        self.document_resolved = False
        self.key_to_pin: dict[str, str] | None = None
        self.refusal: tuple[str, str] | None = None

    def public_key_for(self, key_id: str) -> Ed25519PublicKey | None:
        self.did = key_id.partition("#")[0]
        self.partner = Partner.objects.filter(institution=self.receiver, did=self.did).first()
        if self.partner is not None:
            self.partner.institution = self.receiver  # the same row: no query to read it again
        if self.partner is None:
            if not self.allow_unknown_sender:
                return None
            return self._from_document(key_id)
        self.refusal = self._partnership_refusal(self.partner)
        pinned = _pinned_key(self.partner.pinned_keys, key_id)
        if pinned is not None:
            return pinned
        # Not pinned: a rotation shows in the partner's DID document; anything else is alarming.
        public_key = self._from_document(key_id)
        if public_key is not None:
            self.key_to_pin = next(k for k in self.document_keys if k["id"] == key_id)
        elif self.document_resolved:
            # Only a document that was read can show the key is not the partner's.
            _raise_key_alert(partner=self.partner, key_id=key_id)
        return public_key

    def _from_document(self, key_id: str) -> Ed25519PublicKey | None:
        """The key if the sender's DID document lists it for authentication; None otherwise."""
        try:
            # Fresh, not cached: a partner's rotated key must be seen at once.
            document = verifier.did_resolver(fresh=True).resolve(self.did)
        except ResolutionError:
            return None
        self.document_resolved = True
        self.document_keys = authentication_keys(document)
        entry = next((k for k in self.document_keys if k["id"] == key_id), None)
        return None if entry is None else decode_ed25519_public_key(entry["publicKeyMultibase"])

    def _partnership_refusal(self, partner: Partner) -> tuple[str, str] | None:
        if self.allow_unknown_sender or partner.status == PartnerStatus.CONFIRMED:
            return None
        if partner.status == PartnerStatus.SUSPENDED:
            return "partnership-suspended", _("The partnership with the sender is suspended.")
        return "not-a-partner", _("The sender is not an agreed partner of this institution.")

    def accepted(self) -> None:
        """Record what an accepted request taught us: a rotated key, and the partner's health."""
        if self.partner is None:
            return
        if self.key_to_pin is not None:
            partner_key_pin(partner=self.partner, key=self.key_to_pin)
        now = timezone.now()
        if self.partner.success_due(now):
            Partner.objects.filter(pk=self.partner.pk).update(last_success_at=now)


def _pinned_key(pinned_keys: Any, key_id: str) -> Ed25519PublicKey | None:
    for entry in pinned_keys if isinstance(pinned_keys, list) else []:
        if isinstance(entry, Mapping) and entry.get("id") == key_id:
            try:
                return decode_ed25519_public_key(str(entry.get("publicKeyMultibase")))
            except (MultiformatError, ValueError):
                return None
    return None


def _raise_key_alert(*, partner: Partner, key_id: str) -> None:
    # The one write a refused request may cause: the receiving admins must see it.
    alert = _(
        "A message was signed with %(key_id)s, which the partner's DID document does not list."
    ) % {"key_id": key_id}
    Partner.objects.filter(pk=partner.pk).update(key_alert=alert, key_alert_at=timezone.now())


def _nonce_seen(key_id: str, nonce: str) -> bool:
    try:
        with transaction.atomic():
            SeenNonce.objects.create(key_id=key_id, nonce=nonce)
    except IntegrityError:
        return True
    return False


def authentication_keys(document: Mapping[str, Any]) -> list[dict[str, str]]:
    """The Ed25519 keys a DID document lists under authentication (those that may sign
    requests), as Partner.pinned_keys holds them; unusable entries are left out."""
    did = document.get("id")
    references = document.get("authentication")
    keys: list[dict[str, str]] = []
    for reference in references if isinstance(references, list) else []:
        method_id = reference.get("id") if isinstance(reference, Mapping) else reference
        if not isinstance(method_id, str) or not isinstance(did, str):
            continue
        if method_id.startswith("#"):
            method_id = did + method_id
        try:
            method = find_verification_method(document, method_id)
            public_key_of(method)
        except ResolutionError:
            continue
        if method.get("controller") == did:
            keys.append({"id": method_id, "publicKeyMultibase": method["publicKeyMultibase"]})
    return keys


@transaction.atomic
def partner_key_pin(*, partner: Partner, key: Mapping[str, str]) -> None:
    """Pins a key found in the partner's DID document and audits it; idempotent."""
    locked = Partner.objects.select_for_update().get(pk=partner.pk)
    entry = {"id": key["id"], "publicKeyMultibase": key["publicKeyMultibase"]}
    if entry in locked.pinned_keys:
        return
    locked.pinned_keys = [
        k for k in locked.pinned_keys if not (isinstance(k, Mapping) and k.get("id") == key["id"])
    ] + [entry]
    locked.save(update_fields=["pinned_keys"])
    partner.pinned_keys = locked.pinned_keys
    institution_services.audit(
        institution=locked.institution,
        actor=None,
        action="partner.key_pinned",
        partner=str(locked.public_id),
        did=locked.did,
        key_id=entry["id"],
        public_key=entry["publicKeyMultibase"],
    )


def seen_nonces_forget(*, older_than: timedelta) -> int:
    """Deletes nonces seen longer ago than older_than (keep at least the signature window,
    twice the allowed clock skew); returns how many. Idempotent."""
    cutoff = timezone.now() - older_than
    deleted, _by_model = SeenNonce.objects.filter(seen_at__lt=cutoff).delete()
    return deleted


def partner_keys_refresh(*, partner: Partner) -> list[dict[str, str]]:
    """Pins the keys the partner's DID document now lists for authentication and returns the
    pinned keys: how a sender sees the partner's key rotation in a signed answer."""
    try:
        document = verifier.did_resolver(fresh=True).resolve(partner.did)
    except ResolutionError:
        return list(partner.pinned_keys)
    for key in authentication_keys(document):
        partner_key_pin(partner=partner, key=key)
    return list(partner.pinned_keys)
