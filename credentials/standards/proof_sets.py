"""Verification beyond the single-proof VC 2.0 pipeline: proof sets and chains, VC 1.1
credentials and presentations, as the W3C VC-API endpoints need them.

Proof sets and chains follow VC Data Integrity 1.0 (§4.4, "verify proof sets and chains"):
each proof is checked with signing.verify_proof over the document without the other proofs,
plus, for a proof with `previousProof`, the proofs it names. A VC 2.0 credential goes to
credentials.standards.verification, which calls back here for a set or chain: every proof must
verify, one of them must be by a key the issuer asserts with, and the others are reported with
their signer (witnesses). A single proof takes the pipeline's own path, unchanged.

Pure, like credentials.standards.verification: DID resolution, status lists and the issuer directory are
injected, and no bad input escapes as an exception.
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from credentials.standards import data_model, status_list
from credentials.standards.did_resolution import (
    ResolutionError,
    ResolutionFailure,
    VerificationKey,
    assertion_key_in,
    did_of,
    find_verification_method,
    public_key_of,
)
from credentials.standards.jsonld.loader import bundled_index
from credentials.standards.multiformats import multibase_encode
from credentials.standards.signing import (
    ASSERTION_METHOD,
    CREDENTIALS_V2_CONTEXT,
    CRYPTOSUITE,
    PROOF_TYPE,
    Canonicalizer,
    Failure,
    KeyNotResolved,
    canonicalize,
    hash_data,
    proof_configuration,
    request_work_budget,
    verify_proof,
)
from credentials.standards.verification import (
    DEFAULT_CLOCK_SKEW,
    DEFAULT_MAX_DEPTH,
    NOT_CHECKED,
    Check,
    CheckName,
    DidDocumentResolver,
    IssuerDirectory,
    ProofReport,
    ProofRole,
    ResolvedDocuments,
    StatusListFetcher,
    VerificationResult,
    issuer_id,
    issuer_proof_check,
    parse_date_time_stamp,
    signers_check,
    verify_credential,
)

logger = logging.getLogger(__name__)

CREDENTIALS_V1_CONTEXT: Final = "https://www.w3.org/2018/credentials/v1"
AUTHENTICATION: Final = "authentication"
VERIFIABLE_CREDENTIAL: Final = "VerifiableCredential"
VERIFIABLE_PRESENTATION: Final = "VerifiablePresentation"
# A proof costs two canonicalisations and a key lookup; a credential of ours carries one.
MAX_PROOFS: Final = 8
# Each credential in a presentation is a whole verification.
MAX_PRESENTED_CREDENTIALS: Final = 16


# ---------------------------------------------------------------- proof sets and chains


@dataclass(frozen=True, slots=True)
class ProofOutcome:
    """One proof of a set: whether it verified, by which key, and why not."""

    index: int
    verified: bool
    verification_method: str | None
    detail: str
    # The document ran past a work budget of canonicalisation: so would every other proof's.
    over_budget: bool = False


@dataclass(frozen=True, slots=True)
class ProofSetVerification:
    """Every proof of a document: verified only when there is one or more and all verify."""

    verified: bool
    proofs: tuple[ProofOutcome, ...]
    problem: str = ""

    @property
    def detail(self) -> str:
        """A sentence for people: the problem, or each proof's outcome."""
        if self.problem:
            return self.problem
        return "; ".join(f"proof {outcome.index + 1}: {outcome.detail}" for outcome in self.proofs)


KeyResolver = Callable[[str], Ed25519PublicKey]


def verify_proof_set(
    document: Mapping[str, Any],
    *,
    public_key: KeyResolver,
    proof_purpose: str = ASSERTION_METHOD,
    challenge: str | None = None,
    domain: str | None = None,
    now: datetime | None = None,
    root_canonicalizer: Canonicalizer | None = None,
) -> ProofSetVerification:
    """Verify every proof of a document (a set, a chain or one proof); never raises on bad input.

    `challenge` and `domain`, when given, must be what each proof carries; `now`, when given,
    refuses a proof past its `expires`. `root_canonicalizer` canonicalises for the proofs that
    chain to none (the pipeline passes its fast path for known shapes).
    """
    proofs = _proof_list(document.get("proof"))
    if isinstance(proofs, str):
        return ProofSetVerification(verified=False, proofs=(), problem=proofs)
    by_id: dict[str, Mapping[str, Any]] = {}
    for proof in proofs:
        proof_id = proof.get("id")
        if isinstance(proof_id, str):
            if proof_id in by_id:
                return ProofSetVerification(
                    verified=False, proofs=(), problem=f"Two proofs have the id {proof_id}"
                )
            by_id[proof_id] = proof
    unsecured = {name: value for name, value in document.items() if name != "proof"}
    outcomes: list[ProofOutcome] = []
    for index, proof in enumerate(proofs):
        over = next((outcome for outcome in outcomes if outcome.over_budget), None)
        if over is not None:
            # Each proof canonicalises the document again: one refusal answers for all.
            method = proof.get("verificationMethod")
            outcomes.append(
                ProofOutcome(
                    index=index,
                    verified=False,
                    verification_method=method if isinstance(method, str) else None,
                    detail=f"not checked: {over.detail}",
                )
            )
            continue
        outcomes.append(
            _verify_member(
                index,
                proof,
                unsecured,
                by_id,
                public_key=public_key,
                proof_purpose=proof_purpose,
                challenge=challenge,
                domain=domain,
                now=now,
                root_canonicalizer=root_canonicalizer,
            )
        )
    return ProofSetVerification(
        verified=all(outcome.verified for outcome in outcomes), proofs=tuple(outcomes)
    )


