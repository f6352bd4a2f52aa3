"""The one verification pipeline for W3C VC 2.0 credentials secured with eddsa-rdfc-2022.

It is pure: DID resolution, status list fetching and the issuer directory are injected, so the
JSON API, the management command and the web page share it. Each named check lands in the
result in a fixed order; a check whose prerequisite failed is listed as not ok with a detail
starting "not checked: ", and nothing malformed ever escapes as an exception.

Every detail is a sentence of this module's own, never an exception's text (a library's or
Python's words mean nothing to an employer), and every check carries a stable `code`. The
result also says what the credential claims (its summary) and how far to trust it: `trust` is
"known_issuer", "unknown_issuer" (the signature holds but the issuer's name is self-declared),
"invalid", or "not_checkable" (an unsealed European Digital Credential). A European Digital
Credential sealed with JAdES (`{payload, signatures}`) takes its own checks: the seal, its
certificate at the signing time, the Commission's shapes, and whether the certificate leads to a
trust anchor the operator configured (`edc_trust_anchors`); then its issuer is "known" by the
name in the certificate. A badge image (PNG or SVG) is read for the credential baked into it.
"""

import hashlib
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, Final, Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from credentials.standards import (
    badge_images,
    canonical_templates,
    credential_summary,
    data_model,
    edc_shapes,
    jades,
    strict_json,
)
from credentials.standards.did_resolution import (
    ResolutionError,
    ResolutionFailure,
    assertion_key_in,
    did_of,
    find_verification_method,
    public_key_of,
)
from credentials.standards.jsonld.loader import bundled_index
from credentials.standards.signing import (
    CREDENTIALS_V2_CONTEXT,
    CRYPTOSUITE,
    CanonicalizationError,
    Failure,
    KeyNotResolved,
    NodeBusy,
    ProofVerification,
    verify_proof,
)
from credentials.standards.status_list import (
    STATUS_LIST_ENTRY_TYPE,
    STATUS_PURPOSES,
    StatusListError,
    get_bit,
    parse_index,
    status_bits,
)

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES: Final = 512 * 1024
DEFAULT_MAX_DEPTH: Final = strict_json.DEFAULT_MAX_DEPTH
# vc-js's default tolerance between the issuer's clock and ours.
DEFAULT_CLOCK_SKEW: Final = timedelta(minutes=5)
# Each entry costs a fetch and a signature check; our credentials carry two.
MAX_STATUS_ENTRIES: Final = 8
VERIFIABLE_CREDENTIAL: Final = "VerifiableCredential"
NOT_CHECKED: Final = "not checked: "

# XML Schema dateTimeStamp (a dateTime with a time zone), which VC 2.0 requires of its dates.
_DATE_TIME_STAMP: Final = re.compile(
    r"(?P<year>-?(?:[1-9][0-9]{3,}|0[0-9]{3}))-(?P<month>0[1-9]|1[0-2])-(?P<day>0[1-9]|[12][0-9]|3[01])"
    r"T(?:(?P<hour>[01][0-9]|2[0-3]):(?P<minute>[0-5][0-9]):(?P<second>[0-5][0-9])"
    r"(?:\.(?P<fraction>[0-9]+))?|(?P<midnight>24:00:00(?:\.0+)?))"
    r"(?P<zone>Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
)
_URL_LIKE: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")


class CheckName(StrEnum):
    """The checks of a verification, in the order they are reported."""

    JSON = "json"
    DATA_MODEL = "data_model"
    CONTEXTS = "contexts"
    PROOF = "proof"
    ISSUER_KEY = "issuer_key"
    # Only for a credential with several proofs (a proof set or chain): who signed, in one line.
    SIGNERS = "signers"
    VALIDITY = "validity"
    STATUS = "status"
    ISSUER_KNOWN = "issuer_known"
    # A sealed European Digital Credential's own checks, between json and issuer_known.
    SEAL = "seal"
    SEAL_CERTIFICATE = "seal_certificate"
    EDC_SHAPES = "edc_shapes"


# What each check needs to have passed before it runs, and what to say when it could not.
_PREREQUISITES: Final[Mapping[CheckName, CheckName | None]] = {
    CheckName.JSON: None,
    CheckName.DATA_MODEL: CheckName.JSON,
    CheckName.CONTEXTS: CheckName.DATA_MODEL,
    CheckName.PROOF: CheckName.CONTEXTS,
    CheckName.ISSUER_KEY: CheckName.PROOF,
    # Dates and the issuer's name are the credential's own words: only a valid signature by the
    # issuer's key makes them worth checking (a tampered credential gets no tick for them).
    CheckName.VALIDITY: CheckName.ISSUER_KEY,
    CheckName.STATUS: CheckName.ISSUER_KEY,
    CheckName.ISSUER_KNOWN: CheckName.ISSUER_KEY,
}
_WHY_NOT_CHECKED: Final[Mapping[CheckName, str]] = {
    CheckName.JSON: "the document could not be read",
    CheckName.DATA_MODEL: "the document is not a well-formed credential",
    CheckName.CONTEXTS: "the credential uses a context this verifier does not hold",
    CheckName.PROOF: "the signature is not valid",
    CheckName.ISSUER_KEY: "the signing key is not the issuer's",
}


class DidDocumentResolver(Protocol):
    """Anything that turns a DID into its DID document, raising ResolutionError (DidResolver does)."""

    def resolve(self, did: str) -> Mapping[str, Any]: ...


StatusListFetcher = Callable[[str], Mapping[str, Any]]
IssuerDirectory = Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class Check:
    """One named check: whether it passed and a sentence saying why, fit to show an employer.
    `code` is stable ("proof.bad_signature") and `params` holds the values its sentence names,
    so a page can say it in the reader's language."""

    check: CheckName
    ok: bool
    detail: str
    ran: bool = True
    code: str = ""
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        """ "passed", "failed" or "not_checked"."""
        if not self.ran:
            return "not_checked"
        return "passed" if self.ok else "failed"

    @property
    def stable_code(self) -> str:
        if self.code:
            return self.code
        if not self.ran:
            return f"{self.check}.not_checked"
        return f"{self.check}.{'ok' if self.ok else 'failed'}"


class Trust(StrEnum):
    """How far a verdict lets a reader trust what the credential says."""

    KNOWN_ISSUER = "known_issuer"
    UNKNOWN_ISSUER = "unknown_issuer"
    INVALID = "invalid"
    NOT_CHECKABLE = "not_checkable"


