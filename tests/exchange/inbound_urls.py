"""A test-only urlconf: tiny views behind signed_endpoint, and the node's own URLs for DIDs."""

import json

from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.urls import include, path

from exchange.inbound import ExchangeRequest, problem, signed_endpoint


@signed_endpoint()
def echo(request: ExchangeRequest, slug: str) -> HttpResponse:
    payload = json.loads(request.body or b"{}")
    if "ping" not in payload:
        return problem(
            request, status=400, reason="invalid-message", title="Invalid", detail="no ping"
        )
    return JsonResponse(
        {
            "echo": payload["ping"],
            "sender": request.exchange.sender_did,
            "partner": request.exchange.partner.name if request.exchange.partner else None,
        }
    )


@signed_endpoint(allow_unknown_sender=True)
def partnership(request: ExchangeRequest, slug: str) -> HttpResponse:
    partner = request.exchange.partner
    return JsonResponse(
        {
            "partner": partner.name if partner else None,
            "keys": request.exchange.sender_keys,
        }
    )


@signed_endpoint()
def catalogue(request: ExchangeRequest, slug: str) -> HttpResponse:
    return HttpResponseNotModified()


urlpatterns = [
    path("exchange/v1/<slug:slug>/echo", echo),
    path("exchange/v1/<slug:slug>/partnership", partnership),
    path("exchange/v1/<slug:slug>/catalogue", catalogue),
    path("", include("meshe.urls")),
]
