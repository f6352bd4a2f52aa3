"""OpenID4VCI endpoints (for wallets: JSON, OAuth errors) and the holder's "add to a wallet" pages."""

from functools import wraps
from typing import Any, Protocol
from uuid import UUID

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedHttpRequest
from credentials.exceptions import CredentialError
from credentials.issuing import selectors
from credentials.standards import oid4vci, strict_json
from credentials.wallet import issuance as wallet_issuance
from institutions.models import Institution

# Where the offer link waits for its holder between the POST and the page that shows it.
_SESSION_KEY = "wallet_offer:{}"


def _json(data: Any, *, status: int = 200, cache: str = "no-store") -> JsonResponse:
    response = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = cache
    return response


def _error(exc: oid4vci.OAuthError) -> JsonResponse:
    response = _json(exc.as_json(), status=exc.status)
    if exc.status == 401:
        response["WWW-Authenticate"] = f'Bearer error="{exc.error}"'
    return response


def _issuer(slug: str) -> Institution:
    institution = wallet_issuance.institution_for_issuer(slug=slug)
    if institution is None:
        raise Http404
    return institution


class _IssuerView(Protocol):
    def __call__(self, request: HttpRequest, institution: Institution) -> HttpResponse: ...


def _protocol_endpoint(view: _IssuerView) -> Any:
    """A POST endpoint for wallets: no CSRF (no cookies are used), the institution resolved from
    the slug, and an OAuthError turned into its JSON error response, as is a body over Django's
    upload caps (DATA_UPLOAD_MAX_MEMORY_SIZE, DATA_UPLOAD_MAX_NUMBER_FIELDS), which would
    otherwise get the HTML 400 page."""

    @csrf_exempt
    @require_POST
    @wraps(view)
    def wrapper(request: HttpRequest, slug: str) -> HttpResponse:
        try:
            return view(request, _issuer(slug))
        except oid4vci.OAuthError as exc:
            return _error(exc)
        except RequestDataTooBig:
            return _error(oid4vci.OAuthError("invalid_request", "The request body is too large."))
        except (TooManyFieldsSent, TooManyFilesSent):
            return _error(oid4vci.OAuthError("invalid_request", "The request has too many fields."))

    return wrapper


# Discovery ---------------------------------------------------------------------------------


@require_GET
def issuer_metadata(request: HttpRequest, slug: str) -> HttpResponse:
    institution = _issuer(slug)
    logo = request.build_absolute_uri(institution.logo.url) if institution.logo else None
    data = oid4vci.issuer_metadata(
        endpoints=wallet_issuance.endpoints(institution), name=institution.name, logo_url=logo
    )
    return _json(data, cache="public, max-age=300")


@require_GET
def authorization_server_metadata(request: HttpRequest, slug: str) -> HttpResponse:
    data = oid4vci.authorization_server_metadata(endpoints=wallet_issuance.endpoints(_issuer(slug)))
    return _json(data, cache="public, max-age=300")


@require_GET
def well_known_not_served(request: HttpRequest, slug: str, name: str) -> HttpResponse:
    """A JSON 404 for the other well-known documents wallets probe under an issuer (such as
    openid-configuration: the issuer is no OpenID provider); some clients parse every answer
    as JSON, and the HTML page would stop them before they try the next one."""
    return _json(
        {"error": "not_found", "error_description": f"No .well-known/{name} is served here."},
        status=404,
        cache="public, max-age=300",
    )


@require_GET
def type_metadata(request: HttpRequest) -> HttpResponse:
    return _json(dict(wallet_issuance.type_metadata()), cache="public, max-age=3600")


@require_GET
def token_status_list(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    row = wallet_issuance.token_status_list_for(slug=slug, number=number)
    if row is None:
        raise Http404
    if request.headers.get("If-None-Match") == f'"{row.etag}"':
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(row.document, content_type="application/statuslist+jwt")
    response["ETag"] = f'"{row.etag}"'
    response["Cache-Control"] = "public, max-age=300"
    return response


# The protocol ------------------------------------------------------------------------------


@_protocol_endpoint
def token(request: HttpRequest, institution: Institution) -> HttpResponse:
    grant_type = request.POST.get("grant_type")
    if grant_type != oid4vci.PRE_AUTHORIZED_CODE_GRANT:
        raise oid4vci.OAuthError(
            "unsupported_grant_type", "Only the pre-authorized code grant is offered."
        )
    code = request.POST.get("pre-authorized_code")
    if not code:
        raise oid4vci.OAuthError("invalid_request", "pre-authorized_code is required.")
    granted = wallet_issuance.token_exchange(
        institution=institution, pre_authorized_code=code, tx_code=request.POST.get("tx_code")
    )
    return _json(
        {
            "access_token": granted.token,
            "token_type": "Bearer",
            "expires_in": granted.expires_in,
        }
    )


@_protocol_endpoint
def nonce(request: HttpRequest, institution: Institution) -> HttpResponse:
    value, lifetime = wallet_issuance.nonce_issue(institution=institution)
    return _json({"c_nonce": value, "c_nonce_expires_in": lifetime})


@_protocol_endpoint
def credential(request: HttpRequest, institution: Institution) -> HttpResponse:
    scheme, _space, access_token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not access_token.strip():
        raise oid4vci.OAuthError("invalid_token", "A Bearer access token is required.", status=401)
    offer = wallet_issuance.offer_for_access_token(
        institution=institution, access_token=access_token.strip()
    )
    try:
        body = strict_json.loads(request.body)
    except strict_json.JsonRefused as exc:
        raise oid4vci.OAuthError("invalid_credential_request", "The body must be JSON.") from exc
    response = wallet_issuance.wallet_credential_issue(
        institution=institution, offer=offer, request_body=body
    )
    return _json(response)


# The holder's pages --------------------------------------------------------------------------


@require_POST
@login_required
def offer_create(request: AuthenticatedHttpRequest, public_id: UUID) -> HttpResponse:
    held = selectors.held_credential(user=request.user, public_id=public_id)
    try:
        new = wallet_issuance.wallet_offer_create(user=request.user, credential=held)
    except CredentialError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("learners:credential", args=[public_id]) + "#add-to-wallet")
    request.session[_SESSION_KEY.format(new.offer.public_id)] = new.uri
    messages.success(
        request,
        _("We e-mailed a PIN to %(email)s. Your wallet will ask for it.")
        % {"email": new.offer.pin_sent_to},
    )
    return redirect("wallet_issuance:offer", public_id=public_id, offer_id=new.offer.public_id)


@require_GET
@login_required
def offer(request: AuthenticatedHttpRequest, public_id: UUID, offer_id: UUID) -> HttpResponse:
    held = selectors.held_credential(user=request.user, public_id=public_id)
    current = wallet_issuance.open_offer_for_holder(
        user=request.user, credential=held, offer_id=offer_id
    )
    uri = request.session.get(_SESSION_KEY.format(offer_id))
    if current is None or uri is None:
        messages.info(request, _("That offer is no longer open. Make a new one."))
        return redirect(reverse("learners:credential", args=[public_id]) + "#add-to-wallet")
    # Low error correction: the offer is long, and a screen does not get scratched.
    qr = segno.make(uri, error="l")
    return render(
        request,
        "credentials/wallet_offer.html",
        {
            "credential": held,
            "offer": current,
            "offer_uri": uri,
            "qr_svg": qr.svg_data_uri(scale=4, border=2, dark="#000", light="#fff"),
        },
    )