class ProofRole(StrEnum):
    """Whose proof it is: the credential's issuer's, or another signer's (a witness)."""

    ISSUER = "issuer"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class ProofReport:
    """One proof of a proof set or chain, as the verification result reports it."""

    id: str | None
    verification_method: str | None
    # The DID that controls the key, once its DID document lists the key for the purpose.
    signer: str | None
    purpose: str | None
    role: ProofRole
    previous_proof: tuple[str, ...]
    valid: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        """Return {id, verificationMethod, signer, purpose, role, previousProof, valid, detail}."""
        return {
            "id": self.id,
            "verificationMethod": self.verification_method,
            "signer": self.signer,
            "purpose": self.purpose,
            "role": str(self.role),
            "previousProof": list(self.previous_proof),
            "valid": self.valid,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """The verdict: verified only when every check but issuer_known passed. `trust` tells a
    known issuer from a self-declared one; `summary` is what the credential claims (None when
    it could not be read), `issuer_name` the name this portal knows the issuer by (None when it
    does not), `key_fingerprint` the SHA-256 of the signing key as its DID document writes it."""

    verified: bool
    checks: tuple[Check, ...]
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    # None when whoever built the result did not say (credentials.standards.proof_sets):
    # trust_level() then derives it from the verdict and the issuer_known check.
    trust: Trust | None = None
    summary: credential_summary.Summary | None = None
    issuer_name: str | None = None
    key_fingerprint: str | None = None
    source: str = "json"
    # Each proof, when the credential carries more than one (a proof set or chain).
    proofs: tuple[ProofReport, ...] = ()
    # What the JAdES seal of a sealed European Digital Credential says (seal_facts).
    seal: Mapping[str, Any] | None = None
    # The JSON object the pipeline read (None when it read none, or did not say), for a caller
    # that looks further into the credential without parsing it again; never in as_dict().
    document: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)

    def check(self, name: CheckName | str) -> Check:
        """Return the check called name; raises KeyError if it is not in the result."""
        for check in self.checks:
            if check.check == name:
                return check
        raise KeyError(name)

    def trust_level(self) -> Trust:
        """How far to trust what the credential says."""
        if self.trust is not None:
            return self.trust
        if not self.verified:
            return Trust.INVALID
        known = next((c for c in self.checks if c.check == CheckName.ISSUER_KNOWN), None)
        return Trust.KNOWN_ISSUER if known is not None and known.ok else Trust.UNKNOWN_ISSUER

    def first_failure(self) -> Check | None:
        """The check that failed first (the cause), None when none did."""
        for check in self.checks:
            if check.ran and not check.ok and check.check != CheckName.ISSUER_KNOWN:
                return check
        return None

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON shape {verified, checks: [{check, ok, detail, code, outcome}], errors,
        warnings}, with trust, summary, key_fingerprint and error_code (the first failure's
        code) added, and `proofs` for a credential that carries more than one."""
        failure = self.first_failure()
        shape: dict[str, Any] = {
            "verified": self.verified,
            "trust": str(self.trust_level()),
            "summary": self._summary_dict(),
            "key_fingerprint": self.key_fingerprint,
            "source": self.source,
            "checks": [
                {
                    "check": str(check.check),
                    "ok": check.ok,
                    "detail": check.detail,
                    "code": check.stable_code,
                    "outcome": check.outcome,
                    "params": dict(check.params),
                }
                for check in self.checks
            ],
            "errors": list(self.errors),
            "error_code": failure.stable_code if failure is not None else None,
            "warnings": list(self.warnings),
        }
        if self.proofs:
            shape["proofs"] = [proof.as_dict() for proof in self.proofs]
        if self.seal is not None:
            shape["seal"] = dict(self.seal)
        return shape

    def _summary_dict(self) -> dict[str, Any] | None:
        summary = self.summary
        if summary is None:
            return None
        ects = summary.ects
        return {
            "format": summary.format,
            "holder": summary.holder_name or None,
            "title": summary.title or None,
            "issuer": {
                "id": summary.issuer_id or None,
                "name": self.issuer_name or summary.issuer_name or None,
                "declared_name": summary.issuer_name or None,
                "confirmed": self.trust_level() is Trust.KNOWN_ISSUER,
            },
            "awarded": summary.awarded_on.isoformat() if summary.awarded_on else None,
            "ects": (int(ects) if ects == ects.to_integral_value() else float(ects))
            if ects is not None
            else None,
            "eqf": summary.eqf_number,
            "grade": summary.grade or None,
        }


@dataclass(slots=True)
class _Facts:
    """What the data model check read from a credential, for the checks after it."""

    problems: list[str] = field(default_factory=list)
    issuer: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    valid_from_text: str = ""
    valid_until_text: str = ""


@dataclass(frozen=True, slots=True)
class CheckedStatusList:
    """A status list credential whose id, data model, proof and signing key have been checked,
    with its bitstrings decoded once. Its issuer and dates are still checked against each
    credential and each moment it answers for."""

    credential: Mapping[str, Any]
    issuer: str | None
    facts: _Facts
    _bits: dict[str, bytes | StatusListError] = field(default_factory=dict)

    def read(self, *, purpose: str, index: int) -> bool:
        """Return the bit at index for purpose; raises StatusListError."""
        if purpose not in self._bits:
            try:
                self._bits[purpose] = status_bits(self.credential, purpose=purpose)
            except StatusListError as exc:
                self._bits[purpose] = exc
        bits = self._bits[purpose]
        if isinstance(bits, StatusListError):
            raise bits
        return get_bit(bits, index)


class StatusListMemo(Protocol):
    """Where a caller keeps status lists already checked, for as long as it knows them unchanged
    (the node keeps its own lists until it publishes again; see credentials.issuing.verifier)."""

    def get(self, url: str) -> CheckedStatusList | None: ...

    def put(self, url: str, checked: CheckedStatusList) -> None: ...


class ResolvedDocuments:
    """DID documents resolved once per verification, failures included."""

    def __init__(self, resolver: DidDocumentResolver) -> None:
        self._resolver = resolver
        self._memo: dict[str, dict[str, Any] | ResolutionError] = {}

    def resolve(self, did: str) -> dict[str, Any]:
        """Return did's document; raises ResolutionError (the same one each time it is asked)."""
        if did not in self._memo:
            self._memo[did] = self._resolve_once(did)
        outcome = self._memo[did]
        if isinstance(outcome, ResolutionError):
            raise outcome
        return outcome

    def _resolve_once(self, did: str) -> dict[str, Any] | ResolutionError:
        """Return the document or the error of one call to the injected resolver."""
        try:
            document = self._resolver.resolve(did)
        except ResolutionError as exc:
            return exc
        except Exception:
            # The resolver is injected; anything it raises means "could not resolve", not a crash.
            logger.exception("DID resolver failed unexpectedly for %s", did)
            return ResolutionError(ResolutionFailure.CONNECTION_FAILED, "the DID resolver failed")
        if not isinstance(document, Mapping):
            return ResolutionError(
                ResolutionFailure.NOT_JSON, f"the DID document of {did} is not a JSON object"
            )
        return dict(document)


@dataclass(slots=True)
class _Run:
    """The state of one verification: inputs, what earlier checks found, collected results."""

    documents: ResolvedDocuments
    fetch_status_list: StatusListFetcher
    issuer_directory: IssuerDirectory
    now: datetime
    max_clock_skew: timedelta
    document: dict[str, Any] | None = None
    facts: _Facts = field(default_factory=_Facts)
    verification_method: str | None = None
    proofs: tuple[ProofReport, ...] = ()
    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    status_lists: dict[str, CheckedStatusList | str] = field(default_factory=dict)
    status_list_memo: StatusListMemo | None = None
    source: str = "json"
    is_edc: bool = False
    issuer_name: str | None = None
    key_fingerprint: str | None = None


