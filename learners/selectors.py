"""Reads of a learner's wallet. Every selector takes who is asking: another learner's
credential, share link or import is a 404, never a 403 that would confirm it exists."""

import functools
import json
import operator
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
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
from credentials.issuing import verifier
from credentials.issuing.services import claim_token_hash
from credentials.models import CredentialStatus, IssuedCredential
from credentials.standards import credential_summary, pathways
from credentials.standards.did_resolution import url_to_did_web
from institutions import hooks as institution_hooks
from learners.models import ImportedCredential, LearnerEvent, PublicProfile, ShareLink


class WalletStatus(TextChoices):
    VALID = "valid", _("Valid")
    SUSPENDED = "suspended", _("Suspended")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")
    UNVERIFIED = "unverified", _("Not verified")


class NotCounted(TextChoices):
    """Why a credential in the wallet is left out of its totals and pathways."""

    NOT_VALID = "not_valid", _("revoked, suspended, expired or not verified")
    OTHER_PERSON = "other_person", _("issued to another person")
    UNKNOWN_HOLDER = "unknown_holder", _("not shown to be issued to you")
    UNKNOWN_ISSUER = "unknown_issuer", _("from an issuer this portal does not know")


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
    # Whether this portal vouches for the issuer's name (issued here, or signed by an issuer it
    # knows); otherwise the name is only what the credential calls its issuer.
    issuer_confirmed: bool = True
    not_counted: NotCounted | None = None  # None: it counts toward totals and pathways
    holder: str = ""  # for an import: ImportedCredential.Holder
    badge_url: str = ""  # the badge picture of a credential issued here; none for an import

    @property
    def status_label(self) -> str:
        if self.status == WalletStatus.VALID and not self.issuer_confirmed:
            # Not the green "Valid" of a credential this portal can vouch for.
            return str(_("Signature valid, issuer not confirmed"))
        return str(self.status.label)

    @property
    def status_class(self) -> str:
        if self.status == WalletStatus.VALID and not self.issuer_confirmed:
            return "unconfirmed"
        return str(self.status)

    @property
    def counted(self) -> bool:
        return self.not_counted is None

    @property
    def not_counted_label(self) -> str:
        return str(self.not_counted.label) if self.not_counted else ""

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
    # ECTS of the credentials shown that count (see counts_toward_totals), on every page.
    valid_ects: Decimal
    page: Page[WalletCard]

    @property
    def filtered(self) -> bool:
        return len(self.cards) != self.total

    @property
    def valid_ects_text(self) -> str:
        return number_text(self.valid_ects) or "0"

    @property
    def counted(self) -> int:
        return sum(1 for card in self.cards if card.counted)

    @property
    def not_counted(self) -> list[tuple[NotCounted, int]]:
        """(reason, how many) of the credentials shown that do not count, in a fixed order."""
        found = Counter(card.not_counted for card in self.cards if card.not_counted)
        return [(reason, found[reason]) for reason in NotCounted if found[reason]]


@dataclass(frozen=True, slots=True)
class Wallet:
    """Every credential of a learner, issued here or imported, as cards."""

    cards: list[WalletCard]

    @property
    def institutions(self) -> list[tuple[str, str]]:
        """(key, label) of every issuer in the wallet, one per identity (its DID), by name. A
        name only the credential gives is marked self-declared, and told apart by its
        identifier when two issuers call themselves the same."""
        names: dict[str, tuple[str, bool]] = {}
        for card in self.cards:
            if card.issuer_confirmed or card.institution_key not in names:
                names[card.institution_key] = (card.institution_name, card.issuer_confirmed)
        labels = {}
        for key, (name, confirmed) in names.items():
            labels[key] = (
                name if confirmed else _("%(name)s (self-declared)") % {"name": name or key}
            )
        uses = Counter(labels.values())
        for key, label in labels.items():
            if uses[label] > 1 and not names[key][1]:
                labels[key] = f"{label} · {key[-12:]}"
        return sorted(labels.items(), key=lambda item: item[1].casefold())

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


def wallet_imports(*, user: User) -> list[ImportedCredential]:
    """The user's imports, less copies of credentials issued here that the user holds."""
    imports = list(ImportedCredential.objects.filter(owner=user).defer("document"))
    copies = _copies_of_held(imports)
    return [imported for imported in imports if imported.pk not in copies]


def _copies_of_held(imports: Iterable[ImportedCredential]) -> set[int]:
    """The pks of imports of a credential this portal issued to their owner, who holds it: made
    before such imports were refused, and claimed since. The issued copy is the one shown and
    counted (its status is live); the import is left out, so nothing counts twice."""
    stated: dict[UUID, list[ImportedCredential]] = {}
    for imported in imports:
        if not imported.credential_id.startswith("urn:uuid:"):
            continue
        try:
            public_id = UUID(imported.credential_id.removeprefix("urn:uuid:"))
        except ValueError:
            continue
        stated.setdefault(public_id, []).append(imported)
    if not stated:
        return set()
    holders = dict(
        IssuedCredential.objects.filter(public_id__in=stated, holder__isnull=False).values_list(
            "public_id", "holder_id"
        )
    )
    return {
        imported.pk
        for public_id, imports_of_it in stated.items()
        for imported in imports_of_it
        if holders.get(public_id) == imported.owner_id
    }


