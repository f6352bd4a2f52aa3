from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.http import AuthenticatedHttpRequest
from exchange import catalogue_sync, discovery, forms, selectors, services
from exchange import messages as protocol
from exchange.exceptions import ExchangeError
from exchange.inbound import ExchangeRequest, problem, signed_endpoint
from exchange.manifest import build_manifest
from exchange.models import Partner
from institutions import selectors as institution_selectors
from institutions.decorators import staff_required
from institutions.models import Institution


@require_safe
def node_manifest(request: HttpRequest) -> JsonResponse:
    """The public node manifest: protocol version, institutions hosted and exchange endpoints."""
    manifest = build_manifest(
        base_url=selectors.node_base_url(), institutions=selectors.hosted_institutions()
    )
    response = JsonResponse(manifest)
    response["Access-Control-Allow-Origin"] = "*"
    return response


# Staff: partners ---------------------------------------------------------------------------


@staff_required
def partner_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(user=request.user, slug=slug)
    return render(
        request,
        "exchange/partner_list.html",
        {
            "membership": viewer,
            "institution": viewer.institution,
            "partners": selectors.partners_for_staff(viewer=viewer),
            "form": forms.NodeForm(),
            "elm_partner_url": reverse("exchange:elm_partner_add", kwargs={"slug": slug}),
        },
    )