_BUDGET_FAILURES: Final = frozenset(
    {Failure.TOO_LARGE, Failure.TOO_MANY_BLANK_NODES, Failure.TOO_COMPLEX}
)


def _proof_list(proof: Any) -> list[Mapping[str, Any]] | str:
    """Return the proofs of a document as a list of objects, or why they cannot be read."""
    proofs = proof if isinstance(proof, list) else [proof]
    if proof is None or not proofs:
        return "The document is not signed (it has no proof)"
    if len(proofs) > MAX_PROOFS:
        return f"The document carries {len(proofs)} proofs; at most {MAX_PROOFS} are checked"
    if not all(isinstance(each, Mapping) for each in proofs):
        return "A proof is not a JSON object"
    return proofs


def _verify_member(
    index: int,
    proof: Mapping[str, Any],
    unsecured: Mapping[str, Any],
    by_id: Mapping[str, Mapping[str, Any]],
    *,
    public_key: KeyResolver,
    proof_purpose: str,
    challenge: str | None,
    domain: str | None,
    now: datetime | None,
    root_canonicalizer: Canonicalizer | None = None,
) -> ProofOutcome:
    """Return the outcome of one proof over the document with only the proofs it chains to."""
    method = proof.get("verificationMethod")
    method = method if isinstance(method, str) else None

    def failed(detail: str) -> ProofOutcome:
        return ProofOutcome(index=index, verified=False, verification_method=method, detail=detail)

    previous = _previous_proofs(proof, by_id)
    if isinstance(previous, str):
        return failed(previous)
    if challenge is not None and proof.get("challenge") != challenge:
        return failed("the proof was not made for this challenge")
    if domain is not None and domain not in _as_list(proof.get("domain")):
        return failed("the proof was not made for this domain")
    if now is not None and "expires" in proof:
        try:
            expires = parse_date_time_stamp(proof["expires"])
        except ValueError as exc:
            return failed(f"the proof's expires is not a date: {exc}")
        if expires <= now:
            return failed(f"the proof expired on {proof['expires']}")
    canonical = _canonical_with(previous) if previous else root_canonicalizer
    result = verify_proof(
        {**unsecured, "proof": [proof]},
        public_key=public_key,
        proof_purpose=proof_purpose,
        canonicalizer=canonical,
    )
    if not result.verified:
        return ProofOutcome(
            index=index,
            verified=False,
            verification_method=method,
            detail=f"{result.failure}: {result.detail}",
            over_budget=result.failure in _BUDGET_FAILURES,
        )
    return ProofOutcome(
        index=index,
        verified=True,
        verification_method=result.verification_method,
        detail=f"valid {CRYPTOSUITE} signature by {result.verification_method}",
    )


def _previous_proofs(
    proof: Mapping[str, Any], by_id: Mapping[str, Mapping[str, Any]]
) -> list[Mapping[str, Any]] | str:
    """Return the proofs that `previousProof` names (none without it), or what is wrong."""
    previous = proof.get("previousProof")
    if previous is None:
        return []
    identifiers = previous if isinstance(previous, list) else [previous]
    if not identifiers or not all(isinstance(each, str) for each in identifiers):
        return "previousProof must be a proof id or a list of them"
    matching = []
    for identifier in identifiers:
        if identifier == proof.get("id") or identifier not in by_id:
            return f"the previous proof {identifier} is not in the proof set"
        matching.append(by_id[identifier])
    return matching


