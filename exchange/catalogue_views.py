"""The catalogue feed partners pull (signed), staff pages for partners' offers and their sync,
and the public page of a partner's offer."""

from decimal import Decimal
from uuid import UUID

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from accounts.http import AuthenticatedHttpRequest
from credentials.content_language import in_active_language
from credentials.ects import ects_number
from credentials.issuing import services as credential_services
from credentials.standards import vocabularies
from exchange import catalogue_feed, catalogue_sync, partner_catalogue, selectors
from exchange.exceptions import ExchangeError
from exchange.inbound import problem, signed_endpoint
from institutions import selectors as institution_selectors
from institutions.decorators import staff_required
from meshe.errors import UserFacingError


class EndorseForm(forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("What your institution says about the offer"),
        max_length=credential_services.MAX_ENDORSEMENT_COMMENT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Signed with your institution's key and carried by every credential the partner "
            "issues for this offer from now on, for instance what you recognise it for."
        ),
    )


class EndorsementRevokeForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why is the endorsement revoked?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "I understand that this cannot be undone: every credential that carries this "
            "endorsement will show it as revoked."
        )
    )


class AdoptForm(forms.Form):
    recognised_ects = forms.DecimalField(
        label=gettext_lazy("Recognised ECTS"),
        min_value=Decimal(0),
        max_digits=5,
        decimal_places=1,
        help_text=gettext_lazy("What the offer counts for in your programmes; 0 is allowed."),
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("For instance, the programmes or modules it is recognised for."),
    )


# Protocol endpoint (signed both ways) -------------------------------------------------------


@require_safe
@signed_endpoint()
def feed(request: HttpRequest, slug: str) -> HttpResponse:
    """The institution's published and retired specifications since `modified_since`."""
    query = request.GET
    try:
        since = query.get("modified_since")
        modified_since = catalogue_feed.parse_time(since) if since else None
        cursor = query.get("cursor")
        after = catalogue_feed.decode_cursor(cursor) if cursor else None
        limit = catalogue_feed.parse_limit(query.get("limit"))
    except catalogue_feed.FeedError as exc:
        return problem(
            request, status=400, reason="invalid-message", title="Invalid query", detail=str(exc)
        )
    page = catalogue_sync.catalogue_feed_page(
        partner=request.exchange.partner,  # type: ignore[attr-defined]  # set by signed_endpoint
        # The public address, as signatures cover it, not what a proxy forwarded to us.
        feed_url=settings.MESHE_BASE_URL + request.path,
        modified_since=modified_since,
        after=after,
        limit=limit,
    )
    if catalogue_feed.etag_matches(request.headers.get("If-None-Match"), page.etag):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(page.body, content_type="application/json")
    response["ETag"] = page.etag
    response["Cache-Control"] = "private, no-cache"
    return response


# Staff: partners' offers and their sync ------------------------------------------------------


@require_safe
@staff_required
def offer_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(user=request.user, slug=slug)
    partners = list(selectors.partners_for_staff(viewer=viewer))
    chosen = next((p for p in partners if str(p.public_id) == request.GET.get("partner")), None)
    return render(
        request,
        "exchange/offers_list.html",
        {
            "membership": viewer,
            "institution": viewer.institution,
            "partners": partners,
            "chosen": chosen,
            "offers": catalogue_sync.offers_for_staff(
                viewer=viewer, partner_id=chosen.public_id if chosen else None
            ),
            "can_sync": viewer.role in institution_selectors.ISSUE,
        },
    )


