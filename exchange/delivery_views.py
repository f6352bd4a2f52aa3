"""Deliveries for recognition: the signed inbox and notices endpoints partners call, the staff
delivery log and incoming credentials, and the learner's "send for recognition" page.

The forms live here rather than in exchange/forms.py, which belongs to the partnership pages.
"""

import json
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedHttpRequest
from credentials.catalogue import explanations
from credentials.exceptions import CredentialError
from credentials.issuing import selectors as credential_selectors
from credentials.issuing import verifier
from credentials.models import IssuedCredential
from credentials.standards.verification import is_sealed
from exchange import catalogue_sync, deliveries, selectors
from exchange import messages as exchange_messages
from exchange.inbound import ExchangeRequest, problem, signed_endpoint
from exchange.models import Decision, DeliveryFormat, OutboxStatus, Partner
from institutions import selectors as institution_selectors
from institutions.decorators import staff_required

# Filters: "pending" stands for the empty decision, which a query string cannot tell from none.
DECISION_FILTERS = [
    ("pending", gettext_lazy("Awaiting decision")),
    (Decision.RECOGNISED.value, gettext_lazy("Recognised")),
    (Decision.DECLINED.value, gettext_lazy("Declined")),
]


def _decision_filter(value: str) -> str | None:
    if value == "pending":
        return ""
    return value if value in (Decision.RECOGNISED, Decision.DECLINED) else None


# Forms -------------------------------------------------------------------------------------


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            (Decision.RECOGNISED.value, gettext_lazy("Recognised")),
            (Decision.DECLINED.value, gettext_lazy("Declined")),
        ],
        widget=forms.RadioSelect,
    )
    ects = forms.DecimalField(
        label=gettext_lazy("ECTS credits recognised"),
        required=False,
        min_value=0,
        max_digits=5,
        decimal_places=1,
        help_text=gettext_lazy("Leave empty to recognise the credential as it is."),
    )
    programme = forms.CharField(
        label=gettext_lazy("Toward the programme"),
        required=False,
        max_length=exchange_messages.MAX_PROGRAMME,
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=exchange_messages.MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Required when you decline. The partner and the learner see it."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == Decision.DECLINED and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why the credential is not recognised."))
        if (
            data.get("decision") == Decision.RECOGNISED
            and data.get("ects") is not None
            and not (data.get("programme") or "").strip()
        ):
            self.add_error("programme", _("Name the programme the credits count toward."))
        return data


class BatchSendForm(forms.Form):
    partner = forms.ModelChoiceField(
        label=gettext_lazy("Partner"), queryset=Partner.objects.none(), to_field_name="public_id"
    )
    credentials = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Credentials"),
        queryset=IssuedCredential.objects.none(),
        to_field_name="public_id",
        error_messages={"required": gettext_lazy("Select at least one credential.")},
    )
    note = forms.CharField(
        label=gettext_lazy("Note for the partner"),
        required=False,
        max_length=exchange_messages.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    format = forms.ChoiceField(
        label=gettext_lazy("Send as"),
        choices=DeliveryFormat.choices,
        initial=DeliveryFormat.OB3,
        required=False,  # the Open Badges 3.0 credential unless sealed is chosen
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "A sealed EDC carries the institution's e-seal; it can be sent only while the "
            "institution has a valid e-seal certificate."
        ),
    )

    def __init__(
        self,
        data: Any = None,
        *,
        partners: QuerySet[Partner],
        credentials: QuerySet[IssuedCredential],
    ) -> None:
        super().__init__(data)
        self.fields["partner"].queryset = partners  # type: ignore[attr-defined]
        self.fields["credentials"].queryset = credentials  # type: ignore[attr-defined]


class RecognitionForm(forms.Form):
    partner = forms.ModelChoiceField(
        label=gettext_lazy("Partner university"),
        queryset=Partner.objects.none(),
        to_field_name="public_id",
        widget=forms.HiddenInput,
    )
    note = forms.CharField(
        label=gettext_lazy("Note for the partner"),
        required=False,
        max_length=exchange_messages.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("For example, the programme you would like it recognised for."),
    )
    consent = forms.BooleanField(
        required=True,
        error_messages={"required": gettext_lazy("Tick the box to agree, or do not send it.")},
    )

    def __init__(
        self,
        data: Any = None,
        *,
        partners: QuerySet[Partner],
        institution_name: str,
        partner: Partner,
    ) -> None:
        super().__init__(data, initial={"partner": partner.public_id})
        self.fields["partner"].queryset = partners  # type: ignore[attr-defined]
        self.fields["consent"].label = _(
            "I agree that %(institution)s sends this credential, with my name, to %(partner)s."
        ) % {"institution": institution_name, "partner": partner.name}


# Signed endpoints partners call --------------------------------------------------------------


