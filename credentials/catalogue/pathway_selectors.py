"""Reads of pathways, for staff (with tenancy) and for a learner (their own holdings only).

Kept beside selectors.py, as certificate_services.py is beside services.py: the pathway
reads share helpers that turn rows into the plain values credentials.standards.pathways evaluates.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.db.models import Count, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from credentials import hooks
from credentials.models import (
    CredentialStatus,
    IssuedCredential,
    MicroCredential,
    Pathway,
    PathwayComponent,
)
from credentials.standards import pathways
from institutions.models import Membership

# Staff ---------------------------------------------------------------------------------------


def pathways_for_staff(*, viewer: Membership) -> QuerySet[Pathway]:
    """The pathways of the viewer's institution, with their stacked credential and size."""
    return (
        Pathway.objects.filter(institution_id=viewer.institution_id)
        .select_related("awards")
        .annotate(component_count=Count("components"))
        .order_by("status", "title")
    )


def pathway_for_staff(*, viewer: Membership, public_id: UUID) -> Pathway:
    """One pathway of the viewer's institution; 404 for any other institution's."""
    try:
        return Pathway.objects.select_related("institution", "awards").get(
            public_id=public_id, institution_id=viewer.institution_id
        )
    except Pathway.DoesNotExist:
        raise Http404 from None


def pathway_components(*, pathway: Pathway) -> list[PathwayComponent]:
    """The components with their specification and its institution."""
    return list(pathway.components.select_related("micro_credential__institution").order_by("pk"))


def pathway_component_for_staff(*, pathway: Pathway, public_id: UUID) -> PathwayComponent:
    """One component of a pathway the caller already resolved for its staff; 404 otherwise."""
    try:
        return pathway.components.get(public_id=public_id)
    except PathwayComponent.DoesNotExist:
        raise Http404 from None


def component_micro_credentials() -> QuerySet[MicroCredential]:
    """Published specifications of every institution on this node, which any pathway may use."""
    return (
        MicroCredential.objects.filter(status=MicroCredential.Status.PUBLISHED)
        .select_related("institution")
        .order_by("institution__name", "title")
    )


def awardable_micro_credentials(*, viewer: Membership) -> QuerySet[MicroCredential]:
    """Specifications of the viewer's institution that a pathway may award (not retired)."""
    return MicroCredential.objects.filter(institution_id=viewer.institution_id).exclude(
        status=MicroCredential.Status.RETIRED
    )


@dataclass(frozen=True, slots=True)
class PathwayLearner:
    user: User
    progress: pathways.Progress
    awarded: bool  # holds the stacked credential already (not revoked)


def pathway_learners(*, pathway: Pathway, now: datetime | None = None) -> list[PathwayLearner]:
    """Learners with an account who completed the pathway, by name; the caller resolved the
    pathway through pathway_for_staff. Five queries at most, whatever their number."""
    now = now or timezone.now()
    components = pathway_components(pathway=pathway)
    items = component_items(components)
    local_ids = [c.micro_credential_id for c in components if c.micro_credential_id]
    urls = [c.external_url for c in components if c.external_url]
    holdings: dict[int, list[pathways.Holding]] = defaultdict(list)
    if local_ids:
        issued = IssuedCredential.objects.filter(
            holder__isnull=False, version__micro_credential_id__in=local_ids
        )
        for holder_id, holding in _issued_holdings(issued, now=now):
            holdings[holder_id].append(holding)
    if urls:
        for owner_id, holding in hooks.imported_holdings(mentioning=urls, now=now):
            holdings[owner_id].append(holding)
    completed = {
        user_id: progress
        for user_id, held in holdings.items()
        if (progress := _evaluate(pathway, items, held)).complete
    }
    if not completed:
        return []
    awarded = set(
        IssuedCredential.objects.filter(
            holder_id__in=completed, version__micro_credential_id=pathway.awards_id
        )
        .exclude(status=CredentialStatus.REVOKED)
        .values_list("holder_id", flat=True)
    )
    users = User.objects.filter(pk__in=completed, is_active=True).order_by("name", "email")
    return [
        PathwayLearner(user=user, progress=completed[user.pk], awarded=user.pk in awarded)
        for user in users
    ]


def pathway_learner(*, pathway: Pathway, email: str) -> User | None:
    """The learner with this address who completed the pathway, as pathway_learners lists
    them; None for any other address, so staff learn nothing of accounts beyond that list."""
    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is None or not pathway_progress_of(pathway=pathway, user=user).complete:
        return None
    return user


