"""Staff pages: specifications, issued credentials, the dashboard, bulk issue and pathways."""

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.forms import BaseFormSet
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedHttpRequest
from credentials import documents
from credentials.catalogue import esco, pathway_selectors, pathway_services, practical
from credentials.catalogue import offers as catalogue_offers
from credentials.catalogue import views as catalogue_views
from credentials.exceptions import CredentialError
from credentials.issuing import selectors, services, spreadsheets
from credentials.models import (
    ApiCredential,
    CredentialStatus,
    Endorsement,
    IssuedCredential,
    MicroCredential,
    Pathway,
)
from credentials.staff import charts, forms
from credentials.standards import vocabularies
from institutions import selectors as institution_selectors
from institutions.decorators import staff_required
from institutions.models import Membership
from meshe.csv_cells import safe_row


@staff_required
def micro_credential_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(user=request.user, slug=slug)
    return render(
        request,
        "credentials/micro_credential_list.html",
        {
            "institution": viewer.institution,
            "viewer": viewer,
            "micro_credentials": selectors.micro_credentials_for_staff(viewer=viewer),
        },
    )


def _outcomes_initial(micro_credential: MicroCredential | None) -> list[dict[str, str]]:
    if micro_credential is None:
        return []
    return [
        {"text": outcome["text"], "skills": "\n".join(s["uri"] for s in outcome["esco"])}
        for outcome in micro_credential.learning_outcomes
    ]


def _translations_initial(micro_credential: MicroCredential | None) -> list[dict[str, str]]:
    if micro_credential is None:
        return []
    return [
        {
            "language": language,
            "title": title,
            "description": micro_credential.description_translations.get(language, ""),
        }
        for language, title in micro_credential.title_translations.items()
    ]


@staff_required
def micro_credential_edit(
    request: AuthenticatedHttpRequest, slug: str, public_id: UUID | None = None
) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.ISSUE
    )
    micro_credential = (
        selectors.micro_credential_for_staff(viewer=viewer, public_id=public_id)
        if public_id
        else None
    )
    posted = request.method == "POST"
    form = forms.MicroCredentialForm(request.POST if posted else None, instance=micro_credential)
    outcomes = forms.LearningOutcomeFormSet(
        request.POST if posted else None,
        initial=_outcomes_initial(micro_credential),
        prefix="outcomes",
    )
    translations = forms.TranslationFormSet(
        request.POST if posted else None,
        initial=_translations_initial(micro_credential),
        prefix="translations",
    )
    if posted and "add_outcome" in request.POST:
        # "Add another outcome" without JavaScript: nothing is saved, the page comes back
        # with what was typed and one more empty row, focused on it.
        typed = forms.TypedSoFar.read(form, outcomes, translations)
        form = forms.MicroCredentialForm(initial=typed.form, instance=micro_credential)
        outcomes = forms.LearningOutcomeFormSet(initial=typed.outcomes, prefix="outcomes")
        outcomes.extra = typed.outcomes_blank + 1
        translations = forms.TranslationFormSet(initial=typed.translations, prefix="translations")
        translations.extra = typed.translations_blank or (0 if typed.translations else 1)
        outcomes.forms[-1].fields["text"].widget.attrs["autofocus"] = True
        return _editor(request, viewer, micro_credential, form, outcomes, translations)
    if posted and form.is_valid() and outcomes.is_valid() and translations.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        fields["learning_outcomes"] = [
            {"text": row["text"], "esco": row["skills"]}
            for row in outcomes.cleaned_data
            if row and not row.get("DELETE")
        ]
        kept = [
            row
            for row in translations.cleaned_data
            if row.get("language")
            and not row.get("DELETE")
            and row["language"] != fields["language"]
        ]
        fields["title_translations"] = {row["language"]: row["title"] for row in kept}
        fields["description_translations"] = {row["language"]: row["description"] for row in kept}
        try:
            saved = services.micro_credential_save(
                actor=request.user,
                institution=viewer.institution,
                micro_credential=micro_credential,
                **fields,
            )
        except CredentialError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Saved %(title)s.") % {"title": saved.title})
            return redirect("credentials:micro_credential", slug=slug, public_id=saved.public_id)
    return _editor(request, viewer, micro_credential, form, outcomes, translations)