@require_POST
@signed_endpoint()
def inbox_receive(request: ExchangeRequest, slug: str) -> HttpResponse:
    """A credential a partner sends us for recognition: 201 the first time, 200 after."""
    partner = request.exchange.partner
    assert partner is not None  # signed_endpoint lets only confirmed partners through here
    try:
        message = exchange_messages.inbox_message_parse(request.body)
    except exchange_messages.InvalidMessage as exc:
        return problem(
            request,
            status=400,
            reason="invalid-message",
            title=_("Not a delivery"),
            detail=str(exc),
        )
    try:
        incoming, created = deliveries.incoming_receive(partner=partner, message=message)
    except deliveries.CredentialNotVerified as exc:
        return problem(
            request,
            status=422,
            reason="credential-not-verified",
            title=_("The credential is not verified"),
            detail=exc.detail,
            # What failed and why, so the sender's staff can see it without asking.
            extensions={
                "checks": [check for check in exc.result.get("checks", []) if not check["ok"]]
            },
        )
    return JsonResponse(
        deliveries.incoming_acknowledgement(incoming), status=201 if created else 200
    )


@require_POST
@signed_endpoint()
def notices_receive(request: ExchangeRequest, slug: str) -> HttpResponse:
    """A partner's recognition decision on a credential we sent, or a status change of one it
    sent us (which we check against its status list ourselves)."""
    partner = request.exchange.partner
    assert partner is not None  # signed_endpoint lets only confirmed partners through here
    try:
        message = exchange_messages.notice_message_parse(request.body)
    except exchange_messages.InvalidMessage as exc:
        return problem(
            request, status=400, reason="invalid-message", title=_("Not a notice"), detail=str(exc)
        )
    if message["type"] == "adoption":
        try:
            catalogue_sync.offer_recognition_receive(partner=partner, message=message)
        except catalogue_sync.UnknownOffer:
            return _unknown_offer(request, message)
        return JsonResponse({"received": "adoption", "offerId": message["offerId"]})
    if message["type"] == "endorsement":
        try:
            catalogue_sync.offer_endorsement_receive(partner=partner, message=message)
        except catalogue_sync.UnknownOffer:
            return _unknown_offer(request, message)
        except CredentialError as exc:
            return problem(
                request,
                status=422,
                reason="endorsement-refused",
                title=_("The endorsement is refused"),
                detail=exc.message,
            )
        return JsonResponse({"received": "endorsement", "offerId": message["offerId"]})
    try:
        if message["type"] == "decision":
            deliveries.delivery_decision_receive(partner=partner, message=message)
        else:
            deliveries.incoming_status_receive(partner=partner, message=message)
    except deliveries.UnknownCredential:
        return problem(
            request,
            status=404,
            reason="unknown-credential",
            title=_("Unknown credential"),
            detail=_("No credential %(id)s was exchanged with you.")
            % {"id": message["credentialId"]},
        )
    return JsonResponse({"received": message["type"], "credentialId": message["credentialId"]})


# Staff: the delivery log ---------------------------------------------------------------------


@staff_required
def deliveries_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(user=request.user, slug=slug)
    status = request.GET.get("status", "")
    partner = request.GET.get("partner", "")
    decision = request.GET.get("decision", "")
    page = Paginator(
        selectors.deliveries_for_staff(
            viewer=viewer, status=status, partner=partner, decision=_decision_filter(decision)
        ),
        50,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "exchange/deliveries.html",
        {
            "institution": viewer.institution,
            "page": page,
            "deliveries": page.object_list,
            "status": status,
            "partner": partner,
            "decision": decision,
            "statuses": OutboxStatus.choices,
            "decisions": DECISION_FILTERS,
            "partners": selectors.partners_for_staff(viewer=viewer),
            "can_send": selectors.may_decide(viewer),
            "retryable": (OutboxStatus.QUEUED, OutboxStatus.FAILED),
            # A queued delivery whose next try is not after this is being sent now.
            "now": timezone.now(),
        },
    )


@staff_required
def deliveries_send(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.ISSUE
    )
    search = request.GET.get("q", "").strip()
    partners = selectors.confirmed_partners(institution=viewer.institution)
    form = BatchSendForm(
        request.POST or None,
        partners=partners,
        credentials=selectors.sendable_credentials(viewer=viewer),
    )
    if request.method == "POST" and form.is_valid():
        try:
            sent = deliveries.deliveries_create_batch(
                credentials=list(form.cleaned_data["credentials"]),
                partner=form.cleaned_data["partner"],
                actor=request.user,
                note=form.cleaned_data["note"],
                delivery_format=form.cleaned_data["format"] or DeliveryFormat.OB3,
            )
        except deliveries.DeliveryError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)s credential queued for %(partner)s.",
                    "%(count)s credentials queued for %(partner)s.",
                    len(sent),
                )
                % {"count": len(sent), "partner": form.cleaned_data["partner"].name},
            )
            return redirect("exchange:deliveries", slug=slug)
    selected = {str(value) for value in form["credentials"].value() or []}
    return render(
        request,
        "exchange/deliveries_send.html",
        {
            "institution": viewer.institution,
            "form": form,
            "partners": partners,
            "search": search,
            "credentials": selectors.sendable_credentials(viewer=viewer, search=search)[:200],
            "selected": selected,
        },
    )


