"""What a partner's node says about itself: its manifest, and each institution's DID keys.

Everything fetched goes through the vetted fetcher (credentials.issuing.verifier.fetch_json): https only,
no private addresses unless settings allow loopback, time and size caps.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from credentials.issuing import verifier
from credentials.standards.did_resolution import ResolutionError, did_web_to_url
from exchange.exceptions import ExchangeError
from exchange.inbound import authentication_keys
from exchange.manifest import ENDPOINTS, PROTOCOL, PROTOCOL_VERSION
from institutions.selectors import key_fingerprint

MANIFEST_PATH = "/.well-known/meshe-node.json"
MAX_INSTITUTIONS = 200


@dataclass(frozen=True, slots=True)
class RemoteKey:
    id: str
    public_key_multibase: str

    @property
    def fingerprint(self) -> str:
        return key_fingerprint(self.public_key_multibase)

    def as_pinned(self) -> dict[str, str]:
        return {"id": self.id, "publicKeyMultibase": self.public_key_multibase}


@dataclass(frozen=True, slots=True)
class RemoteInstitution:
    slug: str
    name: str
    country: str
    schac_code: str
    erasmus_code: str
    did: str
    endpoints: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class RemoteNode:
    url: str
    institutions: tuple[RemoteInstitution, ...]

    def institution(self, did: str) -> RemoteInstitution:
        for institution in self.institutions:
            if institution.did == did:
                return institution
        raise ExchangeError(_("That node does not host the institution %(did)s.") % {"did": did})


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def node_discover(
    *, node_url: str, fetch: Callable[[str], dict[str, Any]] = verifier.fetch_json
) -> RemoteNode:
    """The node at node_url and its institutions, from its manifest; raises ExchangeError."""
    node = origin(node_url.strip())
    try:
        manifest = fetch(node + MANIFEST_PATH)
    except ResolutionError as exc:
        raise ExchangeError(
            _("Could not read the node's manifest at %(url)s: %(reason)s")
            % {"url": node + MANIFEST_PATH, "reason": str(exc)}
        ) from exc
    return parse_manifest(manifest, node=node)


def parse_manifest(manifest: Mapping[str, Any], *, node: str) -> RemoteNode:
    """Checks a manifest strictly: only what this protocol version defines is taken."""
    if manifest.get("protocol") != PROTOCOL or manifest.get("protocolVersion") != PROTOCOL_VERSION:
        raise ExchangeError(
            _("That address is not a MESHE node speaking exchange protocol %(version)s.")
            % {"version": PROTOCOL_VERSION}
        )
    entries = manifest.get("institutions")
    if not isinstance(entries, list) or len(entries) > MAX_INSTITUTIONS:
        raise ExchangeError(_("The node's manifest has no valid list of institutions."))
    return RemoteNode(url=node, institutions=tuple(_institution(e, node=node) for e in entries))


def _institution(entry: Any, *, node: str) -> RemoteInstitution:
    invalid = ExchangeError(_("The node's manifest lists an institution it does not describe."))
    if not isinstance(entry, dict):
        raise invalid
    texts = {
        name: entry.get(name, "")
        for name in ("slug", "name", "country", "schacCode", "erasmusCode", "did")
    }
    if not all(isinstance(value, str) and len(value) <= 500 for value in texts.values()):
        raise invalid
    did, endpoints = texts["did"], entry.get("endpoints")
    if not did.startswith("did:web:") or not texts["name"] or not isinstance(endpoints, dict):
        raise invalid
    # A node speaks only for DIDs on its own host and endpoints on its own origin. (did:web
    # always means https, so a node must serve HTTPS to be a partner: two plain-http
    # development nodes cannot be; `make exchange-demo` runs two over HTTPS on loopback.)
    try:
        same_origin = urlsplit(did_web_to_url(did)).netloc.lower() == urlsplit(node).netloc
    except ResolutionError:
        same_origin = False
    urls = {name: endpoints.get(name) for name in ENDPOINTS}
    if not same_origin or not all(
        isinstance(url, str) and origin(url) == node for url in urls.values()
    ):
        raise ExchangeError(
            _("The node at %(node)s lists %(did)s, which is not on that node.")
            % {"node": node, "did": did}
        )
    return RemoteInstitution(
        slug=texts["slug"],
        name=texts["name"],
        country=texts["country"].upper()[:2],
        schac_code=texts["schacCode"],
        erasmus_code=texts["erasmusCode"],
        did=did,
        endpoints={name: str(url) for name, url in urls.items()},
    )


def did_keys(*, did: str, fresh: bool = True) -> tuple[RemoteKey, ...]:
    """The Ed25519 keys of did's DID document; raises ExchangeError when it cannot be read."""
    try:
        document = verifier.did_resolver(fresh=fresh).resolve(did)
    except ResolutionError as exc:
        raise ExchangeError(
            _("Could not read the DID document of %(did)s: %(reason)s")
            % {"did": did, "reason": str(exc)}
        ) from exc
    return keys_in(document)


def keys_in(document: Mapping[str, Any]) -> tuple[RemoteKey, ...]:
    """The Ed25519 keys a DID document lists for authentication: those that may sign messages."""
    return tuple(
        RemoteKey(id=key["id"], public_key_multibase=key["publicKeyMultibase"])
        for key in authentication_keys(document)
    )
