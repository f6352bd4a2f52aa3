"""The catalogue exchange: our feed for partners, the sync of partners' feeds into
PartnerOffer rows, and what staff do with those offers (adopt them for recognition).

Selectors (reads) come first, then services (writes). The feed's format is in
exchange.catalogue_feed, which runs no queries.
"""

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final
from urllib.parse import urlencode, urlsplit
from uuid import UUID

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from credentials import documents
from credentials.catalogue import practical
from credentials.issuing import services as credential_services
from credentials.models import Endorsement, MicroCredential, MicroCredentialVersion
from credentials.standards import ob3, vocabularies
from credentials.standards.achievement import Award, Holder
from exchange import catalogue_elm, catalogue_feed, outbox, transport
from exchange.exceptions import ExchangeError
from exchange.models import NoticeKind, OfferRecognition, Partner, PartnerOffer, PartnerStatus
from institutions import selectors as institution_selectors
from institutions.models import Institution, Membership
from institutions.services import audit

logger = logging.getLogger(__name__)

# How far back from the stored watermark a sync asks again: a specification saved in a
# transaction that commits after a sync read a later one still has the earlier time.
WATERMARK_OVERLAP: Final = timedelta(minutes=2)
# A runaway feed (or one whose `next` loops) stops here; the next run goes on from the watermark.
MAX_PAGES_PER_RUN: Final = 200
# A sync that started this long ago without finishing was lost with its worker.
SYNC_STALE_AFTER: Final = timedelta(minutes=35)  # past the task's time limit
FEED_STATUSES: Final = (MicroCredential.Status.PUBLISHED, MicroCredential.Status.RETIRED)


# ================================================================== selectors: our feed


@dataclass(frozen=True, slots=True)
class FeedPage:
    body: bytes
    etag: str


def _code(uri: str) -> str:
    """The last segment of a vocabulary URI: "http://…/isced-f/0613" → "0613"."""
    return uri.rstrip("/").rsplit("/", 1)[-1] if uri else ""


def _achievement_json(version: MicroCredentialVersion, institution: Institution) -> dict[str, Any]:
    """The OB 3.0 Achievement of a version, exactly as in the credentials issued under it."""
    # ob3 builds the Achievement only inside a credential; the holder and award here are
    # placeholders that the Achievement does not depend on (no grade: a grade scheme alone
    # decides resultDescription).
    now = datetime(2000, 1, 1, tzinfo=UTC)
    credential = ob3.build_achievement_credential(
        issuer=documents.issuer(institution),
        specification=documents.specification(version),
        holder=Holder(name="-", identity_hash="sha256$-", salt="-"),
        award=Award(
            credential_id="urn:uuid:00000000-0000-0000-0000-000000000000",
            public_url=version.url,
            issued_at=now,
            awarded_date=now.date(),
        ),
    )
    achievement: dict[str, Any] = credential["credentialSubject"]["achievement"]
    return achievement


def specification_feed_item(
    spec: MicroCredential, version: MicroCredentialVersion
) -> dict[str, Any]:
    """The feed item of a specification and its latest version; runs no query when
    version.micro_credential is spec and spec.institution is loaded."""
    snapshot = version.snapshot
    language = snapshot["language"]
    title = snapshot["title"][language]
    try:
        achievement = _achievement_json(version, spec.institution)
    except (ValueError, vocabularies.UnknownConcept):
        # Published specifications passed these checks; one that no longer does (a vocabulary
        # update) is still listed, so partners learn of it being withdrawn.
        logger.warning("Achievement of %s v%s cannot be built", spec.public_id, version.number)
        achievement = {"id": version.url, "type": ["Achievement"], "name": title}
    eqf = _code(snapshot["eqf_level"])
    return catalogue_feed.feed_item(
        id=settings.MESHE_BASE_URL
        + reverse("credentials:offer", kwargs={"public_id": spec.public_id}),
        modified=spec.updated_at,
        status=(
            catalogue_feed.STATUS_PUBLISHED
            if spec.status == MicroCredential.Status.PUBLISHED
            else catalogue_feed.STATUS_WITHDRAWN
        ),
        achievement=achievement,
        title=title,
        language=language,
        ects=Decimal(snapshot["ects"]),
        eqf_level=int(eqf) if eqf.isdigit() else None,
        isced_field=_code(snapshot["isced_field"]),
        participation=_code(snapshot["form_of_participation"]),
        stacks_into=[ref["url"] for ref in snapshot["part_of"]] if snapshot["is_partial"] else None,
        # From the specification itself: practical information is not versioned.
        practical=practical.feed_summary(
            practical.from_micro_credential(spec, assume_main_language=False)
        ),
    )