@require_POST
@staff_required
def delivery_retry(request: AuthenticatedHttpRequest, slug: str, public_id: UUID) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.ISSUE
    )
    delivery = selectors.delivery_for_staff(viewer=viewer, public_id=public_id)
    try:
        deliveries.delivery_retry_now(delivery=delivery, actor=request.user)
    except deliveries.DeliveryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Sending again to %(partner)s now.") % {"partner": delivery.partner.name}
        )
    return redirect("exchange:deliveries", slug=slug)


# Staff: credentials partners sent us ---------------------------------------------------------


@staff_required
def incoming_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(user=request.user, slug=slug)
    decision = request.GET.get("decision", "")
    partner = request.GET.get("partner", "")
    page = Paginator(
        selectors.incoming_for_staff(
            viewer=viewer, decision=_decision_filter(decision), partner=partner
        ),
        50,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "exchange/incoming.html",
        {
            "institution": viewer.institution,
            "page": page,
            "incoming_list": page.object_list,
            "decision": decision,
            "partner": partner,
            "decisions": DECISION_FILTERS,
            "partners": selectors.partners_for_staff(viewer=viewer),
        },
    )


@staff_required
def incoming_detail(request: AuthenticatedHttpRequest, slug: str, public_id: UUID) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(user=request.user, slug=slug)
    incoming = selectors.incoming_credential_for_staff(viewer=viewer, public_id=public_id)
    if request.method == "POST":
        selectors.require_decider(viewer)
    initial = {
        "decision": incoming.decision or None,
        "ects": incoming.decision_ects,
        "programme": incoming.decision_programme,
        "reason": incoming.decision_reason,
    }
    form = DecisionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            deliveries.incoming_decide(
                incoming=incoming,
                actor=request.user,
                decision=form.cleaned_data["decision"],
                ects=form.cleaned_data["ects"],
                programme=form.cleaned_data["programme"],
                reason=form.cleaned_data["reason"],
            )
        except deliveries.DeliveryError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Decision recorded and sent to %(partner)s.")
                % {"partner": incoming.partner.name},
            )
            return redirect("exchange:incoming_detail", slug=slug, public_id=public_id)
    try:
        document = json.loads(incoming.document)
    except ValueError:
        document = {}
    return render(
        request,
        "exchange/incoming_detail.html",
        {
            "institution": viewer.institution,
            "incoming": incoming,
            "verification": verifier.labelled(incoming.verification),
            "checked_at": incoming.status_checked_at,
            # The eleven elements are read at OB 3.0 paths; a sealed EDC's say nothing there, and
            # its verdict above says what it claims.
            "elements": [] if is_sealed(document) else explanations.document_elements(document),
            "form": form,
            "can_decide": selectors.may_decide(viewer),
        },
    )


@require_POST
@staff_required
def incoming_recheck(request: AuthenticatedHttpRequest, slug: str, public_id: UUID) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.ISSUE
    )
    incoming = selectors.incoming_credential_for_staff(viewer=viewer, public_id=public_id)
    incoming = deliveries.incoming_recheck(incoming=incoming, actor=request.user)
    messages.success(
        request,
        _("Checked again just now: %(status)s.")
        % {"status": incoming.get_credential_status_display().lower()},
    )
    return redirect("exchange:incoming_detail", slug=slug, public_id=public_id)


# Learners: send one's own credential for recognition -------------------------------------------


@login_required
def recognition(request: AuthenticatedHttpRequest, public_id: UUID) -> HttpResponse:
    credential = credential_selectors.held_credential(user=request.user, public_id=public_id)
    partners = selectors.confirmed_partners(institution=credential.institution)
    chosen_id = request.POST.get("partner") or request.GET.get("partner") or ""
    chosen = None
    if chosen_id:
        try:
            chosen = partners.filter(public_id=UUID(chosen_id)).first()
        except ValueError:
            chosen = None
    form = None
    if chosen is not None:
        form = RecognitionForm(
            request.POST or None,
            partners=partners,
            institution_name=credential.institution.name,
            partner=chosen,
        )
        if request.method == "POST" and form.is_valid():
            try:
                deliveries.delivery_create(
                    credential=credential,
                    partner=form.cleaned_data["partner"],
                    actor=request.user,
                    by_learner=True,
                    note=form.cleaned_data["note"],
                )
            except deliveries.DeliveryError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("Your credential is on its way to %(partner)s.") % {"partner": chosen.name},
                )
                return redirect(reverse("exchange:recognition", args=[public_id]))
    elif request.method == "POST":
        messages.error(request, _("Choose a partner university first."))
    return render(
        request,
        "exchange/deliveries_recognition.html",
        {
            "credential": credential,
            "partners": partners,
            "chosen": chosen,
            "form": form,
            "sent": selectors.deliveries_of_credential(credential=credential),
        },
    )


def _unknown_offer(request: HttpRequest, message: Mapping[str, Any]) -> HttpResponse:
    return problem(
        request,
        status=404,
        reason="unknown-offer",
        title=_("Unknown offer"),
        detail=_("%(id)s is not an offer of this institution.") % {"id": message["offerId"]},
    )
