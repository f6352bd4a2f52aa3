"""Reads of a learner's wallet. Every selector takes who is asking: another learner's
credential, share link or import is a 404, never a 403 that would confirm it exists."""

import functools
import json
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet, TextChoices
from django.db.models.fields.json import KeyTextTransform
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from credentials.catalogue.explanations import concept_label, number_text
from credentials.content_language import in_active_language
from credentials.issuing import selectors as credential_selectors
from credentials.models import CredentialStatus, IssuedCredential
from credentials.standards import credential_summary, pathways
from credentials.standards.did_resolution import url_to_did_web
from learners.models import ImportedCredential, LearnerEvent, PublicProfile, ShareLink


class WalletStatus(TextChoices):
    VALID = "valid", _("Valid")
    SUSPENDED = "suspended", _("Suspended")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")
    UNVERIFIED = "unverified", _("Not verified")


class WalletSort(TextChoices):
    NEWEST = "newest", _("Newest first")
    OLDEST = "oldest", _("Oldest first")


@dataclass(frozen=True, slots=True)
class WalletCard:
    """One credential as the wallet lists it, issued here or imported."""

    imported: bool
    public_id: UUID
    title: str
    institution_key: str  # the issuer's DID (or whatever identifier an import names)
    institution_name: str
    issued_at: datetime | None
    ects: Decimal | None
    eqf_label: str
    status: WalletStatus
    checkable: bool = True  # False for an import whose seal this portal cannot check

    @property
    def status_label(self) -> str:
        return str(self.status.label)

    @property
    def url(self) -> str:
        """Made only for the cards a page shows: reversing a URL costs more than the card."""
        if self.imported:
            return reverse("learners:imported", kwargs={"public_id": self.public_id})
        return wallet_credential_url(self.public_id)

    @property
    def ects_text(self) -> str:
        return number_text(self.ects)


# Cards per page of the wallet: a grid of two, three or four columns fills evenly.
WALLET_PAGE_SIZE = 24


@dataclass(frozen=True, slots=True)
class WalletView:
    """The cards a filter lets through, in the order asked, with their totals, and the page
    of them to show."""

    cards: list[WalletCard]
    total: int  # credentials in the wallet, whatever the filter
    valid_ects: Decimal  # ECTS of the valid credentials shown, on every page
    page: Page[WalletCard]

    @property
    def filtered(self) -> bool:
        return len(self.cards) != self.total

    @property
    def valid_ects_text(self) -> str:
        return number_text(self.valid_ects) or "0"


@dataclass(frozen=True, slots=True)
class Wallet:
    """Every credential of a learner, issued here or imported, as cards."""

    cards: list[WalletCard]

    @property
    def institutions(self) -> list[tuple[str, str]]:
        """(key, name) of every issuer in the wallet, by name."""
        names = {card.institution_key: card.institution_name for card in self.cards}
        return sorted(names.items(), key=lambda item: item[1].casefold())

    def view(
        self,
        *,
        institution: str = "",
        status: str = "",
        sort: str = WalletSort.NEWEST,
        page: str | int | None = 1,
    ) -> WalletView:
        """The cards of one issuer and one status (empty: any), newest or oldest first, undated
        imports last either way; totals count every page, `page` (the last one when past it,
        the first when not a number) is the one to show."""
        shown = [
            card
            for card in self.cards
            if (not institution or card.institution_key == institution)
            and (not status or card.status == status)
        ]
        direction = 1 if sort == WalletSort.OLDEST else -1
        shown.sort(key=lambda card: card.title.casefold())
        shown.sort(
            key=lambda card: (
                card.issued_at is None,
                direction * card.issued_at.timestamp() if card.issued_at else 0,
            )
        )
        return WalletView(
            cards=shown,
            total=len(self.cards),
            valid_ects=_valid_ects(shown),
            page=Paginator(shown, WALLET_PAGE_SIZE).get_page(page),
        )


def issued_status(credential: IssuedCredential, *, now: datetime) -> WalletStatus:
    """Revoked and suspended as the institution set them; expired once valid_until passed."""
    return _issued_wallet_status(credential.status, credential.valid_until, now=now)


def _issued_wallet_status(
    status: str, valid_until: datetime | None, *, now: datetime
) -> WalletStatus:
    if status == CredentialStatus.REVOKED:
        return WalletStatus.REVOKED
    if status == CredentialStatus.SUSPENDED:
        return WalletStatus.SUSPENDED
    if valid_until is not None and valid_until <= now:
        return WalletStatus.EXPIRED
    return WalletStatus.VALID