def verify_credential(
    raw: bytes | str | Mapping[str, Any],
    *,
    resolver: DidDocumentResolver,
    fetch_status_list: StatusListFetcher,
    issuer_directory: IssuerDirectory,
    now: datetime,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
    status_list_memo: StatusListMemo | None = None,
    edc_trust_anchors: tuple[x509.Certificate, ...] = (),
) -> VerificationResult:
    """Return the verdict on a credential with every check named; never raises on any input.

    `status_list_memo` lets the caller keep status lists checked once (proof, key, data model)
    for later verifications; their issuer and dates are checked every time.
    Only a naive `now` raises ValueError: that is a programming error, not a bad credential.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    run = _Run(
        documents=ResolvedDocuments(resolver),
        fetch_status_list=fetch_status_list,
        issuer_directory=issuer_directory,
        now=now,
        max_clock_skew=max_clock_skew,
        status_list_memo=status_list_memo,
    )
    steps: dict[CheckName, Callable[[_Run], Check]] = {
        CheckName.JSON: lambda state: _check_json(
            state, raw, max_bytes=max_bytes, max_depth=max_depth
        ),
        CheckName.DATA_MODEL: _check_data_model,
        CheckName.CONTEXTS: _check_contexts,
        CheckName.PROOF: _check_proof,
        CheckName.ISSUER_KEY: _check_issuer_key,
        CheckName.VALIDITY: _check_validity,
        CheckName.STATUS: _check_status,
        CheckName.ISSUER_KNOWN: _check_issuer_known,
    }
    passed: set[CheckName] = set()
    for name, step in steps.items():
        check = _run_step(name, step, run, passed)
        if name == CheckName.JSON and check.ok and is_sealed(run.document):
            return _verify_sealed_edc(run, check, edc_trust_anchors)
        run.checks.append(check)
        if check.ok:
            passed.add(name)
        if name == CheckName.ISSUER_KEY and run.proofs:
            # One line for people on who signed; its failures are the proof and key checks'.
            run.checks.append(signers_check(run.proofs))

    verified = all(check.ok for check in run.checks if check.check != CheckName.ISSUER_KNOWN)
    errors = [
        check.detail
        for check in run.checks
        if check.ran
        and not check.ok
        and check.check not in (CheckName.ISSUER_KNOWN, CheckName.SIGNERS)
    ]
    warnings = list(run.warnings)
    known = run.checks[-1]
    if known.ran and not known.ok:
        warnings.append(known.detail)
    if run.is_edc:
        trust = Trust.NOT_CHECKABLE
    elif not verified:
        trust = Trust.INVALID
    else:
        trust = Trust.KNOWN_ISSUER if known.ok else Trust.UNKNOWN_ISSUER
    return VerificationResult(
        verified=verified,
        checks=tuple(run.checks),
        errors=tuple(errors),
        warnings=tuple(warnings),
        trust=trust,
        summary=_summary_of(run.document),
        issuer_name=run.issuer_name if trust is Trust.KNOWN_ISSUER else None,
        key_fingerprint=run.key_fingerprint if verified else None,
        source=run.source,
        proofs=run.proofs,
        document=run.document,
    )


def _summary_of(document: Mapping[str, Any] | None) -> credential_summary.Summary | None:
    """What the credential claims, None when it is not readable as a credential."""
    if document is None:
        return None
    try:
        return credential_summary.summarise(document)
    except credential_summary.NotACredential:
        return None
    except Exception:
        # A summary is a courtesy to the reader; a document it cannot read is not a crash.
        logger.exception("credential summary failed unexpectedly")
        return None


def _run_step(
    name: CheckName, step: Callable[[_Run], Check], run: _Run, passed: set[CheckName]
) -> Check:
    """Return the step's check, or "not checked" after a failed prerequisite, or an internal error."""
    chain = []
    prerequisite = _PREREQUISITES[name]
    while prerequisite is not None:
        chain.append(prerequisite)
        prerequisite = _PREREQUISITES[prerequisite]
    # Name the earliest failure, the cause, rather than the check that merely did not run.
    for needed in reversed(chain):
        if needed not in passed:
            why = _EDC_NOT_CHECKED if run.is_edc else _WHY_NOT_CHECKED[needed]
            return Check(
                name,
                False,
                NOT_CHECKED + why,
                ran=False,
                code=f"{name}.not_checked",
                params={"because": str(CheckName.DATA_MODEL if run.is_edc else needed)},
            )
    try:
        return step(run)
    except NodeBusy:
        raise  # not a finding about the credential: the caller answers "try again"
    except Exception:
        # Every known bad input has a named failure; this net keeps an unforeseen one a failed
        # check (and a logged bug) rather than a server error on the public verification page.
        logger.exception("verification check %s failed unexpectedly", name)
        return Check(
            name,
            False,
            "This check could not be completed because of an internal error",
            code=f"{name}.internal_error",
        )


_EDC_NOT_CHECKED: Final = "this verifier cannot check the seal of a European Digital Credential"


# ---------------------------------------------------------------- json


def _check_json(run: _Run, raw: Any, *, max_bytes: int, max_depth: int) -> Check:
    """Parse raw into run.document: well-formed, within max_bytes and max_depth, one object.
    A baked badge image (PNG or SVG) is read for the credential it carries."""
    name = CheckName.JSON
    if isinstance(raw, Mapping):
        try:
            raw = json.dumps(raw, ensure_ascii=False, allow_nan=False)
        except RecursionError:
            return _too_deep(max_depth)
        except (TypeError, ValueError):
            return Check(name, False, "The document is not JSON data", code="json.not_json")
    elif not isinstance(raw, bytes | bytearray | memoryview | str):
        return Check(name, False, "The document is not JSON data", code="json.not_json")
    try:
        raw, run.source = credential_payload(raw)
    except badge_images.BadgeImageError:
        return Check(
            name,
            False,
            "This image carries no credential this verifier can read (an Open Badges 3.0 "
            "badge image has the signed credential baked into it)",
            code="json.image_without_credential",
        )
    try:
        document = strict_json.load_object(raw, max_bytes=max_bytes, max_depth=max_depth)
    except strict_json.JsonRefused as exc:
        match exc.problem:
            case strict_json.Problem.TOO_LARGE:
                return _too_large(max_bytes)
            case strict_json.Problem.TOO_DEEP:
                return _too_deep(max_depth)
            case strict_json.Problem.NOT_OBJECT:
                return Check(
                    name,
                    False,
                    "The document is JSON but not a JSON object",
                    code="json.not_object",
                )
            case strict_json.Problem.NOT_TEXT:
                return Check(
                    name,
                    False,
                    "The document is not text: a credential is a JSON file or a badge image "
                    "(PNG or SVG) that carries one",
                    code="json.not_text",
                )
            case _ if not (raw.strip() if isinstance(raw, str) else bytes(raw).strip()):
                return Check(name, False, "The document is empty", code="json.empty")
            case _:
                # strict_json's sentences are its own, never the json module's.
                return Check(
                    name,
                    False,
                    f"The document is not valid JSON: {exc}",
                    code="json.not_json",
                    params={"problem": str(exc)},
                )
    run.document = document
    size = len(raw) if not isinstance(raw, str) else len(raw.encode("utf-8"))
    if credential_summary.is_edc(document):
        run.is_edc = True
    if run.source != "json":
        return Check(
            name,
            True,
            f"Credential read from a {run.source.upper()} badge image ({size} bytes of JSON)",
            code=f"json.ok_{run.source}",
            params={"size": str(size)},
        )
    return Check(
        name, True, f"Well-formed JSON ({size} bytes)", code="json.ok", params={"size": str(size)}
    )


