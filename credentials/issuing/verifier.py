"""The node's verifier: the pure pipeline (credentials.standards.verification) wired to this node.

Institutions hosted here are resolved from the database, never over HTTP; everything
else goes through the vetted HTTPS fetcher, which refuses private addresses.
"""

import json
import logging
import time
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from cryptography import x509
from django.conf import settings
from django.core.cache import cache
from django.http import Http404
from django.urls import Resolver404, resolve
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from credentials import documents, hooks
from credentials.issuing import selectors, verdicts
from credentials.standards import badge_images, jades, ob3, signing
from credentials.standards.did_resolution import (
    DidResolver,
    ResolutionError,
    ResolutionFailure,
    fetch_bytes_https,
    fetch_json_https,
    url_to_did_web,
)
from credentials.standards.verification import (
    CheckedStatusList,
    verify_credential,
)
from institutions import publications
from institutions import selectors as institution_selectors

logger = logging.getLogger(__name__)


def labelled(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """The verdict for a page: the result with each check's name and sentence in the page's
    language, and `verdict` (credentials.issuing.verdicts.Verdict): the credential's sentence,
    the trust headline, the lines to fold under it. For a credential with several proofs,
    `signatures` says in one sentence who signed, also on the signers line."""
    if result is None:
        return None
    signatures = signatures_sentence(result.get("proofs") or [])
    verdict = verdicts.present(result, signatures=signatures)
    assert verdict is not None  # a result in, a verdict out
    checks = [
        {
            **check,
            "label": line.label,
            "text": line.text,
            "outcome": line.outcome,
            **({"detail": signatures} if check["check"] == "signers" and signatures else {}),
        }
        for check, line in zip(result["checks"], verdict.checks, strict=True)
    ]
    return {
        **result,
        "checks": checks,
        "signatures": signatures,
        "trust": verdict.trust,
        "verdict": verdict,
    }


def signatures_sentence(proofs: list[dict[str, Any]]) -> str:
    """Who signed a credential with a proof set or chain, for people ("" for one proof):
    "Signed by the issuer, and also by did:key:z6Mk… (a witness); both signatures valid." """
    if len(proofs) < 2:
        return ""

    def name(proof: dict[str, Any]) -> str:
        return str(proof.get("signer") or proof.get("verificationMethod") or _("an unnamed key"))

    invalid = list(dict.fromkeys(name(proof) for proof in proofs if not proof.get("valid")))
    if invalid:
        return ngettext(
            "The signature by %(signers)s is not valid.",
            "The signatures by %(signers)s are not valid.",
            len(invalid),
        ) % {"signers": ", ".join(invalid)}
    witnesses = list(
        dict.fromkeys(name(proof) for proof in proofs if proof.get("role") != "issuer")
    )
    if len(witnesses) == len(proofs):
        return _("Signed by %(signers)s, none of them the issuer.") % {
            "signers": ", ".join(witnesses)
        }
    if not witnesses:
        return _("Signed %(count)s times by the issuer; all signatures valid.") % {
            "count": len(proofs)
        }
    if len(proofs) == 2:
        return _(
            "Signed by the issuer, and also by %(signer)s (a witness); both signatures valid."
        ) % {"signer": witnesses[0]}
    return ngettext(
        "Signed by the issuer, and also by %(signers)s (a witness); all %(count)s signatures valid.",
        "Signed by the issuer, and also by %(signers)s (witnesses); all %(count)s signatures valid.",
        len(witnesses),
    ) % {"signers": ", ".join(witnesses), "count": len(proofs)}


def fetch_json(url: str) -> dict[str, Any]:
    """The JSON object at url, through the vetted fetcher (loopback only where settings allow)."""
    return fetch_json_https(url, allow_insecure_loopback=settings.MESHE_OUTBOUND_ALLOW_LOOPBACK)


def did_resolver(*, fresh: bool = False) -> DidResolver:
    """This node's DID resolver; `fresh` skips the cache, to see a partner's key rotation."""
    return _NodeView().resolver(fresh=fresh)


# What this process has read and checked of its own institutions (DID documents, status lists
# verified and decoded, names), each under the publication version it was read at
# (institutions.publications): re-publishing a status list, rotating a key or renaming an
# institution moves the version, and every process reads afresh. REMEMBER_SECONDS bounds what
# could stay stale if the version could not be moved (a writer that died between its commit
# and moving it, or the cache unreachable meanwhile); re-reading once a minute costs nothing.
REMEMBER_SECONDS: Final = 60
REMEMBER_MAX_ENTRIES: Final = 1024
_remembered: dict[tuple[str, str], tuple[str, float, Any]] = {}
# Status lists of other nodes, checked, with when they were fetched: only verifications that
# ask to reuse them (verify's reuse_remote_status_seconds) read them back.
_remote_status_lists: dict[str, tuple[float, CheckedStatusList]] = {}


def forget() -> None:
    """Drops what this process remembers (the next verifications read the database again)."""
    _remembered.clear()
    _remote_status_lists.clear()


class _NodeView:
    """This node as one verification sees it: the publication version, read once and before
    any row, and what this process remembers under it."""

    def __init__(self, *, remote_status_seconds: float = 0) -> None:
        self._version: str | None = None
        self._version_read = False
        self._remote_status_seconds = remote_status_seconds

    def resolver(self, *, fresh: bool = False) -> DidResolver:
        return DidResolver(
            local=self.did_document, fetch=fetch_json, cache=None if fresh else cache
        )

    def did_document(self, did: str) -> dict[str, Any] | None:
        """The DID document of an institution of this node, None for any other DID."""
        slug = _local_slug(did)
        if slug is None:
            return None
        # Kept as text, so no caller can change what the next one is given.
        text = self._recall("did", did)
        if text is None:
            try:
                text = json.dumps(institution_selectors.did_document(slug=slug))
            except Http404:
                return None
            self._remember("did", did, text)
        document: dict[str, Any] = json.loads(text)
        return document

    def status_list(self, url: str) -> dict[str, Any]:
        """Lists published by this node are read from the database; others are fetched."""
        kwargs = _local_status_list(url)
        if kwargs is not None:
            try:
                document: dict[str, Any] = json.loads(
                    selectors.published_status_list(**kwargs).document
                )
            except Http404:
                pass
            else:
                return document
        return fetch_json(url)

    def issuer_name(self, did: str) -> str | None:
        """Known issuers: institutions of this node and partners both sides confirmed."""
        slug = _local_slug(did)
        if slug is None:
            return hooks.partner_issuer_name(did=did)
        name = self._recall("name", did)
        if name is None:
            try:
                name = institution_selectors.public_institution(slug=slug).name
            except Http404:
                return None
            self._remember("name", did, name)
        return str(name)

    # The status list memo of credentials.standards.verification: this node's own lists, and other
    # nodes' lists when the verification may reuse them.

    def get(self, url: str) -> CheckedStatusList | None:
        if _local_status_list(url) is None:
            if url not in _remote_status_lists or self._remote_status_seconds <= 0:
                return None
            fetched_at, remote = _remote_status_lists[url]
            return remote if time.monotonic() - fetched_at <= self._remote_status_seconds else None
        checked = self._recall("status", url)
        return checked if isinstance(checked, CheckedStatusList) else None

    def put(self, url: str, checked: CheckedStatusList) -> None:
        if _local_status_list(url) is not None:
            self._remember("status", url, checked)
            return
        if len(_remote_status_lists) >= REMEMBER_MAX_ENTRIES:
            _remote_status_lists.clear()
        _remote_status_lists[url] = (time.monotonic(), checked)

    def _current_version(self) -> str | None:
        if not self._version_read:
            self._version = publications.version()
            self._version_read = True
            if self._version is None:
                # The cache keeps no version (unreachable?): a change may go unseen meanwhile.
                forget()
        return self._version

    def _recall(self, kind: str, key: str) -> Any:
        version = self._current_version()
        entry = _remembered.get((kind, key))
        if version is None or entry is None:
            return None
        kept_version, kept_at, value = entry
        if kept_version != version or time.monotonic() - kept_at > REMEMBER_SECONDS:
            return None
        return value

    def _remember(self, kind: str, key: str, value: Any) -> None:
        version = self._current_version()
        if version is None or publications.unsettled():
            return
        if len(_remembered) >= REMEMBER_MAX_ENTRIES:
            _remembered.clear()
        _remembered[(kind, key)] = (version, time.monotonic(), value)


def _local_slug(did: str) -> str | None:
    """The slug of an institution of this node named by `did`, if it is one."""
    slug = did.removeprefix(_local_did_prefix(settings.MESHE_BASE_URL))
    return None if slug == did or ":" in slug else slug


def _local_status_list(url: str) -> dict[str, Any] | None:
    """The arguments of published_status_list for a list of this node's, None for any other URL."""
    if not url.startswith(settings.MESHE_BASE_URL + "/"):
        return None
    found = _status_list_route(urlsplit(url).path)
    return dict(found) if found is not None else None


@lru_cache(maxsize=8)
def _local_did_prefix(base_url: str) -> str:
    return url_to_did_web(base_url, ("institutions",)) + ":"


@lru_cache(maxsize=256)
def _status_list_route(path: str) -> tuple[tuple[str, Any], ...] | None:
    """The URL arguments of a status list path of this node (resolving walks every route)."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if match.view_name != "credentials:status_list":
        return None
    return tuple(match.kwargs.items())


def node_dependencies() -> dict[str, Any]:
    """What the pure pipelines need to see the world as this node does: its own DIDs and
    status lists from the database (or this process's memory of them), everything else
    through the vetted HTTPS fetcher, and the trust anchors of sealed EDCs."""
    return {**_dependencies(_NodeView()), "edc_trust_anchors": edc_trust_anchors()}


def _dependencies(view: _NodeView) -> dict[str, Any]:
    return {
        "resolver": view.resolver(),
        "fetch_status_list": view.status_list,
        "issuer_directory": view.issuer_name,
        "now": timezone.now(),
    }


def edc_trust_anchors() -> tuple[x509.Certificate, ...]:
    """The CA certificates of settings.MESHE_EDC_TRUST_ANCHORS, read again when the file changes;
    a file that is missing or holds no certificate trusts none (and says so in the log)."""
    path = settings.MESHE_EDC_TRUST_ANCHORS
    if not path:
        return ()
    try:
        stamp = Path(path).stat().st_mtime_ns
    except OSError:
        logger.error("MESHE_EDC_TRUST_ANCHORS names no readable file: %s", path)
        return ()
    return _trust_anchors_file(path, stamp)


@lru_cache(maxsize=4)
def _trust_anchors_file(path: str, stamp: int) -> tuple[x509.Certificate, ...]:
    try:
        return tuple(jades.load_trust_anchors(Path(path).read_bytes()))
    except (OSError, ValueError):
        logger.error("MESHE_EDC_TRUST_ANCHORS holds no PEM certificate: %s", path)
        return ()


def verify(
    raw: bytes | str | dict[str, Any], *, reuse_remote_status_seconds: float = 0
) -> dict[str, Any]:
    """Verifies a credential as this node sees it; the answer is the public JSON contract.
    This node's own status lists are checked once per publication, not per verification.
    Other nodes' lists are fetched each time, unless the caller accepts one fetched at most
    `reuse_remote_status_seconds` ago. A credential whose achievement carries endorsements gets
    `endorsements` (endorsement_verdicts); a bad endorsement never fails the credential."""
    view = _NodeView(remote_status_seconds=reuse_remote_status_seconds)
    verdict = verify_credential(
        raw, **_dependencies(view), status_list_memo=view, edc_trust_anchors=edc_trust_anchors()
    )
    result = verdict.as_dict()
    document = verdict.document
    if result["summary"] is not None and document and ob3.embedded_endorsements(document):
        result["endorsements"] = endorsement_verdicts(
            document, reuse_remote_status_seconds=reuse_remote_status_seconds
        )
    return result


# Each endorsement costs a verification of its own (canonicalisation, a status list fetch), so a
# credential carrying many has only its first ones checked, all of them within one request's
# work budget (signing.request_work_budget); the rest are counted, never passed.
MAX_ENDORSEMENTS_CHECKED: Final = 10


class EndorsementState:
    """What the verification of one endorsement found."""

    VERIFIED = "verified"
    ENDORSER_UNKNOWN = "endorser_unknown"
    REVOKED = "revoked"
    INVALID = "invalid"  # its signature, its signer's key, its dates or the document itself
    # Nothing could be concluded: the endorser's DID or status list could not be read, or the
    # document needed more work than this node spends on it.
    UNCHECKED = "unchecked"
    NOT_ENDORSEMENT = "not_endorsement"


# Why a proof could not be checked at all (rather than was found wrong).
_PROOF_UNCHECKED: Final = frozenset(
    {"proof.key_not_resolved", "proof.too_large", "proof.too_many_blank_nodes", "proof.too_complex"}
)


def endorsement_state(result: dict[str, Any]) -> str:
    """One endorsement's state from its verification result (verify's JSON shape)."""
    if result["verified"]:
        return (
            EndorsementState.VERIFIED
            if result["trust"] == "known_issuer"
            else EndorsementState.ENDORSER_UNKNOWN
        )
    code = result.get("error_code") or ""
    # A suspended endorsement does not stand either; OB 3.0 endorsements carry no suspension
    # entry of MESHE's, so only another issuer's could be suspended.
    if code in ("status.revoked", "status.suspended"):
        return EndorsementState.REVOKED
    if code in _PROOF_UNCHECKED or code.startswith("status."):
        return EndorsementState.UNCHECKED
    return EndorsementState.INVALID


def endorsement_verdicts(
    document: Mapping[str, Any], *, reuse_remote_status_seconds: float = 0
) -> dict[str, Any]:
    """The endorsements embedded in a credential, each verified on its own as this node sees
    it: {"checked": [{id, endorser: {id, name, known}, comment, state}], "not_checked": n}."""
    embedded = ob3.embedded_endorsements(document)
    checked: list[dict[str, Any]] = []
    with signing.request_work_budget():
        for endorsement in embedded[:MAX_ENDORSEMENTS_CHECKED]:
            checked.append(_endorsement_verdict(endorsement, reuse_remote_status_seconds))
    return {"checked": checked, "not_checked": max(0, len(embedded) - MAX_ENDORSEMENTS_CHECKED)}


def _endorsement_verdict(endorsement: Any, reuse_remote_status_seconds: float) -> dict[str, Any]:
    """One embedded endorsement: who says what, and what verifying it found."""
    try:
        facts = ob3.endorsement_facts(endorsement) if isinstance(endorsement, dict) else None
    except ValueError:
        facts = None
    if facts is None:
        return {
            "id": None,
            "endorser": None,
            "comment": "",
            "state": EndorsementState.NOT_ENDORSEMENT,
        }
    view = _NodeView(remote_status_seconds=reuse_remote_status_seconds)
    result = verify_credential(endorsement, **_dependencies(view), status_list_memo=view)
    known_name = result.issuer_name
    return {
        "id": facts.credential_id,
        "endorser": {
            "id": facts.endorser_id,
            "name": known_name or facts.endorser_name or facts.endorser_id,
            "known": known_name is not None,
        },
        "subject": facts.subject_id,
        "comment": facts.comment,
        "state": endorsement_state(result.as_dict()),
    }


# The pages of this node that show one credential: a link to any of them verifies it.
_CREDENTIAL_VIEWS: Final = frozenset(
    {
        "credentials:public",
        "credentials:document",
        "credentials:badge_png",
        "credentials:badge_svg",
        "credentials:edc",
    }
)


def verify_url(url: str) -> dict[str, Any]:
    """Verifies the credential a link points to (JSON, a badge image or an EDC): this node's
    from the database, others fetched through the vetted fetcher."""
    if url.startswith(settings.MESHE_BASE_URL + "/"):
        try:
            match = resolve(urlsplit(url).path)
        except Resolver404:
            match = None
        if match is not None and match.view_name in _CREDENTIAL_VIEWS:
            try:
                credential = selectors.public_credential(public_id=match.kwargs["public_id"])
            except Http404:
                pass
            else:
                if match.view_name == "credentials:edc":
                    # Sealed as stored once downloaded; the unsealed rendering until then.
                    return verify(credential.sealed_edc or documents.edc_credential(credential))
                return verify(credential.document)
    try:
        body = fetch_bytes_https(
            url,
            max_bytes=badge_images.MAX_IMAGE_BYTES,
            allow_insecure_loopback=settings.MESHE_OUTBOUND_ALLOW_LOOPBACK,
            accept="application/ld+json, application/json, image/png, image/svg+xml",
        )
    except ResolutionError as exc:
        problem = _LINK_PROBLEMS.get(exc.reason, _LINK_UNREADABLE)
        with translation.override("en"):
            detail = "The link could not be read: " + str(problem)
        return refusal(detail, code="json.link_unreadable", params={"problem": str(problem)})
    return verify(body)


# Why a link could not be read, in words for anyone (the fetcher's own message, which may
# quote a socket or TLS error, is not shown).
_LINK_UNREADABLE: Final = gettext_lazy("the address could not be read")
_LINK_PROBLEMS: Final[dict[ResolutionFailure, Any]] = {
    ResolutionFailure.MALFORMED_URL: gettext_lazy("it is not a valid web address"),
    ResolutionFailure.INSECURE_URL: gettext_lazy("only https links are read"),
    ResolutionFailure.UNRESOLVABLE_HOST: gettext_lazy("no server has that name"),
    ResolutionFailure.FORBIDDEN_ADDRESS: gettext_lazy(
        "it points into a private network, which this portal does not reach"
    ),
    ResolutionFailure.CONNECTION_FAILED: gettext_lazy("the server could not be reached"),
    ResolutionFailure.TIMEOUT: gettext_lazy("the server did not answer in time"),
    ResolutionFailure.REDIRECT: gettext_lazy("it redirects elsewhere; give the final address"),
    ResolutionFailure.HTTP_ERROR: gettext_lazy("the server answered with an error"),
    ResolutionFailure.TOO_LARGE: gettext_lazy("what it points to is too large to be a credential"),
}


def refusal(
    detail: str, *, code: str = "json.refused", params: dict[str, str] | None = None
) -> dict[str, Any]:
    """The answer for input that never reached the pipeline, in the same JSON shape."""
    return {
        "verified": False,
        "trust": "invalid",
        "summary": None,
        "key_fingerprint": None,
        "source": "json",
        "checks": [
            {
                "check": "json",
                "ok": False,
                "detail": detail,
                "code": code,
                "outcome": "failed",
                "params": params or {},
            }
        ],
        "errors": [detail],
        "error_code": code,
        "warnings": [],
    }