def imported_status(imported: ImportedCredential, *, now: datetime) -> WalletStatus:
    """Valid only when the portal's verifier said so when it last checked, and not expired
    since; an import it could not check, or that failed a check, is not verified."""
    if not imported.verified:
        return WalletStatus.UNVERIFIED
    if imported.valid_until is not None and imported.valid_until <= now:
        return WalletStatus.EXPIRED
    return WalletStatus.VALID


def wallet_imports(*, user: User) -> QuerySet[ImportedCredential]:
    return ImportedCredential.objects.filter(owner=user).defer("document")


def wallet(*, user: User, now: datetime | None = None) -> Wallet:
    """Every credential of the user as cards, in two queries whatever their number. Issued
    credentials are read as plain values, with only the parts of their version's snapshot a
    card shows: a wallet of hundreds builds in milliseconds."""
    now = now or timezone.now()
    # As text: the database extracts the keys, and nothing is decoded per row (the titles,
    # a JSON object, once per version).
    snapshot = {
        f"snapshot_{key}": KeyTextTransform(key, "version__snapshot")
        for key in ("title", "language", "ects", "eqf_level")
    }
    rows = (
        IssuedCredential.objects.filter(holder=user)
        .order_by("-issued_at", "-pk")
        .annotate(**snapshot)
        .values_list(
            "public_id",
            "issued_at",
            "status",
            "valid_until",
            "institution__slug",
            "institution__name",
            "version_id",
            *snapshot,
        )
    )
    dids: dict[str, str] = {}
    versions: dict[int, tuple[str, Decimal | None, str]] = {}
    cards = []
    for (
        public_id,
        issued_at,
        credential_status,
        valid_until,
        slug,
        institution_name,
        version_id,
        titles,
        language,
        ects,
        eqf_level,
    ) in rows:
        if slug not in dids:
            dids[slug] = url_to_did_web(settings.MESHE_BASE_URL, ("institutions", slug))
        if version_id not in versions:
            versions[version_id] = (
                in_active_language(json.loads(titles), main=language),
                Decimal(str(ects)) if ects else None,
                concept_label(eqf_level or ""),
            )
        title, version_ects, eqf_label = versions[version_id]
        cards.append(
            WalletCard(
                imported=False,
                public_id=public_id,
                title=title,
                institution_key=dids[slug],
                institution_name=institution_name,
                issued_at=issued_at,
                ects=version_ects,
                eqf_label=eqf_label,
                status=_issued_wallet_status(credential_status, valid_until, now=now),
            )
        )
    cards += [_imported_card(imported, now=now) for imported in wallet_imports(user=user)]
    return Wallet(cards=cards)


def _valid_ects(cards: Iterable[WalletCard]) -> Decimal:
    return sum(
        (card.ects for card in cards if card.ects is not None and card.status == "valid"),
        Decimal(0),
    )


def _imported_card(imported: ImportedCredential, *, now: datetime) -> WalletCard:
    return WalletCard(
        imported=True,
        public_id=imported.public_id,
        title=imported.title,
        institution_key=imported.issuer_id or imported.issuer_name,
        institution_name=imported.issuer_name or imported.issuer_id,
        issued_at=imported.issued_at,
        ects=imported.ects,
        eqf_label=concept_label(imported.eqf_level),
        status=imported_status(imported, now=now),
        checkable=imported.checkable,
    )


def wallet_credential_url(public_id: UUID) -> str:
    return reverse("learners:credential", kwargs={"public_id": public_id})


# One credential, its links and imports ---------------------------------------------------------


def wallet_credential(*, user: User, public_id: UUID) -> IssuedCredential:
    """One credential in the user's wallet, with what its page shows; 404 for anyone else's."""
    return credential_selectors.held_credential(user=user, public_id=public_id)


def share_links(*, user: User, credential: IssuedCredential) -> QuerySet[ShareLink]:
    """The user's links to one of their credentials, newest first, revoked ones included."""
    return ShareLink.objects.filter(owner=user, credential=credential)


def share_link_for_owner(*, user: User, public_id: UUID) -> ShareLink:
    """One of the user's share links; 404 for anyone else's."""
    try:
        return ShareLink.objects.select_related("credential").get(
            public_id=public_id, owner=user, credential__holder=user
        )
    except ShareLink.DoesNotExist:
        raise Http404 from None


