"""The node manifest served at /.well-known/meshe-node.json (DESIGN: exchange protocol).

Pure: builds the document from plain values and runs no queries.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

PROTOCOL: Final = "meshe-exchange"
PROTOCOL_VERSION: Final = "1"
SIGNATURE_ALGORITHM: Final = "ed25519"
# Endpoints of the exchange API, relative to the node's base URL. Later work serves them; until
# then the manifest marks them as planned so partners do not call them.
PLANNED_ENDPOINTS: Final = {
    "catalogue": "/exchange/v1/catalogue",
    "inbox": "/exchange/v1/inbox",
    "notices": "/exchange/v1/notices",
}


@dataclass(frozen=True, slots=True)
class HostedInstitution:
    slug: str
    name: str
    country: str
    did: str
    did_document_url: str


def build_manifest(*, base_url: str, institutions: Sequence[HostedInstitution]) -> dict[str, Any]:
    """The manifest for a node at base_url hosting institutions, in the order given."""
    base = base_url.rstrip("/")
    return {
        "protocol": PROTOCOL,
        "protocolVersion": PROTOCOL_VERSION,
        "node": base,
        "httpSignatures": {"standard": "RFC 9421", "algorithms": [SIGNATURE_ALGORITHM]},
        "institutions": [
            {
                "slug": institution.slug,
                "name": institution.name,
                "country": institution.country,
                "did": institution.did,
                "didDocument": institution.did_document_url,
            }
            for institution in institutions
        ],
        "endpoints": {
            name: {"url": base + path, "status": "planned"}
            for name, path in PLANNED_ENDPOINTS.items()
        },
    }
