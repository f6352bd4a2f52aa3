from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from exchange import selectors
from exchange.manifest import build_manifest


@require_safe
def node_manifest(request: HttpRequest) -> JsonResponse:
    """The public node manifest: protocol version, institutions hosted and exchange endpoints."""
    manifest = build_manifest(
        base_url=selectors.node_base_url(), institutions=selectors.hosted_institutions()
    )
    response = JsonResponse(manifest)
    response["Access-Control-Allow-Origin"] = "*"
    return response