def _canonical_with(previous: list[Mapping[str, Any]]) -> Canonicalizer:
    """A canonicalizer for verify_proof that puts the chained-to proofs back into the document.

    verify_proof canonicalises the proof options and the document without any `proof`; for a
    chained proof the signed document still holds the proofs it names (Data Integrity §4.4).
    The options are the one input with a top-level cryptosuite.
    """

    def canonical(value: Mapping[str, Any]) -> str:
        if value.get("type") == PROOF_TYPE and "cryptosuite" in value:
            return canonicalize(value)
        return canonicalize({**value, "proof": list(previous)})

    return canonical


def add_proof(
    document: Mapping[str, Any],
    *,
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: str,
    proof_id: str | None = None,
    previous_proof: str | list[str] | None = None,
) -> dict[str, Any]:
    """Return a copy of document with one more eddsa-rdfc-2022 assertion proof (Data Integrity
    §4.4): in the proof set, or, with `previous_proof`, chained to the proofs it names, which
    the new proof then signs along with the document. Raises ValueError when a named proof is
    not there, and CanonicalizationError."""
    existing = _proof_list(document["proof"]) if "proof" in document else []
    if isinstance(existing, str):
        raise ValueError(existing)
    unsecured = {name: value for name, value in document.items() if name != "proof"}
    options = proof_configuration(
        context=unsecured.get("@context"), verification_method=verification_method, created=created
    )
    if proof_id is not None:
        options["id"] = proof_id
    signed_over: Mapping[str, Any] = unsecured
    if previous_proof is not None:
        options["previousProof"] = previous_proof
        previous = _previous_proofs(options, {p["id"]: p for p in existing if "id" in p})
        if isinstance(previous, str):
            raise ValueError(previous)
        signed_over = {**unsecured, "proof": previous}
    signature = private_key.sign(hash_data(signed_over, options).signed_bytes)
    proof = {name: value for name, value in options.items() if name != "@context"}
    return {**unsecured, "proof": [*existing, {**proof, "proofValue": multibase_encode(signature)}]}


# ---------------------------------------------------------------- keys


class _Keys:
    """DID documents resolved once per verification (the pipeline's own memo), and keys found
    in them by purpose."""

    def __init__(self, resolver: DidDocumentResolver) -> None:
        self._documents = ResolvedDocuments(resolver)

    def document(self, did: str) -> Mapping[str, Any]:
        """Return did's document; raises ResolutionError."""
        return self._documents.resolve(did)

    def public_key(self, method_id: str) -> Ed25519PublicKey:
        """Return the key of a verification method; raises KeyNotResolved."""
        try:
            method = find_verification_method(self.document(did_of(method_id)), method_id)
            return public_key_of(method)
        except ResolutionError as exc:
            raise KeyNotResolved(exc.message) from exc

    def assertion_key(self, method_id: str) -> VerificationKey:
        """Return the key if its DID lists it under assertionMethod; raises ResolutionError."""
        return assertion_key_in(self.document(did_of(method_id)), method_id)

    def authentication_controller(self, method_id: str) -> str:
        """Return the DID whose `authentication` lists method_id; raises ResolutionError."""
        did = did_of(method_id)
        document = self.document(did)
        listed = any(
            _absolute(entry.get("id") if isinstance(entry, Mapping) else entry, did) == method_id
            for entry in _as_list(document.get(AUTHENTICATION))
        )
        method = find_verification_method(document, method_id)
        if not listed or method.get("controller") != did:
            raise ResolutionError(
                ResolutionFailure.NOT_ASSERTION_METHOD,
                f"key {method_id} may not authenticate for {did} (not under authentication)",
            )
        return did

    # The pipeline's resolver protocol, so credentials.standards.verification shares this memo.
    resolve = document


def _issuer_key_problem(keys: _Keys, method_id: str, issuer: str | None) -> str | None:
    """Return why method_id may not sign for issuer, or None when it may."""
    try:
        key = keys.assertion_key(method_id)
    except ResolutionError as exc:
        return f"The signing key {method_id} is not usable for credentials: {exc.message}"
    if key.controller != issuer:
        return (
            f"The signing key belongs to {key.controller}, "
            f"but the credential names {issuer} as its issuer"
        )
    return None


# ---------------------------------------------------------------- credentials


@dataclass(frozen=True, slots=True)
class _Inputs:
    """What every credential verification is given, bundled to pass along."""

    keys: _Keys
    fetch_status_list: StatusListFetcher
    issuer_directory: IssuerDirectory
    now: datetime
    max_clock_skew: timedelta
    edc_trust_anchors: tuple[x509.Certificate, ...] = ()


