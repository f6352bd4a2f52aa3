"""Reads of micro-credentials, issued credentials and status lists, with tenancy checks."""

import json
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time
from uuid import UUID

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from credentials import hooks
from credentials.models import (
    ApiCredential,
    BulkIssueJob,
    BulkIssueRow,
    CredentialStatus,
    Endorsement,
    IssuedCredential,
    IssuedTally,
    MicroCredential,
    MicroCredentialVersion,
    StatusList,
    StatusReason,
    status_reason_shown,
)
from credentials.standards import ob3
from institutions.models import ApiToken, Institution, Membership


def issuable_micro_credentials(*, viewer: Membership) -> QuerySet[MicroCredential]:
    """Published specifications of the viewer's institution."""
    return MicroCredential.objects.filter(
        institution_id=viewer.institution_id, status=MicroCredential.Status.PUBLISHED
    ).order_by("title")


def issued_credentials(
    *, viewer: Membership, search: str = "", status: str = ""
) -> QuerySet[IssuedCredential]:
    """The viewer's institution's credentials, newest first, with what the list shows (not the
    signed document); `search` matches the learner's name or e-mail or the title."""
    credentials = (
        IssuedCredential.objects.filter(institution_id=viewer.institution_id)
        .select_related("version__micro_credential")
        .defer("document", "sealed_edc")
    )
    if search:
        # The titles first, as a short list of versions: each condition then has its own index
        # (pg_trgm on name and e-mail, see migration 0008), which PostgreSQL can OR together.
        versions = list(
            MicroCredentialVersion.objects.filter(
                micro_credential__institution_id=viewer.institution_id,
                micro_credential__title__icontains=search,
            ).values_list("pk", flat=True)
        )
        credentials = credentials.filter(
            Q(holder_name__icontains=search)
            | Q(holder_email__icontains=search)
            | Q(version_id__in=versions)
        )
    if status in CredentialStatus.values:
        credentials = credentials.filter(status=status)
    return credentials.order_by("-issued_at", "-pk")


def issued_count(*, viewer: Membership, status: str = "") -> int:
    """How many credentials the viewer's institution issued (with `status`, if one), from the
    tally the database keeps: the same at a million credentials as at ten."""
    tally = IssuedTally.objects.filter(institution_id=viewer.institution_id)
    if status in CredentialStatus.values:
        tally = tally.filter(status=status)
    return int(tally.aggregate(n=Coalesce(Sum("count"), 0))["n"])


def api_credentials(
    *, viewer: Membership, search: str = "", status: str = ""
) -> QuerySet[ApiCredential]:
    """The credentials the viewer's institution signed through the VC-API, newest first;
    `search` matches the credential's or its subject's id."""
    credentials = ApiCredential.objects.filter(institution_id=viewer.institution_id)
    if search:
        credentials = credentials.filter(
            Q(credential_id__icontains=search) | Q(subject_id__icontains=search)
        )
    if status in CredentialStatus.values:
        credentials = credentials.filter(status=status)
    return credentials.order_by("-issued_at", "-pk")


def api_credential_for_staff(*, viewer: Membership, public_id: UUID) -> ApiCredential:
    """One VC-API credential of the viewer's institution; 404 for any other institution's."""
    try:
        return ApiCredential.objects.select_related(
            "institution", "issued_by", "revocation_list", "suspension_list"
        ).get(public_id=public_id, institution_id=viewer.institution_id)
    except ApiCredential.DoesNotExist:
        raise Http404 from None


def api_credential_for_token(*, token: ApiToken, credential_id: str) -> ApiCredential:
    """A VC-API credential of the token's institution by its id; 404 for any other's."""
    try:
        return ApiCredential.objects.select_related(
            "institution", "revocation_list", "suspension_list"
        ).get(credential_id=credential_id, institution_id=token.institution_id)
    except ApiCredential.DoesNotExist:
        raise Http404 from None


def issued_credentials_by_public_id(
    *, viewer: Membership, public_ids: list[UUID]
) -> QuerySet[IssuedCredential]:
    """The named credentials, as far as they belong to the viewer's institution, by learner,
    with the title the confirmation page lists."""
    return (
        IssuedCredential.objects.filter(
            institution_id=viewer.institution_id, public_id__in=public_ids
        )
        .select_related("version__micro_credential")
        .order_by("holder_name", "pk")
    )


