"""The node manifest served at /.well-known/meshe-node.json (DESIGN: exchange protocol).

Pure: builds the document from plain values and runs no queries.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

PROTOCOL: Final = "meshe-exchange"
PROTOCOL_VERSION: Final = "1"
SIGNATURE_ALGORITHM: Final = "ed25519"
# Each hosted institution's exchange endpoints, relative to the node's base URL. Every request
# to them and every answer from them is signed (RFC 9421) by the institution's key.
ENDPOINTS: Final = ("partnership", "catalogue", "inbox", "notices", "echo")
# The public catalogue as ELM v3 learning opportunities (credentials.catalogue.elm_feed):
# unsigned, for anyone, including universities that run no MESHE node.
ELM_FEED_PATH: Final = "/catalogue/elm/"
ELM_OFFER_PATH: Final = "/catalogue/{public_id}/elm.jsonld"
ELM_FORMAT: Final = "ELM v3 LearningOpportunity, JSON-LD (edc-ap context), LOQ shapes 1.1.0"


@dataclass(frozen=True, slots=True)
class HostedInstitution:
    slug: str
    name: str
    country: str
    did: str
    did_document_url: str
    schac_code: str = ""
    erasmus_code: str = ""


def endpoint_urls(*, base_url: str, slug: str) -> dict[str, str]:
    """The absolute URL of each exchange endpoint of the institution `slug` on a node."""
    base = base_url.rstrip("/")
    return {name: f"{base}/exchange/v1/{slug}/{name}" for name in ENDPOINTS}


def elm_feed_url(*, base_url: str, slug: str | None = None) -> str:
    """The ELM feed of every published offer of a node, or of one of its institutions."""
    url = base_url.rstrip("/") + ELM_FEED_PATH
    return url + f"?institution={slug}" if slug else url


def build_manifest(*, base_url: str, institutions: Sequence[HostedInstitution]) -> dict[str, Any]:
    """The manifest for a node at base_url hosting institutions, in the order given."""
    base = base_url.rstrip("/")
    return {
        "protocol": PROTOCOL,
        "protocolVersion": PROTOCOL_VERSION,
        "node": base,
        "httpSignatures": {
            "standard": "RFC 9421",
            "algorithms": [SIGNATURE_ALGORITHM],
            "contentDigest": "RFC 9530",
            "components": ["@method", "@target-uri", "content-type", "content-digest"],
            "parameters": ["created", "keyid", "nonce"],
        },
        "elmCatalogue": {
            "format": ELM_FORMAT,
            "feed": elm_feed_url(base_url=base),
            "offer": base + ELM_OFFER_PATH,
            "offerPage": "application/ld+json on " + base + "/catalogue/{public_id}/",
        },
        "institutions": [
            {
                "slug": institution.slug,
                "name": institution.name,
                "country": institution.country,
                "schacCode": institution.schac_code,
                "erasmusCode": institution.erasmus_code,
                "did": institution.did,
                "didDocument": institution.did_document_url,
                "endpoints": endpoint_urls(base_url=base, slug=institution.slug),
                "elmCatalogue": elm_feed_url(base_url=base, slug=institution.slug),
            }
            for institution in institutions
        ],
    }
