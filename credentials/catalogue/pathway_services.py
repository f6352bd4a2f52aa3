"""Defining pathways and issuing their stacked credential. Atomic and audited.

Beside services.py, as certificate_services.py is: pathways only call into it to issue.
"""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from credentials.catalogue import pathway_selectors
from credentials.exceptions import CredentialError
from credentials.issuing import services
from credentials.models import (
    CredentialEvent,
    CredentialStatus,
    IssuedCredential,
    MicroCredential,
    Pathway,
    PathwayComponent,
)
from institutions import services as institution_services
from institutions.models import Institution


def _check_rule(rule: str, required_count: int | None, required_ects: Decimal | None) -> None:
    if rule not in Pathway.Rule.values:
        raise CredentialError(_("Choose how the pathway is completed."))
    if rule == Pathway.Rule.ANY_N and not (required_count and required_count >= 1):
        raise CredentialError(_("Say how many components a learner needs."))
    if rule == Pathway.Rule.MIN_ECTS and not (required_ects and required_ects > 0):
        raise CredentialError(_("Say how many ECTS a learner needs."))


@transaction.atomic
def pathway_save(
    *,
    actor: User | None,
    institution: Institution,
    pathway: Pathway | None = None,
    title: str,
    description: str = "",
    rule: str,
    required_count: int | None = None,
    required_ects: Decimal | None = None,
    awards: MicroCredential,
) -> Pathway:
    """Creates a draft pathway or edits one. Raises CredentialError when the stacked
    credential is another institution's or the rule lacks its number."""
    creating = pathway is None
    if pathway is None:
        pathway = Pathway(institution=institution)
    elif pathway.institution_id != institution.pk:
        raise CredentialError(_("This pathway belongs to another institution."))
    if awards.institution_id != institution.pk:
        raise CredentialError(_("The stacked credential must be one of your institution's."))
    _check_rule(rule, required_count, required_ects)
    pathway.title = title.strip()
    pathway.description = description.strip()
    pathway.rule = rule
    pathway.required_count = required_count if rule == Pathway.Rule.ANY_N else None
    pathway.required_ects = required_ects if rule == Pathway.Rule.MIN_ECTS else None
    pathway.awards = awards
    pathway.save()
    institution_services.audit(
        institution=institution,
        actor=actor,
        action="pathway.created" if creating else "pathway.edited",
        public_id=str(pathway.public_id),
        title=pathway.title,
    )
    return pathway


@transaction.atomic
def pathway_component_add(
    *,
    actor: User | None,
    pathway: Pathway,
    micro_credential: MicroCredential | None = None,
    external_url: str = "",
    external_title: str = "",
    external_ects: Decimal | None = None,
) -> PathwayComponent:
    """Adds a specification of this node or a partner's by URL; adding one already there
    returns it unchanged. Raises CredentialError for the stacked credential itself."""
    if (micro_credential is None) == (not external_url):
        raise CredentialError(_("Choose a micro-credential or give a partner's link, not both."))
    if micro_credential is not None:
        if micro_credential.pk == pathway.awards_id:
            raise CredentialError(_("The stacked credential cannot be one of its own parts."))
        existing = pathway.components.filter(micro_credential=micro_credential).first()
        fields: dict[str, object] = {"micro_credential": micro_credential}
    else:
        if not external_title.strip() or not external_ects or external_ects <= 0:
            raise CredentialError(_("A partner's specification needs a title and its ECTS."))
        existing = pathway.components.filter(external_url=external_url).first()
        fields = {
            "external_url": external_url,
            "external_title": external_title.strip(),
            "external_ects": external_ects,
        }
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            component = PathwayComponent.objects.create(pathway=pathway, **fields)
    except IntegrityError:
        # Added meanwhile by someone else: the unique constraint kept it once.
        return pathway.components.get(**fields)
    institution_services.audit(
        institution=pathway.institution,
        actor=actor,
        action="pathway.component_added",
        public_id=str(pathway.public_id),
        component=component.title,
    )
    return component