def pathway_progress_of(*, pathway: Pathway, user: User) -> pathways.Progress:
    """How far one learner is along the pathway, from their valid holdings."""
    now = timezone.now()
    components = pathway_components(pathway=pathway)
    return _evaluate(pathway, component_items(components), _holdings_of(user, now=now))


# A learner's own pathways ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LearnerPathway:
    pathway: Pathway
    progress: pathways.Progress


def pathways_for_learner(*, user: User, now: datetime | None = None) -> list[LearnerPathway]:
    """Published pathways that the user's own credentials (valid or not) touch, with their
    progress; three queries whatever the number of credentials or pathways."""
    now = now or timezone.now()
    held = _holdings_of(user, now=now)
    # Each specification once, however many of its credentials the learner holds.
    local_ids = sorted(
        {int(h.key.removeprefix("local:")) for h in held if h.key.startswith("local:")}
    )
    urls = sorted({h.key for h in held if not h.key.startswith("local:")})
    if not held:
        return []
    touched = Pathway.objects.filter(
        Q(components__micro_credential_id__in=local_ids) | Q(components__external_url__in=urls),
        status=Pathway.Status.PUBLISHED,
    ).values("pk")
    components = (
        PathwayComponent.objects.filter(pathway__in=touched)
        .select_related("pathway__institution", "pathway__awards", "micro_credential")
        .order_by("pathway__title", "pathway_id", "pk")
    )
    grouped: dict[int, list[PathwayComponent]] = defaultdict(list)
    for component in components:
        grouped[component.pathway_id].append(component)
    found = []
    for rows in grouped.values():
        pathway = rows[0].pathway
        items = component_items(rows)
        if pathways.touches(items, held):
            found.append(LearnerPathway(pathway=pathway, progress=_evaluate(pathway, items, held)))
    return found


# Rows into plain values ------------------------------------------------------------------------


def component_items(components: Iterable[PathwayComponent]) -> list[pathways.Component]:
    """The components as credentials.standards.pathways sees them; published local ones link to their
    catalogue page, external ones to their URL."""
    items = []
    for component in components:
        specification = component.micro_credential
        if specification is None:
            items.append(
                pathways.Component(
                    key=component.external_url,
                    title=component.external_title,
                    ects=component.external_ects,
                    link=component.external_url,
                )
            )
            continue
        link = (
            reverse("credentials:offer", kwargs={"public_id": specification.public_id})
            if specification.status == specification.Status.PUBLISHED
            else ""
        )
        items.append(
            pathways.Component(
                key=pathways.local_key(specification.pk),
                title=specification.localized_title,
                ects=specification.ects,
                link=link,
            )
        )
    return items


def _evaluate(
    pathway: Pathway, items: list[pathways.Component], held: Iterable[pathways.Holding]
) -> pathways.Progress:
    return pathways.evaluate(
        rule=pathway.rule,  # type: ignore[arg-type]  # a Pathway.Rule value, checked by the DB
        components=items,
        holdings=held,
        required_count=pathway.required_count,
        required_ects=pathway.required_ects,
    )


def _holdings_of(user: User, *, now: datetime) -> list[pathways.Holding]:
    """Everything the user holds, issued here or imported, as holdings; two queries."""
    issued = IssuedCredential.objects.filter(holder=user)
    return [holding for _user, holding in _issued_holdings(issued, now=now)] + [
        holding for _user, holding in hooks.imported_holdings(user_id=user.pk, now=now)
    ]


def _issued_holdings(
    credentials: QuerySet[IssuedCredential], *, now: datetime
) -> list[tuple[int, pathways.Holding]]:
    """(holder id, holding) per credential: valid when issued (not suspended or revoked)
    and not expired; ECTS as the version it was issued under states them."""
    # Only the snapshot's ECTS, as text: no snapshot is decoded per credential.
    rows = credentials.annotate(
        snapshot_ects=KeyTextTransform("ects", "version__snapshot")
    ).values_list(
        "holder_id", "version__micro_credential_id", "status", "valid_until", "snapshot_ects"
    )
    return [
        (
            holder_id,
            pathways.Holding(
                key=pathways.local_key(micro_credential_id),
                ects=Decimal(str(ects)) if ects else None,
                valid=status == CredentialStatus.ISSUED
                and (valid_until is None or valid_until > now),
            ),
        )
        for holder_id, micro_credential_id, status, valid_until, ects in rows
    ]