def verify_any_credential(
    document: Any,
    *,
    resolver: DidDocumentResolver,
    fetch_status_list: StatusListFetcher,
    issuer_directory: IssuerDirectory,
    now: datetime,
    max_clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
    edc_trust_anchors: tuple[x509.Certificate, ...] = (),
) -> VerificationResult:
    """Return the verdict on a VC 2.0 or VC 1.1 credential secured by one proof, a proof set or
    a proof chain, with the checks of credentials.standards.verification; never raises on any input."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    inputs = _Inputs(
        keys=_Keys(resolver),
        fetch_status_list=fetch_status_list,
        issuer_directory=issuer_directory,
        now=now,
        max_clock_skew=max_clock_skew,
        edc_trust_anchors=edc_trust_anchors,
    )
    if not isinstance(document, Mapping) or _too_deep(document):
        # The pipeline's json check names what is wrong with it.
        return _pipeline(document, inputs)
    if _first_context(document) == CREDENTIALS_V1_CONTEXT:
        return _verify_v1(document, inputs)
    # The pipeline checks a proof set or chain itself.
    return _pipeline(document, inputs)


def _pipeline(document: Any, inputs: _Inputs) -> VerificationResult:
    """Return credentials.standards.verification's verdict, resolving through the shared memo."""
    return verify_credential(
        document,
        resolver=inputs.keys,
        fetch_status_list=inputs.fetch_status_list,
        issuer_directory=inputs.issuer_directory,
        now=inputs.now,
        max_clock_skew=inputs.max_clock_skew,
        edc_trust_anchors=inputs.edc_trust_anchors,
    )


def proof_reports(
    proof_set: ProofSetVerification,
    document: Mapping[str, Any],
    *,
    issuer: str | None,
    resolver: DidDocumentResolver,
) -> tuple[ProofReport, ...]:
    """Return each proof of a set with its signer and role: a valid signature counts only once
    the signer's DID document lists the key under assertionMethod; the signer is then the
    issuer, or another signer (a witness)."""
    proofs = _as_list(document.get("proof"))
    reports = []
    for outcome in proof_set.proofs:
        proof = proofs[outcome.index]
        method = outcome.verification_method
        valid, detail = outcome.verified, outcome.detail
        signer = _did_or_none(method)
        if valid and method is not None:
            try:
                signer = assertion_key_in(resolver.resolve(did_of(method)), method).controller
            except ResolutionError as exc:
                valid, detail = False, f"the key {method} may not sign credentials: {exc.message}"
        previous = proof.get("previousProof")
        reports.append(
            ProofReport(
                id=proof_id if isinstance(proof_id := proof.get("id"), str) else None,
                verification_method=method,
                signer=signer,
                purpose=purpose if isinstance(purpose := proof.get("proofPurpose"), str) else None,
                role=ProofRole.ISSUER if signer == issuer else ProofRole.OTHER,
                previous_proof=tuple(
                    str(each) for each in (previous if isinstance(previous, list) else [previous])
                )
                if previous is not None
                else (),
                valid=valid,
                detail=detail,
            )
        )
    return tuple(reports)


def _did_or_none(method: str | None) -> str | None:
    if method is None:
        return None
    try:
        return did_of(method)
    except ResolutionError:
        return None


def proof_set_check(proof_set: ProofSetVerification, reports: tuple[ProofReport, ...]) -> Check:
    """Return the proof check of a set or chain: passed only when every proof verifies."""
    if proof_set.problem:
        return Check(CheckName.PROOF, False, f"The proofs cannot be checked: {proof_set.problem}")
    failed = [
        f"proof {index + 1}: {report.detail}"
        for index, report in enumerate(reports)
        if not report.valid
    ]
    if failed:
        return Check(CheckName.PROOF, False, f"The proofs do not all verify: {'; '.join(failed)}")
    methods = ", ".join(str(report.verification_method) for report in reports)
    return Check(
        CheckName.PROOF, True, f"{len(reports)} valid {CRYPTOSUITE} signatures by key {methods}"
    )


def _proof_check(proof_set: ProofSetVerification) -> Check:
    if not proof_set.verified:
        return Check(CheckName.PROOF, False, f"The proofs do not all verify: {proof_set.detail}")
    methods = ", ".join(str(outcome.verification_method) for outcome in proof_set.proofs)
    count = len(proof_set.proofs)
    noun = "signature" if count == 1 else "signatures"
    return Check(CheckName.PROOF, True, f"{count} valid {CRYPTOSUITE} {noun} by key {methods}")