def _editor(
    request: AuthenticatedHttpRequest,
    viewer: Membership,
    micro_credential: MicroCredential | None,
    form: forms.MicroCredentialForm,
    outcomes: BaseFormSet,
    translations: BaseFormSet,
) -> HttpResponse:
    return render(
        request,
        "credentials/micro_credential_form.html",
        {
            "institution": viewer.institution,
            "micro_credential": micro_credential,
            "form": form,
            "outcomes": outcomes,
            "translations": translations,
            "errors": forms.error_summary(
                form, [(outcomes, "outcomes"), (translations, "translations")]
            ),
        },
    )


@staff_required
def micro_credential_detail(
    request: AuthenticatedHttpRequest, slug: str, public_id: UUID
) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(user=request.user, slug=slug)
    micro_credential = selectors.micro_credential_for_staff(viewer=viewer, public_id=public_id)
    offer_practical = practical.from_micro_credential(micro_credential)
    return render(
        request,
        "credentials/micro_credential_detail.html",
        {
            "institution": viewer.institution,
            "viewer": viewer,
            "micro_credential": micro_credential,
            "versions": micro_credential.versions.annotate(
                issued_count=Count("issued_credentials")
            ).order_by("-number"),
            "can_edit": viewer.role in institution_selectors.ISSUE,
            "can_record_endorsements": viewer.role in institution_selectors.MANAGE_STAFF,
            "endorsements": catalogue_offers.endorsements(micro_credential),
            "labels": vocabulary_labels(micro_credential),
            "language_name": practical.language_name(micro_credential.language),
            "practical": {
                "starts": practical.start_text(offer_practical),
                "duration": practical.duration_text(offer_practical),
                "cost": practical.cost_text(offer_practical),
            },
            "instruction_languages": [
                practical.language_name(code) for code in micro_credential.instruction_languages
            ],
            "translations": [
                {
                    "language": practical.language_name(row["language"]),
                    "title": row["title"],
                    "description": row["description"],
                }
                for row in _translations_initial(micro_credential)
            ],
        },
    )


def vocabulary_labels(micro_credential: MicroCredential) -> dict[str, str]:
    """English labels of the vocabulary URIs the specification uses."""
    labels = {}
    for field in vocabularies.SPECIFICATION_FIELD_SCHEMES:
        uri = getattr(micro_credential, field)
        if uri:
            try:
                labels[field] = vocabularies.concept(uri).localized_label
            except vocabularies.UnknownConcept:
                labels[field] = uri
    return labels


@staff_required
def micro_credential_endorsement_record(
    request: AuthenticatedHttpRequest, slug: str, public_id: UUID
) -> HttpResponse:
    """An admin records an endorsement of the offer received from outside MESHE (a quality
    assurance agency's, any issuer's): kept once it verifies, shown with what was found."""
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.MANAGE_STAFF
    )
    micro_credential = selectors.micro_credential_for_staff(viewer=viewer, public_id=public_id)
    form = forms.EndorsementRecordForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            endorsement = services.endorsement_receive(
                actor=request.user,
                micro_credential=micro_credential,
                document=form.endorsement(),
                source=Endorsement.Source.RECORDED,
            )
        except CredentialError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("The endorsement by %(endorser)s is recorded: %(state)s.")
                % {
                    "endorser": endorsement.endorser_name,
                    "state": endorsement.get_state_display().lower(),
                },
            )
            return redirect("credentials:micro_credential", slug=slug, public_id=public_id)
    return render(
        request,
        "credentials/endorsement_record.html",
        {"institution": viewer.institution, "micro_credential": micro_credential, "form": form},
    )


@require_POST
@staff_required
def micro_credential_status(
    request: AuthenticatedHttpRequest, slug: str, public_id: UUID, status: str
) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.ISSUE
    )
    micro_credential = selectors.micro_credential_for_staff(viewer=viewer, public_id=public_id)
    if status not in MicroCredential.Status.values:
        raise Http404
    if status == MicroCredential.Status.PUBLISHED:
        # Publishing goes through the preview and its confirmation.
        return redirect("credentials:micro_credential_publish", slug=slug, public_id=public_id)
    _lifecycle_change(
        request,
        lambda: services.micro_credential_set_status(
            actor=request.user, micro_credential=micro_credential, status=status
        ),
    )
    return redirect("credentials:micro_credential", slug=slug, public_id=public_id)