@staff_required
def partner_discover(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Shows what a node says about its institutions and their keys; POST asks one of them."""
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.MANAGE_STAFF
    )
    if request.method == "POST":
        form = forms.PartnershipRequestForm(request.POST)
        if form.is_valid():
            try:
                partner = _request_partnership(request, viewer.institution, form.cleaned_data)
            except ExchangeError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    _(
                        "Partnership request sent to %(name)s. Their administrators will find "
                        "it in their list of partners, to accept or decline."
                    )
                    % {"name": partner.name},
                )
                return redirect("exchange:partner", slug=slug, public_id=partner.public_id)
        node_form = forms.NodeForm({"node": request.POST.get("node", "")})
    else:
        node_form = forms.NodeForm(request.GET)
    found: list[
        tuple[
            discovery.RemoteInstitution,
            tuple[discovery.RemoteKey, ...],
            str,
            forms.PartnershipRequestForm | None,
        ]
    ] = []
    problem_text = ""
    if node_form.is_valid():
        try:
            node = discovery.node_discover(node_url=node_form.cleaned_data["node"])
            for remote in node.institutions:
                try:
                    keys = discovery.did_keys(did=remote.did)
                except ExchangeError as exc:
                    found.append((remote, (), exc.message, None))
                    continue
                fingerprints = ",".join(key.fingerprint for key in keys)
                request_form = forms.PartnershipRequestForm(
                    initial={"node": node.url, "did": remote.did, "fingerprints": fingerprints}
                )
                found.append((remote, keys, "", request_form))
        except ExchangeError as exc:
            problem_text = exc.message
    return render(
        request,
        "exchange/partner_discover.html",
        {
            "membership": viewer,
            "institution": viewer.institution,
            "form": node_form,
            "found": found,
            "problem": problem_text,
        },
    )


def _request_partnership(
    request: AuthenticatedHttpRequest, institution: Institution, data: dict[str, str]
) -> Partner:
    # The node is read again here, not trusted from the form; the keys must be those shown.
    node = discovery.node_discover(node_url=data["node"])
    remote = node.institution(data["did"])
    keys = discovery.did_keys(did=remote.did)
    if ",".join(key.fingerprint for key in keys) != data["fingerprints"]:
        raise ExchangeError(
            _("The institution's keys changed since they were shown. Check them again.")
        )
    return services.partnership_request(
        institution=institution,
        actor=request.user,
        remote=remote,
        keys=keys,
        note=data["note"],
    )


@staff_required
def partner_detail(request: AuthenticatedHttpRequest, slug: str, public_id: UUID) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(user=request.user, slug=slug)
    partner = selectors.partner_for_staff(viewer=viewer, public_id=public_id)
    return render(
        request,
        "exchange/partner_detail.html",
        {
            "membership": viewer,
            "institution": viewer.institution,
            "partner": partner,
            "keys": selectors.pinned_keys_with_fingerprints(partner=partner),
            "elm_feed": partner.endpoints.get(catalogue_sync.ELM_CATALOGUE, ""),
            "can_manage": viewer.role in institution_selectors.MANAGE_STAFF,
        },
    )


@require_POST
@staff_required
def partner_change(
    request: AuthenticatedHttpRequest, slug: str, public_id: UUID, action: str
) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.MANAGE_STAFF
    )
    partner = selectors.partner_for_staff(viewer=viewer, public_id=public_id)
    try:
        partner = services.partnership_change(partner=partner, actor=request.user, action=action)
    except ExchangeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("The partnership with %(name)s is now: %(status)s.")
            % {"name": partner.name, "status": partner.get_status_display().lower()},
        )
    return redirect("exchange:partner", slug=slug, public_id=partner.public_id)


@require_POST
@staff_required
def partner_check(request: AuthenticatedHttpRequest, slug: str, public_id: UUID) -> HttpResponse:
    """Sends a signed echo and reports whether a signed answer came back, and how fast."""
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.ISSUE
    )
    partner = selectors.partner_for_staff(viewer=viewer, public_id=public_id)
    try:
        latency = services.partner_echo(partner=partner)
    except ExchangeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(name)s answered with a valid signature in %(ms)s ms.")
            % {"name": partner.name, "ms": latency},
        )
    return redirect("exchange:partner", slug=slug, public_id=partner.public_id)


# Protocol endpoints (signed both ways) ------------------------------------------------------


@require_POST
@signed_endpoint(allow_unknown_sender=True)
def partnership_receive(request: ExchangeRequest, slug: str) -> HttpResponse:
    inbound = request.exchange
    institution, partner = inbound.institution, inbound.partner
    try:
        message = protocol.partnership_message(
            request.body, sender_did=inbound.sender_did, receiver_did=institution.did
        )
    except protocol.InvalidMessage as exc:
        return problem(
            request, status=400, reason="invalid-message", title="Invalid message", detail=str(exc)
        )
    if partner is None and message["type"] != "request":
        return problem(
            request,
            status=403,
            reason="not-a-partner",
            title="Not a partner",
            detail="Only a partnership request may come from an institution that is not a partner.",
        )
    remote: discovery.RemoteInstitution | None = None
    keys: tuple[discovery.RemoteKey, ...] = ()
    if partner is None or partner.status in (services.S.DECLINED, services.S.ENDED):
        # A new request: where to answer comes from the sender's own node, the keys from its
        # DID document, as the signature check resolved it.
        try:
            node = discovery.node_discover(node_url=message["from"]["node"])
            remote = node.institution(inbound.sender_did)
        except ExchangeError as exc:
            return problem(
                request,
                status=400,
                reason="invalid-message",
                title="Node unreadable",
                detail=exc.message,
            )
        keys = tuple(
            discovery.RemoteKey(id=key["id"], public_key_multibase=key["publicKeyMultibase"])
            for key in inbound.sender_keys or (partner.pinned_keys if partner else [])
        )
    try:
        partner = services.partnership_message_receive(
            institution=institution, partner=partner, message=message, remote=remote, keys=keys
        )
    except services.UnexpectedMessage as exc:
        return problem(
            request,
            status=409,
            reason="unexpected-message",
            title="Unexpected message",
            detail=exc.message,
        )
    return JsonResponse({"status": partner.status}, status=202)


@require_POST
@signed_endpoint()
def echo_receive(request: ExchangeRequest, slug: str) -> HttpResponse:
    """Answers a partner's health check with what it sent, signed."""
    try:
        message = protocol.json_object(request.body)
    except protocol.InvalidMessage as exc:
        return problem(
            request, status=400, reason="invalid-message", title="Invalid message", detail=str(exc)
        )
    return JsonResponse(
        {"echo": message.get("ping"), "institution": request.exchange.institution.did}
    )
