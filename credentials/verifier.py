"""The node's verifier: the pure pipeline (credentials.verification) wired to this node.

Institutions hosted here are resolved from the database, never over HTTP; everything
else goes through the vetted HTTPS fetcher, which refuses private addresses.
"""

import json
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.http import Http404
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credentials import selectors
from credentials.did_resolution import (
    DidResolver,
    ResolutionError,
    fetch_json_https,
    url_to_did_web,
)
from credentials.verification import verify_credential
from exchange import selectors as exchange_selectors
from institutions import selectors as institution_selectors

# The checks' names in plain words, for people reading a verdict.
CHECK_LABELS = {
    "json": gettext_lazy("Readable document"),
    "data_model": gettext_lazy("Credential format"),
    "contexts": gettext_lazy("Vocabularies"),
    "proof": gettext_lazy("Signature"),
    "issuer_key": gettext_lazy("Issuer's key"),
    "validity": gettext_lazy("Validity dates"),
    "status": gettext_lazy("Revocation and suspension"),
    "issuer_known": gettext_lazy("Known issuer"),
}


def labelled(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """The verdict with each check's name in plain words, as /verify shows it."""
    if result is None:
        return None
    checks = [
        {**check, "label": CHECK_LABELS.get(check["check"], check["check"])}
        for check in result["checks"]
    ]
    return {**result, "checks": checks}


def fetch_json(url: str) -> dict[str, Any]:
    """The JSON object at url, through the vetted fetcher (loopback only where settings allow)."""
    return fetch_json_https(url, allow_insecure_loopback=settings.MESHE_OUTBOUND_ALLOW_LOOPBACK)


def did_resolver(*, fresh: bool = False) -> DidResolver:
    """This node's DID resolver; `fresh` skips the cache, to see a partner's key rotation."""
    return DidResolver(local=_local_did_document, fetch=fetch_json, cache=None if fresh else cache)


def _local_slug(did: str) -> str | None:
    """The slug of an institution of this node named by `did`, if it is one."""
    prefix = url_to_did_web(settings.MESHE_BASE_URL, ("institutions",)) + ":"
    slug = did.removeprefix(prefix)
    return None if slug == did or ":" in slug else slug


def _local_did_document(did: str) -> dict[str, Any] | None:
    slug = _local_slug(did)
    if slug is None:
        return None
    try:
        return institution_selectors.did_document(slug=slug)
    except Http404:
        return None


def _status_list(url: str) -> dict[str, Any]:
    """Lists published by this node are read from the database; others are fetched."""
    if url.startswith(settings.MESHE_BASE_URL + "/"):
        try:
            match = resolve(urlsplit(url).path)
        except Resolver404:
            match = None
        if match is not None and match.view_name == "credentials:status_list":
            try:
                return json.loads(selectors.published_status_list(**match.kwargs).document)
            except Http404:
                pass
    return fetch_json(url)


def _issuer_name(did: str) -> str | None:
    """Known issuers: institutions of this node and partners both sides confirmed."""
    slug = _local_slug(did)
    if slug is None:
        return exchange_selectors.agreed_partner_name(did=did)
    try:
        return institution_selectors.public_institution(slug=slug).name
    except Http404:
        return None


def node_dependencies() -> dict[str, Any]:
    """What the pure pipelines need to see the world as this node does: its own DIDs and
    status lists from the database, everything else through the vetted HTTPS fetcher."""
    return {
        "resolver": did_resolver(),
        "fetch_status_list": _status_list,
        "issuer_directory": _issuer_name,
        "now": timezone.now(),
    }


def verify(raw: bytes | str | dict[str, Any]) -> dict[str, Any]:
    """Verifies a credential as this node sees it; the answer is the public JSON contract."""
    return verify_credential(raw, **node_dependencies()).as_dict()


def verify_url(url: str) -> dict[str, Any]:
    """Verifies the credential a link points to: this node's from the database, others fetched."""
    if url.startswith(settings.MESHE_BASE_URL + "/"):
        try:
            match = resolve(urlsplit(url).path)
        except Resolver404:
            match = None
        if match is not None and match.view_name in {"credentials:public", "credentials:document"}:
            try:
                credential = selectors.public_credential(public_id=match.kwargs["public_id"])
            except Http404:
                pass
            else:
                return verify(credential.document)
    try:
        document = fetch_json(url)
    except ResolutionError as exc:
        return refusal(_("The link could not be read: %(problem)s") % {"problem": exc})
    return verify(document)


def refusal(detail: str) -> dict[str, Any]:
    """The answer for input that never reached the pipeline, in the same JSON shape."""
    return {
        "verified": False,
        "checks": [{"check": "json", "ok": False, "detail": detail}],
        "errors": [detail],
        "warnings": [],
    }