def catalogue_feed_page(
    *,
    partner: Partner,
    feed_url: str,
    modified_since: datetime | None,
    after: tuple[datetime, int] | None,
    limit: int,
) -> FeedPage:
    """One page of the feed of partner.institution for that partner, in two queries.

    Published and retired specifications (never drafts), by (updated_at, id), from
    modified_since inclusive and after the cursor position. Raises PermissionDenied unless the
    partnership is agreed.
    """
    if partner.status != PartnerStatus.CONFIRMED:
        raise PermissionDenied
    specs = MicroCredential.objects.filter(
        institution_id=partner.institution_id, status__in=FEED_STATUSES
    ).select_related("institution")
    if modified_since is not None:
        specs = specs.filter(updated_at__gte=modified_since)
    if after is not None:
        moment, pk = after
        specs = specs.filter(Q(updated_at__gt=moment) | Q(updated_at=moment, pk__gt=pk))
    rows = list(specs.order_by("updated_at", "pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    latest = MicroCredentialVersion.objects.filter(
        micro_credential_id__in=[row.pk for row in rows],
        number=Subquery(
            MicroCredentialVersion.objects.filter(
                micro_credential_id=OuterRef("micro_credential_id")
            )
            .order_by("-number")
            .values("number")[:1]
        ),
    )
    versions = {version.micro_credential_id: version for version in latest}
    items = []
    for spec in rows:
        version = versions.get(spec.pk)
        if version is None:  # retired before it was ever published: nothing to tell
            continue
        version.micro_credential = spec  # spares a query per item
        items.append(specification_feed_item(spec, version))
    next_url = None
    if more:
        last = rows[-1]
        cursor = catalogue_feed.encode_cursor(modified=last.updated_at, pk=last.pk)
        next_url = feed_url + "?" + urlencode({"cursor": cursor, "limit": limit})
    if rows:
        watermark: str | None = catalogue_feed.format_time(rows[-1].updated_at)
    elif modified_since is not None:
        watermark = catalogue_feed.format_time(modified_since)
    else:
        watermark = None
    body = catalogue_feed.page_body(items=items, next_url=next_url, watermark=watermark)
    return FeedPage(body=body, etag=catalogue_feed.etag(body))


# ================================================================== selectors: staff


def offers_for_staff(
    *, viewer: Membership, partner_id: UUID | None = None
) -> QuerySet[PartnerOffer]:
    """The offers of every partner of the viewer's institution (or of one), current first."""
    offers = PartnerOffer.objects.filter(partner__institution_id=viewer.institution_id)
    if partner_id is not None:
        offers = offers.filter(partner__public_id=partner_id)
    return offers.select_related("partner", "adopted_by").order_by("withdrawn_at", "title", "pk")


def offer_for_staff(*, viewer: Membership, public_id: UUID) -> PartnerOffer:
    """One offer of a partner of the viewer's institution; 404 for anyone else's."""
    try:
        return PartnerOffer.objects.select_related("partner", "adopted_by").get(
            partner__institution_id=viewer.institution_id, public_id=public_id
        )
    except PartnerOffer.DoesNotExist:
        raise Http404 from None


def endorsements_for_staff(*, viewer: Membership, offer: PartnerOffer) -> list[Endorsement]:
    """Our institution's endorsements of a partner's offer, newest first."""
    return list(
        Endorsement.objects.filter(
            source=Endorsement.Source.ISSUED,
            endorser_institution_id=viewer.institution_id,
            subject_id=offer.remote_id,
        ).order_by("-issued_at", "-pk")
    )


def endorsement_for_staff(
    *, viewer: Membership, offer: PartnerOffer, public_id: UUID
) -> Endorsement:
    """One of our institution's endorsements of the offer; 404 for anyone else's."""
    endorsement = Endorsement.objects.filter(
        public_id=public_id,
        source=Endorsement.Source.ISSUED,
        endorser_institution_id=viewer.institution_id,
        subject_id=offer.remote_id,
    ).first()
    if endorsement is None:
        raise Http404
    return endorsement


def sync_is_running(partner: Partner, *, now: datetime | None = None) -> bool:
    """Whether a sync started and has not finished (and was not lost with its worker)."""
    now = now or timezone.now()
    return (
        partner.sync_started_at is not None
        and partner.sync_finished_at is None
        and partner.sync_started_at > now - SYNC_STALE_AFTER
    )


def _can_sync(viewer: Membership) -> bool:
    return viewer.role in institution_selectors.ISSUE


def require_sync_role(*, viewer: Membership) -> None:
    """Raises PermissionDenied unless the viewer may start a sync or adopt offers."""
    if not _can_sync(viewer):
        raise PermissionDenied


# ================================================================== services: the sync


def _claim(partner_id: int, now: datetime) -> Partner | None:
    """Marks the sync of a confirmed partner started, unless one is running; the row or None."""
    not_running = (
        Q(sync_started_at__isnull=True)
        | Q(sync_finished_at__isnull=False)
        | Q(sync_started_at__lt=now - SYNC_STALE_AFTER)
    )
    claimed = Partner.objects.filter(
        not_running, pk=partner_id, status=PartnerStatus.CONFIRMED
    ).update(sync_started_at=now, sync_finished_at=None, sync_pages=0, sync_offers=0, sync_error="")
    if not claimed:
        return None
    return Partner.objects.select_related("institution").get(pk=partner_id)


# The partner setting that names a catalogue published as ELM v3 learning opportunities
# (exchange.catalogue_elm) instead of MESHE's signed feed: the key of Partner.endpoints.
ELM_CATALOGUE: Final = "elmCatalogue"
ELM_ACCEPT: Final = "application/ld+json, application/json;q=0.9"


def catalogue_format(partner: Partner) -> str:
    """ "meshe" for a partner whose node lists MESHE's signed catalogue endpoint, "elm" for one
    whose catalogue is an ELM feed (Partner.endpoints["elmCatalogue"]), "" for neither."""
    endpoints = partner.endpoints if isinstance(partner.endpoints, dict) else {}
    if endpoints.get("catalogue"):
        return "meshe"
    if endpoints.get(ELM_CATALOGUE):
        return "elm"
    return ""


def _first_url(partner: Partner) -> str:
    url = partner.endpoints.get("catalogue") if isinstance(partner.endpoints, dict) else None
    if not isinstance(url, str) or not url:
        raise catalogue_feed.FeedError("the partner lists no catalogue endpoint")
    if partner.catalogue_watermark:
        since = catalogue_feed.parse_time(partner.catalogue_watermark) - WATERMARK_OVERLAP
        url += ("&" if "?" in url else "?") + urlencode(
            {"modified_since": catalogue_feed.format_time(since)}
        )
    return url


@transaction.atomic
def _page_store(
    *, partner: Partner, page: catalogue_feed.ReceivedPage, etag: str | None
) -> tuple[int, int]:
    """Upserts one page's offers and advances the watermark, together; (stored, withdrawn)."""
    now = timezone.now()
    rows = [
        PartnerOffer(
            partner=partner,
            remote_id=item.remote_id,
            document=item.document,
            title=item.title,
            language=item.language,
            ects=item.ects,
            eqf_level=item.eqf_level,
            isced_field=item.isced_field,
            participation=item.participation,
            modified_at=item.modified,
            # Withdrawn when the partner retired it; a later "published" brings it back.
            withdrawn_at=item.modified if item.withdrawn else None,
            updated_at=now,
        )
        for item in page.items
    ]
    if rows:
        PartnerOffer.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["partner", "remote_id"],
            update_fields=[
                "document",
                "title",
                "language",
                "ects",
                "eqf_level",
                "isced_field",
                "participation",
                "modified_at",
                "withdrawn_at",
                "updated_at",
            ],
        )
    changes: dict[str, Any] = {
        "sync_pages": F("sync_pages") + 1,
        "sync_offers": F("sync_offers") + len(rows),
    }
    # Only forward: an empty page echoes the (overlapping) modified_since it was asked for.
    if page.watermark is not None and (
        not partner.catalogue_watermark
        or catalogue_feed.parse_time(page.watermark)
        > catalogue_feed.parse_time(partner.catalogue_watermark)
    ):
        changes["catalogue_watermark"] = page.watermark
        partner.catalogue_watermark = page.watermark
    if etag is not None:
        changes["catalogue_etag"] = etag[:100]
    Partner.objects.filter(pk=partner.pk).update(**changes)
    return len(rows), sum(item.withdrawn for item in page.items)