def _issuer_key_check(proof_set: ProofSetVerification, keys: _Keys, issuer: str | None) -> Check:
    problems = [
        problem
        for outcome in proof_set.proofs
        if outcome.verification_method is not None
        and (problem := _issuer_key_problem(keys, outcome.verification_method, issuer))
    ]
    if problems:
        return Check(CheckName.ISSUER_KEY, False, "; ".join(dict.fromkeys(problems)))
    methods = ", ".join(str(outcome.verification_method) for outcome in proof_set.proofs)
    return Check(CheckName.ISSUER_KEY, True, f"Signed by {issuer} with key {methods}")


def _result(
    checks: list[Check],
    warnings: tuple[str, ...] | list[str],
    proofs: tuple[ProofReport, ...] = (),
) -> VerificationResult:
    """Return the verdict over checks: verified when every check but issuer_known passed (the
    signers line repeats the proof and key checks, so it adds no error of its own)."""
    relevant = [check for check in checks if check.check != CheckName.ISSUER_KNOWN]
    return VerificationResult(
        verified=all(check.ok for check in relevant),
        checks=tuple(checks),
        errors=tuple(
            check.detail
            for check in relevant
            if check.ran and not check.ok and check.check != CheckName.SIGNERS
        ),
        warnings=tuple(warnings),
        proofs=proofs,
    )


# ---------------------------------------------------------------- VC 1.1


@dataclass(slots=True)
class _V1Facts:
    problems: list[str] = field(default_factory=list)
    issuer: str | None = None
    issued: datetime | None = None
    expires: datetime | None = None


def _verify_v1(document: Mapping[str, Any], inputs: _Inputs) -> VerificationResult:
    """Verify a VC Data Model 1.1 credential with the same checks, in the same order."""
    checks = [Check(CheckName.JSON, True, "A JSON object")]
    warnings: list[str] = []
    facts = _v1_facts(document)
    data_ok = not facts.problems
    checks.append(
        Check(
            CheckName.DATA_MODEL,
            data_ok,
            "; ".join(facts.problems) or "A W3C Verifiable Credential (data model 1.1)",
        )
    )
    not_well_formed = NOT_CHECKED + "the document is not a well-formed credential"
    contexts = (
        _contexts_check(document)
        if data_ok
        else Check(CheckName.CONTEXTS, False, not_well_formed, ran=False)
    )
    checks.append(contexts)
    proof_set = (
        verify_proof_set(document, public_key=inputs.keys.public_key, now=inputs.now)
        if contexts.ok
        else None
    )
    several = len(_as_list(document.get("proof"))) > 1
    reports: tuple[ProofReport, ...] = ()
    if proof_set is not None and several:
        reports = proof_reports(proof_set, document, issuer=facts.issuer, resolver=inputs.keys)
        proof = proof_set_check(proof_set, reports)
    elif proof_set is not None:
        proof = _proof_check(proof_set)
    else:
        proof = Check(
            CheckName.PROOF,
            False,
            NOT_CHECKED + "the credential uses a context this verifier does not hold",
            ran=False,
        )
    checks.append(proof)
    if proof_set is not None and proof.ok and reports:
        issuer_key = issuer_proof_check(reports, facts.issuer)
    elif proof_set is not None and proof.ok:
        issuer_key = _issuer_key_check(proof_set, inputs.keys, facts.issuer)
    else:
        issuer_key = Check(
            CheckName.ISSUER_KEY, False, NOT_CHECKED + "the signature is not valid", ran=False
        )
    checks.append(issuer_key)
    if reports:
        checks.append(signers_check(reports))
    checks.append(
        _v1_validity(facts, inputs)
        if data_ok
        else Check(CheckName.VALIDITY, False, not_well_formed, ran=False)
    )
    checks.append(
        _status_check(document, facts.issuer, inputs, warnings)
        if issuer_key.ok
        else Check(
            CheckName.STATUS, False, NOT_CHECKED + "the signing key is not the issuer's", ran=False
        )
    )
    if data_ok:
        assert facts.issuer is not None  # the data model check passed
        name = inputs.issuer_directory(facts.issuer)
        known = (
            Check(CheckName.ISSUER_KNOWN, True, f"Known issuer: {name}")
            if name
            else Check(
                CheckName.ISSUER_KNOWN,
                False,
                f"The issuer {facts.issuer} is not an institution or partner known to this portal",
            )
        )
        if not known.ok:
            warnings.append(known.detail)
    else:
        known = Check(CheckName.ISSUER_KNOWN, False, not_well_formed, ran=False)
    checks.append(known)
    return _result(checks, warnings, reports)