def wallet(*, user: User, now: datetime | None = None) -> Wallet:
    """Every credential of the user as cards, in two queries whatever their number (three when
    an import states the id of a credential issued here). Issued
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
            "version__micro_credential__public_id",
            "version__number",
            *snapshot,
        )
    )
    dids: dict[str, str] = {}
    versions: dict[int, tuple[str, Decimal | None, str, str]] = {}
    cards = []
    for (
        public_id,
        issued_at,
        credential_status,
        valid_until,
        slug,
        institution_name,
        version_id,
        specification_id,
        version_number,
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
                reverse(
                    "credentials:specification_badge",
                    kwargs={"public_id": specification_id, "number": version_number},
                ),
            )
        title, version_ects, eqf_label, badge_url = versions[version_id]
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
                status=(status := _issued_wallet_status(credential_status, valid_until, now=now)),
                not_counted=counts_toward_totals(
                    status=status, holder_is_owner=True, holder="", issuer_confirmed=True
                ),
                badge_url=badge_url,
            )
        )
    imports = wallet_imports(user=user)
    known = issuer_names_known_to_portal(imported.issuer_id for imported in imports)
    cards += [_imported_card(imported, now=now, known=known) for imported in imports]
    return Wallet(cards=cards)


def _valid_ects(cards: Iterable[WalletCard]) -> Decimal:
    return sum((card.ects for card in cards if card.ects is not None and card.counted), Decimal(0))


def issuer_names_known_to_portal(issuer_ids: Iterable[str]) -> dict[str, str]:
    """{issuer id: name} for the issuers this portal knows: institutions of this node and
    partners both sides confirmed, by the verifier's own directory (its "Known issuer" check),
    asked once per issuer and now, not when the credential was imported. The one place the
    wallet decides "known issuer"."""
    directory = verifier.node_dependencies()["issuer_directory"]
    known = {}
    for issuer_id in set(issuer_ids):
        name = directory(issuer_id) if issuer_id.startswith("did:") else None
        if name:
            known[issuer_id] = str(name)
    return known


def _signature_holds(verification: dict[str, Any] | None) -> bool:
    """Whether the verifier found the signature valid and made with the issuer's key, which is
    what lets the issuer's identifier, and so its name, be trusted."""
    checks = {check["check"]: check["ok"] for check in (verification or {}).get("checks", [])}
    return bool(checks.get("proof") and checks.get("issuer_key"))


def counts_toward_totals(
    *, status: WalletStatus, holder_is_owner: bool, holder: str, issuer_confirmed: bool
) -> NotCounted | None:
    """Why a credential is left out of the wallet's totals and pathways, or None when it counts:
    it must be valid, the learner's, and from an issuer this portal knows. The one rule both
    the totals and the pathways use."""
    if status != WalletStatus.VALID:
        return NotCounted.NOT_VALID
    if not holder_is_owner:
        if holder == ImportedCredential.Holder.OTHER:
            return NotCounted.OTHER_PERSON
        return NotCounted.UNKNOWN_HOLDER
    if not issuer_confirmed:
        return NotCounted.UNKNOWN_ISSUER
    return None


def _import_standing(
    imported: ImportedCredential, *, now: datetime, known: dict[str, str]
) -> tuple[WalletStatus, str | None, NotCounted | None]:
    """(status, the name this portal knows its issuer by or None, why it does not count)."""
    status = imported_status(imported, now=now)
    known_name = known.get(imported.issuer_id) if _signature_holds(imported.verification) else None
    return (
        status,
        known_name,
        counts_toward_totals(
            status=status,
            holder_is_owner=imported.holder_is_owner,
            holder=imported.holder,
            issuer_confirmed=known_name is not None,
        ),
    )


def _imported_card(
    imported: ImportedCredential, *, now: datetime, known: dict[str, str]
) -> WalletCard:
    status, known_name, not_counted = _import_standing(imported, now=now, known=known)
    return WalletCard(
        imported=True,
        public_id=imported.public_id,
        title=imported.title,
        institution_key=imported.issuer_id or imported.issuer_name,
        institution_name=known_name or imported.issuer_name or imported.issuer_id,
        issued_at=imported.issued_at,
        ects=imported.ects,
        eqf_label=concept_label(imported.eqf_level),
        status=status,
        checkable=imported.checkable,
        issuer_confirmed=known_name is not None,
        not_counted=not_counted,
        holder=imported.holder,
    )