def shared_link(*, slug: str, now: datetime | None = None) -> ShareLink:
    """The link behind /s/<slug> with its credential, for anyone who has it; 404 once it is
    revoked or expired, or when its owner no longer holds the credential or has no account."""
    now = now or timezone.now()
    link = (
        ShareLink.objects.select_related(
            "owner",
            "credential__institution",
            "credential__version__micro_credential",
            "credential__revocation_list",
            "credential__suspension_list",
        )
        .filter(slug=slug)
        .first()
    )
    if (
        link is None
        or not link.is_active(now)
        or not link.owner.is_active
        or link.credential.holder_id != link.owner_id
    ):
        raise Http404
    return link


def imported_credential(*, user: User, public_id: UUID) -> ImportedCredential:
    """One of the user's imported credentials; 404 for anyone else's."""
    try:
        return ImportedCredential.objects.get(public_id=public_id, owner=user)
    except ImportedCredential.DoesNotExist:
        raise Http404 from None


# Public profile -----------------------------------------------------------------------------


def profile_for_owner(*, user: User) -> PublicProfile | None:
    return PublicProfile.objects.filter(user=user).first()


def public_profile(*, slug: str) -> PublicProfile:
    """A profile its owner switched on; 404 otherwise."""
    profile = (
        PublicProfile.objects.select_related("user")
        .filter(slug=slug, is_public=True, user__is_active=True)
        .first()
    )
    if profile is None:
        raise Http404
    return profile


def profile_credentials(*, profile: PublicProfile) -> list[IssuedCredential]:
    """The credentials the owner chose to show and still holds, newest first."""
    return list(
        profile.credentials.filter(holder_id=profile.user_id)
        .select_related("institution", "version")
        .defer("document")
        .order_by("-issued_at", "-pk")
    )


# Everything about a learner, for the download of their data -----------------------------------


@dataclass(frozen=True, slots=True)
class AccountData:
    user: User
    email_addresses: list[dict[str, object]]
    credentials: list[IssuedCredential]
    share_links: list[ShareLink]
    imports: list[ImportedCredential]
    profile: PublicProfile | None
    profile_credentials: list[UUID]
    events: list[LearnerEvent]


def account_data(*, user: User) -> AccountData:
    """All the personal data the portal holds about the user, documents included."""
    profile = profile_for_owner(user=user)
    return AccountData(
        user=user,
        email_addresses=list(
            EmailAddress.objects.filter(user=user)
            .order_by("-primary", "email")
            .values("email", "verified", "primary")
        ),
        credentials=list(
            IssuedCredential.objects.filter(holder=user)
            .select_related("institution", "version")
            .order_by("issued_at", "pk")
        ),
        share_links=list(
            ShareLink.objects.filter(owner=user).select_related("credential").order_by("pk")
        ),
        imports=list(ImportedCredential.objects.filter(owner=user).order_by("pk")),
        profile=profile,
        profile_credentials=(
            list(profile.credentials.values_list("public_id", flat=True)) if profile else []
        ),
        events=list(LearnerEvent.objects.filter(user=user).order_by("pk")),
    )


def imported_holdings(
    *, user_id: int | None = None, mentioning: Sequence[str] = (), now: datetime
) -> list[tuple[int, pathways.Holding]]:
    """(owner id, holding) per import that names its specification, toward pathways: one
    user's imports, or everyone's that mention one of the URLs. Valid when the verifier said
    so and it has not expired since (the wallet's rule). Answers credentials.hooks."""
    imports = ImportedCredential.objects.all()
    if user_id is not None:
        imports = imports.filter(owner_id=user_id)
    elif mentioning:
        # A coarse text match narrows the rows; the parsed achievement id decides.
        imports = imports.filter(
            functools.reduce(operator.or_, (Q(document__contains=url) for url in mentioning))
        )
    else:
        return []
    found = []
    for imported in imports.only("owner_id", "document", "verification", "valid_until", "ects"):
        try:
            key = credential_summary.achievement_id(credential_summary.parse(imported.document))
        except credential_summary.NotACredential:
            continue
        if not key or key.startswith("local:"):
            continue
        valid = imported.verified and (imported.valid_until is None or imported.valid_until > now)
        found.append(
            (imported.owner_id, pathways.Holding(key=key, ects=imported.ects, valid=valid))
        )
    return found