def issued_credential_for_staff(*, viewer: Membership, public_id: UUID) -> IssuedCredential:
    """One credential of the viewer's institution; 404 for any other institution's."""
    try:
        return IssuedCredential.objects.select_related(
            "institution", "version__micro_credential", "revocation_list", "suspension_list"
        ).get(public_id=public_id, institution_id=viewer.institution_id)
    except IssuedCredential.DoesNotExist:
        raise Http404 from None


class PrivateCredential(Http404):
    """The credential exists, but its holder chose not to show it at its own address."""


def public_credential(*, public_id: UUID) -> IssuedCredential:
    """A credential by its unguessable link, as shown to whoever holds the link, unless its
    holder hid it (PrivateCredential, a 404)."""
    try:
        credential = IssuedCredential.objects.select_related(
            "institution", "version__micro_credential", "revocation_list", "suspension_list"
        ).get(public_id=public_id)
    except IssuedCredential.DoesNotExist:
        raise Http404 from None
    if not credential.public_page:
        raise PrivateCredential
    return credential


def downloadable_credential(*, public_id: UUID, user: User | AnonymousUser) -> IssuedCredential:
    """A credential whose files (signed document, EDC, PDF, badge images) are asked for: as
    public_credential for whoever holds the link, and for its holder also while they hide it
    at its own address (their page offers the downloads)."""
    try:
        return public_credential(public_id=public_id)
    except PrivateCredential:
        if isinstance(user, User):
            return held_credential(user=user, public_id=public_id)
        raise


def held_credential(*, user: User, public_id: UUID) -> IssuedCredential:
    """One credential the user holds, with what its pages show; 404 for anyone else's."""
    try:
        return IssuedCredential.objects.select_related(
            "institution", "version__micro_credential", "revocation_list", "suspension_list"
        ).get(public_id=public_id, holder=user)
    except IssuedCredential.DoesNotExist:
        raise Http404 from None


def published_status_list(*, slug: str, purpose: str, number: int) -> StatusList:
    """A status list as published: its signed credential and ETag, nothing else."""
    try:
        return StatusList.objects.only("document", "etag", "updated_at").get(
            institution__slug=slug, purpose=purpose, number=number
        )
    except StatusList.DoesNotExist:
        raise Http404 from None


def micro_credential_version(*, public_id: UUID, number: int) -> MicroCredentialVersion:
    """A version of a specification, as identified in the credentials issued under it."""
    try:
        return MicroCredentialVersion.objects.select_related("micro_credential__institution").get(
            micro_credential__public_id=public_id, number=number
        )
    except MicroCredentialVersion.DoesNotExist:
        raise Http404 from None


def micro_credentials_for_staff(*, viewer: Membership) -> QuerySet[MicroCredential]:
    """All specifications of the viewer's institution, with how often each was issued."""
    return (
        MicroCredential.objects.filter(institution_id=viewer.institution_id)
        .annotate(issued_count=Count("versions__issued_credentials"))
        .order_by("status", "title")
    )


def micro_credential_for_staff(*, viewer: Membership, public_id: UUID) -> MicroCredential:
    """One specification of the viewer's institution; 404 for any other institution's."""
    try:
        return MicroCredential.objects.select_related("institution").get(
            public_id=public_id, institution_id=viewer.institution_id
        )
    except MicroCredential.DoesNotExist:
        raise Http404 from None


def bulk_job_for_staff(*, viewer: Membership, public_id: UUID) -> BulkIssueJob:
    """A bulk issue job of the viewer's institution; 404 for any other institution's."""
    try:
        return BulkIssueJob.objects.select_related("micro_credential").get(
            public_id=public_id, institution_id=viewer.institution_id
        )
    except BulkIssueJob.DoesNotExist:
        raise Http404 from None


def bulk_rows_with_errors(*, job: BulkIssueJob) -> QuerySet[BulkIssueRow]:
    return job.rows.filter(status=BulkIssueRow.Status.INVALID).order_by("number")


def bulk_rows(*, job: BulkIssueJob) -> QuerySet[BulkIssueRow]:
    """Every row with its credential, for the report."""
    return job.rows.select_related("credential").order_by("number")


