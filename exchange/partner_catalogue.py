"""Partners' offers in the public catalogue: which match a search, how each is listed (its
origin and recognitions) and what its page says. Answers the questions credentials.catalogue.offers
asks, so the catalogue lists partners' offers beside ours without importing the exchange.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from django.db.models import Min, Q, QuerySet, Subquery
from django.http import Http404

from credentials.catalogue import explanations, practical
from credentials.catalogue.offers import Filters
from credentials.content_language import in_active_language
from credentials.standards import ob3
from exchange import catalogue_feed
from exchange.models import PartnerOffer, PartnerStatus
from institutions.models import Institution


def _code(uri: str) -> str:
    """The last segment of a vocabulary URI, as partner feeds give it: ".../eqf/6" → "6"."""
    return uri.rstrip("/").rsplit("/", 1)[-1]


def visible_partner_offers() -> QuerySet[PartnerOffer]:
    """Partner offers anyone may see: not withdrawn, from a partnership both sides agreed."""
    return PartnerOffer.objects.filter(
        withdrawn_at__isnull=True, partner__status=PartnerStatus.CONFIRMED
    )


def partner_offers_matching(filters: Filters) -> QuerySet[PartnerOffer] | None:
    """Partner offers matching the filters, one row per offer (the first imported); None
    when the filters ask for one of our institutions."""
    if filters.institution:
        return None
    found = visible_partner_offers()
    if filters.text:
        found = found.filter(
            Q(title__icontains=filters.text)
            | Q(document__achievement__description__icontains=filters.text)
            | Q(partner__name__icontains=filters.text)
        )
    if filters.country:
        found = found.filter(partner__country=filters.country)
    if filters.eqf_level:
        level = _code(filters.eqf_level)
        if not level.isdigit():
            return found.none()
        found = found.filter(eqf_level=int(level))
    if filters.isced_field:
        found = found.filter(isced_field__startswith=_code(filters.isced_field))
    if filters.participation:
        found = found.filter(participation=_code(filters.participation))
    if filters.language:
        found = found.filter(
            Q(language=filters.language) | Q(language__startswith=filters.language + "-")
        )
    if filters.ects_min is not None:
        found = found.filter(ects__gte=filters.ects_min)
    if filters.ects_max is not None:
        found = found.filter(ects__lte=filters.ects_max)
    if filters.stacks:
        found = found.filter(document__summary__has_key="stacksInto")
    # The same offer (partner DID and feed id) imported by several of our institutions.
    first = found.values("partner__did", "remote_id").annotate(first=Min("pk")).values("first")
    return PartnerOffer.objects.filter(pk__in=Subquery(first))


@dataclass(frozen=True)
class Recognition:
    institution: Institution
    ects: Decimal


@dataclass(frozen=True)
class PartnerListing:
    """A partner's offer as the catalogue shows it: the offer, which of our institutions have
    this partner (its origin), and which of them recognise it for how many ECTS."""

    is_partner: ClassVar[bool] = True
    offer: PartnerOffer
    hosts: tuple[Institution, ...]
    recognitions: tuple[Recognition, ...] = field(default=())

    @property
    def public_id(self) -> UUID:
        return self.offer.public_id

    @property
    def title(self) -> str:
        return self.offer.title

    @property
    def localized_title(self) -> str:
        """The title in the visitor's language when the partner's Achievement names one."""
        snapshot = partner_offer_snapshot(self.offer.document)
        return in_active_language(snapshot["title"], main=snapshot["language"]) or self.offer.title

    @property
    def ects(self) -> Decimal | None:
        return self.offer.ects

    @property
    def partner_name(self) -> str:
        return self.offer.partner.name

    @property
    def country(self) -> str:
        return self.offer.partner.country

    @property
    def is_partial(self) -> bool:
        summary = self.offer.document.get("summary")
        return isinstance(summary, dict) and "stacksInto" in summary


def partner_listings(ids: list[int]) -> dict[int, PartnerListing]:
    """The listings of these representative rows, by row id, with every visible copy of the
    same offer (our other institutions' imports), in one query."""
    if not ids:
        return {}
    chosen = PartnerOffer.objects.filter(pk__in=ids)
    copies = (
        visible_partner_offers()
        .filter(
            remote_id__in=Subquery(chosen.values("remote_id")),
            partner__did__in=Subquery(chosen.values("partner__did")),
        )
        .select_related("partner__institution")
        .order_by("partner__institution__name", "pk")
    )
    groups: dict[tuple[str, str], list[PartnerOffer]] = {}
    for copy in copies:
        groups.setdefault((copy.partner.did, copy.remote_id), []).append(copy)
    listings = {}
    for group in groups.values():
        for offer in group:
            if offer.pk not in ids:
                continue
            listings[offer.pk] = PartnerListing(
                offer=offer,
                hosts=tuple(copy.partner.institution for copy in group),
                recognitions=tuple(
                    Recognition(institution=copy.partner.institution, ects=copy.recognised_ects)
                    for copy in group
                    if copy.adopted_at is not None and copy.recognised_ects is not None
                ),
            )
    return listings


def partner_offer(*, public_id: UUID) -> PartnerListing:
    """One visible partner offer with its origin and recognitions; 404 for anything else."""
    ids = list(visible_partner_offers().filter(public_id=public_id).values_list("pk", flat=True))
    if not ids:
        raise Http404
    return partner_listings(ids)[ids[0]]


_NUMBERED = re.compile(r"\d{1,3}\. (.+)")


def _text(value: object, limit: int = 5000) -> str:
    return value[:limit] if isinstance(value, str) else ""


# More languages than a title is ever given in; the rest of a hostile feed's map is ignored.
MAX_FEED_LANGUAGES = 30


def _texts(value: object, language: str) -> dict[str, str]:
    """A feed's text by language: a string is in `language`; a JSON-LD language map
    ({"fr": "…"}), value object ({"@value": "…", "@language": "fr"}) or list of value objects
    keeps the language of each text."""
    if isinstance(value, str):
        return {language: value[:5000]} if value else {}
    if isinstance(value, dict) and "@value" in value:
        return _texts(value["@value"], _text(value.get("@language"), 10) or language)
    found: dict[str, str] = {}
    if isinstance(value, dict):
        for tag, text in list(value.items())[:MAX_FEED_LANGUAGES]:
            if isinstance(tag, str) and tag and (text := _text(text)):
                found[tag[:10]] = text
    elif isinstance(value, list):
        for item in value[:MAX_FEED_LANGUAGES]:
            if isinstance(item, dict) and "@value" in item:
                found.update(_texts(item, language))
    return found


def _outcomes(narrative: str) -> list[dict[str, Any]]:
    """The learning outcomes of a criteria narrative as ob3 writes it: its first numbered list."""
    for block in narrative.split("\n\n"):
        lines = block.strip().splitlines()
        matches = [_NUMBERED.fullmatch(line.strip()) for line in lines]
        if lines and all(matches):
            return [{"text": match.group(1), "esco": []} for match in matches if match]
    return [{"text": narrative, "esco": []}] if narrative else []


def partner_offer_snapshot(document: Mapping[str, Any]) -> dict[str, Any]:
    """What a partner's feed item says, in the shape of a specification snapshot; whatever
    is missing or not a string stays empty."""
    achievement = document.get("achievement")
    achievement = achievement if isinstance(achievement, dict) else {}
    summary = document.get("summary")
    summary = summary if isinstance(summary, dict) else {}
    alignments = [a for a in achievement.get("alignment") or [] if isinstance(a, dict)]

    def target(target_type: str, key: str = "targetUrl") -> str:
        return next(
            (_text(a.get(key)) for a in alignments if a.get("targetType") == target_type), ""
        )

    criteria = achievement.get("criteria")
    narrative = _text(criteria.get("narrative"), 20000) if isinstance(criteria, dict) else ""
    language = _text(summary.get("language"), 10) or "en"
    # OB 3.0's inLanguage says which language the Achievement's own texts are in.
    written_in = _text(achievement.get("inLanguage"), 10) or language
    titles = _texts(achievement.get("name"), written_in)
    if _text(summary.get("title")):
        titles[language] = _text(summary.get("title"))
    ects = summary.get("ects")
    return {
        "language": language,
        "title": {language: "", **titles},
        "description": {language: "", **_texts(achievement.get("description"), written_in)},
        "learning_outcomes": _outcomes(narrative),
        "ects": str(ects) if isinstance(ects, int | float) and not isinstance(ects, bool) else "",
        "workload_hours": None,
        "eqf_level": target(ob3.TARGET_EQF),
        "isced_field": target(ob3.TARGET_ISCED_F),
        "assessment_type": target(ob3.TARGET_ASSESSMENT),
        "form_of_participation": target(ob3.TARGET_PARTICIPATION),
        "quality_assurance": target(ob3.TARGET_QUALITY_ASSURANCE),
        "quality_assurance_note": target(ob3.TARGET_QUALITY_ASSURANCE, "targetDescription"),
        "supervision_verification": target(ob3.TARGET_SUPERVISION),
        "criteria_narrative": narrative,
        "stacks_into": [url for url in summary.get("stacksInto") or [] if isinstance(url, str)],
    }


def partner_offer_elements(listing: PartnerListing) -> list[explanations.Element]:
    """The eleven EU elements of a partner's offer, read from its Achievement, explained for
    someone considering it."""
    return explanations.offer_elements(
        snapshot=partner_offer_snapshot(listing.offer.document),
        awarding_body=listing.offer.partner.name,
        country_code=listing.offer.partner.country,
    )


def partner_offer_practical(listing: PartnerListing) -> list[practical.Row]:
    """The practical information the partner's feed gave (checked again: the row keeps the
    item verbatim), listed as on our offers' pages."""
    summary = listing.offer.document.get("summary")
    summary = summary if isinstance(summary, dict) else {}
    try:
        fields = catalogue_feed.practical_fields(summary)
    except catalogue_feed.FeedError:
        fields = {}
    return practical.rows(
        practical.from_feed_summary(fields, participation=listing.offer.participation)
    )