def _finish(partner: Partner, *, error: str, withdrawn: int, not_modified: bool) -> None:
    with transaction.atomic():
        Partner.objects.filter(pk=partner.pk).update(
            sync_finished_at=timezone.now(), sync_error=error[:2000]
        )
        partner.refresh_from_db(fields=["sync_pages", "sync_offers", "catalogue_watermark"])
        audit(
            institution=partner.institution,
            actor=None,
            action="partner.catalogue_synced",
            partner=str(partner.public_id),
            pages=partner.sync_pages,
            offers=partner.sync_offers,
            withdrawn=withdrawn,
            not_modified=not_modified,
            watermark=partner.catalogue_watermark,
            error=error,
        )


def partner_catalogue_sync(*, partner_id: int) -> None:
    """Pulls the partner's catalogue feed from its watermark, page by page, each page stored
    with the watermark in one transaction (an ELM catalogue: all of it, see _elm_sync).
    Idempotent; does nothing for a partner that is not confirmed or whose sync is running. A transport failure or a malformed page stops the run
    with sync_error set and stores nothing of that page; one audit event per run."""
    partner = _claim(partner_id, timezone.now())
    if partner is None:
        return
    withdrawn = 0
    not_modified = False
    error = ""
    try:
        url: str | None = None
        if catalogue_format(partner) == "elm":
            withdrawn = _elm_sync(partner)
        else:
            url = _first_url(partner)
        origin = url or ""
        first = True
        pages = 0
        while url is not None and pages < MAX_PAGES_PER_RUN:
            headers = {}
            if first and partner.catalogue_etag and partner.catalogue_watermark:
                headers["If-None-Match"] = partner.catalogue_etag
            reply = transport.partner_request(
                partner=partner,
                method="GET",
                url=url,
                extra_headers=headers or None,
                max_bytes=catalogue_feed.MAX_PAGE_BYTES,
            )
            if reply.status == 304:
                not_modified = True
                break
            page = catalogue_feed.parse_page(reply.body)
            if page.next_url is not None and not catalogue_feed.same_origin(page.next_url, origin):
                raise catalogue_feed.FeedError("next leads to another site")
            _, gone = _page_store(
                partner=partner, page=page, etag=reply.headers.get("etag") if first else None
            )
            withdrawn += gone
            first = False
            pages += 1
            url = page.next_url
    except transport.TransportError as exc:
        error = f"{exc.reason}: {exc.detail}"
    except catalogue_feed.FeedError as exc:
        error = f"malformed-page: {exc}"
    except Exception:
        _finish(partner, error="internal-error", withdrawn=withdrawn, not_modified=False)
        raise
    _finish(partner, error=error, withdrawn=withdrawn, not_modified=not_modified)