def credential_payload(raw: bytes | bytearray | memoryview | str) -> tuple[bytes | str, str]:
    """The credential text carried by raw and where it was found: ("…", "json") for JSON itself,
    "png" or "svg" for a baked badge image, unbaked within badge_images' work budgets (images up
    to badge_images.MAX_IMAGE_BYTES). Raises badge_images.BadgeImageError for an image that
    carries none. Every door that takes a credential (/verify, the API, the command, the
    wallet's import) reads its input through this."""
    if isinstance(raw, str):
        # A pasted SVG is text; nothing else that starts with "<" is a credential.
        if raw.lstrip().startswith("<"):
            raw = raw.encode("utf-8")
        else:
            return raw, "json"
    data = bytes(raw)
    if badge_images.is_png(data):
        return badge_images.unbake(data), "png"
    if badge_images.is_svg(data):
        return badge_images.unbake(data), "svg"
    return data, "json"


def _too_large(max_bytes: int) -> Check:
    """Return the check for a document over the size cap."""
    return Check(
        CheckName.JSON,
        False,
        f"The document is too large (over {max_bytes // 1024} KiB)",
        code="json.too_large",
        params={"limit": str(max_bytes // 1024)},
    )


def _too_deep(max_depth: int) -> Check:
    """Return the check for a document nested past the depth cap."""
    return Check(
        CheckName.JSON,
        False,
        f"The document is too deeply nested (more than {max_depth} levels)",
        code="json.too_deep",
        params={"limit": str(max_depth)},
    )


# ---------------------------------------------------------------- data model


def _check_data_model(run: _Run) -> Check:
    """Check the VC 2.0 data model: context, type, issuer, subject, dates and a proof."""
    assert run.document is not None  # the json check passed
    if run.is_edc:
        return Check(
            CheckName.DATA_MODEL,
            False,
            "This is a European Digital Credential (EDC): this verifier cannot check its seal; "
            "the European Commission's Europass verifier can",
            code="data_model.edc",
        )
    run.facts = _read_facts(run.document)
    if run.facts.problems:
        return Check(
            CheckName.DATA_MODEL,
            False,
            "; ".join(run.facts.problems),
            code="data_model.invalid",
            params={"problems": "; ".join(run.facts.problems)},
        )
    return Check(
        CheckName.DATA_MODEL,
        True,
        "A W3C Verifiable Credential (data model 2.0)",
        code="data_model.ok",
    )


def _read_facts(document: Mapping[str, Any]) -> _Facts:
    """Return the issuer and dates of a credential, with a sentence for each data model problem."""
    facts = _Facts()
    problems = facts.problems
    context = document.get("@context")
    if not isinstance(context, list) or not context or context[0] != CREDENTIALS_V2_CONTEXT:
        problems.append(f"The first @context must be {CREDENTIALS_V2_CONTEXT} (VC 2.0)")
    types = _as_list(document.get("type"))
    if not types or not all(isinstance(value, str) for value in types):
        problems.append("The type must be a string or a list of strings")
    elif VERIFIABLE_CREDENTIAL not in types:
        problems.append(f"The type does not include {VERIFIABLE_CREDENTIAL}")
    issuer = issuer_id(document.get("issuer"))
    if issuer is None:
        problems.append("The credential names no issuer (a URL, or an object with an id)")
    facts.issuer = issuer
    problems.extend(_subject_problems(document.get("credentialSubject")))
    for name in ("validFrom", "validUntil"):
        if name not in document:
            continue
        value = document[name]
        try:
            moment = parse_date_time_stamp(value)
        except ValueError:
            problems.append(
                f"{name} is not a valid date and time with a time zone (like 2024-01-31T12:00:00Z)"
            )
            continue
        if name == "validFrom":
            facts.valid_from, facts.valid_from_text = moment, value
        else:
            facts.valid_until, facts.valid_until_text = moment, value
    if document.get("proof") in (None, [], {}):
        problems.append("The credential is not signed (it has no proof)")
    # The issuer refuses to sign the same problems (credentials.standards.signing.Signer).
    problems.extend(problem.message for problem in data_model.problems(document))
    return facts


def issuer_id(issuer: Any) -> str | None:
    """Return the issuer's URL, given as a string or as an object's id, or None if malformed."""
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    if isinstance(issuer, str) and _URL_LIKE.fullmatch(issuer):
        return issuer
    return None


def _subject_problems(subject: Any) -> list[str]:
    """Return the problems with credentialSubject: one or more non-empty objects, ids that are URLs."""
    subjects = subject if isinstance(subject, list) else [subject]
    if subject is None or not subjects:
        return ["The credential has no credentialSubject"]
    problems = []
    for each in subjects:
        if not isinstance(each, Mapping) or not each:
            problems.append("Each credentialSubject must be an object that makes a claim")
        elif "id" in each and not (isinstance(each["id"], str) and _URL_LIKE.fullmatch(each["id"])):
            problems.append("A credentialSubject id must be a URL")
    return problems


def parse_date_time_stamp(value: Any) -> datetime:
    """Return the aware datetime of an XML Schema dateTimeStamp; raises ValueError, naming the flaw."""
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a string")
    match = _DATE_TIME_STAMP.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not of the form 2024-01-31T12:00:00Z")
    year = int(match["year"])
    if not 1 <= year <= 9999:
        raise ValueError(f"{value!r} is outside the years 0001 to 9999")
    zone_text = match["zone"]
    if zone_text == "Z":
        zone = UTC
    else:
        sign = -1 if zone_text[0] == "-" else 1
        zone = timezone(sign * timedelta(hours=int(zone_text[1:3]), minutes=int(zone_text[4:6])))
    if match["midnight"]:
        hour, minute, second, microsecond, extra = 0, 0, 0, 0, timedelta(days=1)
    else:
        hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"])
        microsecond = int((match["fraction"] or "0")[:6].ljust(6, "0"))
        extra = timedelta()
    try:
        moment = datetime(
            year, int(match["month"]), int(match["day"]), hour, minute, second, microsecond, zone
        )
        return moment + extra
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{value!r} is not a real date ({exc})") from exc


# ---------------------------------------------------------------- contexts


def _check_contexts(run: _Run) -> Check:
    """Check that every context URL the document names is bundled; nothing is ever fetched."""
    assert run.document is not None  # the json check passed
    urls: list[str] = []
    malformed: list[str] = []
    _collect_context_urls(run.document, urls, malformed)
    bundled = bundled_index()
    unknown = list(dict.fromkeys(url for url in urls if url not in bundled))
    if malformed:
        return Check(
            CheckName.CONTEXTS,
            False,
            f"Malformed @context entry {malformed[0]}",
            code="contexts.malformed",
            params={"entry": malformed[0]},
        )
    if unknown:
        noun = "context" if len(unknown) == 1 else "contexts"
        return Check(
            CheckName.CONTEXTS,
            False,
            f"Unknown {noun} {', '.join(unknown)} (this verifier never fetches contexts)",
            code="contexts.unknown",
            params={"contexts": ", ".join(unknown)},
        )
    count = len(set(urls))
    noun = "context" if count == 1 else "contexts"
    return Check(
        CheckName.CONTEXTS,
        True,
        f"Uses {count} {noun}, all bundled with this verifier",
        code="contexts.ok",
        params={"count": str(count)},
    )


def _collect_context_urls(element: Any, urls: list[str], malformed: list[str]) -> None:
    """Add to urls every context URL in element (top level, nested, scoped and @import)."""
    if isinstance(element, list):
        for item in element:
            _collect_context_urls(item, urls, malformed)
        return
    if not isinstance(element, Mapping):
        return
    for key, value in element.items():
        if key == "@context":
            for entry in _as_list(value):
                if isinstance(entry, str):
                    urls.append(entry)
                elif isinstance(entry, Mapping):
                    _collect_context_urls(entry, urls, malformed)
                elif entry is not None:
                    malformed.append(json.dumps(entry)[:80])
        elif key == "@import" and isinstance(value, str):
            urls.append(value)
        elif isinstance(value, (dict, list)):
            # Only containers hold contexts: a credential's hundreds of strings and numbers are
            # passed over here rather than in a call each (a fifth of a verification's walk).
            _collect_context_urls(value, urls, malformed)


# ---------------------------------------------------------------- proof and issuer key


def _check_proof(run: _Run) -> Check:
    """Check the single eddsa-rdfc-2022 assertionMethod proof with the key its DID document gives,
    or every proof of a proof set or chain."""
    assert run.document is not None  # the json check passed
    proof = run.document.get("proof")
    if isinstance(proof, list) and len(proof) > 1:
        return _check_proof_set(run)
    result, key_error = _verify_signature(run.document, run.documents)
    if not result.verified:
        return Check(
            CheckName.PROOF,
            False,
            _describe_proof_failure(result, key_error),
            code=f"proof.{str(result.failure).replace('-', '_')}",
            params={"key": str(result.verification_method or "")},
        )
    run.verification_method = result.verification_method
    return Check(
        CheckName.PROOF,
        True,
        f"Valid {CRYPTOSUITE} signature by key {result.verification_method}",
        code="proof.ok",
        params={"key": str(result.verification_method)},
    )


def _check_proof_set(run: _Run) -> Check:
    """Check every proof of a set or chain (Data Integrity §4.4); all must verify."""
    # proof_sets builds on this module, so it is imported only when a set is met.
    from credentials.standards import proof_sets

    assert run.document is not None  # the json check passed
    proof_set = proof_sets.verify_proof_set(
        run.document,
        public_key=_key_finder(run.documents, []),
        now=run.now,
        root_canonicalizer=canonical_templates.canonicalize_fast,
    )
    run.proofs = proof_sets.proof_reports(
        proof_set, run.document, issuer=run.facts.issuer, resolver=run.documents
    )
    return proof_sets.proof_set_check(proof_set, run.proofs)


def _key_finder(
    documents: ResolvedDocuments, key_errors: list[ResolutionError]
) -> Callable[[str], Ed25519PublicKey]:
    """Return a key lookup for verify_proof that records why a key could not be had."""

    def key_for(method_id: str) -> Ed25519PublicKey:
        try:
            method = find_verification_method(documents.resolve(did_of(method_id)), method_id)
            return public_key_of(method)
        except ResolutionError as exc:
            key_errors.append(exc)
            raise KeyNotResolved(exc.message) from exc

    return key_for


def _verify_signature(
    document: Mapping[str, Any], documents: ResolvedDocuments
) -> tuple[ProofVerification, ResolutionError | None]:
    """Return verify_proof's outcome, and why the key could not be had if that was the failure."""
    key_errors: list[ResolutionError] = []
    key_for = _key_finder(documents, key_errors)
    # A shape seen before is canonicalised from its template, proven byte-identical to pyld;
    # a new shape takes the general path.
    result = verify_proof(
        document, public_key=key_for, canonicalizer=canonical_templates.canonicalize_fast
    )
    return result, key_errors[0] if key_errors else None


def _describe_proof_failure(result: ProofVerification, key_error: ResolutionError | None) -> str:
    """Return a plain sentence for a failed proof."""
    detail = result.detail
    match result.failure:
        case Failure.MISSING_PROOF:
            return "The credential is not signed (it has no proof)"
        case Failure.MULTIPLE_PROOFS:
            return f"The credential carries several proofs; this verifier accepts exactly one ({detail})"
        case Failure.WRONG_PROOF_TYPE:
            found = detail.removeprefix("proof type ")
            return f"Unsupported proof type {found}; expected DataIntegrityProof"
        case Failure.WRONG_CRYPTOSUITE:
            found = detail.removeprefix("cryptosuite ")
            return f"Unsupported cryptosuite {found}; expected {CRYPTOSUITE}"
        case Failure.WRONG_PROOF_PURPOSE:
            return f"The proof is not an assertion by the issuer ({detail})"
        case Failure.MALFORMED_PROOF:
            return "The proof is malformed: it lacks a field or has one of the wrong kind"
        case Failure.MALFORMED_PROOF_VALUE:
            return "The proof is malformed: its proofValue is not a signature in multibase"
        case Failure.CONTEXT_MISMATCH:
            return "The proof's @context does not match the credential's"
        case Failure.KEY_NOT_RESOLVED:
            reason = key_error.message if key_error is not None else "its DID could not be resolved"
            return f"The signing key {result.verification_method} could not be found: {reason}"
        case Failure.BAD_SIGNATURE:
            return (
                "The signature does not match: the credential was changed after it was signed, "
                "or it was signed with another key"
            )
        case Failure.INVALID_JSON_LD | Failure.MALFORMED_DOCUMENT:
            # pyld's and Python's own words (a JSON-LD syntax error, a KeyError) go to the log.
            logger.info("proof not checkable (%s): %s", result.failure, detail)
            return (
                "The credential is not valid JSON-LD (its @context or a term in it is malformed), "
                "so its signature cannot be checked"
            )
        case _:
            # The canonicaliser's other refusals (budgets, undefined terms, relative IRIs) are
            # sentences of its own.
            return f"The credential cannot be checked ({result.failure}): {detail}"


def _check_issuer_key(run: _Run) -> Check:
    """Check the signing key may assert for its DID (assertionMethod) and that DID is the issuer."""
    if run.proofs:
        check = issuer_proof_check(run.proofs, run.facts.issuer)
        issuer_proof = next(
            (
                p
                for p in run.proofs
                if p.valid and p.role == ProofRole.ISSUER and p.verification_method
            ),
            None,
        )
        if check.ok and issuer_proof is not None:
            run.key_fingerprint = _fingerprint(str(issuer_proof.verification_method), run.documents)
        return check
    assert run.verification_method is not None  # the proof check passed
    problem = _issuer_key_problem(run.verification_method, run.facts.issuer, run.documents)
    if problem is not None:
        return Check(CheckName.ISSUER_KEY, False, problem, code="issuer_key.not_the_issuers")
    run.key_fingerprint = _fingerprint(run.verification_method, run.documents)
    return Check(
        CheckName.ISSUER_KEY,
        True,
        f"Signed by {run.facts.issuer} with key {run.verification_method}",
        code="issuer_key.ok",
        params={"issuer": str(run.facts.issuer), "key": run.verification_method},
    )


def _fingerprint(method_id: str, documents: ResolvedDocuments) -> str | None:
    """The SHA-256 of the key's publicKeyMultibase, as institutions.selectors.key_fingerprint
    shows it on institution pages, so a person can compare the two by eye."""
    try:
        method = find_verification_method(documents.resolve(did_of(method_id)), method_id)
    except ResolutionError:
        return None
    multibase = method.get("publicKeyMultibase")
    if not isinstance(multibase, str):
        return None
    return hashlib.sha256(multibase.encode()).hexdigest()


def issuer_proof_check(proofs: tuple[ProofReport, ...], issuer: str | None) -> Check:
    """The issuer_key check of a proof set or chain: one valid proof must be by a key the
    issuer asserts with (Data Integrity leaves to the verifier which proofs it requires)."""
    issuer_proof = next(
        (proof for proof in proofs if proof.valid and proof.role == ProofRole.ISSUER), None
    )
    if issuer_proof is None:
        signers = ", ".join(dict.fromkeys(str(proof.signer) for proof in proofs))
        return Check(
            CheckName.ISSUER_KEY,
            False,
            f"No proof is by the issuer's key: the signing keys belong to {signers}, "
            f"but the credential names {issuer} as its issuer",
        )
    return Check(
        CheckName.ISSUER_KEY,
        True,
        f"Signed by {issuer} with key {issuer_proof.verification_method}",
    )


def signers_check(proofs: tuple[ProofReport, ...]) -> Check:
    """Say who signed a credential with several proofs, and whether each signature is valid:
    "Signed by the issuer, and also by did:key:z6Mk… (a witness); both signatures valid"."""
    witnesses = list(dict.fromkeys(_signer_name(p) for p in proofs if p.role == ProofRole.OTHER))
    by_issuer = any(proof.valid and proof.role == ProofRole.ISSUER for proof in proofs)
    invalid = [proof for proof in proofs if not proof.valid]
    if not invalid and by_issuer:
        also = f", and also by {', '.join(witnesses)} ({_witnesses(len(witnesses))})"
        valid = (
            "both signatures valid" if len(proofs) == 2 else f"all {len(proofs)} signatures valid"
        )
        return Check(
            CheckName.SIGNERS, True, f"Signed by the issuer{also if witnesses else ''}; {valid}"
        )
    if not invalid:
        return Check(
            CheckName.SIGNERS,
            False,
            f"Signed by {', '.join(witnesses)}, none of them the issuer; the signatures are valid",
        )
    not_valid = list(dict.fromkeys(_signer_name(proof) for proof in invalid))
    verb = "signature by {} is" if len(not_valid) == 1 else "signatures by {} are"
    return Check(CheckName.SIGNERS, False, f"The {verb.format(', '.join(not_valid))} not valid")


def _signer_name(proof: ProofReport) -> str:
    return proof.signer or proof.verification_method or "an unnamed key"


def _witnesses(count: int) -> str:
    return "a witness" if count == 1 else "witnesses"


def _issuer_key_problem(
    method_id: str, issuer: str | None, documents: ResolvedDocuments
) -> str | None:
    """Return why method_id may not sign for issuer, or None when it may."""
    try:
        key = assertion_key_in(documents.resolve(did_of(method_id)), method_id)
    except ResolutionError as exc:
        return f"The signing key is not usable for credentials: {exc.message}"
    if key.controller != issuer:
        return (
            f"The signing key belongs to {key.controller}, "
            f"but the credential names {issuer} as its issuer"
        )
    return None


# ---------------------------------------------------------------- validity


def _check_validity(run: _Run) -> Check:
    """Check validFrom ≤ now < validUntil, allowing max_clock_skew either way."""
    facts = run.facts
    problem = _validity_problem(facts, run.now, run.max_clock_skew)
    if problem is not None:
        expired = problem.startswith("Expired")
        return Check(
            CheckName.VALIDITY,
            False,
            problem,
            code="validity.expired" if expired else "validity.not_yet_valid",
            params={"date": facts.valid_until_text if expired else facts.valid_from_text},
        )
    start = f"Valid from {facts.valid_from_text}" if facts.valid_from else "Valid"
    end = f"until {facts.valid_until_text}" if facts.valid_until else "no expiry date"
    joiner = " " if facts.valid_until else ", "
    return Check(
        CheckName.VALIDITY,
        True,
        start + joiner + end,
        code="validity.ok",
        params={"from": facts.valid_from_text, "until": facts.valid_until_text},
    )


def _validity_problem(facts: _Facts, now: datetime, skew: timedelta) -> str | None:
    """Return "Expired on …" or "Not valid before …" when now is outside the window, else None."""
    if facts.valid_until is not None and now - facts.valid_until >= skew:
        return f"Expired on {facts.valid_until_text}"
    if facts.valid_from is not None and facts.valid_from - now > skew:
        return f"Not valid before {facts.valid_from_text}"
    return None


# ---------------------------------------------------------------- status


def _check_status(run: _Run) -> Check:
    """Check each BitstringStatusListEntry against its signed list, from the same issuer."""
    assert run.document is not None  # the json check passed
    status = run.document.get("credentialStatus")
    entries = _as_list(status)
    if not entries:
        return Check(CheckName.STATUS, True, "No status list", code="status.none")
    if len(entries) > MAX_STATUS_ENTRIES:
        return Check(
            CheckName.STATUS,
            False,
            f"The credential has {len(entries)} status entries; at most {MAX_STATUS_ENTRIES} are checked",
            code="status.too_many_entries",
        )
    problems: list[str] = []
    findings: list[str] = []
    for entry in entries:
        outcome = _entry_outcome(run, entry)
        if outcome.problem is not None:
            problems.append(outcome.problem)
        elif outcome.finding is not None:
            findings.append(outcome.finding)
    if problems:
        unique = list(dict.fromkeys(problems))
        if "Revoked by the issuer" in unique:
            code = "status.revoked"
        elif "Suspended by the issuer" in unique:
            code = "status.suspended"
        else:
            code = "status.unreadable"
        return Check(CheckName.STATUS, False, "; ".join(unique), code=code)
    if not findings:
        return Check(CheckName.STATUS, True, "No revocation or suspension list", code="status.none")
    return Check(
        CheckName.STATUS,
        True,
        ", ".join(findings).capitalize(),
        code="status.ok",
        params={"findings": ",".join(findings)},
    )


@dataclass(frozen=True, slots=True)
class _EntryOutcome:
    """A status entry's result: a problem (failure), a finding ("not revoked"), or neither."""

    problem: str | None = None
    finding: str | None = None


def _entry_outcome(run: _Run, entry: Any) -> _EntryOutcome:
    """Return what one credentialStatus entry says, reading and checking its status list."""
    if not isinstance(entry, Mapping):
        return _EntryOutcome(problem="A credentialStatus entry is not an object")
    types = _as_list(entry.get("type"))
    if STATUS_LIST_ENTRY_TYPE not in types:
        # Passing an entry we cannot read would call a possibly revoked credential valid.
        shown = ", ".join(map(str, types)) or "none"
        return _EntryOutcome(
            problem=f"Unsupported status type ({shown}): this verifier cannot tell whether it was revoked"
        )
    purpose = entry.get("statusPurpose")
    if purpose not in STATUS_PURPOSES:
        # vc-js also reads only revocation and suspension bits; other purposes carry messages.
        run.warnings.append(f"A status entry with purpose {purpose!r} was not checked")
        return _EntryOutcome()
    if entry.get("statusSize", 1) != 1:
        return _EntryOutcome(problem=f"Unsupported statusSize {entry.get('statusSize')!r} (only 1)")
    url = entry.get("statusListCredential")
    if not isinstance(url, str) or not _URL_LIKE.fullmatch(url):
        return _EntryOutcome(problem="A status entry has no statusListCredential URL")
    if entry.get("id") == url:
        return _EntryOutcome(
            problem="A status entry's id must differ from its statusListCredential"
        )
    try:
        index = parse_index(entry.get("statusListIndex"))
    except StatusListError as exc:
        return _EntryOutcome(problem=f"A status entry is malformed: {exc}")

    checked = _status_list(run, url)
    if isinstance(checked, str):
        return _EntryOutcome(problem=checked)
    try:
        is_set = checked.read(purpose=purpose, index=index)
    except StatusListError as exc:
        return _EntryOutcome(problem=f"The status list {url} cannot be read: {exc}")
    if is_set:
        return _EntryOutcome(
            problem="Revoked by the issuer"
            if purpose == "revocation"
            else "Suspended by the issuer"
        )
    return _EntryOutcome(finding="not revoked" if purpose == "revocation" else "not suspended")


def _status_list(run: _Run, url: str) -> CheckedStatusList | str:
    """Return the verified status list credential at url, or why it cannot be trusted (memoised
    for the run, and in the caller's memo once checked)."""
    if url not in run.status_lists:
        remembered = run.status_list_memo.get(url) if run.status_list_memo is not None else None
        if remembered is not None:
            run.status_lists[url] = _still_valid(run, url, remembered)
        else:
            outcome = _fetch_verified_status_list(run, url)
            if run.status_list_memo is not None and isinstance(outcome, CheckedStatusList):
                run.status_list_memo.put(url, outcome)
            run.status_lists[url] = outcome
    return run.status_lists[url]


def _still_valid(run: _Run, url: str, checked: CheckedStatusList) -> CheckedStatusList | str:
    """Return a remembered list if it is the credential's issuer's and in date now, else why not."""
    if checked.issuer != run.facts.issuer:
        return (
            f"The status list {url} was issued by {checked.issuer}, not by the credential's issuer"
        )
    problem = _validity_problem(checked.facts, run.now, run.max_clock_skew)
    if problem is not None:
        return f"The status list {url} is out of date: {problem}"
    return checked


def _fetch_verified_status_list(run: _Run, url: str) -> CheckedStatusList | str:
    """Return the list credential at url if issuer, proof, key and dates hold, else why not."""
    try:
        list_credential = run.fetch_status_list(url)
    except ResolutionError as exc:
        return f"The status list {url} could not be fetched: {exc.message}"
    except Exception:
        # The fetcher is injected (HTTP, database, cache); any failure means "unreachable".
        logger.exception("status list fetch failed unexpectedly for %s", url)
        return f"The status list {url} could not be fetched: the server could not be reached"
    if not isinstance(list_credential, Mapping):
        return f"The status list {url} is not a JSON object"
    if list_credential.get("id") != url:
        return f"The status list at {url} has the id {list_credential.get('id')!r}"
    list_issuer = issuer_id(list_credential.get("issuer"))
    if list_issuer != run.facts.issuer:
        return f"The status list {url} was issued by {list_issuer}, not by the credential's issuer"
    facts = _read_facts(list_credential)
    if facts.problems:
        return f"The status list {url} is not a valid credential: {'; '.join(facts.problems)}"
    result, key_error = _verify_signature(list_credential, run.documents)
    if not result.verified:
        return f"The status list {url} is not validly signed: {_describe_proof_failure(result, key_error)}"
    assert result.verification_method is not None  # a verified proof names its key
    problem = _issuer_key_problem(result.verification_method, list_issuer, run.documents)
    if problem is not None:
        return f"The status list {url} is not signed by its issuer: {problem}"
    problem = _validity_problem(facts, run.now, run.max_clock_skew)
    if problem is not None:
        return f"The status list {url} is out of date: {problem}"
    return CheckedStatusList(credential=list_credential, issuer=list_issuer, facts=facts)


# ---------------------------------------------------------------- issuer directory


def _check_issuer_known(run: _Run) -> Check:
    """Say whether the issuer is an institution or partner this portal knows (a warning if not)."""
    issuer = run.facts.issuer
    assert issuer is not None  # the data model check passed
    name = run.issuer_directory(issuer)
    if name:
        run.issuer_name = str(name)
        return Check(
            CheckName.ISSUER_KNOWN,
            True,
            f"Known issuer: {name}",
            code="issuer_known.ok",
            params={"name": str(name)},
        )
    return Check(
        CheckName.ISSUER_KNOWN,
        False,
        f"The issuer {issuer} is not an institution or partner known to this portal",
        code="issuer_known.unknown",
        params={"issuer": issuer},
    )


# ---------------------------------------------------------------- sealed EDCs


def is_sealed(document: Mapping[str, Any] | None) -> bool:
    """Whether the document is a JWS in JSON serialisation (a JAdES seal): payload and signatures."""
    return document is not None and set(document) == {"payload", "signatures"}


def _verify_sealed_edc(
    run: _Run, read: Check, trust_anchors: tuple[x509.Certificate, ...]
) -> VerificationResult:
    """The verdict on a JAdES-sealed document: the seal, its certificate, the payload as an EDC
    against the Commission's shapes, and the certificate's trust. Revocation is not checked: a
    seal's certificate is checked by OCSP or CRL, which cannot be reached offline."""
    assert run.document is not None
    verdict = jades.verify(run.document, trust_anchors=trust_anchors, now=run.now)
    payload = _sealed_payload(verdict)
    checks = [read, _seal_check(verdict)]
    certificate = verdict.certificate
    if verdict.failure in _CERTIFICATE_FAILURES:
        failure = verdict.failure
        checks.append(
            Check(
                CheckName.SEAL_CERTIFICATE,
                False,
                _SEAL_FAILURES[failure],
                code=f"seal_certificate.{failure}",
            )
        )
    elif verdict.failure is None and certificate is not None:
        checks.append(_seal_certificate_check(verdict, certificate))
    else:
        checks.append(_not_checked(CheckName.SEAL_CERTIFICATE, "the seal is not valid", "seal"))
    checks.append(_shapes_check(payload, sealed=verdict.sealed))
    trusted = verdict.sealed and verdict.trust is jades.Trust.TRUSTED
    checks.append(_seal_trust_check(verdict))
    verified = all(check.ok for check in checks if check.check != CheckName.ISSUER_KNOWN)
    trust = (
        Trust.INVALID if not verified else Trust.KNOWN_ISSUER if trusted else Trust.UNKNOWN_ISSUER
    )
    errors = [c.detail for c in checks if c.ran and not c.ok and c.check != CheckName.ISSUER_KNOWN]
    warnings = [checks[-1].detail] if checks[-1].ran and not checks[-1].ok else []
    return VerificationResult(
        verified=verified,
        checks=tuple(checks),
        errors=tuple(errors),
        warnings=tuple(warnings),
        trust=trust,
        summary=_summary_of(payload) if verdict.sealed else None,
        issuer_name=certificate.subject if trusted and certificate is not None else None,
        key_fingerprint=certificate.fingerprint if verified and certificate else None,
        source=run.source,
        seal=seal_facts(verdict),
    )


def seal_facts(verdict: jades.Verdict) -> dict[str, Any]:
    """What a page or API client needs of a seal, in JSON values."""
    certificate = verdict.certificate
    return {
        "format": "JAdES",
        "valid": verdict.sealed,
        "failure": str(verdict.failure) if verdict.failure else None,
        "algorithm": verdict.algorithm or None,
        "signing_time": verdict.signing_time.isoformat() if verdict.signing_time else None,
        "certificate": None
        if certificate is None
        else {
            "subject": certificate.subject,
            "subject_dn": certificate.subject_dn,
            "issuer_dn": certificate.issuer_dn,
            "not_before": certificate.not_before.isoformat(),
            "not_after": certificate.not_after.isoformat(),
            "self_signed": certificate.self_signed,
            "fingerprint": certificate.fingerprint,
        },
        "trust": str(verdict.trust) if verdict.sealed else None,
        "expired_since": verdict.expired_since,
        "not_checked": list(verdict.not_checked),
    }


def _sealed_payload(verdict: jades.Verdict) -> dict[str, Any] | None:
    if not verdict.sealed:
        return None
    try:
        return strict_json.load_object(verdict.payload, max_depth=DEFAULT_MAX_DEPTH)
    except strict_json.JsonRefused:
        return None


# Each JAdES failure as the seal check says it.
_SEAL_FAILURES: Final[Mapping[jades.Failure, str]] = {
    jades.Failure.MALFORMED: "The seal is malformed",
    jades.Failure.UNSUPPORTED_ALGORITHM: "The seal uses an algorithm this verifier does not accept",
    jades.Failure.UNKNOWN_CRITICAL_HEADER: "The seal requires a feature this verifier does not know",
    jades.Failure.NO_CERTIFICATE: "The seal carries no readable certificate",
    jades.Failure.CERTIFICATE_MISMATCH: "The seal names another certificate than it carries",
    jades.Failure.SIGNATURE_INVALID: (
        "The seal does not match: the credential was changed after it was sealed, or it was "
        "sealed with another key"
    ),
    jades.Failure.NO_SIGNING_TIME: "The seal does not say when it was made",
    jades.Failure.SIGNING_TIME_IN_FUTURE: "The seal says it was made in the future",
    jades.Failure.CERTIFICATE_NOT_VALID_AT_SIGNING: (
        "The seal's certificate was not valid when the seal was made"
    ),
    jades.Failure.KEY_USAGE: "The seal's certificate may not be used to seal",
}
_CERTIFICATE_FAILURES: Final = frozenset(
    {jades.Failure.CERTIFICATE_NOT_VALID_AT_SIGNING, jades.Failure.KEY_USAGE}
)


def _seal_check(verdict: jades.Verdict) -> Check:
    if verdict.failure is None or verdict.failure in _CERTIFICATE_FAILURES:
        assert verdict.certificate is not None and verdict.signing_time is not None
        return Check(
            CheckName.SEAL,
            True,
            f"Valid JAdES seal ({verdict.algorithm}) by {verdict.certificate.subject}, made "
            f"{verdict.signing_time.isoformat()} by the sealer's own clock",
            code="seal.ok",
            params={
                "subject": verdict.certificate.subject,
                "algorithm": verdict.algorithm,
                "time": verdict.signing_time.isoformat(),
            },
        )
    return Check(
        CheckName.SEAL, False, _SEAL_FAILURES[verdict.failure], code=f"seal.{verdict.failure}"
    )


def _seal_certificate_check(verdict: jades.Verdict, certificate: jades.Certificate) -> Check:
    not_checked = ", ".join(verdict.not_checked)
    params = {
        "issuer": certificate.issuer_dn,
        "until": certificate.not_after.date().isoformat(),
        "not_checked": not_checked,
    }
    detail = f"Valid when the seal was made, for sealing, issued by {certificate.issuer_dn}"
    code = "seal_certificate.ok"
    if verdict.expired_since:
        detail += f"; it has expired since, on {params['until']}, which does not undo the seal"
        code = "seal_certificate.ok_expired_since"
    if not_checked:
        detail += f"; present but not checked offline: {not_checked}"
    return Check(CheckName.SEAL_CERTIFICATE, True, detail, code=code, params=params)


def _not_checked(name: CheckName, why: str, because: CheckName | str) -> Check:
    return Check(
        name,
        False,
        NOT_CHECKED + why,
        ran=False,
        code=f"{name}.not_checked",
        params={"because": str(because)},
    )


def _shapes_check(payload: Mapping[str, Any] | None, *, sealed: bool) -> Check:
    name = CheckName.EDC_SHAPES
    if not sealed:
        return _not_checked(name, "the seal is not valid", CheckName.SEAL)
    if payload is None or not credential_summary.is_edc(payload):
        return Check(
            name,
            False,
            "What was sealed is not a European Digital Credential",
            code="edc_shapes.not_edc",
        )
    try:
        report = edc_shapes.check(payload)
    except CanonicalizationError as exc:
        if exc.failure in _OVER_BUDGET:
            return Check(
                name,
                False,
                "The credential is too large or too complex for this verifier to check",
                code="edc_shapes.too_complex",
            )
        return Check(
            name,
            False,
            "The credential uses a vocabulary term this verifier does not know",
            code="edc_shapes.unreadable",
        )
    if not report.conforms:
        return Check(
            name,
            False,
            f"It breaks {report.violations} rules of the Commission's {edc_shapes.SHAPES_NAME} "
            "shapes",
            code="edc_shapes.violations",
            params={"count": str(report.violations), "shapes": edc_shapes.SHAPES_NAME},
        )
    return Check(
        name,
        True,
        f"A European Digital Credential that meets the Commission's {edc_shapes.SHAPES_NAME} "
        "shapes",
        code="edc_shapes.ok",
        params={"shapes": edc_shapes.SHAPES_NAME},
    )


_OVER_BUDGET: Final = frozenset(
    {Failure.TOO_LARGE, Failure.TOO_MANY_BLANK_NODES, Failure.TOO_COMPLEX}
)


def _seal_trust_check(verdict: jades.Verdict) -> Check:
    name = CheckName.ISSUER_KNOWN
    if not verdict.sealed or verdict.certificate is None:
        return _not_checked(name, "the seal is not valid", CheckName.SEAL)
    subject = verdict.certificate.subject
    if verdict.trust is jades.Trust.TRUSTED:
        return Check(
            name,
            True,
            f"Sealed by {subject}, whose certificate leads to a trust anchor this portal's "
            "operator configured",
            code="issuer_known.seal_trusted",
            params={"name": subject},
        )
    if verdict.trust is jades.Trust.NO_ANCHORS:
        return Check(
            name,
            False,
            f"Sealed by {subject}; this portal has no trust anchors configured for seals, so it "
            "cannot confirm who that is",
            code="issuer_known.seal_no_anchors",
            params={"name": subject},
        )
    return Check(
        name,
        False,
        f"Sealed by {subject}, whose certificate leads to no trust anchor this portal's "
        "operator configured",
        code="issuer_known.seal_untrusted",
        params={"name": subject},
    )


def _as_list(value: Any) -> list[Any]:
    """Return a JSON value as a list (absent → [])."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
