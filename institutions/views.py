import csv
import json
from collections.abc import Iterator
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedHttpRequest
from institutions import e_seals, forms, hooks, selectors, services
from institutions.decorators import staff_required
from institutions.exceptions import InstitutionError
from institutions.models import AuditEvent
from meshe.csv_cells import safe_row
from meshe.errors import UserFacingError


@staff_required
def staff_home(request: AuthenticatedHttpRequest) -> HttpResponse:
    memberships = selectors.memberships_for_user(user=request.user)
    return render(request, "institutions/staff_home.html", {"memberships": memberships})


@staff_required
def institution_detail(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    membership = selectors.membership_for_staff(user=request.user, slug=slug)
    return render(
        request,
        "institutions/detail.html",
        {
            "membership": membership,
            "institution": membership.institution,
            "signing_keys": selectors.signing_keys(viewer=membership),
            "e_seal": selectors.e_seal(viewer=membership),
            "output_form": forms.OutputForm(
                initial={"ob3_strict": membership.institution.ob3_strict}
            ),
        },
    )


@require_POST
@staff_required
def output_set(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    viewer = selectors.membership_for_staff(
        user=request.user, slug=slug, roles=selectors.MANAGE_STAFF
    )
    form = forms.OutputForm(request.POST)
    if form.is_valid():
        strict = form.cleaned_data["ob3_strict"]
        services.institution_output_set(
            actor=request.user, institution=viewer.institution, ob3_strict=strict
        )
        messages.success(
            request,
            _("New credentials will carry a revocation entry only (Open Badges 3.0-strict).")
            if strict
            else _("New credentials will carry revocation and suspension entries."),
        )
    return redirect(viewer.institution)


@require_POST
@staff_required
def signing_key_rotate(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    viewer = selectors.membership_for_staff(
        user=request.user, slug=slug, roles=selectors.MANAGE_STAFF
    )
    key = services.signing_key_rotate(actor=request.user, institution=viewer.institution)
    messages.success(
        request,
        _("New signing key %(key)s is active. Earlier keys still verify what they signed.")
        % {"key": key.fragment},
    )
    return redirect(viewer.institution)


@staff_required
def e_seal_page(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """The institution's e-seal certificate, and the upload that installs or replaces it."""
    viewer = selectors.membership_for_staff(
        user=request.user, slug=slug, roles=selectors.MANAGE_STAFF
    )
    current = selectors.e_seal(viewer=viewer)
    posted = request.method == "POST"
    form = forms.ESealUploadForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        replacing=current is not None,
    )
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            # Reading one byte past the cap lets read_upload refuse a larger file.
            e_seal = e_seals.read_upload(
                upload.read(e_seals.MAX_UPLOAD_BYTES + 1),
                passphrase=form.cleaned_data["passphrase"],
                now=timezone.now(),
            )
            installed = services.e_seal_install(
                actor=request.user,
                institution=viewer.institution,
                e_seal=e_seal,
                reason=form.cleaned_data.get("reason", ""),
            )
        except UserFacingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("European Digital Credentials are now sealed by %(subject)s.")
                % {"subject": installed.subject},
            )
            return redirect("institutions:e_seal", slug=slug)
    response = render(
        request,
        "institutions/e_seal.html",
        {
            "institution": viewer.institution,
            "e_seal": current,
            "form": form,
            "remove_form": forms.ESealRemoveForm(),
            "now": timezone.now(),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@staff_required
def e_seal_remove(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    viewer = selectors.membership_for_staff(
        user=request.user, slug=slug, roles=selectors.MANAGE_STAFF
    )
    form = forms.ESealRemoveForm(request.POST)
    if form.is_valid():
        try:
            services.e_seal_remove(
                actor=request.user,
                institution=viewer.institution,
                reason=form.cleaned_data["reason"],
            )
        except InstitutionError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _(
                    "The e-seal certificate is removed: European Digital Credentials are offered unsealed."
                ),
            )
        return redirect("institutions:e_seal", slug=slug)
    return render(
        request,
        "institutions/e_seal.html",
        {
            "institution": viewer.institution,
            "e_seal": selectors.e_seal(viewer=viewer),
            "form": forms.ESealUploadForm(replacing=True),
            "remove_form": form,
            "now": timezone.now(),
        },
        status=400,
    )


def public_profile(request: HttpRequest, slug: str) -> HttpResponse:
    institution = selectors.public_institution(slug=slug)
    return render(
        request,
        "institutions/public.html",
        {
            "institution": institution,
            "offers": hooks.public_offers(institution=institution),
            "keys": selectors.published_keys(institution=institution),
            "partners": hooks.public_partners(institution=institution),
        },
    )


def did_document(request: HttpRequest, slug: str) -> JsonResponse:
    response = JsonResponse(
        selectors.did_document(slug=slug), content_type="application/did+ld+json"
    )
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@staff_required
def member_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    viewer = selectors.membership_for_staff(
        user=request.user,
        slug=slug,
        roles=selectors.MANAGE_STAFF,
    )
    form = forms.InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_create(
                actor=request.user,
                institution=viewer.institution,
                **form.cleaned_data,
            )
        except InstitutionError as exc:
            form.add_error("email", exc.message)
        else:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": invitation.email}
            )
            return redirect("institutions:members", slug=slug)
    return render(
        request,
        "institutions/members.html",
        {
            "institution": viewer.institution,
            "viewer": viewer,
            "members": selectors.members_of_institution(viewer=viewer),
            "invitations": selectors.open_invitations(viewer=viewer),
            "form": form,
            "role_form": forms.RoleForm(),
        },
    )


@require_POST
@staff_required
def member_change_role(
    request: AuthenticatedHttpRequest, slug: str, membership_id: int
) -> HttpResponse:
    viewer = selectors.membership_for_staff(
        user=request.user,
        slug=slug,
        roles=selectors.MANAGE_STAFF,
    )
    membership = selectors.member_of_institution(viewer=viewer, membership_id=membership_id)
    form = forms.RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the offered roles."))
    else:
        try:
            membership = services.membership_change_role(
                actor=request.user,
                membership=membership,
                role=form.cleaned_data["role"],
            )
        except InstitutionError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("%(person)s is now %(role)s.")
                % {"person": membership.user, "role": membership.get_role_display()},
            )
    return redirect("institutions:members", slug=slug)


@require_POST
@staff_required
def member_remove(request: AuthenticatedHttpRequest, slug: str, membership_id: int) -> HttpResponse:
    viewer = selectors.membership_for_staff(
        user=request.user,
        slug=slug,
        roles=selectors.MANAGE_STAFF,
    )
    membership = selectors.member_of_institution(viewer=viewer, membership_id=membership_id)
    try:
        services.membership_remove(actor=request.user, membership=membership)
    except InstitutionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("%(person)s no longer works here.") % {"person": membership.user}
        )
    return redirect("institutions:members", slug=slug)


@login_required
def invitation_accept(request: AuthenticatedHttpRequest, public_id: UUID) -> HttpResponse:
    invitation = selectors.invitation_by_public_id(public_id=public_id)
    if request.method == "POST":
        try:
            membership = services.invitation_accept(invitation=invitation, user=request.user)
        except InstitutionError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("Welcome to the staff of %(institution)s.")
                % {"institution": membership.institution},
            )
            return redirect("institutions:detail", slug=membership.institution.slug)
    return render(
        request,
        "institutions/invitation_accept.html",
        {
            "invitation": invitation,
            "addressed_to_user": selectors.invitation_addressed_to(
                invitation=invitation, user=request.user
            ),
        },
    )