def _v1_facts(document: Mapping[str, Any]) -> _V1Facts:
    """Return the issuer and dates of a VC 1.1 credential, with each data model problem."""
    facts = _V1Facts()
    if not isinstance(document.get("@context"), list):
        facts.problems.append(f"The @context must be a list starting with {CREDENTIALS_V1_CONTEXT}")
    types = _as_list(document.get("type"))
    if not types or not all(isinstance(value, str) for value in types):
        facts.problems.append("The type must be a string or a list of strings")
    elif VERIFIABLE_CREDENTIAL not in types:
        facts.problems.append(f"The type does not include {VERIFIABLE_CREDENTIAL}")
    facts.issuer = issuer_id(document.get("issuer"))
    if facts.issuer is None:
        facts.problems.append("The credential names no issuer (a URL, or an object with an id)")
    subjects = _as_list(document.get("credentialSubject"))
    if not subjects or not all(isinstance(each, Mapping) and each for each in subjects):
        facts.problems.append("The credential has no credentialSubject that makes a claim")
    if "issuanceDate" not in document:
        facts.problems.append("A VC 1.1 credential must have an issuanceDate")
    for name in ("issuanceDate", "expirationDate"):
        if name in document:
            try:
                moment = parse_date_time_stamp(document[name])
            except ValueError as exc:
                facts.problems.append(f"{name} is not a date and time with a time zone: {exc}")
                continue
            if name == "issuanceDate":
                facts.issued = moment
            else:
                facts.expires = moment
    if document.get("proof") in (None, [], {}):
        facts.problems.append("The credential is not signed (it has no proof)")
    # What the signer refuses for a VC 1.1 credential too (credentials.standards.data_model).
    facts.problems.extend(problem.message for problem in data_model.problems(document))
    return facts


def _v1_validity(facts: _V1Facts, inputs: _Inputs) -> Check:
    if facts.expires is not None and inputs.now - facts.expires >= inputs.max_clock_skew:
        return Check(CheckName.VALIDITY, False, f"Expired on {facts.expires.isoformat()}")
    if facts.issued is not None and facts.issued - inputs.now > inputs.max_clock_skew:
        return Check(CheckName.VALIDITY, False, f"Not valid before {facts.issued.isoformat()}")
    issued = facts.issued.isoformat() if facts.issued else "at an unknown time"
    end = f"until {facts.expires.isoformat()}" if facts.expires else "with no expiry date"
    return Check(CheckName.VALIDITY, True, f"Issued {issued}, valid {end}")


def _contexts_check(document: Mapping[str, Any]) -> Check:
    """Check that every context the document names is bundled; nothing is ever fetched."""
    urls: list[str] = []
    malformed: list[str] = []
    _collect_contexts(document, urls, malformed)
    unknown = [url for url in dict.fromkeys(urls) if url not in bundled_index()]
    if malformed:
        return Check(CheckName.CONTEXTS, False, f"Malformed @context entry {malformed[0]}")
    if unknown:
        return Check(
            CheckName.CONTEXTS,
            False,
            f"Unknown context {', '.join(unknown)} (this verifier never fetches contexts)",
        )
    return Check(CheckName.CONTEXTS, True, f"Uses {len(set(urls))} contexts, all bundled")


def _collect_contexts(element: Any, urls: list[str], malformed: list[str]) -> None:
    if isinstance(element, list):
        for item in element:
            _collect_contexts(item, urls, malformed)
    elif isinstance(element, Mapping):
        for key, value in element.items():
            if key == "@context":
                for entry in _as_list(value):
                    if isinstance(entry, str):
                        urls.append(entry)
                    elif isinstance(entry, Mapping):
                        _collect_contexts(entry, urls, malformed)
                    else:
                        malformed.append(repr(entry)[:80])
            elif key == "@import" and isinstance(value, str):
                urls.append(value)
            else:
                _collect_contexts(value, urls, malformed)


# ---------------------------------------------------------------- status (VC 1.1)

MAX_STATUS_ENTRIES: Final = 8


def _status_check(
    document: Mapping[str, Any], issuer: str | None, inputs: _Inputs, warnings: list[str]
) -> Check:
    """Check each BitstringStatusListEntry against its list, itself verified by the pipeline."""
    entries = _as_list(document.get("credentialStatus"))
    if not entries:
        return Check(CheckName.STATUS, True, "No status list")
    if len(entries) > MAX_STATUS_ENTRIES:
        return Check(CheckName.STATUS, False, f"{len(entries)} status entries are too many")
    problems: list[str] = []
    findings: list[str] = []
    lists: dict[str, Mapping[str, Any] | str] = {}
    for entry in entries:
        problem, finding = _entry(entry, issuer, inputs, lists, warnings)
        if problem:
            problems.append(problem)
        elif finding:
            findings.append(finding)
    if problems:
        return Check(CheckName.STATUS, False, "; ".join(dict.fromkeys(problems)))
    return Check(CheckName.STATUS, True, ", ".join(findings).capitalize() or "No revocation list")


