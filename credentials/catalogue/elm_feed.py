"""Published offers as ELM v3 learning opportunities: one offer's document and the paged feed
of every published offer of the node (or of one of its institutions).

Reads only, public: drafts and retired offers are never listed. The documents come from
credentials.standards.elm_offer through credentials.documents; the page format is in
docs/standards.md.
"""

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode
from uuid import UUID

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import OuterRef, Subquery
from django.http import Http404

from credentials import documents
from credentials.catalogue import offers
from credentials.models import MicroCredential, MicroCredentialVersion
from credentials.standards import vocabularies
from institutions.models import Institution

logger = logging.getLogger(__name__)

# Offers per page: a page of full documents stays far below what a reader accepts (the
# catalogue sync's exchange.catalogue_feed.MAX_PAGE_BYTES).
PAGE_SIZE: Final = 50


@dataclass(frozen=True, slots=True)
class Page:
    body: bytes
    etag: str


def _latest_versions(micro_credentials: list[MicroCredential]) -> dict[int, MicroCredentialVersion]:
    """The latest version of each specification, in one query, each given its row back."""
    by_pk = {mc.pk: mc for mc in micro_credentials}
    latest = MicroCredentialVersion.objects.filter(
        micro_credential_id__in=list(by_pk),
        number=Subquery(
            MicroCredentialVersion.objects.filter(
                micro_credential_id=OuterRef("micro_credential_id")
            )
            .order_by("-number")
            .values("number")[:1]
        ),
    )
    found = {}
    for version in latest:
        version.micro_credential = by_pk[version.micro_credential_id]  # spares a query each
        found[version.micro_credential_id] = version
    return found


def _document(
    micro_credential: MicroCredential, version: MicroCredentialVersion
) -> dict[str, Any] | None:
    try:
        return documents.learning_opportunity(micro_credential, version)
    except (ValueError, vocabularies.UnknownConcept):
        # Published offers passed these checks; one that no longer does (a vocabulary update)
        # is left out rather than published in a form the shapes would refuse.
        logger.warning("ELM of %s v%s cannot be built", micro_credential.public_id, version.number)
        return None


def _body(value: dict[str, Any]) -> Page:
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return Page(body=body, etag='"' + hashlib.sha256(body).hexdigest() + '"')


def offer_document(*, public_id: UUID) -> Page:
    """One published offer's LearningOpportunity; 404 for anything else, or for an offer
    published before it had a version."""
    micro_credential = offers.offer(public_id=public_id)
    version = _latest_versions([micro_credential]).get(micro_credential.pk)
    document = _document(micro_credential, version) if version is not None else None
    if document is None:
        raise Http404
    return _body(document)


def feed_page(*, feed_url: str, page: str | None, institution: str | None) -> Page:
    """One page of the feed, in three queries (four for one institution's): {"id", "first", "next", "previous",
    "totalItems", "items"}, items being complete LearningOpportunity documents, oldest offer
    first. 404 for a page number out of range or an unknown institution slug."""
    published = offers.published().order_by("pk")
    query: dict[str, str] = {}
    if institution is not None:
        # An institution without offers has an empty feed; an unknown one has none.
        if not Institution.objects.filter(slug=institution).exists():
            raise Http404
        published = published.filter(institution__slug=institution)
        query["institution"] = institution
    paginator = Paginator(published, PAGE_SIZE)
    try:
        current = paginator.page(page or 1)
    except (EmptyPage, PageNotAnInteger):
        raise Http404 from None

    def page_url(number: int) -> str:
        return feed_url + "?" + urlencode({**query, "page": number})

    rows = list(current.object_list)
    versions = _latest_versions(rows)
    items = []
    for micro_credential in rows:
        version = versions.get(micro_credential.pk)
        if version is None:  # published before it had a version: nothing to describe yet
            continue
        document = _document(micro_credential, version)
        if document is not None:
            items.append(document)
    return _body(
        {
            "id": page_url(current.number),
            "type": "LearningOpportunityPage",
            "first": page_url(1),
            "next": page_url(current.next_page_number()) if current.has_next() else None,
            "previous": (
                page_url(current.previous_page_number()) if current.has_previous() else None
            ),
            "totalItems": paginator.count,
            "items": items,
        }
    )