@staff_required
def sync(request: AuthenticatedHttpRequest, slug: str, public_id: UUID) -> HttpResponse:
    """GET: the progress of the partner's catalogue sync. POST: start one now."""
    if request.method == "POST":
        viewer = institution_selectors.membership_for_staff(
            user=request.user, slug=slug, roles=institution_selectors.ISSUE
        )
        partner = selectors.partner_for_staff(viewer=viewer, public_id=public_id)
        try:
            started = catalogue_sync.partner_catalogue_sync_request(
                actor=request.user, partner=partner
            )
        except ExchangeError as exc:
            messages.error(request, exc.message)
        else:
            if started:
                messages.success(
                    request, _("Sync of %(name)s's catalogue started.") % {"name": partner.name}
                )
            else:
                messages.info(request, _("A sync of this catalogue is already running."))
        return redirect("exchange:partner_sync", slug=slug, public_id=partner.public_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405)
    viewer = institution_selectors.membership_for_staff(user=request.user, slug=slug)
    partner = selectors.partner_for_staff(viewer=viewer, public_id=public_id)
    running = catalogue_sync.sync_is_running(partner)
    return render(
        request,
        "exchange/sync_progress.html",
        {
            "membership": viewer,
            "institution": viewer.institution,
            "partner": partner,
            "running": running,
            # Waiting for a worker: asked for, not started yet.
            "queued": partner.sync_started_at is None and partner.sync_finished_at is None,
            "can_sync": viewer.role in institution_selectors.ISSUE,
        },
    )


@staff_required
def offer_adopt(request: AuthenticatedHttpRequest, slug: str, public_id: UUID) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.ISSUE
    )
    offer = catalogue_sync.offer_for_staff(viewer=viewer, public_id=public_id)
    initial = {"recognised_ects": offer.recognised_ects or offer.ects, "note": offer.adoption_note}
    form = AdoptForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            catalogue_sync.partner_offer_adopt(
                actor=request.user,
                offer=offer,
                recognised_ects=form.cleaned_data["recognised_ects"],
                note=form.cleaned_data["note"],
            )
        except ExchangeError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("%(institution)s now recognises “%(title)s”.")
                % {"institution": viewer.institution.name, "title": offer.title},
            )
            return redirect("exchange:partner_offers", slug=slug)
    return render(
        request,
        "exchange/offers_adopt.html",
        {"membership": viewer, "institution": viewer.institution, "offer": offer, "form": form},
    )


@require_POST
@staff_required
def offer_unadopt(request: AuthenticatedHttpRequest, slug: str, public_id: UUID) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.ISSUE
    )
    offer = catalogue_sync.offer_for_staff(viewer=viewer, public_id=public_id)
    catalogue_sync.partner_offer_unadopt(actor=request.user, offer=offer)
    messages.success(
        request,
        _("%(institution)s no longer recognises “%(title)s”.")
        % {"institution": viewer.institution.name, "title": offer.title},
    )
    return redirect("exchange:partner_offers", slug=slug)


# Public ------------------------------------------------------------------------------------


@require_safe
def offer_public(request: HttpRequest, public_id: UUID) -> HttpResponse:
    listing = partner_catalogue.partner_offer(public_id=public_id)
    snapshot = partner_catalogue.partner_offer_snapshot(listing.offer.document)
    return render(
        request,
        "exchange/offers_public.html",
        {
            "listing": listing,
            "offer": listing.offer,
            "description": in_active_language(snapshot["description"], main=snapshot["language"]),
            "stacks_into": snapshot["stacks_into"],
            "elements": partner_catalogue.partner_offer_elements(listing),
            "practical": partner_catalogue.partner_offer_practical(listing),
        },
    )