@staff_required
def micro_credential_publish(
    request: AuthenticatedHttpRequest, slug: str, public_id: UUID
) -> HttpResponse:
    """The public offer page as it will look, marked as a preview, and a confirmation that
    publishes it: the world sees it at once and the published version is kept for good."""
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.ISSUE
    )
    micro_credential = selectors.micro_credential_for_staff(viewer=viewer, public_id=public_id)
    if micro_credential.status == MicroCredential.Status.PUBLISHED:
        messages.info(
            request, _("%(title)s is already published.") % {"title": micro_credential.title}
        )
        return redirect("credentials:micro_credential", slug=slug, public_id=public_id)
    try:
        services.micro_credential_check_publishable(micro_credential=micro_credential)
    except CredentialError as exc:
        messages.error(request, exc.message)
        return redirect("credentials:micro_credential", slug=slug, public_id=public_id)
    form = forms.PublishForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        _lifecycle_change(
            request,
            lambda: services.micro_credential_set_status(
                actor=request.user,
                micro_credential=micro_credential,
                status=MicroCredential.Status.PUBLISHED,
            ),
        )
        return redirect("credentials:micro_credential", slug=slug, public_id=public_id)
    return render(
        request,
        "credentials/micro_credential_publish.html",
        {
            **catalogue_views.offer_context(micro_credential),
            "institution": viewer.institution,
            "micro_credential": micro_credential,
            "form": form,
        },
    )


def _lifecycle_change(
    request: AuthenticatedHttpRequest, change: Callable[[], MicroCredential | Pathway]
) -> None:
    """Publishes, retires or drafts through `change` and tells the user how it went."""
    try:
        changed = change()
    except CredentialError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(title)s is now %(status)s.")
            % {"title": changed.title, "status": changed.get_status_display().lower()},
        )