@transaction.atomic
def pathway_component_remove(*, actor: User | None, component: PathwayComponent) -> None:
    """Removes a component; removing one already gone does nothing."""
    pathway = component.pathway
    deleted, _rows = PathwayComponent.objects.filter(pk=component.pk).delete()
    if deleted:
        institution_services.audit(
            institution=pathway.institution,
            actor=actor,
            action="pathway.component_removed",
            public_id=str(pathway.public_id),
            component=component.title,
        )


# draft ⇄ published
PATHWAY_LIFECYCLE: dict[str, set[str]] = {
    Pathway.Status.DRAFT: {Pathway.Status.PUBLISHED},
    Pathway.Status.PUBLISHED: {Pathway.Status.DRAFT},
}


@transaction.atomic
def pathway_set_status(*, actor: User | None, pathway: Pathway, status: str) -> Pathway:
    """Publishes (only with components enough for the rule) or withdraws to draft.
    Idempotent; raises CredentialError when the pathway cannot be published."""
    current = Pathway.objects.select_for_update().select_related("institution").get(pk=pathway.pk)
    if current.status == status:
        return current
    if status not in PATHWAY_LIFECYCLE.get(current.status, set()):
        raise CredentialError(_("That change of status is not possible."))
    if status == Pathway.Status.PUBLISHED:
        count = current.components.count()
        if not count:
            raise CredentialError(_("Add at least one component before publishing."))
        if current.rule == Pathway.Rule.ANY_N and (current.required_count or 0) > count:
            raise CredentialError(
                _("The pathway asks for %(n)s components but has only %(count)s.")
                % {"n": current.required_count, "count": count}
            )
    current.status = status
    current.save(update_fields=["status", "updated_at"])
    institution_services.audit(
        institution=current.institution,
        actor=actor,
        action=f"pathway.{status}",
        public_id=str(current.public_id),
        title=current.title,
    )
    return current


@transaction.atomic
def pathway_award_issue(*, actor: User | None, pathway: Pathway, learner: User) -> IssuedCredential:
    """Issues the pathway's stacked credential to a learner who completed it, in the
    learner's wallet at once. Raises CredentialError when the pathway is not published,
    the learner has not completed it or already holds it (unless revoked)."""
    # The pathway row serialises two clicks on the same button.
    current = (
        Pathway.objects.select_for_update()
        .select_related("institution", "awards")
        .get(pk=pathway.pk)
    )
    if current.status != Pathway.Status.PUBLISHED:
        raise CredentialError(_("Only a published pathway can award its credential."))
    already = (
        IssuedCredential.objects.filter(holder=learner, version__micro_credential=current.awards)
        .exclude(status=CredentialStatus.REVOKED)
        .exists()
    )
    if already:
        raise CredentialError(
            _("%(name)s already holds %(title)s.")
            % {"name": learner.get_full_name(), "title": current.awards.title}
        )
    if not pathway_selectors.pathway_progress_of(pathway=current, user=learner).complete:
        raise CredentialError(
            _("%(name)s has not completed this pathway.") % {"name": learner.get_full_name()}
        )
    credential = services.credential_issue(
        actor=actor,
        institution=current.institution,
        micro_credential=current.awards,
        holder_name=learner.name or learner.email,
        holder_email=learner.email,
        awarded_date=timezone.localdate(),
    )
    # The learner is known: straight into their wallet rather than waiting for a claim.
    IssuedCredential.objects.filter(pk=credential.pk).update(
        holder=learner, claimed_at=timezone.now()
    )
    credential.holder = learner
    CredentialEvent.objects.create(
        credential=credential, actor=actor, action=CredentialEvent.Action.CLAIMED
    )
    institution_services.audit(
        institution=current.institution,
        actor=actor,
        action="pathway.awarded",
        public_id=str(current.public_id),
        credential=str(credential.public_id),
    )
    return credential