def _elm_sync(partner: Partner) -> int:
    """Reads every page of the partner's ELM catalogue and stores each, with the caps of
    MESHE's feed (page size, items per page, pages per run). An ELM feed has no watermark: each
    run reads it all, and once a run has read it to its end, the offers it no longer lists are
    withdrawn. Returns how many were; raises TransportError or FeedError as the MESHE sync."""
    url: str | None = catalogue_feed.http_url(
        partner.endpoints[ELM_CATALOGUE], "the partner's ELM catalogue"
    )
    assert url is not None
    origin = url
    seen: set[str] = set()
    visited: set[str | None] = {url}
    pages = 0
    while url is not None and pages < MAX_PAGES_PER_RUN:
        reply = transport.public_get(
            url, accept=ELM_ACCEPT, max_bytes=catalogue_feed.MAX_PAGE_BYTES
        )
        page = catalogue_elm.parse_page(reply.body, fetched_at=timezone.now())
        if page.next_url is not None and not catalogue_feed.same_origin(page.next_url, origin):
            raise catalogue_feed.FeedError("next leads to another site")
        if page.next_url in visited:
            raise catalogue_feed.FeedError("next leads back to a page already read")
        visited.add(page.next_url)
        # An offer may appear on two pages (one republished meanwhile moves the rest along):
        # storing it twice is harmless.
        _page_store(partner=partner, page=page, etag=None)
        seen.update(item.remote_id for item in page.items)
        pages += 1
        url = page.next_url
    if url is not None:  # stopped at the cap: what was not read is not known to be gone
        return 0
    now = timezone.now()
    return (
        PartnerOffer.objects.filter(partner=partner, withdrawn_at__isnull=True)
        .exclude(remote_id__in=seen)
        .update(withdrawn_at=now, updated_at=now)
    )