class KnownCountPaginator(Paginator):
    """A paginator told its total, for a list whose count() would read every row."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


@staff_required
def credential_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(user=request.user, slug=slug)
    search = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    credentials = selectors.issued_credentials(viewer=viewer, search=search, status=status)
    paginator = (
        Paginator(credentials, 50)
        if search
        else KnownCountPaginator(
            credentials, 50, count=selectors.issued_count(viewer=viewer, status=status)
        )
    )
    page = paginator.get_page(request.GET.get("page"))
    api_page = Paginator(
        selectors.api_credentials(viewer=viewer, search=search, status=status), 50
    ).get_page(request.GET.get("api_page"))
    return render(
        request,
        "credentials/staff_list.html",
        {
            "institution": viewer.institution,
            "viewer": viewer,
            "page": page,
            "credentials": page.object_list,
            "api_page": api_page,
            "search": search,
            "status": status,
            "statuses": CredentialStatus.choices,
            "can_issue": viewer.role in institution_selectors.ISSUE,
        },
    )


@require_POST
@staff_required
def credentials_status_bulk(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Two steps: the list's selection leads to a confirmation page naming every credential,
    where a reason is given; only that page's confirmed form changes anything."""
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.ISSUE
    )
    selection = forms.BulkStatusSelectionForm(request.POST)
    credentials = (
        list(
            selectors.issued_credentials_by_public_id(
                viewer=viewer, public_ids=selection.cleaned_data["credentials"]
            )
        )
        if selection.is_valid()
        else []
    )
    if not credentials:
        messages.error(request, _("Choose credentials and what to do with them."))
        return redirect("credentials:staff_list", slug=slug)
    action = selection.cleaned_data["action"]
    step = STATUS_ACTIONS[action]
    form = forms.StatusChangeForm(
        request.POST if "confirm_step" in request.POST else None,
        action=action,
        confirm_label=_bulk_confirmation(action, len(credentials)),
    )
    if form.is_bound and form.is_valid():
        changed, problems = services.credentials_change_status(
            credentials=credentials,
            actor=request.user,
            action=action,
            reason=form.cleaned_data["reason"],
            reason_code=form.cleaned_data["reason_code"],
        )
        if not problems:
            messages.success(
                request,
                ngettext("%(count)s credential changed.", "%(count)s credentials changed.", changed)
                % {"count": changed},
            )
            return redirect("credentials:staff_list", slug=slug)
        form.add_error(
            None, _("Nothing was changed: %(problems)s") % {"problems": "; ".join(problems)}
        )
    return render(
        request,
        "credentials/status_bulk_confirm.html",
        {
            "institution": viewer.institution,
            "credentials": credentials,
            "action": action,
            "step": step,
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@staff_required
def credential_issue(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Two steps: a preview of exactly what will be signed, then the signature."""
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.ISSUE
    )
    posted = request.method == "POST"
    form = forms.IssueForm(
        request.POST if posted else None,
        initial={"micro_credential": request.GET.get("micro_credential")},
        micro_credentials=selectors.issuable_micro_credentials(viewer=viewer),
    )
    preview = None
    if posted and form.is_valid():
        if "confirm" not in request.POST:
            try:
                preview = documents.preview(institution=viewer.institution, **form.cleaned_data)
            except (ValueError, vocabularies.UnknownConcept) as exc:
                form.add_error(None, str(exc))
        else:
            try:
                credential = services.credential_issue(
                    actor=request.user, institution=viewer.institution, **form.cleaned_data
                )
            except CredentialError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("Credential issued to %(name)s. They will receive an e-mail.")
                    % {"name": credential.holder_name},
                )
                return redirect(
                    "credentials:staff_detail", slug=slug, public_id=credential.public_id
                )
    return render(
        request,
        "credentials/issue.html",
        {
            "institution": viewer.institution,
            "form": form,
            "preview": preview,
            "preview_json": json.dumps(preview, indent=2, ensure_ascii=False) if preview else "",
        },
    )


@staff_required
def credential_staff_detail(
    request: AuthenticatedHttpRequest, slug: str, public_id: UUID
) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(user=request.user, slug=slug)
    credential = selectors.issued_credential_for_staff(viewer=viewer, public_id=public_id)
    return render(
        request,
        "credentials/staff_detail.html",
        {
            "institution": viewer.institution,
            "viewer": viewer,
            "credential": credential,
            "events": credential.events.select_related("actor"),
            "status_notice": selectors.status_notice(credential=credential),
            "can_issue": viewer.role in institution_selectors.ISSUE,
        },
    )


@require_POST
@staff_required
def credential_resend_claim(
    request: AuthenticatedHttpRequest, slug: str, public_id: UUID
) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.ISSUE
    )
    credential = selectors.issued_credential_for_staff(viewer=viewer, public_id=public_id)
    services.credential_resend_claim(credential=credential, actor=request.user)
    messages.success(
        request,
        _("A new claim link is on its way to %(email)s; the old one no longer works.")
        % {"email": credential.holder_email},
    )
    return redirect("credentials:staff_detail", slug=slug, public_id=public_id)


@dataclass(frozen=True, slots=True)
class StatusAction:
    """What the confirmation page of one status change says, and the services it calls, for a
    credential MESHE issued and for one signed through the VC-API."""

    service: Callable[..., IssuedCredential]
    api_service: Callable[..., ApiCredential]
    # The status it leads to, and those it applies to; from any other, the page is not offered.
    target: str
    applies_to: frozenset[str]
    # English msgids, marked with gettext_noop and translated where shown.
    heading: str
    warning: str
    api_warning: str  # a VC-API credential has no public page or certificate of MESHE's
    confirm: str
    api_confirm: str
    button: str
    done: str


STATUS_ACTIONS = {
    "revoke": StatusAction(
        service=services.credential_revoke,
        api_service=services.credential_revoke,
        target=CredentialStatus.REVOKED,
        applies_to=frozenset({CredentialStatus.ISSUED, CredentialStatus.SUSPENDED}),
        heading=gettext_noop("Revoke a credential"),
        warning=gettext_noop(
            "Revoking is final: the credential can never be valid again. Its public page, "
            "certificate and every verification will say it was revoked, and when."
        ),
        api_warning=gettext_noop(
            "Revoking is final: the credential can never be valid again. Every verification "
            "will say it was revoked."
        ),
        confirm=gettext_noop("Yes, revoke %(title)s of %(name)s for good."),
        api_confirm=gettext_noop(
            "Yes, revoke %(credential)s, signed through the VC-API, for good."
        ),
        button=gettext_noop("Revoke"),
        done=gettext_noop("The credential is revoked."),
    ),
    "suspend": StatusAction(
        service=services.credential_suspend,
        api_service=services.credential_suspend,
        target=CredentialStatus.SUSPENDED,
        applies_to=frozenset({CredentialStatus.ISSUED}),
        heading=gettext_noop("Suspend a credential"),
        warning=gettext_noop(
            "While suspended the credential is not valid: its public page, certificate and "
            "every verification say so. You can reinstate it later."
        ),
        api_warning=gettext_noop(
            "While suspended the credential is not valid: every verification says so. You can "
            "reinstate it later."
        ),
        confirm=gettext_noop("Yes, suspend %(title)s of %(name)s."),
        api_confirm=gettext_noop("Yes, suspend %(credential)s, signed through the VC-API."),
        button=gettext_noop("Suspend"),
        done=gettext_noop("The credential is suspended."),
    ),
    "reinstate": StatusAction(
        service=services.credential_reinstate,
        api_service=services.credential_reinstate,
        target=CredentialStatus.ISSUED,
        applies_to=frozenset({CredentialStatus.SUSPENDED}),
        heading=gettext_noop("Reinstate a credential"),
        warning=gettext_noop("The credential becomes valid again, everywhere it is checked."),
        api_warning=gettext_noop("The credential becomes valid again, everywhere it is checked."),
        confirm=gettext_noop("Yes, make %(title)s of %(name)s valid again."),
        api_confirm=gettext_noop(
            "Yes, make %(credential)s, signed through the VC-API, valid again."
        ),
        button=gettext_noop("Reinstate"),
        done=gettext_noop("The credential is valid again."),
    ),
}


def _bulk_confirmation(action: str, count: int) -> str:
    """The bulk confirmation's tick box, in the active language and number."""
    if action == "revoke":
        text = ngettext(
            "Yes, revoke this credential for good.",
            "Yes, revoke these %(count)s credentials for good.",
            count,
        )
    elif action == "suspend":
        text = ngettext(
            "Yes, suspend this credential.", "Yes, suspend these %(count)s credentials.", count
        )
    else:
        text = ngettext(
            "Yes, make this credential valid again.",
            "Yes, make these %(count)s credentials valid again.",
            count,
        )
    return text % {"count": count}


@staff_required
def credential_status_change(
    request: AuthenticatedHttpRequest, slug: str, public_id: UUID, action: str
) -> HttpResponse:
    """A confirmation page naming the learner and the credential, with the reason; only its
    confirmed form changes the status."""
    return _status_change_page(
        request, slug=slug, public_id=public_id, action=action, signed_through_vc_api=False
    )


@staff_required
def api_credential_status_change(
    request: AuthenticatedHttpRequest, slug: str, public_id: UUID, action: str
) -> HttpResponse:
    """The same deliberate confirmation for a credential signed through the VC-API, naming it
    by its id (or subject)."""
    return _status_change_page(
        request, slug=slug, public_id=public_id, action=action, signed_through_vc_api=True
    )


def _api_credential_name(credential: ApiCredential) -> str:
    return credential.credential_id or credential.subject_id or str(credential.public_id)


def _status_change_page(
    request: AuthenticatedHttpRequest,
    *,
    slug: str,
    public_id: UUID,
    action: str,
    signed_through_vc_api: bool,
) -> HttpResponse:
    """Shows the confirmation of `action` and, once confirmed with a reason, changes the
    status; a change that does not apply to the credential is not offered, and says why."""
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.ISSUE
    )
    if action not in STATUS_ACTIONS:
        raise Http404
    step = STATUS_ACTIONS[action]
    credential: IssuedCredential | ApiCredential
    change: Callable[..., IssuedCredential | ApiCredential]
    if signed_through_vc_api:
        credential = selectors.api_credential_for_staff(viewer=viewer, public_id=public_id)
        name = _api_credential_name(credential)
        change, warning = step.api_service, step.api_warning
        confirm_label = _(step.api_confirm) % {"credential": name}
        detail = redirect("credentials:staff_api_detail", slug=slug, public_id=public_id)
    else:
        credential = selectors.issued_credential_for_staff(viewer=viewer, public_id=public_id)
        name = credential.holder_name
        change, warning = step.service, step.warning
        confirm_label = _(step.confirm) % {
            "title": credential.version.localized_title,
            "name": credential.holder_name,
        }
        detail = redirect("credentials:staff_detail", slug=slug, public_id=public_id)
    posted = request.method == "POST"
    if not posted:
        refusal = (
            _("A %(status)s credential cannot be changed this way.")
            % {"status": credential.get_status_display().lower()}
            if credential.status not in step.applies_to
            else services.status_change_refusal(credential=credential, target=step.target)
        )
        if refusal:
            messages.error(request, refusal)
            return detail
    form = forms.StatusChangeForm(
        request.POST if posted else None,
        action=action,
        confirm_label=confirm_label,
        learner_sees_reason=not signed_through_vc_api,
    )
    if posted and form.is_valid():
        try:
            change(
                credential=credential,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                reason_code=form.cleaned_data["reason_code"],
            )
        except CredentialError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _(step.done))
            return detail
    return render(
        request,
        "credentials/status_change.html",
        {
            "institution": viewer.institution,
            "credential": credential,
            "signed_through_vc_api": signed_through_vc_api,
            "credential_name": name,
            "detail_url": detail["Location"],
            "action": action,
            "step": step,
            "warning": warning,
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@staff_required
def api_credential_detail(
    request: AuthenticatedHttpRequest, slug: str, public_id: UUID
) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(user=request.user, slug=slug)
    credential = selectors.api_credential_for_staff(viewer=viewer, public_id=public_id)
    document = json.dumps(json.loads(credential.document), indent=2, ensure_ascii=False)
    return render(
        request,
        "credentials/staff_api_detail.html",
        {
            "institution": viewer.institution,
            "viewer": viewer,
            "credential": credential,
            "document": document,
            "can_issue": viewer.role in institution_selectors.ISSUE,
        },
    )


@staff_required
def dashboard(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(user=request.user, slug=slug)
    numbers = selectors.institution_numbers(viewer=viewer)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{slug}-numbers.csv"'
        # Specification titles are staff text: no cell may run as a formula.
        writer = csv.writer(response)
        writer.writerow(["measure", "key", "value"])
        for name in (
            "issued",
            "claimed",
            "revoked",
            "suspended",
            "sent",
            "delivered",
            "recognised",
            "declined",
            "failed",
        ):
            writer.writerow(safe_row([name, "", getattr(numbers, name)]))
        writer.writerow(safe_row(["claim_rate_percent", "", numbers.claim_rate]))
        for month, count in numbers.per_month:
            writer.writerow(safe_row(["issued_per_month", month.strftime("%Y-%m"), count]))
        for title, count in numbers.per_specification:
            writer.writerow(safe_row(["issued_per_specification", title, count]))
        return response
    month_chart = charts.bar_chart(
        [
            charts.Bar(date_format(month, "YEAR_MONTH_FORMAT"), count)
            for month, count in numbers.per_month
        ],
        title=_("Credentials issued per month"),
    )
    specification_chart = charts.bar_chart(
        [charts.Bar(title, count) for title, count in numbers.per_specification],
        title=_("Credentials issued per micro-credential"),
    )
    return render(
        request,
        "credentials/dashboard.html",
        {
            "institution": viewer.institution,
            "numbers": numbers,
            "month_chart": month_chart,
            "specification_chart": specification_chart,
        },
    )


@staff_required
def bulk_upload(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.ISSUE
    )
    posted = request.method == "POST"
    form = forms.BulkUploadForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        initial={"micro_credential": request.GET.get("micro_credential")},
        micro_credentials=selectors.issuable_micro_credentials(viewer=viewer),
    )
    if posted and form.is_valid():
        upload = form.cleaned_data["spreadsheet"]
        try:
            job = services.bulk_job_create(
                actor=request.user,
                institution=viewer.institution,
                micro_credential=form.cleaned_data["micro_credential"],
                filename=upload.name,
                content=upload.read(),
            )
        except CredentialError as exc:
            form.add_error("spreadsheet", exc.message)
        else:
            return redirect("credentials:bulk_job", slug=slug, public_id=job.public_id)
    return render(
        request, "credentials/bulk_upload.html", {"institution": viewer.institution, "form": form}
    )


@require_GET
@staff_required
def bulk_template(request: AuthenticatedHttpRequest, slug: str, kind: str) -> HttpResponse:
    institution_selectors.membership_for_staff(user=request.user, slug=slug)
    if kind == "csv":
        response = HttpResponse(spreadsheets.template_csv(), content_type="text/csv")
    elif kind == "xlsx":
        response = HttpResponse(
            spreadsheets.template_xlsx(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="meshe-learners.{kind}"'
    return response


@staff_required
def bulk_job(request: AuthenticatedHttpRequest, slug: str, public_id: UUID) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(user=request.user, slug=slug)
    job = selectors.bulk_job_for_staff(viewer=viewer, public_id=public_id)
    if request.method == "POST":
        institution_selectors.membership_for_staff(
            user=request.user, slug=slug, roles=institution_selectors.ISSUE
        )
        try:
            services.bulk_job_start(actor=request.user, job=job)
        except CredentialError as exc:
            messages.error(request, exc.message)
        return redirect("credentials:bulk_job", slug=slug, public_id=public_id)
    return render(
        request,
        "credentials/bulk_job.html",
        {
            "institution": viewer.institution,
            "job": job,
            "invalid_rows": selectors.bulk_rows_with_errors(job=job)[:500],
            "can_issue": viewer.role in institution_selectors.ISSUE,
        },
    )


@require_GET
@staff_required
def bulk_job_progress(
    request: AuthenticatedHttpRequest, slug: str, public_id: UUID
) -> JsonResponse:
    viewer = institution_selectors.membership_for_staff(user=request.user, slug=slug)
    job = selectors.bulk_job_for_staff(viewer=viewer, public_id=public_id)
    return JsonResponse(
        {
            "status": job.status,
            "issued": job.issued_count,
            "total": job.valid_rows,
            "percent": job.percent,
            "error": job.error,
        }
    )


@require_GET
@staff_required
def bulk_job_report(request: AuthenticatedHttpRequest, slug: str, public_id: UUID) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(user=request.user, slug=slug)
    job = selectors.bulk_job_for_staff(viewer=viewer, public_id=public_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="report-{job.public_id}.csv"'
    writer = csv.writer(response)
    writer.writerow(["row", "name", "email", "result", "detail"])
    base = settings.MESHE_BASE_URL
    for row in selectors.bulk_rows(job=job).iterator(chunk_size=2000):
        if row.status == row.Status.ISSUED and row.credential is not None:
            detail = base + row.credential.get_absolute_url()
        else:
            detail = " ".join(row.errors)
        # Names and e-mails come from an uploaded spreadsheet: no cell may run as a formula.
        writer.writerow(
            safe_row([row.number, row.name, row.email, row.get_status_display(), detail])
        )
    return response


@require_GET
@staff_required
def esco_skills(request: AuthenticatedHttpRequest) -> JsonResponse:
    """The editor's skill type-ahead: for staff of any institution, not learners."""
    if not institution_selectors.memberships_for_user(user=request.user).exists():
        return JsonResponse(
            {"error": _("Only staff of an institution may search skills.")}, status=403
        )
    query = request.GET.get("q", "").strip()
    if len(query) < 2:
        return JsonResponse({"error": _("Type at least two characters.")}, status=400)
    try:
        limit = min(int(request.GET.get("limit", "20")), 50)
    except ValueError:
        limit = 0
    if limit < 1:
        return JsonResponse({"error": _("The limit must be a number from 1 up.")}, status=400)
    try:
        skills = esco.search(query, limit=limit)
    except esco.IndexMissing as exc:
        return JsonResponse({"error": exc.message}, status=503)
    results = [
        {"uri": item.uri, "label": item.label, "description": item.description} for item in skills
    ]
    response = JsonResponse({"results": results})
    # The index changes only with a deploy; repeating a query while typing needs no request.
    response["Cache-Control"] = "private, max-age=3600"
    return response


@staff_required
def pathway_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(user=request.user, slug=slug)
    return render(
        request,
        "credentials/pathway_list.html",
        {
            "institution": viewer.institution,
            "pathways": pathway_selectors.pathways_for_staff(viewer=viewer),
            "can_edit": viewer.role in institution_selectors.ISSUE,
        },
    )


@staff_required
def pathway_edit(
    request: AuthenticatedHttpRequest, slug: str, public_id: UUID | None = None
) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.ISSUE
    )
    pathway = (
        pathway_selectors.pathway_for_staff(viewer=viewer, public_id=public_id)
        if public_id
        else None
    )
    initial = (
        {
            "title": pathway.title,
            "description": pathway.description,
            "awards": pathway.awards,
            "rule": pathway.rule,
            "required_count": pathway.required_count,
            "required_ects": pathway.required_ects,
        }
        if pathway
        else {}
    )
    form = forms.PathwayForm(
        request.POST or None,
        initial=initial,
        awards=pathway_selectors.awardable_micro_credentials(viewer=viewer),
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = pathway_services.pathway_save(
                actor=request.user,
                institution=viewer.institution,
                pathway=pathway,
                **form.cleaned_data,
            )
        except CredentialError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Saved %(title)s.") % {"title": saved.title})
            return redirect("credentials:pathway", slug=slug, public_id=saved.public_id)
    return render(
        request,
        "credentials/pathway_form.html",
        {"institution": viewer.institution, "pathway": pathway, "form": form},
    )


@staff_required
def pathway_detail(request: AuthenticatedHttpRequest, slug: str, public_id: UUID) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(user=request.user, slug=slug)
    pathway = pathway_selectors.pathway_for_staff(viewer=viewer, public_id=public_id)
    can_edit = viewer.role in institution_selectors.ISSUE
    return render(
        request,
        "credentials/pathway_detail.html",
        {
            "institution": viewer.institution,
            "pathway": pathway,
            "components": pathway_selectors.pathway_components(pathway=pathway),
            "can_edit": can_edit,
            "component_form": forms.PathwayComponentForm(
                micro_credentials=pathway_selectors.component_micro_credentials()
            )
            if can_edit
            else None,
        },
    )


@require_POST
@staff_required
def pathway_component_add(
    request: AuthenticatedHttpRequest, slug: str, public_id: UUID
) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.ISSUE
    )
    pathway = pathway_selectors.pathway_for_staff(viewer=viewer, public_id=public_id)
    form = forms.PathwayComponentForm(
        request.POST, micro_credentials=pathway_selectors.component_micro_credentials()
    )
    if form.is_valid():
        try:
            component = pathway_services.pathway_component_add(
                actor=request.user, pathway=pathway, **form.cleaned_data
            )
        except CredentialError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Added %(title)s.") % {"title": component.title})
            return redirect("credentials:pathway", slug=slug, public_id=public_id)
    return render(
        request,
        "credentials/pathway_detail.html",
        {
            "institution": viewer.institution,
            "pathway": pathway,
            "components": pathway_selectors.pathway_components(pathway=pathway),
            "can_edit": True,
            "component_form": form,
        },
        status=400,
    )


@require_POST
@staff_required
def pathway_component_remove(
    request: AuthenticatedHttpRequest, slug: str, public_id: UUID, component_id: UUID
) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.ISSUE
    )
    pathway = pathway_selectors.pathway_for_staff(viewer=viewer, public_id=public_id)
    component = pathway_selectors.pathway_component_for_staff(
        pathway=pathway, public_id=component_id
    )
    pathway_services.pathway_component_remove(actor=request.user, component=component)
    messages.success(request, _("Removed %(title)s.") % {"title": component.title})
    return redirect("credentials:pathway", slug=slug, public_id=public_id)


@require_POST
@staff_required
def pathway_status(
    request: AuthenticatedHttpRequest, slug: str, public_id: UUID, status: str
) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.ISSUE
    )
    pathway = pathway_selectors.pathway_for_staff(viewer=viewer, public_id=public_id)
    if status not in Pathway.Status.values:
        raise Http404
    _lifecycle_change(
        request,
        lambda: pathway_services.pathway_set_status(
            actor=request.user, pathway=pathway, status=status
        ),
    )
    return redirect("credentials:pathway", slug=slug, public_id=public_id)


@staff_required
def pathway_learners(request: AuthenticatedHttpRequest, slug: str, public_id: UUID) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(user=request.user, slug=slug)
    pathway = pathway_selectors.pathway_for_staff(viewer=viewer, public_id=public_id)
    return render(
        request,
        "credentials/pathway_learners.html",
        {
            "institution": viewer.institution,
            "pathway": pathway,
            "learners": pathway_selectors.pathway_learners(pathway=pathway),
            "can_issue": viewer.role in institution_selectors.ISSUE,
        },
    )


@require_POST
@staff_required
def pathway_award_issue(
    request: AuthenticatedHttpRequest, slug: str, public_id: UUID
) -> HttpResponse:
    viewer = institution_selectors.membership_for_staff(
        user=request.user, slug=slug, roles=institution_selectors.ISSUE
    )
    pathway = pathway_selectors.pathway_for_staff(viewer=viewer, public_id=public_id)
    learner = pathway_selectors.pathway_learner(
        pathway=pathway, email=request.POST.get("learner", "")
    )
    if learner is None:
        messages.error(request, _("No learner who completed this pathway has that address."))
        return redirect("credentials:pathway_learners", slug=slug, public_id=public_id)
    try:
        credential = pathway_services.pathway_award_issue(
            actor=request.user, pathway=pathway, learner=learner
        )
    except CredentialError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(title)s issued to %(name)s.")
            % {"title": pathway.awards.title, "name": credential.holder_name},
        )
    return redirect("credentials:pathway_learners", slug=slug, public_id=public_id)