def _entry(
    entry: Any,
    issuer: str | None,
    inputs: _Inputs,
    lists: dict[str, Mapping[str, Any] | str],
    warnings: list[str],
) -> tuple[str | None, str | None]:
    """Return (problem, finding) for one status entry."""
    if not isinstance(entry, Mapping):
        return "A credentialStatus entry is not an object", None
    if status_list.STATUS_LIST_ENTRY_TYPE not in _as_list(entry.get("type")):
        return "Unsupported status type: this verifier cannot tell whether it was revoked", None
    purpose = entry.get("statusPurpose")
    if purpose not in status_list.STATUS_PURPOSES:
        warnings.append(f"A status entry with purpose {purpose!r} was not checked")
        return None, None
    url = entry.get("statusListCredential")
    if not isinstance(url, str):
        return "A status entry has no statusListCredential URL", None
    try:
        index = status_list.parse_index(entry.get("statusListIndex"))
    except status_list.StatusListError as exc:
        return f"A status entry is malformed: {exc}", None
    if url not in lists:
        lists[url] = _verified_list(url, issuer, inputs)
    list_credential = lists[url]
    if isinstance(list_credential, str):
        return list_credential, None
    try:
        is_set = status_list.read_status(list_credential, purpose=purpose, index=index)
    except status_list.StatusListError as exc:
        return f"The status list {url} cannot be read: {exc}", None
    if is_set:
        return (
            "Revoked by the issuer" if purpose == "revocation" else "Suspended by the issuer"
        ), None
    return None, ("not revoked" if purpose == "revocation" else "not suspended")


def _verified_list(url: str, issuer: str | None, inputs: _Inputs) -> Mapping[str, Any] | str:
    """Return the list credential at url if the pipeline verifies it and it is the issuer's."""
    try:
        list_credential = inputs.fetch_status_list(url)
    except ResolutionError as exc:
        return f"The status list {url} could not be fetched: {exc.message}"
    except Exception:
        # The fetcher is injected (HTTP, database, cache); any failure means "unreachable". As
        # in verification: Python's own words go to the log, never into the answer.
        logger.exception("status list fetch failed unexpectedly for %s", url)
        return f"The status list {url} could not be fetched: the server could not be reached"
    if not isinstance(list_credential, Mapping) or list_credential.get("id") != url:
        return f"The status list at {url} is not the list it names"
    if issuer_id(list_credential.get("issuer")) != issuer:
        return f"The status list {url} was not issued by the credential's issuer"
    verdict = verify_credential(
        list_credential,
        resolver=inputs.keys,
        fetch_status_list=inputs.fetch_status_list,
        issuer_directory=lambda _did: None,
        now=inputs.now,
        max_clock_skew=inputs.max_clock_skew,
    )
    if not verdict.verified:
        return f"The status list {url} is not valid: {'; '.join(verdict.errors)}"
    return list_credential


# ---------------------------------------------------------------- presentations


@dataclass(frozen=True, slots=True)
class PresentationVerification:
    """The verdict on a presentation: its own checks, and each credential's verdict."""

    verified: bool
    checks: tuple[tuple[str, bool, str], ...]
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    credentials: tuple[VerificationResult, ...]

    def as_dict(self) -> dict[str, Any]:
        """Return {verified, checks: [{check, ok, detail}], errors, warnings, credentials}."""
        return {
            "verified": self.verified,
            "checks": [
                {"check": name, "ok": ok, "detail": detail} for name, ok, detail in self.checks
            ],
            "errors": list(self.errors),
            "warnings": list(self.warnings),
            "credentials": [result.as_dict() for result in self.credentials],
        }