def catalogues_sync_enqueue() -> None:
    """Enqueues a sync of every confirmed partner's catalogue (the beat job); idempotent, as a
    partner whose sync is running is skipped by the sync itself."""
    from exchange import tasks  # tasks import services lazily; this breaks the cycle

    for partner_id in Partner.objects.filter(status=PartnerStatus.CONFIRMED).values_list(
        "pk", flat=True
    ):
        tasks.partner_catalogue_sync.delay(partner_id)


@transaction.atomic
def partner_catalogue_sync_request(*, actor: User, partner: Partner) -> bool:
    """Asks for a sync of the partner's catalogue now: enqueues it on commit unless one is
    running. Returns whether it was enqueued. Raises ExchangeError unless the partnership is
    agreed."""
    from exchange import tasks  # tasks import services lazily; this breaks the cycle

    if partner.status != PartnerStatus.CONFIRMED:
        raise ExchangeError(_("Only an agreed partner's catalogue can be synced."))
    now = timezone.now()
    queued = (
        Partner.objects.filter(pk=partner.pk)
        .exclude(
            sync_started_at__gt=now - SYNC_STALE_AFTER,
            sync_finished_at__isnull=True,
        )
        .update(
            sync_started_at=None, sync_finished_at=None, sync_error="", sync_pages=0, sync_offers=0
        )
    )
    if not queued:
        return False
    audit(
        institution=partner.institution,
        actor=actor,
        action="partner.catalogue_sync_requested",
        partner=str(partner.public_id),
    )
    tasks.partner_catalogue_sync.delay_on_commit(partner.pk)
    return True


@transaction.atomic
@transaction.atomic
def elm_partner_add(
    *, actor: User | None, institution: Institution, name: str, country: str, feed_url: str
) -> Partner:
    """Makes a university that publishes its offers as an ELM feed (and runs no MESHE node) a
    partner of the institution for catalogue purposes: agreed, without keys, its catalogue the
    feed at feed_url, read a first time at once. Idempotent for the same feed; raises ValueError
    for an address that is not http(s) or a country that is not two letters."""
    from exchange import tasks  # tasks import services lazily; this breaks the cycle

    url = catalogue_feed.http_url(feed_url.strip(), "the ELM feed")
    if not (len(country) == 2 and country.isalpha()):
        raise ValueError("the country is an ISO 3166-1 alpha-2 code, such as PT")
    parts = urlsplit(url)
    partner, created = Partner.objects.get_or_create(
        institution=institution,
        # No DID names such a partner: its feed does, as unique per institution as a DID.
        did=url,
        defaults={
            "base_url": f"{parts.scheme}://{parts.netloc}",
            "name": name.strip()[:200],
            "country": country.upper(),
            "endpoints": {ELM_CATALOGUE: url},
            "status": PartnerStatus.CONFIRMED,
            "confirmed_at": timezone.now(),
        },
    )
    if created:
        audit(
            institution=institution,
            actor=actor,
            action="partner.elm_catalogue_added",
            partner=str(partner.public_id),
            feed=url,
        )
        tasks.partner_catalogue_sync.delay_on_commit(partner.pk)
    return partner