def imported_standing(
    imported: ImportedCredential, *, now: datetime | None = None
) -> tuple[WalletStatus, str | None, NotCounted | None]:
    """For one import's page: its status, the name this portal knows its issuer by (None:
    the name is self-declared), and why it does not count toward totals, if it does not."""
    now = now or timezone.now()
    known = issuer_names_known_to_portal([imported.issuer_id])
    return _import_standing(imported, now=now, known=known)


def wallet_credential_url(public_id: UUID) -> str:
    return reverse("learners:credential", kwargs={"public_id": public_id})


# Claim links --------------------------------------------------------------------------------


class ClaimState(StrEnum):
    OPEN = "open"
    EXPIRED = "expired"
    USED = "used"
    UNKNOWN = "unknown"  # replaced by a newer link, or never sent


@dataclass(frozen=True, slots=True)
class ClaimLink:
    """What a claim link may say to whoever opens it: the credential and its institution (the
    link is the learner's, mailed to them), and whether it can still be used; never who used it."""

    state: ClaimState
    title: str = ""
    institution: str = ""
    credential: IssuedCredential | None = None

    def claimed_by(self, user: User | AnonymousUser) -> bool:
        """Whether `user` is the learner whose wallet the credential is in."""
        return (
            self.credential is not None
            and user.is_authenticated
            and self.credential.holder_id == user.pk
        )


def claim_link(*, token: str, now: datetime | None = None) -> ClaimLink:
    """The credential behind a claim link and the link's state; UNKNOWN (naming nothing) for a
    link replaced by a newer one or never sent."""
    now = now or timezone.now()
    credential = (
        IssuedCredential.objects.select_related("institution", "version")
        .defer("document")
        .filter(claim_token_hash=claim_token_hash(token))
        .first()
    )
    if credential is None:
        return ClaimLink(state=ClaimState.UNKNOWN)
    if credential.claim_expires_at is None:
        state = ClaimState.USED
    elif credential.claim_expires_at <= now:
        state = ClaimState.EXPIRED
    else:
        state = ClaimState.OPEN
    return ClaimLink(
        state=state,
        title=credential.version.localized_title,
        institution=credential.institution.name,
        credential=credential,
    )


# One credential, its links and imports ---------------------------------------------------------


def wallet_credential(*, user: User, public_id: UUID) -> IssuedCredential:
    """One credential in the user's wallet, with what its page shows; 404 for anyone else's."""
    return credential_selectors.held_credential(user=user, public_id=public_id)


def share_links(*, user: User, credential: IssuedCredential) -> QuerySet[ShareLink]:
    """The user's links to one of their credentials, newest first, revoked ones included."""
    return ShareLink.objects.filter(owner=user, credential=credential)


def address_to_share(
    *, credential: IssuedCredential, links: Sequence[ShareLink], now: datetime
) -> str:
    """The address the credential page offers to share: its own while anyone with it may see
    the credential, else the newest share link that still works, else "" (nothing to share
    until the learner shows it again or makes a link). `links` are the credential's, newest
    first, as share_links gives them."""
    if credential.public_page:
        return settings.MESHE_BASE_URL + credential.get_absolute_url()
    for link in links:
        if link.is_active(now):
            return link.url
    return ""


def recognition_possible(*, credential: IssuedCredential) -> bool:
    """Whether the credential's institution has a partner it can send it to for recognition
    (a partnership both sides confirmed). One query."""
    partners = institution_hooks.public_partners(institution=credential.institution)
    if isinstance(partners, QuerySet):
        return partners.exists()
    return any(True for _partner in partners)


def share_link_for_owner(*, user: User, public_id: UUID) -> ShareLink:
    """One of the user's share links; 404 for anyone else's."""
    try:
        return ShareLink.objects.select_related("credential__version").get(
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
        .select_related("institution", "version__micro_credential")
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
    user's imports, or everyone's that mention one of the URLs. Valid when it counts toward
    the wallet's totals (counts_toward_totals: valid, the learner's, from an issuer this portal
    knows). Answers credentials.hooks."""
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
    rows = list(
        imports.only(
            "owner_id",
            "credential_id",
            "document",
            "verification",
            "valid_until",
            "ects",
            "issuer_id",
            "holder",
            "format",
        )
    )
    known = issuer_names_known_to_portal(imported.issuer_id for imported in rows)
    copies = _copies_of_held(rows)
    found = []
    for imported in rows:
        if imported.pk in copies:
            continue
        try:
            key = credential_summary.achievement_id(credential_summary.parse(imported.document))
        except credential_summary.NotACredential:
            continue
        if not key or key.startswith("local:"):
            continue
        _status, _name, not_counted = _import_standing(imported, now=now, known=known)
        found.append(
            (
                imported.owner_id,
                pathways.Holding(key=key, ects=imported.ects, valid=not_counted is None),
            )
        )
    return found