# A presentation and all its credentials share one request's work budget.
@request_work_budget()
def verify_presentation(
    document: Any,
    *,
    resolver: DidDocumentResolver,
    fetch_status_list: StatusListFetcher,
    issuer_directory: IssuerDirectory,
    now: datetime,
    challenge: str | None = None,
    domain: str | None = None,
    max_clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
    edc_trust_anchors: tuple[x509.Certificate, ...] = (),
) -> PresentationVerification:
    """Verify a presentation's authentication proof (for `challenge` and `domain` when given)
    and every credential in it; never raises on any input."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    keys = _Keys(resolver)
    checks: list[tuple[str, bool, str]] = []
    warnings: list[str] = []
    problems = _presentation_problems(document)
    checks.append(("data_model", not problems, "; ".join(problems) or "A W3C presentation"))
    results: list[VerificationResult] = []
    if not problems:
        assert isinstance(document, Mapping)  # the data model check passed
        contexts = _contexts_check(document)
        checks.append(("contexts", contexts.ok, contexts.detail))
        if contexts.ok:
            checks.extend(_presentation_proof(document, keys, challenge, domain, now))
        if challenge is None:
            warnings.append("No challenge was given, so a replayed presentation would pass")
        credentials = _as_list(document.get("verifiableCredential"))
        results = [
            verify_any_credential(
                credential,
                resolver=keys,
                fetch_status_list=fetch_status_list,
                issuer_directory=issuer_directory,
                now=now,
                max_clock_skew=max_clock_skew,
                edc_trust_anchors=edc_trust_anchors,
            )
            for credential in credentials
        ]
        failed = sum(1 for result in results if not result.verified)
        detail = (
            f"{failed} of {len(results)} credentials do not verify"
            if failed
            else f"{len(results)} credentials verified"
        )
        checks.append(("credentials", not failed, detail))
        for result in results:
            warnings.extend(result.warnings)
    errors = [detail for _name, ok, detail in checks if not ok]
    return PresentationVerification(
        verified=not errors,
        checks=tuple(checks),
        errors=tuple(errors),
        warnings=tuple(dict.fromkeys(warnings)),
        credentials=tuple(results),
    )


def _presentation_problems(document: Any) -> list[str]:
    if not isinstance(document, Mapping):
        return ["The presentation is not a JSON object"]
    if _too_deep(document):
        return [f"The presentation is nested more than {DEFAULT_MAX_DEPTH} levels deep"]
    problems = []
    if _first_context(document) not in (CREDENTIALS_V2_CONTEXT, CREDENTIALS_V1_CONTEXT):
        problems.append(
            f"The first @context must be {CREDENTIALS_V2_CONTEXT} or {CREDENTIALS_V1_CONTEXT}"
        )
    if VERIFIABLE_PRESENTATION not in _as_list(document.get("type")):
        problems.append(f"The type does not include {VERIFIABLE_PRESENTATION}")
    if "holder" in document and issuer_id(document["holder"]) is None:
        problems.append("The holder must be a URL or an object with an id")
    credentials = _as_list(document.get("verifiableCredential"))
    if len(credentials) > MAX_PRESENTED_CREDENTIALS:
        problems.append(f"More than {MAX_PRESENTED_CREDENTIALS} credentials are not checked")
    if document.get("proof") in (None, [], {}):
        problems.append("The presentation is not signed (it has no proof)")
    return problems


def _presentation_proof(
    document: Mapping[str, Any],
    keys: _Keys,
    challenge: str | None,
    domain: str | None,
    now: datetime,
) -> list[tuple[str, bool, str]]:
    """Return the proof and holder_key checks of a presentation."""
    proof_set = verify_proof_set(
        document,
        public_key=keys.public_key,
        proof_purpose=AUTHENTICATION,
        challenge=challenge,
        domain=domain,
        now=now,
    )
    if not proof_set.verified:
        return [("proof", False, f"The presentation's proof does not verify: {proof_set.detail}")]
    holder = issuer_id(document.get("holder")) if "holder" in document else None
    problems = []
    for outcome in proof_set.proofs:
        assert outcome.verification_method is not None  # a verified proof names its key
        try:
            controller = keys.authentication_controller(outcome.verification_method)
        except ResolutionError as exc:
            problems.append(f"The key cannot authenticate the holder: {exc.message}")
            continue
        if holder is not None and controller != holder:
            problems.append(f"The presentation was signed by {controller}, not by {holder}")
    checks = [("proof", True, f"Signed for authentication: {proof_set.detail}")]
    checks.append(("holder_key", not problems, "; ".join(problems) or "Signed by the holder"))
    return checks


# ---------------------------------------------------------------- helpers


def _too_deep(document: Any, limit: int = DEFAULT_MAX_DEPTH) -> bool:
    """Whether arrays and objects nest deeper than limit; counted without recursion."""
    level: list[Any] = [document]
    for _depth in range(limit):
        level = [
            child
            for value in level
            for child in (value.values() if isinstance(value, Mapping) else value)
            if isinstance(child, Mapping | list)
        ]
        if not level:
            return False
    return True


def _first_context(document: Mapping[str, Any]) -> Any:
    context = document.get("@context")
    return context[0] if isinstance(context, list) and context else context


def _absolute(method_id: Any, did: str) -> Any:
    """Return a relative '#frag' method id made absolute against did; other values unchanged."""
    if isinstance(method_id, str) and method_id.startswith("#"):
        return did + method_id
    return method_id


def _as_list(value: Any) -> list[Any]:
    """Return a JSON value as a list (absent → [])."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