# API tokens --------------------------------------------------------------------------------


@staff_required
def api_token_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    viewer = selectors.membership_for_staff(
        user=request.user, slug=slug, roles=selectors.MANAGE_STAFF
    )
    form = forms.ApiTokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            token, text = services.api_token_create(
                actor=request.user, institution=viewer.institution, **form.cleaned_data
            )
        except InstitutionError as exc:
            form.add_error(None, exc.message)
        else:
            # Shown on this response and never again, so no redirect: the text must not
            # travel through the session or a cookie.
            created = {"token": token, "text": text}
            form = forms.ApiTokenForm()
    response = render(
        request,
        "institutions/api_tokens.html",
        {
            "institution": viewer.institution,
            "tokens": selectors.api_tokens(viewer=viewer),
            "form": form,
            "created": created,
            "openapi_url": reverse("api:openapi"),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@staff_required
def api_token_revoke(request: AuthenticatedHttpRequest, slug: str, public_id: UUID) -> HttpResponse:
    viewer = selectors.membership_for_staff(
        user=request.user, slug=slug, roles=selectors.MANAGE_STAFF
    )
    token = selectors.api_token_for_admin(viewer=viewer, public_id=public_id)
    services.api_token_revoke(actor=request.user, token=token)
    messages.success(
        request,
        _("The token %(name)s (%(prefix)s) is revoked; requests with it are refused.")
        % {"name": token.name, "prefix": token.prefix},
    )
    return redirect("institutions:api_tokens", slug=slug)


# Audit log ----------------------------------------------------------------------------------

AUDIT_PAGE_SIZE = 50


@require_GET
@staff_required
def audit_log(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    viewer = selectors.membership_for_staff(
        user=request.user, slug=slug, roles=selectors.MANAGE_STAFF
    )
    form = forms.AuditFilterForm(request.GET or None)
    events = selectors.audit_events(viewer=viewer, **form.filters())
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "institutions/audit.html",
        {
            "institution": viewer.institution,
            "form": form,
            "page": page,
            "events": page.object_list,
            "query": query.urlencode(),
        },
        status=400 if form.errors else 200,
    )


@require_GET
@staff_required
def audit_log_csv(request: AuthenticatedHttpRequest, slug: str) -> HttpResponseBase:
    viewer = selectors.membership_for_staff(
        user=request.user, slug=slug, roles=selectors.MANAGE_STAFF
    )
    form = forms.AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return redirect(
            reverse("institutions:audit", kwargs={"slug": slug}) + "?" + request.GET.urlencode()
        )
    events = selectors.audit_events(viewer=viewer, **form.filters())
    response = StreamingHttpResponse(_audit_rows(events), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}-audit.csv"'
    response["Cache-Control"] = "no-store"
    return response


class _Line:
    """A file-like for csv.writer that hands back each line instead of storing it."""

    def write(self, line: str) -> str:
        return line


def _audit_rows(events: QuerySet[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(["time", "action", "actor", "detail"])
    for event in events.iterator(chunk_size=2000):
        yield writer.writerow(
            safe_row(
                [
                    event.created_at,
                    event.action,
                    event.actor.email if event.actor else "",
                    json.dumps(event.detail, ensure_ascii=False, sort_keys=True),
                ]
            )
        )