@dataclass(frozen=True, slots=True)
class StatusNotice:
    """Since when, and why, a credential is revoked or suspended. Anyone may learn the status
    and the date; the reason is for the learner and staff only."""

    status: str
    since: datetime
    reason_code: str
    reason: str

    @property
    def since_date(self) -> date:
        return timezone.localdate(self.since)

    @property
    def reason_text(self) -> str:
        """The listed reason in the active language, then the staff's words."""
        label = StatusReason(self.reason_code).label if self.reason_code else ""
        reason = status_reason_shown(self.reason)
        if label and reason:
            return f"{label}: {reason}"
        return str(label) or reason


def status_notice(*, credential: IssuedCredential) -> StatusNotice | None:
    """The latest revocation or suspension of a credential that is revoked or suspended now;
    None when it is valid."""
    if credential.status == CredentialStatus.ISSUED:
        return None
    event = (
        credential.events.filter(action=credential.status).order_by("-created_at", "-pk").first()
    )
    if event is None:
        # Older rows may lack the event; the status still stands, dated from the issuing.
        return StatusNotice(
            status=credential.status, since=credential.issued_at, reason_code="", reason=""
        )
    return StatusNotice(
        status=credential.status,
        since=event.created_at,
        reason_code=event.reason_code,
        reason=event.reason,
    )


def carried_endorsements(*, credential: IssuedCredential) -> list[Endorsement]:
    """The endorsements a credential of this node carries, with what the last check of each
    found (a revoked one shows as revoked), in the order the credential lists them."""
    ids = [
        endorsement.get("id")
        for endorsement in ob3.embedded_endorsements(json.loads(credential.document))
        if isinstance(endorsement, dict)
    ]
    if not ids:
        return []
    rows = {
        row.credential_id: row
        for row in Endorsement.objects.filter(
            micro_credential_id=credential.version.micro_credential_id, credential_id__in=ids
        )
    }
    return [rows[each] for each in ids if each in rows]


def status_reason(*, credential: IssuedCredential) -> str:
    """Why a revoked or suspended credential is so, for its learner and staff: never public."""
    notice = status_notice(credential=credential)
    return notice.reason_text if notice else ""


# What an API token may reach ----------------------------------------------------------


def micro_credential_for_token(*, token: ApiToken, public_id: UUID) -> MicroCredential:
    """A specification of the token's institution; 404 for any other institution's."""
    try:
        return MicroCredential.objects.select_related("institution").get(
            public_id=public_id, institution_id=token.institution_id
        )
    except MicroCredential.DoesNotExist:
        raise Http404 from None


def issued_credential_for_token(*, token: ApiToken, public_id: UUID) -> IssuedCredential:
    """A credential of the token's institution; 404 for any other institution's."""
    try:
        return IssuedCredential.objects.select_related(
            "institution", "version__micro_credential"
        ).get(public_id=public_id, institution_id=token.institution_id)
    except IssuedCredential.DoesNotExist:
        raise Http404 from None


@dataclass(frozen=True)
class CredentialFilters:
    """What an API client may narrow the list of credentials by; None means any."""

    status: str | None = None
    micro_credential: UUID | None = None
    holder_email: str | None = None
    issued_after: datetime | None = None
    issued_before: datetime | None = None


def issued_credentials_for_token(
    *,
    token: ApiToken,
    filters: CredentialFilters,
    after: tuple[datetime, UUID] | None = None,
    limit: int,
) -> list[IssuedCredential]:
    """Up to `limit` credentials of the token's institution, newest first, strictly after the
    cursor position `after` (issued_at, public_id), so pages never repeat or skip a row."""
    credentials = IssuedCredential.objects.filter(institution_id=token.institution_id)
    if filters.status is not None:
        credentials = credentials.filter(status=filters.status)
    if filters.micro_credential is not None:
        credentials = credentials.filter(
            version__micro_credential__public_id=filters.micro_credential
        )
    if filters.holder_email is not None:
        credentials = credentials.filter(holder_email__iexact=filters.holder_email)
    if filters.issued_after is not None:
        credentials = credentials.filter(issued_at__gte=filters.issued_after)
    if filters.issued_before is not None:
        credentials = credentials.filter(issued_at__lt=filters.issued_before)
    if after is not None:
        issued_at, public_id = after
        credentials = credentials.filter(
            Q(issued_at__lt=issued_at) | Q(issued_at=issued_at, public_id__lt=public_id)
        )
    return list(
        credentials.select_related("institution", "version__micro_credential").order_by(
            "-issued_at", "-public_id"
        )[:limit]
    )


