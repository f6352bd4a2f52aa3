"""The public catalogue: search, an offer's page, the compare view and published versions."""

import json
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from credentials import documents
from credentials.catalogue import elm_feed, explanations
from credentials.catalogue import offers as catalogue_offers
from credentials.issuing import selectors
from credentials.models import MicroCredential
from credentials.standards import vocabularies

# JSON placed inside a <script> element: <, > and & as JSON escapes, as Django's json_script.
SCRIPT_SAFE_JSON = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    filters = catalogue_offers.Filters.from_query(request.GET)
    results: Any = catalogue_offers.offers(filters)  # a Results: sized and sliceable
    page = Paginator(results, 20).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "credentials/catalogue.html",
        {
            "page": page,
            "filters": filters,
            "query": query.urlencode(),
            "institutions": catalogue_offers.institutions_with_offers(),
            "eqf_levels": vocabularies.choices(vocabularies.EQF),
            "isced_fields": [
                (uri, label)
                for uri, label in vocabularies.choices(vocabularies.ISCED_F)
                if len(uri.rsplit("/", 1)[-1]) == 2
            ],
            "participations": [
                (uri, explanations.plain_label(uri))
                for uri, _label in vocabularies.choices(vocabularies.MODE)
            ],
            "countries": catalogue_offers.country_choices(),
            "languages": settings.MESHE_CONTENT_LANGUAGES,
            "guide_url": reverse("guide_home"),
        },
    )


# Public feeds change when staff publish: caches may keep them a few minutes.
ELM_CACHE_CONTROL = "public, max-age=300"


@require_GET
def offer(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The offer's page; its ELM LearningOpportunity for a client that asks for JSON-LD."""
    if documents.JSON_LD in request.headers.get("Accept", ""):
        response = _elm_response(request, elm_feed.offer_document(public_id=public_id))
    else:
        micro_credential = catalogue_offers.offer(public_id=public_id)
        response = render(request, "credentials/offer.html", offer_context(micro_credential))
    patch_vary_headers(response, ["Accept"])
    return response


@require_GET
def offer_elm(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The offer as an ELM v3 LearningOpportunity (JSON-LD, edc-ap context)."""
    return _elm_response(request, elm_feed.offer_document(public_id=public_id))


@require_GET
def elm_feed_page(request: HttpRequest) -> HttpResponse:
    """Every published offer of the node (or of ?institution=<slug>) as ELM, ?page=N."""
    page = elm_feed.feed_page(
        # The public address, whatever a proxy forwarded to us.
        feed_url=settings.MESHE_BASE_URL + request.path,
        page=request.GET.get("page"),
        institution=request.GET.get("institution"),
    )
    return _elm_response(request, page, content_type="application/json")


def _elm_response(
    request: HttpRequest, page: elm_feed.Page, *, content_type: str = documents.JSON_LD
) -> HttpResponse:
    if request.headers.get("If-None-Match") == page.etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(page.body, content_type=content_type)
    response["ETag"] = page.etag
    response["Cache-Control"] = ELM_CACHE_CONTROL
    response["Access-Control-Allow-Origin"] = "*"
    return response


def offer_context(micro_credential: MicroCredential) -> dict[str, Any]:
    """What credentials/offer.html shows of an offer; the staff preview before publishing
    renders the same page from it, so the preview is what the world will see."""
    return {
        "offer": micro_credential,
        "elements": catalogue_offers.elements(micro_credential),
        "practical": catalogue_offers.practical_information(micro_credential),
        "details": catalogue_offers.details(micro_credential),
        "skills": catalogue_offers.skills(micro_credential),
        "recognitions": catalogue_offers.offer_recognitions(micro_credential=micro_credential),
        "endorsements": catalogue_offers.endorsements(micro_credential),
        # Rendered inside <script>: staff text must not close the element.
        "course_json_ld": json.dumps(
            catalogue_offers.course_json_ld(micro_credential), ensure_ascii=False
        ).translate(SCRIPT_SAFE_JSON),
    }


@require_GET
def compare(request: HttpRequest) -> HttpResponse:
    asked = request.GET.getlist("offer")
    offers = []
    for value in asked[: catalogue_offers.MAX_COMPARED]:
        try:
            offers.append(catalogue_offers.offer(public_id=UUID(value)))
        except (ValueError, Http404):
            continue
    comparison = catalogue_offers.comparison(
        [catalogue_offers.elements(micro_credential) for micro_credential in offers]
    )
    return render(
        request,
        "credentials/compare.html",
        {
            "offers": offers,
            "rows": comparison.differing,
            "same_rows": comparison.same,
            "left_out": len(asked) - catalogue_offers.MAX_COMPARED,
            "max_compared": catalogue_offers.MAX_COMPARED,
        },
    )


@require_GET
def specification_version(request: HttpRequest, public_id: UUID, number: int) -> HttpResponse:
    version = selectors.micro_credential_version(public_id=public_id, number=number)
    return render(request, "credentials/specification_version.html", {"version": version})