# ================================================================== services: adoption


@transaction.atomic
def partner_offer_adopt(
    *, actor: User, offer: PartnerOffer, recognised_ects: Decimal, note: str
) -> PartnerOffer:
    """Records that our institution recognises the offer for recognised_ects. Idempotent for
    the same values; raises ExchangeError for a withdrawn offer or a negative number."""
    if recognised_ects < 0:
        raise ExchangeError(_("Recognised ECTS cannot be negative."))
    current = (
        PartnerOffer.objects.select_for_update()
        .select_related("partner__institution")
        .get(pk=offer.pk)
    )
    if current.withdrawn_at is not None:
        raise ExchangeError(_("The partner has withdrawn this offer; it cannot be adopted."))
    if (
        current.adopted_at is not None
        and current.recognised_ects == recognised_ects
        and current.adoption_note == note
    ):
        return current
    current.adopted_at = current.adopted_at or timezone.now()
    current.adopted_by = actor
    current.recognised_ects = recognised_ects
    current.adoption_note = note
    current.save(
        update_fields=["adopted_at", "adopted_by", "recognised_ects", "adoption_note", "updated_at"]
    )
    audit(
        institution=current.partner.institution,
        actor=actor,
        action="partner_offer.adopted",
        offer=str(current.public_id),
        remote_id=current.remote_id,
        recognised_ects=str(recognised_ects),
    )
    _adoption_tell(current)
    return current


@transaction.atomic
def partner_offer_unadopt(*, actor: User, offer: PartnerOffer) -> PartnerOffer:
    """Stops recognising the offer; does nothing if it is not adopted."""
    current = (
        PartnerOffer.objects.select_for_update()
        .select_related("partner__institution")
        .get(pk=offer.pk)
    )
    if current.adopted_at is None:
        return current
    current.adopted_at = None
    current.adopted_by = None
    current.recognised_ects = None
    current.adoption_note = ""
    current.save(
        update_fields=["adopted_at", "adopted_by", "recognised_ects", "adoption_note", "updated_at"]
    )
    audit(
        institution=current.partner.institution,
        actor=actor,
        action="partner_offer.unadopted",
        offer=str(current.public_id),
        remote_id=current.remote_id,
    )
    _adoption_tell(current)
    return current


def _adoption_tell(offer: PartnerOffer) -> None:
    """Tells the offering partner, signed, that we recognise its offer (or no longer do), so
    its public page can say where the offer is recognised."""
    if not offer.partner.endpoints.get("notices"):
        return  # a partner known by its ELM feed alone has no MESHE node to tell
    adopted = offer.adopted_at is not None
    outbox.notice_enqueue(
        partner=offer.partner,
        kind=NoticeKind.ADOPTION,
        payload={
            "type": "adoption",
            "offerId": offer.remote_id,
            "adopted": adopted,
            "recognisedEcts": str(offer.recognised_ects) if adopted else None,
            "note": offer.adoption_note,
        },
    )


class UnknownOffer(LookupError):
    """An offer id that names no specification of the receiving institution."""


def _own_offer(partner: Partner, offer_id: str) -> MicroCredential:
    """Our offer that a partner's notice names by its address; raises UnknownOffer."""
    prefix = settings.MESHE_BASE_URL + "/"
    try:
        match = resolve(urlsplit(offer_id).path) if offer_id.startswith(prefix) else None
    except Resolver404:
        match = None
    if match is None or match.view_name != "credentials:offer":
        raise UnknownOffer(offer_id)
    micro_credential = (
        MicroCredential.objects.select_related("institution")
        .filter(public_id=match.kwargs["public_id"], institution_id=partner.institution_id)
        .first()
    )
    if micro_credential is None:
        raise UnknownOffer(offer_id)
    return micro_credential