@dataclass(frozen=True)
class InstitutionNumbers:
    issued: int
    claimed: int
    revoked: int
    suspended: int
    per_month: list[tuple[date, int]]
    per_specification: list[tuple[str, int]]
    # Credentials sent to partners for recognition, and what became of them.
    sent: int
    delivered: int
    recognised: int
    declined: int
    failed: int

    @property
    def claim_rate(self) -> int:
        """Percentage of credentials their learners have taken into a wallet."""
        return round(100 * self.claimed / self.issued) if self.issued else 0


def institution_numbers(*, viewer: Membership, months: int = 12) -> InstitutionNumbers:
    """The dashboard's figures for the viewer's institution, in three queries: the tally the
    database keeps (IssuedTally, one row per version, month, status and claimed), the hours
    around each month's start, and the deliveries. Their cost follows the months and the
    specifications, not the credentials: the same at a million credentials as at ten."""
    buckets = (
        IssuedTally.objects.filter(institution_id=viewer.institution_id, count__gt=0)
        .values_list("month", "status", "claimed", "version__micro_credential__title")
        .annotate(n=Sum("count"))
    )
    totals = dict.fromkeys(("issued", "claimed", "revoked", "suspended"), 0)
    by_month: dict[date, int] = {}
    by_title: dict[str, int] = {}
    for month, status, claimed, title, n in buckets:
        totals["issued"] += n
        totals["claimed"] += n if claimed else 0
        if status in (CredentialStatus.REVOKED, CredentialStatus.SUSPENDED):
            totals[status] += n
        by_month[month] = by_month.get(month, 0) + n
        by_title[title] = by_title.get(title, 0) + n
    today = timezone.localdate()
    first_month = today.year * 12 + today.month - 1 - (months - 1)
    firsts = [
        date((first_month + n) // 12, (first_month + n) % 12 + 1, 1) for n in range(months + 1)
    ]
    per_month = list(
        zip(
            firsts[:-1],
            _issued_per_local_month(viewer.institution_id, firsts, by_month),
            strict=True,
        )
    )
    per_specification = sorted(by_title.items(), key=lambda item: (-item[1], item[0]))
    sent = hooks.delivery_counts(institution_id=viewer.institution_id)
    return InstitutionNumbers(
        per_month=per_month, per_specification=per_specification, **totals, **asdict(sent)
    )


def _issued_per_local_month(
    institution_id: int, firsts: list[date], by_utc_month: dict[date, int]
) -> list[int]:
    """Credentials issued in each month between consecutive `firsts`, months of the current time
    zone, from the tally's counts per UTC month. A local month starts up to a day before or after
    its UTC month, so each count is its UTC month's, plus the credentials between the local start
    and the UTC start, less those between the next month's two starts (short ranges of the
    (institution, issued_at) index, counted in one query)."""
    local = [timezone.make_aware(datetime.combine(first, time())) for first in firsts]
    utc = [datetime(first.year, first.month, 1, tzinfo=UTC) for first in firsts]
    edges = [(min(start, zone), max(start, zone)) for start, zone in zip(local, utc, strict=True)]
    # One query of one indexed range count per edge: an OR of the ranges would scan on SQLite.
    edge_counts = {
        f"edge{n}": Coalesce(
            Subquery(
                IssuedCredential.objects.filter(
                    institution_id=OuterRef("pk"), issued_at__gte=low, issued_at__lt=high
                )
                .order_by()
                .values("institution_id")
                .annotate(n=Count("pk"))
                .values("n")
            ),
            0,
        )
        for n, (low, high) in enumerate(edges)
    }
    counted = (
        Institution.objects.filter(pk=institution_id)
        .annotate(**edge_counts)
        .values_list(*edge_counts)
        .get()
    )
    # Credentials in [local start, UTC start) belong to the local month but the previous UTC
    # month: + when the local month starts first, - when it starts after.
    shift = [counted[n] if local[n] < utc[n] else -counted[n] for n in range(len(firsts))]
    return [
        by_utc_month.get(first, 0) + shift[n] - shift[n + 1] for n, first in enumerate(firsts[:-1])
    ]