@staff_required
def offer_endorse(request: AuthenticatedHttpRequest, slug: str, public_id: UUID) -> HttpResponse:
    """Our endorsements of a partner's offer, and signing a new one that travels to it."""
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.ISSUE
    )
    offer = catalogue_sync.offer_for_staff(viewer=viewer, public_id=public_id)
    suggested = (
        _("Recognised at %(institution)s for %(ects)s ECTS.")
        % {"institution": viewer.institution.name, "ects": ects_number(offer.recognised_ects)}
        if offer.adopted_at is not None and offer.recognised_ects is not None
        else ""
    )
    form = EndorseForm(request.POST or None, initial={"comment": suggested})
    if request.method == "POST" and form.is_valid():
        try:
            catalogue_sync.partner_offer_endorse(
                actor=request.user, offer=offer, comment=form.cleaned_data["comment"]
            )
        except UserFacingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _(
                    "%(institution)s endorsed “%(title)s”; the endorsement is on its way to %(partner)s."
                )
                % {
                    "institution": viewer.institution.name,
                    "title": offer.title,
                    "partner": offer.partner.name,
                },
            )
            return redirect("exchange:partner_offer_endorse", slug=slug, public_id=public_id)
    return render(
        request,
        "exchange/offers_endorse.html",
        {
            "membership": viewer,
            "institution": viewer.institution,
            "offer": offer,
            "form": form,
            "endorsements": catalogue_sync.endorsements_for_staff(viewer=viewer, offer=offer),
        },
    )


@staff_required
def offer_endorsement_revoke(
    request: AuthenticatedHttpRequest, slug: str, public_id: UUID, endorsement_id: UUID
) -> HttpResponse:
    """Revoking our endorsement of a partner's offer: irreversible, so confirmed with a reason."""
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.ISSUE
    )
    offer = catalogue_sync.offer_for_staff(viewer=viewer, public_id=public_id)
    endorsement = catalogue_sync.endorsement_for_staff(
        viewer=viewer, offer=offer, public_id=endorsement_id
    )
    back = redirect("exchange:partner_offer_endorse", slug=slug, public_id=public_id)
    if endorsement.revoked_at is not None:
        messages.info(request, _("This endorsement is already revoked."))
        return back
    form = EndorsementRevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            catalogue_sync.partner_offer_endorsement_revoke(
                actor=request.user,
                offer=offer,
                endorsement=endorsement,
                reason=form.cleaned_data["reason"],
            )
        except UserFacingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("The endorsement of “%(title)s” is revoked; %(partner)s is told.")
                % {"title": offer.title, "partner": offer.partner.name},
            )
            return back
    return render(
        request,
        "exchange/offers_endorsement_revoke.html",
        {
            "membership": viewer,
            "institution": viewer.institution,
            "offer": offer,
            "endorsement": endorsement,
            "form": form,
        },
    )


class ElmPartnerForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("University"), max_length=200)
    country = forms.CharField(
        label=gettext_lazy("Country"),
        max_length=2,
        help_text=gettext_lazy("Its two-letter code, such as PT or DE."),
    )
    feed = forms.URLField(
        label=gettext_lazy("Address of its ELM feed"),
        assume_scheme="https",
        max_length=2000,
        help_text=gettext_lazy(
            "The address where it publishes its learning opportunities in ELM v3 (JSON-LD)."
        ),
    )

    def clean_country(self) -> str:
        code = self.cleaned_data["country"].strip().upper()
        try:
            vocabularies.country(code)
        except vocabularies.UnknownConcept:
            raise forms.ValidationError(
                _("%(code)s is not a country code. Use two letters, such as PT.") % {"code": code}
            ) from None
        return code


@staff_required
def elm_partner_add(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """An admin makes a university that publishes ELM, and runs no MESHE node, a catalogue
    partner: its offers are read from its feed, and nothing is sent to it."""
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.MANAGE_STAFF
    )
    form = ElmPartnerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            partner = catalogue_sync.elm_partner_add(
                actor=request.user,
                institution=viewer.institution,
                name=form.cleaned_data["name"],
                country=form.cleaned_data["country"],
                feed_url=form.cleaned_data["feed"],
            )
        except ValueError:
            form.add_error("feed", _("Use an http or https address, as the university gives it."))
        else:
            messages.success(
                request,
                _(
                    "%(name)s is a catalogue partner: its offers are being read from its feed "
                    "and will appear under partners' offers."
                )
                % {"name": partner.name},
            )
            return redirect("exchange:partner", slug=slug, public_id=partner.public_id)
    return render(
        request,
        "exchange/elm_partner_add.html",
        {"membership": viewer, "institution": viewer.institution, "form": form},
    )