@transaction.atomic
def offer_recognition_receive(*, partner: Partner, message: Mapping[str, Any]) -> None:
    """Records, or forgets, a partner's recognition of one of our offers, as its signed
    adoption notice says. Raises UnknownOffer for an id that is not one of our offers."""
    micro_credential = _own_offer(partner, message["offerId"])
    if message["adopted"]:
        OfferRecognition.objects.update_or_create(
            micro_credential=micro_credential,
            partner=partner,
            defaults={"recognised_ects": message["ects"], "note": message["note"]},
        )
    else:
        OfferRecognition.objects.filter(micro_credential=micro_credential, partner=partner).delete()
    audit(
        institution=partner.institution,
        actor=None,
        action="partner.offer_recognised" if message["adopted"] else "partner.offer_unrecognised",
        partner=partner.did,
        offer=str(micro_credential.public_id),
    )


# ================================================================== services: endorsement


@transaction.atomic
def partner_offer_endorse(*, actor: User, offer: PartnerOffer, comment: str) -> Endorsement:
    """Signs our institution's OB 3.0 endorsement of the partner's offer and sends it to the
    partner's node, which verifies it and has its next credentials carry it. Idempotent for
    the same comment. Raises ExchangeError for a withdrawn offer or a partner without a
    node, CredentialError for a comment that cannot be signed."""
    if offer.withdrawn_at is not None:
        raise ExchangeError(_("The partner has withdrawn this offer; it cannot be endorsed."))
    if not offer.partner.endpoints.get("notices"):
        raise ExchangeError(
            _(
                "This partner publishes a catalogue but runs no node that could receive an endorsement."
            )
        )
    endorsement = credential_services.endorsement_issue(
        actor=actor,
        institution=offer.partner.institution,
        subject_id=offer.remote_id,
        subject_name=offer.title,
        comment=comment,
    )
    _endorsement_tell(offer, endorsement)
    return endorsement


@transaction.atomic
def partner_offer_endorsement_revoke(
    *, actor: User, offer: PartnerOffer, endorsement: Endorsement, reason: str
) -> Endorsement:
    """Revokes our endorsement of the partner's offer for good and tells the partner's node,
    which checks it again (our status list says it is revoked) and stops embedding it."""
    if endorsement.subject_id != offer.remote_id:
        raise ExchangeError(_("This endorsement is of another offer."))
    revoked = credential_services.endorsement_revoke(
        actor=actor, endorsement=endorsement, reason=reason
    )
    _endorsement_tell(offer, revoked)
    return revoked


def _endorsement_tell(offer: PartnerOffer, endorsement: Endorsement) -> None:
    """Sends the signed endorsement to the offering partner; it verifies it on arrival, so the
    same notice announces an endorsement and, once our status list says so, its revocation."""
    if not offer.partner.endpoints.get("notices"):
        return
    outbox.notice_enqueue(
        partner=offer.partner,
        kind=NoticeKind.ENDORSEMENT,
        payload={
            "type": "endorsement",
            "offerId": offer.remote_id,
            "endorsement": json.loads(endorsement.document),
        },
    )


def offer_endorsement_receive(*, partner: Partner, message: Mapping[str, Any]) -> Endorsement:
    """Verifies and keeps a partner's endorsement of one of our offers (again, when it sends a
    revoked one). Raises UnknownOffer, or CredentialError for an endorsement that is not the
    partner's, not of that offer or does not verify. Verifies outside any transaction: the
    partner's DID document and status list may be fetched."""
    micro_credential = _own_offer(partner, message["offerId"])
    return credential_services.endorsement_receive(
        actor=None,
        micro_credential=micro_credential,
        document=json.dumps(message["endorsement"], ensure_ascii=False),
        source=Endorsement.Source.PARTNER,
        endorser_did=partner.did,
    )
