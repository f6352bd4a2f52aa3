from urllib.parse import urlencode
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedHttpRequest
from accounts.models import User
from credentials import documents, hooks
from credentials.catalogue import explanations, pathway_selectors
from credentials.issuing import selectors as credential_selectors
from credentials.issuing import verifier
from credentials.models import CredentialStatus, IssuedCredential
from learners import forms, linkedin, selectors, services
from learners.exceptions import AlreadyInWallet, ClaimError, WalletError
from learners.models import ShareLink
from meshe import rate_limits


@require_GET
@login_required
def wallet(request: AuthenticatedHttpRequest) -> HttpResponse:
    everything = selectors.wallet(user=request.user)
    form = forms.WalletFilterForm(request.GET or None, institutions=everything.institutions)
    return render(
        request,
        "learners/wallet.html",
        {
            "wallet": everything.view(**form.filters(), page=request.GET.get("page")),
            "form": form,
            "pathways": pathway_selectors.pathways_for_learner(user=request.user),
        },
    )


# What the sign-in and sign-up pages reached from a claim link say (learners.templatetags).
CLAIM_SESSION_KEY = "claim_pending"


@rate_limits.limited("claim", key=rate_limits.user_or_ip)
def claim(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mailed link: it names the credential and its institution, asks to sign in (or up)
    first, then the credential joins the wallet. A used link says so, and only to the learner
    who used it where the credential is."""
    link = selectors.claim_link(token=token)
    if link.state == selectors.ClaimState.OPEN and not request.user.is_authenticated:
        request.session[CLAIM_SESSION_KEY] = {
            "path": request.path,
            "title": link.title,
            "institution": link.institution,
        }
        return redirect(reverse("account_login") + "?" + urlencode({"next": request.path}))
    if request.method != "POST" or link.state != selectors.ClaimState.OPEN:
        in_wallet = (
            selectors.wallet_credential_url(link.credential.public_id)
            if link.credential is not None and link.claimed_by(request.user)
            else None
        )
        return render(request, "learners/claim.html", {"link": link, "in_wallet": in_wallet})
    assert isinstance(request.user, User)  # authenticated, above
    try:
        credential = services.credential_claim(token=token, user=request.user)
    except ClaimError as exc:
        messages.error(request, exc.message)
        return redirect("learners:wallet")
    request.session.pop(CLAIM_SESSION_KEY, None)
    messages.success(
        request, _("%(title)s is in your wallet.") % {"title": credential.version.localized_title}
    )
    return redirect("learners:wallet")


# One credential and its share links -----------------------------------------------------------


def _linkedin_url(credential: IssuedCredential, address: str) -> str:
    """LinkedIn's "Add to profile" form for the credential, pointing at `address`."""
    return linkedin.add_to_profile_url(
        name=credential.version.title,
        organisation=credential.institution.name,
        issued=timezone.localdate(credential.issued_at),
        cert_url=address,
        cert_id=credential.credential_id,
    )


@login_required
def credential_detail(request: AuthenticatedHttpRequest, public_id: UUID) -> HttpResponse:
    credential = selectors.wallet_credential(user=request.user, public_id=public_id)
    share_form = forms.ShareLinkForm(request.POST or None)
    if request.method == "POST" and share_form.is_valid():
        try:
            link = services.share_link_create(
                user=request.user,
                credential=credential,
                label=share_form.cleaned_data["label"],
                expires_at=share_form.expires_at(),
            )
        except WalletError as exc:
            share_form.add_error(None, exc.message)
        else:
            messages.success(request, _("New link: %(url)s") % {"url": link.url})
            return redirect(reverse("learners:credential", args=[public_id]) + "#sharing")
    snapshot = credential.version.snapshot
    now = timezone.now()
    links = list(selectors.share_links(user=request.user, credential=credential))
    for link in links:
        link.credential = credential  # already loaded
    share_address = selectors.address_to_share(credential=credential, links=links, now=now)
    return render(
        request,
        "learners/credential.html",
        {
            "credential": credential,
            "own_address": settings.MESHE_BASE_URL + credential.get_absolute_url(),
            "share_address": share_address,
            "share_linkedin": _linkedin_url(credential, share_address) if share_address else "",
            "recognition_possible": selectors.recognition_possible(credential=credential),
            "status": selectors.issued_status(credential, now=now),
            "status_reason": credential_selectors.status_reason(credential=credential),
            "deliveries": hooks.deliveries_of_credential(credential=credential),
            "verification": verifier.labelled(verifier.verify(credential.document)),
            "elements": explanations.standard_elements(
                snapshot=snapshot,
                holder_name=credential.holder_name,
                awarding_body=credential.institution.name,
                country_code=credential.institution.country,
                issued_at=credential.issued_at,
            ),
            "optional_elements": explanations.optional_elements(
                snapshot=snapshot,
                grade=credential.grade,
                valid_until=credential.valid_until,
                awarded_date=credential.awarded_date,
            ),
            "links": [(link, _linkedin_url(credential, link.url)) for link in links],
            "share_form": share_form,
        },
        status=400 if share_form.errors else 200,
    )


@require_POST
@login_required
def credential_page_visibility(request: AuthenticatedHttpRequest, public_id: UUID) -> HttpResponse:
    credential = selectors.wallet_credential(user=request.user, public_id=public_id)
    public = request.POST.get("public") == "yes"
    services.credential_page_set_public(user=request.user, credential=credential, public=public)
    if public:
        messages.success(request, _("Anyone with its address or QR code can see it again."))
    else:
        messages.success(
            request,
            _("Its own address and QR code no longer show it. Your share links still work."),
        )
    return redirect(reverse("learners:credential", args=[public_id]) + "#sharing")


@login_required
def share_link_revoke(request: AuthenticatedHttpRequest, public_id: UUID) -> HttpResponse:
    """A page that names the link and asks first; only its confirmed form revokes it."""
    link = selectors.share_link_for_owner(user=request.user, public_id=public_id)
    sharing = reverse("learners:credential", args=[link.credential.public_id]) + "#sharing"
    if request.method == "POST":
        services.share_link_revoke(user=request.user, link=link)
        messages.success(request, _("The link no longer works."))
        return redirect(sharing)
    if not link.is_active():
        messages.info(request, _("That link already no longer works."))
        return redirect(sharing)
    return render(request, "learners/share_link_revoke.html", {"link": link, "back": sharing})


def _open_graph(
    link: ShareLink, notice: credential_selectors.StatusNotice | None
) -> dict[str, str]:
    """What link previews show. A revoked or suspended credential says so first, in the words
    of its page's banner: a preview must not read as a valid credential."""
    credential = link.credential
    title = _("%(title)s — %(institution)s") % {
        "title": credential.version.title,
        "institution": credential.institution.name,
    }
    description = _(
        "A micro-credential awarded to %(name)s by %(institution)s. "
        "Signed, and checked live against the institution's records."
    ) % {"name": credential.holder_name, "institution": credential.institution.name}
    if notice is not None:
        since = {"date": date_format(notice.since_date, "DATE_FORMAT")}
        if notice.status == CredentialStatus.REVOKED:
            word = _("REVOKED")
            status = _("Revoked by the issuer on %(date)s. This credential is no longer valid.")
        else:
            word = _("SUSPENDED")
            status = _(
                "Suspended by the issuer on %(date)s. This credential is not valid while it is "
                "suspended."
            )
        title = f"{word} — {title}"
        description = f"{status % since} {description}"
    return {
        "title": title,
        "description": description,
        "url": link.url,
        "image": settings.MESHE_BASE_URL + static("img/share-card.png"),
    }


@require_GET
def shared(request: HttpRequest, slug: str) -> HttpResponse:
    """The public page behind a share link, or the signed document for JSON-LD clients."""
    link = selectors.shared_link(slug=slug)
    services.share_link_record_view(link=link)
    credential = link.credential
    if documents.JSON_LD in request.headers.get("Accept", ""):
        response = HttpResponse(credential.document, content_type=documents.JSON_LD)
        response["Access-Control-Allow-Origin"] = "*"
    else:
        response = render(
            request,
            "learners/shared.html",
            {
                "credential": credential,
                "document": documents.signed_document(credential),
                "verification": verifier.labelled(verifier.verify(credential.document)),
                # The date only: the reason is for the learner and staff, not whoever has the link.
                "status_notice": (
                    notice := credential_selectors.status_notice(credential=credential)
                ),
                "og": _open_graph(link, notice),
            },
        )
    # Revocation must take effect at once: no shared cache may keep the page.
    response["Cache-Control"] = "private, no-store"
    response["Vary"] = "Accept"
    response["X-Robots-Tag"] = "noindex"
    return response


# Imports -------------------------------------------------------------------------------------


@login_required
def import_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    posted = request.method == "POST"
    form = forms.ImportForm(request.POST if posted else None, request.FILES if posted else None)
    already_at = None
    if posted and form.is_valid():
        try:
            imported = services.credential_import(user=request.user, raw=form.raw())
        except AlreadyInWallet as exc:
            form.add_error(None, exc.message)
            already_at = exc.url
        except WalletError as exc:
            form.add_error(None, exc.message)
        else:
            _status, _issuer, not_counted = selectors.imported_standing(imported)
            if not imported.checkable:
                messages.warning(
                    request,
                    _("%(title)s is in your wallet, unverified: its seal cannot be checked here.")
                    % {"title": imported.title},
                )
            elif imported.verified and not_counted is not None:
                messages.warning(
                    request,
                    _(
                        "%(title)s is in your wallet and its signature is valid, but it is not "
                        "counted in your totals: %(reason)s."
                    )
                    % {"title": imported.title, "reason": not_counted.label},
                )
            elif imported.verified:
                messages.success(
                    request,
                    _("%(title)s is in your wallet, and verified.") % {"title": imported.title},
                )
            else:
                messages.warning(
                    request,
                    _("%(title)s is in your wallet, but it did not pass verification.")
                    % {"title": imported.title},
                )
            return redirect(imported)
    return render(
        request,
        "learners/import.html",
        {"form": form, "already_at": already_at},
        status=400 if form.errors else 200,
    )


@login_required
def imported_detail(request: AuthenticatedHttpRequest, public_id: UUID) -> HttpResponse:
    imported = selectors.imported_credential(user=request.user, public_id=public_id)
    status, known_issuer_name, not_counted = selectors.imported_standing(imported)
    return render(
        request,
        "learners/imported.html",
        {
            "imported": imported,
            "status": status,
            "known_issuer_name": known_issuer_name,
            "not_counted": not_counted,
            "verification": verifier.labelled(imported.verification),
            "eqf_label": explanations.concept_label(imported.eqf_level),
            "ects": imported.ects,
        },
    )


@require_GET
@login_required
def imported_document(request: AuthenticatedHttpRequest, public_id: UUID) -> HttpResponse:
    imported = selectors.imported_credential(user=request.user, public_id=public_id)
    response = HttpResponse(imported.document, content_type=documents.JSON_LD)
    response["Content-Disposition"] = f'attachment; filename="imported-{public_id}.json"'
    return response


@require_POST
@login_required
def imported_reverify(request: AuthenticatedHttpRequest, public_id: UUID) -> HttpResponse:
    imported = selectors.imported_credential(user=request.user, public_id=public_id)
    try:
        imported = services.imported_credential_reverify(user=request.user, imported=imported)
    except WalletError as exc:
        messages.error(request, exc.message)
    else:
        if imported.verified:
            messages.success(request, _("Checked again just now: verified."))
        else:
            messages.warning(request, _("Checked again just now: not verified."))
    return redirect(imported)


@require_POST
@login_required
def imported_remove(request: AuthenticatedHttpRequest, public_id: UUID) -> HttpResponse:
    imported = selectors.imported_credential(user=request.user, public_id=public_id)
    services.imported_credential_remove(user=request.user, imported=imported)
    messages.success(
        request, _("%(title)s is no longer in your wallet.") % {"title": imported.title}
    )
    return redirect("learners:wallet")


# Public profile ------------------------------------------------------------------------------


@login_required
def profile_edit(request: AuthenticatedHttpRequest) -> HttpResponse:
    profile = selectors.profile_for_owner(user=request.user)
    initial = (
        {
            "is_public": profile.is_public,
            "slug": profile.slug,
            "headline": profile.headline,
            "credentials": list(profile.credentials.filter(holder=request.user)),
        }
        if profile
        else {}
    )
    form = forms.ProfileForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            profile = services.profile_save(user=request.user, **form.cleaned_data)
        except WalletError as exc:
            form.add_error(None, exc.message)
        else:
            if profile.is_public:
                messages.success(
                    request,
                    _("Your public profile is at %(url)s")
                    % {"url": settings.MESHE_BASE_URL + profile.get_absolute_url()},
                )
            else:
                messages.success(request, _("Your public profile is switched off."))
            return redirect("learners:profile")
    return render(
        request,
        "learners/profile_edit.html",
        {"form": form, "profile": profile},
        status=400 if form.errors else 200,
    )


@require_GET
def profile_public(request: HttpRequest, slug: str) -> HttpResponse:
    profile = selectors.public_profile(slug=slug)
    credentials = selectors.profile_credentials(profile=profile)
    now = timezone.now()
    response = render(
        request,
        "learners/profile_public.html",
        {
            "profile": profile,
            "entries": [
                (credential, selectors.issued_status(credential, now=now))
                for credential in credentials
            ],
        },
    )
    response["Cache-Control"] = "private, no-store"
    return response


# The learner's data --------------------------------------------------------------------------


@require_GET
@login_required
def privacy(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "learners/privacy.html")


@require_POST
@login_required
def account_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    export = services.account_export(user=request.user)
    response = HttpResponse(export.content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def account_delete(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = forms.DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_delete(user=request.user)
        except WalletError as exc:
            form.add_error(None, exc.message)
        else:
            logout(request)
            messages.success(
                request,
                _("Your account and personal data are deleted. Issued credentials stay valid."),
            )
            return redirect("home")
    return render(
        request,
        "learners/account_delete.html",
        {"form": form},
        status=400 if form.errors else 200,
    )
