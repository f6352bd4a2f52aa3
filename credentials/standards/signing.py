"""The eddsa-rdfc-2022 Data Integrity cryptosuite (W3C VC DI EdDSA 1.0, §3.2) over plain values.

Canonicalisation is RDFC-1.0 through pyld, restricted to the bundled contexts and run in a
"safe mode" like jsonld.js's: input that pyld would silently drop (an undefined term, a relative
IRI) is refused instead, because a signature must cover everything the document says. What
pyld would compute again and again (type-scoped contexts across documents, IRI expansions within
one) is kept, proven to give pyld's bytes by tests/credentials/test_general_path_differential.py.
"""

import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from frozendict import frozendict
from pyld import jsonld
from pyld.canon import URDNA2015
from pyld.canon import permutations as canon_permutations
from pyld.identifier_issuer import IdentifierIssuer

from credentials.standards import data_model
from credentials.standards.jsonld.loader import ContextNotBundled, load_document
from credentials.standards.multiformats import MultiformatError, base58btc_decode, multibase_encode

PROOF_TYPE: Final = "DataIntegrityProof"
CRYPTOSUITE: Final = "eddsa-rdfc-2022"
ASSERTION_METHOD: Final = "assertionMethod"
CREDENTIALS_V2_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"
DATA_INTEGRITY_V2_CONTEXT: Final = "https://w3id.org/security/data-integrity/v2"
SIGNATURE_LENGTH: Final = 64

# XML Schema dateTime; `created` must carry a time zone when we write it (dateTimeStamp).
_DATE_TIME: Final = re.compile(
    r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?P<zone>Z|[+-]\d{2}:\d{2})?"
)
# jsonld.js's absolute-IRI test, with JavaScript's \s spelled out (Python's \s differs).
_ABSOLUTE_IRI: Final = re.compile(
    r"[A-Za-z][A-Za-z0-9+-.]*:[^\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]*"
)
# Characters that canonical N-Quads (RDF 1.2, used by RDFC-1.0) escapes but pyld 3.3 writes raw;
# U+0085 also counts as whitespace to Python but not to JavaScript.
_IRI_UNSUPPORTED: Final = re.compile(r'[\x00-\x20<>"{}|^`\\\x85]')
_LITERAL_UNSUPPORTED: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LANGUAGE_TAG: Final = re.compile(r"[a-zA-Z]{1,8}(?:-[a-zA-Z0-9]{1,8})*")
_PLAIN_JSON_TYPES: Final = frozenset({dict, list, str, int, float, bool, type(None)})
# pyld keeps its resolved contexts in process-wide cachetools caches, which are not thread-safe.
_PYLD_CACHES: Final = threading.Lock()

# Work budgets (RDFC-1.0 §4.4 asks implementations to bound the algorithm): each input under the
# verifiers' 512 KiB cap is canonicalised, or refused by name, within about 0.3 s of CPU, however
# its blank nodes are arranged. docs/security.md ("Work budgets") gives the measurements.
# JSON values (objects, arrays and scalars, @context included) a document may hold: pyld's
# expansion and node map grow faster than linearly with them (a 470 KB array of 10,000 node
# references took 33 s). The richest credentials seen hold about 900 (an EDC sample, 311 objects).
MAX_JSON_VALUES: Final = 4_000
# Items in any one JSON array: pyld compares each new value of a property with all the earlier
# ones, so a long array costs its length squared.
MAX_ARRAY_ITEMS: Final = 512
# Term definitions pyld may create while expanding (about 10 µs each). pyld processes a type-scoped
# context again for every node of that type: a 1,500-term scoped context on 500 nodes took 8.7 s.
# This node's OB 3.0 credential needs about 560, its EDC credential about 390; 5,000 cost about
# 0.1 s (0.3 s on a loaded machine).
MAX_TERM_DEFINITIONS: Final = 5_000
# Value comparisons pyld's node map may make (a few µs each): it compares each value of a node's
# property with all those before it, including the values of other objects with the same @id, so
# n values of one property cost n(n-1)/2: a 500-node chain in one list took 1 to 4 s of CPU. This
# node's OB 3.0 credential needs 111, its EDC credential 507; 20,000 allow one list of 200 values.
MAX_NODE_MAP_WORK: Final = 20_000
# What the last canonicalize() of this thread cost, in the units of the budgets above.
_LAST_WORK: Final = threading.local()
# Distinct blank nodes in the dataset. An OB 3.0 credential of this node holds about 25 (one per
# alignment and identifier), the W3C and 1EdTech vectors at most 4.
MAX_BLANK_NODES: Final = 512
# Work units of the Hash N-Degree Quads step (RDFC-1.0 §4.8): each call costs one plus the quads
# it hashes plus the identifiers it copies. Legitimate graphs need none (their blank nodes have
# distinct first-degree hashes) or a few hundred; a 20-node clique would need millions.
MAX_N_DEGREE_WORK: Final = 5_000
# One document's budgets together: what a refused document is charged against a request's budget.
MAX_DOCUMENT_WORK: Final = (
    MAX_JSON_VALUES + MAX_TERM_DEFINITIONS + MAX_NODE_MAP_WORK + MAX_N_DEGREE_WORK
)
# Work units one request may spend over all its canonicalisations (a presentation and each
# credential in it): each document's budget alone would let 16 poisons cost 16 times as much.
MAX_REQUEST_WORK: Final = 2 * MAX_DOCUMENT_WORK
# The work left to the request this thread is answering, when one is metered.
_REQUEST_WORK: Final = threading.local()
# What this thread's general-path canonicalisations run inside, when a caller set one.
_GATE: Final = threading.local()
# Active contexts pyld made from (an active context, a type-scoped context), kept across
# documents (see _SafeProcessor._process_context): pyld processed the OB 3.0 context's
# type-scoped contexts again for every node of those types, about half of the general path's
# time. An OB 3.0 credential needs 13 entries; a hostile document only evicts, never misleads.
MAX_PROCESSED_CONTEXTS: Final = 256
_PROCESSED_CONTEXTS: Final[OrderedDict[tuple[Any, ...], tuple[Any, int]]] = OrderedDict()


class Failure(StrEnum):
    """Why a document could not be canonicalised or a proof did not verify."""

    MALFORMED_DOCUMENT = "malformed-document"
    MISSING_PROOF = "missing-proof"
    MULTIPLE_PROOFS = "multiple-proofs"
    MALFORMED_PROOF = "malformed-proof"
    WRONG_PROOF_TYPE = "wrong-proof-type"
    WRONG_CRYPTOSUITE = "wrong-cryptosuite"
    WRONG_PROOF_PURPOSE = "wrong-proof-purpose"
    CONTEXT_MISMATCH = "context-mismatch"
    MALFORMED_PROOF_VALUE = "malformed-proof-value"
    KEY_NOT_RESOLVED = "key-not-resolved"
    CONTEXT_NOT_BUNDLED = "context-not-bundled"
    UNDEFINED_TERM = "undefined-term"
    RELATIVE_IRI = "relative-iri"
    UNSUPPORTED_CHARACTER = "unsupported-character"
    INVALID_JSON_LD = "invalid-json-ld"
    TOO_LARGE = "too-large"
    TOO_MANY_BLANK_NODES = "too-many-blank-nodes"
    TOO_COMPLEX = "too-complex"
    BAD_SIGNATURE = "bad-signature"


class Step(StrEnum):
    """The verification step at which a proof was rejected."""

    READ_PROOF = "read-proof"
    RESOLVE_KEY = "resolve-key"
    CANONICALIZE_DOCUMENT = "canonicalize-document"
    CANONICALIZE_PROOF = "canonicalize-proof-configuration"
    CHECK_SIGNATURE = "check-signature"


class CanonicalizationError(ValueError):
    """Raised when a document cannot be canonicalised safely; `failure` names the reason."""

    def __init__(self, failure: Failure, detail: str) -> None:
        super().__init__(f"{failure}: {detail}")
        self.failure = failure
        self.detail = detail

    def __reduce__(self) -> tuple[type["CanonicalizationError"], tuple[Failure, str]]:
        # A canonicalising process (general_path_gate's `elsewhere`) sends its refusal back pickled.
        return type(self), (self.failure, self.detail)


class NodeBusy(Exception):
    """Raised by a general-path gate (see general_path_gate) that has no room for more work now.
    Not a failure of the document: the caller answers "busy, try again" and nothing is recorded."""


class KeyNotResolved(LookupError):
    """Raised by a key resolver that cannot give the public key of a verification method."""


KeyResolver = Callable[[str], Ed25519PublicKey]
# What turns a JSON-LD document into canonical N-Quads: canonicalize (the general path, the
# default everywhere) or anything proven to give its bytes, e.g. canonical_templates.canonicalize_fast.
Canonicalizer = Callable[[Mapping[str, Any]], str]
# Where general_path_gate may send the general path: canonicalize_counted's answer, or its refusal.
Elsewhere = Callable[[Mapping[str, Any]], tuple[str, int]]


@dataclass(frozen=True, slots=True)
class HashData:
    """The intermediate values of the cryptosuite: both canonical forms and their SHA-256 hashes."""

    canonical_document: str
    canonical_proof_configuration: str
    document_hash: bytes
    proof_configuration_hash: bytes

    @property
    def signed_bytes(self) -> bytes:
        """Return proofConfigHash ‖ documentHash, the 64 bytes that Ed25519 signs."""
        return self.proof_configuration_hash + self.document_hash


@dataclass(frozen=True, slots=True)
class ProofVerification:
    """The outcome of verify_proof: verified, or the step that failed, a named reason and a detail."""

    verified: bool
    failed_step: Step | None = None
    failure: Failure | None = None
    detail: str = ""
    verification_method: str | None = None


# ---------------------------------------------------------------- canonicalisation


def canonicalize(document: Mapping[str, Any]) -> str:
    """Return the RDFC-1.0 canonical N-Quads of a JSON-LD document; raises CanonicalizationError."""
    if not isinstance(document, Mapping):
        raise CanonicalizationError(
            Failure.MALFORMED_DOCUMENT, "a JSON-LD document must be a JSON object"
        )
    elsewhere = getattr(_GATE, "elsewhere", None)
    if elsewhere is not None:
        return _canonicalize_elsewhere(document, elsewhere)
    options = {
        "documentLoader": load_document,
        # jsonld.js canonicalises with base null: a relative IRI stays relative and is refused.
        # pyld's default base '' would instead resolve it against http://example.org/base/.
        "base": None,
        "rdfDirection": "i18n-datatype",
        "processingMode": "json-ld-1.1",
    }
    _LAST_WORK.units = 0
    _check_request_budget()
    try:
        values, plain = _check_size(document)
        _check_compact(document)
        with _gate():
            processor = _SafeProcessor(reuse_contexts=plain)
            with _PYLD_CACHES:
                dataset = processor.to_rdf(dict(document), options)
            _check_blank_nodes(dataset)
            canonicalizer = _BoundedCanonicalizer()
            canonical = str(canonicalizer.main(dataset, {"format": "application/n-quads"}))
    except NodeBusy:
        raise
    except CanonicalizationError as exc:
        _charge_request(MAX_DOCUMENT_WORK if exc.failure is not Failure.TOO_LARGE else 0)
        raise
    except jsonld.JsonLdError as exc:
        _charge_request(MAX_DOCUMENT_WORK)
        budget = _cause_of_type(exc, CanonicalizationError)
        if budget is not None:
            raise budget from exc
        not_bundled = _cause_of_type(exc, ContextNotBundled)
        if not_bundled is not None:
            raise CanonicalizationError(Failure.CONTEXT_NOT_BUNDLED, str(not_bundled)) from exc
        raise CanonicalizationError(Failure.INVALID_JSON_LD, _describe_jsonld_error(exc)) from exc
    except Exception as exc:
        _charge_request(MAX_DOCUMENT_WORK)
        # pyld is not hardened against arbitrary JSON (it can fail with TypeError, KeyError,
        # RecursionError…); any such failure on untrusted input is invalid JSON-LD, not a crash.
        raise CanonicalizationError(
            Failure.INVALID_JSON_LD, f"{type(exc).__name__}: {exc}"
        ) from exc
    _LAST_WORK.units = (
        values
        + (MAX_TERM_DEFINITIONS - processor.term_definitions_left)
        + processor.node_map_work
        + (MAX_N_DEGREE_WORK - canonicalizer.work_left)
    )
    _charge_request(_LAST_WORK.units)
    return canonical


def canonicalize_counted(document: Mapping[str, Any]) -> tuple[str, int]:
    """canonicalize() and its work units: what a canonicalising process sends back."""
    return canonicalize(document), last_canonicalization_work()


def _canonicalize_elsewhere(document: Mapping[str, Any], elsewhere: Elsewhere) -> str:
    # The same budgets and the same answer as in this thread; only the work runs elsewhere.
    # The size and shape checks run here first, as there: a document they refuse is never sent.
    _LAST_WORK.units = 0
    _check_request_budget()
    try:
        _check_size(document)
        _check_compact(document)
        with _gate():
            canonical, units = elsewhere(document)
    except CanonicalizationError as exc:
        _charge_request(MAX_DOCUMENT_WORK if exc.failure is not Failure.TOO_LARGE else 0)
        raise
    _LAST_WORK.units = units
    _charge_request(units)
    return canonical


@contextmanager
def request_work_budget(units: int = MAX_REQUEST_WORK) -> Iterator[None]:
    """Meter every canonicalize() of this thread inside the block against one budget of `units`:
    once it is spent, the next document is refused as too complex before any work. A refused
    document is charged a whole document's budget, since it may have spent that much."""
    outer = getattr(_REQUEST_WORK, "left", None)
    _REQUEST_WORK.left = units
    try:
        yield
    finally:
        _REQUEST_WORK.left = outer


@contextmanager
def general_path_gate(
    enter: Callable[[], AbstractContextManager[object]], *, elsewhere: Elsewhere | None = None
) -> Iterator[None]:
    """Run the costly part of every canonicalize() of this thread inside the block within
    `enter()`, which may raise NodeBusy: a node bounds how many run at once across its processes,
    so that costly documents cannot take every core from the pages. With `elsewhere` (a callable
    that gives canonicalize_counted's answer, e.g. from another process), the work itself runs
    there, so it never holds this interpreter's GIL. Templates (the fast path) never pass
    through it."""
    outer = getattr(_GATE, "enter", None), getattr(_GATE, "elsewhere", None)
    _GATE.enter, _GATE.elsewhere = enter, elsewhere
    try:
        yield
    finally:
        _GATE.enter, _GATE.elsewhere = outer


def _gate() -> AbstractContextManager[object]:
    enter = getattr(_GATE, "enter", None)
    return nullcontext() if enter is None else enter()


def _check_request_budget() -> None:
    left = getattr(_REQUEST_WORK, "left", None)
    if left is not None and left <= 0:
        raise CanonicalizationError(
            Failure.TOO_COMPLEX,
            "the request as a whole needs more work than this node allows "
            f"(over {MAX_REQUEST_WORK:,} work units over all its documents)",
        )


def _charge_request(units: int) -> None:
    left = getattr(_REQUEST_WORK, "left", None)
    if left is not None:
        _REQUEST_WORK.left = left - units


def last_canonicalization_work() -> int:
    """Return the work units (JSON values, term definitions, node-map comparisons, n-degree steps)
    of this thread's last successful canonicalize(), 0 after a refusal: a caller can tell a costly
    document apart."""
    return int(getattr(_LAST_WORK, "units", 0))


class _SafeProcessor(jsonld.JsonLdProcessor):
    """A pyld processor that refuses, as jsonld.js's safe mode does, what it would silently drop."""

    def __init__(self, *, reuse_contexts: bool = False) -> None:
        super().__init__(on_property_dropped=_refuse_dropped_property)
        self.term_definitions_left = MAX_TERM_DEFINITIONS
        self.node_map_work = 0
        # Only for plain JSON (see _check_size): its JSON text then names each value exactly.
        self.reuse_contexts = reuse_contexts
        # IRIs expanded for this document, by (active context, value, base, vocab).
        self._expanded_iris: dict[tuple[Any, ...], Any] = {}

    def _create_term_definition(self, *args: Any, **kwargs: Any) -> Any:
        self._spend_term_definitions(1)
        return super()._create_term_definition(*args, **kwargs)

    def _spend_term_definitions(self, count: int) -> None:
        self.term_definitions_left -= count
        if self.term_definitions_left < 0:
            raise CanonicalizationError(
                Failure.TOO_COMPLEX,
                "expanding the credential would take more work than this node allows "
                f"(over {MAX_TERM_DEFINITIONS:,} JSON-LD term definitions)",
            )

    def _process_context(
        self,
        active_ctx: Any,
        local_ctx: Any,
        options: Any,
        override_protected: bool = False,
        propagate: bool = True,
        validate_scoped: bool = True,
        cycles: Any = None,
    ) -> Any:
        """pyld's context processing, reusing for a type-scoped context (@propagate false) the
        active context pyld made before from the same active context (an immutable one, named
        by its _uuid) and the same local context.

        Only there: pyld caches every other processed context itself, but applies a type-scoped
        one to a fresh copy of the active context, which its cache never knows, so it processes
        it in full each time. A reused context is charged the term definitions that full
        processing costs, so the term-definition budget still counts it on every node (work
        units may differ by the few contexts pyld's own caches happen to hold). pyld's
        processing is deterministic given its inputs (the loader reads bundled files only)."""
        key = None
        if (
            self.reuse_contexts
            and not propagate
            and not cycles
            and isinstance(active_ctx, frozendict)
            and not active_ctx.get("previousContext")
        ):
            key = (
                active_ctx["_uuid"],
                json.dumps(local_ctx),
                override_protected,
                validate_scoped,
                options.get("base"),
                options.get("processingMode"),
            )
            reused = _PROCESSED_CONTEXTS.get(key)
            if reused is not None:
                _PROCESSED_CONTEXTS.move_to_end(key)
                processed, term_definitions = reused
                self._spend_term_definitions(term_definitions)
                return processed
        left = self.term_definitions_left
        processed = super()._process_context(
            active_ctx,
            local_ctx,
            options,
            override_protected=override_protected,
            propagate=propagate,
            validate_scoped=validate_scoped,
            cycles=cycles,
        )
        # Only a frozen result is safe to share: pyld never changes one after making it.
        if key is not None and isinstance(processed, frozendict):
            _PROCESSED_CONTEXTS[key] = (processed, left - self.term_definitions_left)
            while len(_PROCESSED_CONTEXTS) > MAX_PROCESSED_CONTEXTS:
                _PROCESSED_CONTEXTS.popitem(last=False)
        return processed

    def _expand_iri(
        self,
        active_ctx: Any,
        value: Any,
        base: Any = None,
        vocab: bool = False,
        local_ctx: Any = None,
        defined: Any = None,
    ) -> Any:
        """pyld's IRI expansion, remembered for this document: outside context processing
        (no local context) it depends only on an immutable active context and its arguments,
        and a credential expands the same few terms hundreds of times (a tenth of the time)."""
        if local_ctx is None and type(value) is str and isinstance(active_ctx, frozendict):
            key = (active_ctx["_uuid"], value, base, vocab)
            try:
                return self._expanded_iris[key]
            except KeyError:
                expanded = super()._expand_iri(active_ctx, value, base, vocab)
                self._expanded_iris[key] = expanded
                return expanded
        return super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)

    def expand(self, input_: Any, options: Any) -> Any:
        # to_rdf() expands through self.expand, so this check sees the document exactly once.
        expanded = super().expand(input_, options)
        if not expanded:
            raise CanonicalizationError(Failure.INVALID_JSON_LD, "the document makes no statements")
        _check_expanded(expanded)
        self.node_map_work = _node_map_work(expanded)
        if self.node_map_work > MAX_NODE_MAP_WORK:
            raise CanonicalizationError(
                Failure.TOO_COMPLEX,
                "mapping the credential's nodes would take more work than this node allows "
                f"(over {MAX_NODE_MAP_WORK:,} value comparisons: too many values of one property)",
            )
        return expanded


class _BoundedCanonicalizer(URDNA2015):
    """pyld's URDNA2015 with RDFC-1.0's limit on deep iterations (rdf-canonize's default bound)
    and a budget of work units for the Hash N-Degree Quads step.

    Every permutation that Hash N-Degree Quads does not skip recurses, so counting the calls
    (weighted by the quads each one hashes and the identifiers its issuer copies) bounds the
    permutations as well as the recursion.
    """

    def __init__(self, work_budget: int = MAX_N_DEGREE_WORK) -> None:
        super().__init__()
        self._deep_iterations_left: int | None = None
        self.work_left = work_budget

    def hash_n_degree_quads(self, id_: str, issuer: Any) -> Any:
        """RDFC-1.0 §4.8 as pyld writes it (same permutation order, same result), charging each
        call and each permutation to the work budget and copying the issuer without deepcopy."""
        if self._deep_iterations_left is None:
            # Called first from step 6, when only blank nodes with shared hashes remain.
            self._deep_iterations_left = sum(len(ids) for ids in self.hash_to_blank_nodes.values())
        if self._deep_iterations_left == 0:
            raise CanonicalizationError(
                Failure.TOO_COMPLEX,
                "blank nodes too alike to canonicalise within the RDFC-1.0 work bound",
            )
        self._deep_iterations_left -= 1
        self._charge(1 + len(self.blank_node_info[id_]["quads"]) + len(issuer.order))
        hash_to_related = self.create_hash_to_related(id_, issuer)
        md = self.create_hash()
        for related_hash, blank_nodes in sorted(hash_to_related.items()):
            md.update(related_hash.encode("utf8"))
            chosen_path = ""
            chosen_issuer = None
            for permutation in canon_permutations(blank_nodes):
                # Each permutation, even one skipped at its first node, copies the issuer: a
                # group of n alike neighbours has n! of them.
                self._charge(1 + len(permutation) + len(issuer.order))
                issuer_copy = _copy_issuer(issuer)
                path = ""
                recursion_list = []
                skip = False
                for related in permutation:
                    if self.canonical_issuer.has_id(related):
                        path += self.canonical_issuer.get_id(related)
                    else:
                        if not issuer_copy.has_id(related):
                            recursion_list.append(related)
                        path += issuer_copy.get_id(related)
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                for related in recursion_list:
                    result = self.hash_n_degree_quads(related, issuer_copy)
                    path += issuer_copy.get_id(related)
                    path += "<" + result["hash"] + ">"
                    issuer_copy = result["issuer"]
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                if not chosen_path or path < chosen_path:
                    chosen_path = path
                    chosen_issuer = issuer_copy
            md.update(chosen_path.encode("utf8"))
            issuer = chosen_issuer
        return {"hash": md.hexdigest(), "issuer": issuer}

    def modify_first_degree_component(self, id_: str, component: Any, key: str) -> Any:
        """RDFC-1.0 §4.6 step 3.1.1 as pyld writes it, without its deepcopy of the component: a
        blank node is a flat dict of strings, so a shallow copy is the same (8% of the time)."""
        if component["type"] != "blank node":
            return component
        return {**component, "value": "_:a" if component["value"] == id_ else "_:z"}

    def _charge(self, units: int) -> None:
        self.work_left -= units
        if self.work_left < 0:
            raise CanonicalizationError(
                Failure.TOO_COMPLEX,
                "canonicalising the credential would take more work than this node allows "
                f"({MAX_N_DEGREE_WORK:,} RDFC-1.0 hash steps); its blank nodes are too alike",
            )


def _copy_issuer(issuer: IdentifierIssuer) -> IdentifierIssuer:
    """Return a copy of a pyld identifier issuer (its state is a counter, a dict and a list of
    strings): what copy.deepcopy gives, at a fraction of the cost."""
    copied = IdentifierIssuer(issuer.prefix)
    copied.counter = issuer.counter
    copied.existing = dict(issuer.existing)
    copied.order = list(issuer.order)
    return copied


def _check_size(document: Any) -> tuple[int, bool]:
    """Return how many JSON values document holds and whether it is plain JSON (dicts with string
    keys, lists, strings, numbers, booleans and None, of exactly those types, which json.dumps
    writes one way each); raise if over MAX_JSON_VALUES, or if an array has more than
    MAX_ARRAY_ITEMS items."""
    count = 0
    plain = True
    pending = [document]
    while pending:
        value = pending.pop()
        count += 1
        if count > MAX_JSON_VALUES:
            raise CanonicalizationError(
                Failure.TOO_LARGE,
                f"the credential holds more than {MAX_JSON_VALUES:,} JSON values",
            )
        if type(value) not in _PLAIN_JSON_TYPES:
            plain = False
        if isinstance(value, Mapping):
            plain = plain and all(type(key) is str for key in value)
            pending.extend(value.values())
        elif isinstance(value, list):
            if len(value) > MAX_ARRAY_ITEMS:
                raise CanonicalizationError(
                    Failure.TOO_LARGE,
                    f"the credential has a list of more than {MAX_ARRAY_ITEMS:,} items",
                )
            pending.extend(value)
    return count, plain


def _check_blank_nodes(dataset: Mapping[str, Any]) -> None:
    """Raise when the RDF dataset (pyld's to_rdf output) has more than MAX_BLANK_NODES blank nodes."""
    blank_nodes = {name for name in dataset if name.startswith("_:")}
    for quads in dataset.values():
        for quad in quads:
            for position in ("subject", "object"):
                if quad[position]["type"] == "blank node":
                    blank_nodes.add(quad[position]["value"])
            if len(blank_nodes) > MAX_BLANK_NODES:
                raise CanonicalizationError(
                    Failure.TOO_MANY_BLANK_NODES,
                    f"the credential has more than {MAX_BLANK_NODES:,} blank nodes",
                )


def _refuse_dropped_property(expanded_property: str | None) -> None:
    """Raise for a property that has no definition in the active context."""
    raise CanonicalizationError(
        Failure.UNDEFINED_TERM, f"term {expanded_property!r} is not defined by any @context"
    )


def _check_compact(element: Any) -> None:
    """Raise for the value objects that pyld drops silently but jsonld.js's safe mode refuses."""
    if isinstance(element, list):
        for item in element:
            _check_compact(item)
    elif isinstance(element, dict):
        if element.get("@value", "") is None and element.get("@type") != "@json":
            raise CanonicalizationError(Failure.INVALID_JSON_LD, "a value object has a null @value")
        if element.keys() == {"@language"}:
            raise CanonicalizationError(Failure.INVALID_JSON_LD, "an object has only @language")
        for key, value in element.items():
            if key != "@context":
                _check_compact(value)


def _check_expanded(element: Any) -> None:
    """Raise unless every IRI in expanded JSON-LD is absolute and every literal is serialisable."""
    if isinstance(element, list):
        for item in element:
            _check_expanded(item)
        return
    if not isinstance(element, dict):
        return
    if "@value" in element:
        _check_value_object(element)
        return
    for key, value in element.items():
        if key == "@id":
            _check_iri(value, what="@id", blank_allowed=True)
        elif key == "@type":
            for type_iri in value:
                _check_iri(type_iri, what="@type", blank_allowed=True)
        elif key == "@reverse":
            for reverse_property, reverse_values in value.items():
                _check_iri(reverse_property, what="property", blank_allowed=False)
                _check_expanded(reverse_values)
        elif key in ("@list", "@set", "@graph", "@included"):
            _check_expanded(value)
        elif not key.startswith("@"):
            _check_iri(key, what="property", blank_allowed=False)
            _check_expanded(value)


def _node_map_work(expanded: Any) -> int:
    """Return the value comparisons pyld's node map will make for expanded JSON-LD: n(n-1)/2 for
    each property with n values on one node (objects with the same @id are one node)."""
    counts: dict[tuple[Any, str], int] = {}
    pending = [expanded]
    while pending:
        element = pending.pop()
        if isinstance(element, list):
            pending.extend(element)
            continue
        if not isinstance(element, dict) or "@value" in element:
            continue
        node = element.get("@id")
        node = node if isinstance(node, str) else id(element)
        for key, value in element.items():
            if key == "@reverse" and isinstance(value, dict):
                # Each value gets this node as a value of the reverse property.
                for reverse_property, reverse_values in value.items():
                    for item in reverse_values if isinstance(reverse_values, list) else []:
                        target = item.get("@id") if isinstance(item, dict) else None
                        target = target if isinstance(target, str) else id(item)
                        slot = (target, reverse_property)
                        counts[slot] = counts.get(slot, 0) + 1
                    pending.append(reverse_values)
            elif key in ("@list", "@set", "@graph", "@included"):
                pending.append(value)
            elif key == "@type" or not key.startswith("@"):
                values = value if isinstance(value, list) else [value]
                slot = (node, key)
                counts[slot] = counts.get(slot, 0) + len(values)
                if key != "@type":
                    pending.extend(values)
    return sum(n * (n - 1) // 2 for n in counts.values())


def _check_value_object(element: Mapping[str, Any]) -> None:
    """Raise unless a value object's datatype is absolute and its text needs no N-Quads \\u escape."""
    datatype = element.get("@type")
    if datatype == "@json":
        # JSON canonicalisation escapes every control character but DEL, which jsonld.js then
        # writes as \u007F in the literal and pyld writes as it is: refused, as in other literals.
        if "\x7f" in json.dumps(element["@value"], ensure_ascii=False):
            raise CanonicalizationError(
                Failure.UNSUPPORTED_CHARACTER,
                "control character U+007F in a JSON literal is not supported",
            )
        return
    if datatype is not None:
        _check_iri(datatype, what="datatype", blank_allowed=False)
    language = element.get("@language")
    if language is not None and not (
        isinstance(language, str) and _LANGUAGE_TAG.fullmatch(language)
    ):
        raise CanonicalizationError(
            Failure.INVALID_JSON_LD, f"invalid @language value {language!r}"
        )
    value = element["@value"]
    if isinstance(value, str) and (match := _LITERAL_UNSUPPORTED.search(value)):
        raise CanonicalizationError(
            Failure.UNSUPPORTED_CHARACTER,
            f"control character U+{ord(match.group()):04X} in a literal is not supported",
        )


def _check_iri(iri: Any, *, what: str, blank_allowed: bool) -> None:
    """Raise unless iri is an absolute IRI (or allowed blank node) that pyld writes canonically."""
    if not isinstance(iri, str):
        raise CanonicalizationError(Failure.INVALID_JSON_LD, f"{what} {iri!r} is not a string")
    if iri.startswith("_:"):
        if blank_allowed:
            return
        raise CanonicalizationError(Failure.INVALID_JSON_LD, f"blank node {iri!r} used as a {what}")
    if not _ABSOLUTE_IRI.fullmatch(iri):
        raise CanonicalizationError(Failure.RELATIVE_IRI, f"{what} {iri!r} is not an absolute IRI")
    if match := _IRI_UNSUPPORTED.search(iri):
        raise CanonicalizationError(
            Failure.UNSUPPORTED_CHARACTER, f"character U+{ord(match.group()):04X} in {what} {iri!r}"
        )


def _cause_of_type[E: BaseException](exc: BaseException, wanted: type[E]) -> E | None:
    """Return the first exception of type wanted in exc's chain of causes, if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, wanted):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _describe_jsonld_error(exc: BaseException) -> str:
    """Return the innermost pyld error message with its JSON-LD error code, for a human."""
    innermost = exc
    while isinstance(innermost.__cause__, jsonld.JsonLdError):
        innermost = innermost.__cause__
    code = getattr(innermost, "code", None)
    message = str(getattr(innermost, "message", innermost))
    return f"{message} ({code})" if code else message


# ---------------------------------------------------------------- proof configuration and hashes


def format_created(moment: datetime) -> str:
    """Return an aware datetime as a UTC dateTimeStamp to the second ('2024-05-01T12:00:00Z')."""
    if moment.tzinfo is None:
        raise ValueError("created must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def proof_configuration(
    *,
    context: Any,
    verification_method: str,
    created: str,
    proof_purpose: str = ASSERTION_METHOD,
) -> dict[str, Any]:
    """Return eddsa-rdfc-2022 proof options carrying the document's @context (§3.2.5)."""
    if not _is_date_time(created, zone_required=True):
        raise ValueError(
            f"created must be an XML Schema dateTimeStamp with a time zone, got {created!r}"
        )
    return {
        "@context": _context_with_data_integrity(context),
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }


def hash_data(unsecured_document: Mapping[str, Any], proof_config: Mapping[str, Any]) -> HashData:
    """Return both canonical forms and their SHA-256 hashes; raises CanonicalizationError."""
    canonical_proof = canonicalize(proof_config)
    canonical_document = canonicalize(unsecured_document)
    return HashData(
        canonical_document=canonical_document,
        canonical_proof_configuration=canonical_proof,
        document_hash=_sha256(canonical_document),
        proof_configuration_hash=_sha256(canonical_proof),
    )


def _context_with_data_integrity(context: Any) -> Any:
    """Return context, plus the Data Integrity context when neither it nor VC 2.0 is present.

    This is the "context injection" of VC Data Integrity 1.0 §2.4.1, done as vc-js does it, so a
    proof over a document without those contexts still has definitions for its own terms.
    """
    entries = context if isinstance(context, list) else [context]
    if CREDENTIALS_V2_CONTEXT in entries or DATA_INTEGRITY_V2_CONTEXT in entries:
        return context
    return (
        [*entries, DATA_INTEGRITY_V2_CONTEXT] if context is not None else DATA_INTEGRITY_V2_CONTEXT
    )


def _is_date_time(value: Any, *, zone_required: bool) -> bool:
    """Return True when value is an XML Schema dateTime (with a time zone, if required)."""
    if not isinstance(value, str):
        return False
    match = _DATE_TIME.fullmatch(value)
    if match is None or (zone_required and match["zone"] is None):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _sha256(text: str) -> bytes:
    """Return the SHA-256 digest of text encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).digest()


# ---------------------------------------------------------------- signing


class Signer:
    """Signs documents with one key, verification method and `created`, caching proof hashes.

    The proof configuration is the document's @context plus fixed options, so documents that
    share an @context share its canonical form and hash: it is computed once per @context.
    A canonicalizer other than the general path's canonicalize (the default) may be given.
    """

    def __init__(
        self,
        *,
        private_key: Ed25519PrivateKey,
        verification_method: str,
        created: str,
        canonicalizer: Canonicalizer | None = None,
    ) -> None:
        self._private_key = private_key
        self._verification_method = verification_method
        self._created = created
        self._canonicalizer = canonicalizer
        # Raise now, not at the first sign(), on a malformed `created`.
        proof_configuration(context=None, verification_method=verification_method, created=created)
        self._proof_hashes: dict[tuple[str, ...] | str, tuple[str, bytes]] = {}

    def hash_data(self, unsecured_document: Mapping[str, Any]) -> HashData:
        """Return the hash data of a document without a proof; raises CanonicalizationError."""
        context = unsecured_document.get("@context")
        context_key = _context_key(context)
        cached = self._proof_hashes.get(context_key)
        if cached is None:
            config = proof_configuration(
                context=context,
                verification_method=self._verification_method,
                created=self._created,
            )
            canonical_proof = (self._canonicalizer or canonicalize)(config)
            cached = (canonical_proof, _sha256(canonical_proof))
            self._proof_hashes[context_key] = cached
        canonical_document = (self._canonicalizer or canonicalize)(unsecured_document)
        return HashData(
            canonical_document=canonical_document,
            canonical_proof_configuration=cached[0],
            document_hash=_sha256(canonical_document),
            proof_configuration_hash=cached[1],
        )

    def sign(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """Return a copy of document with a one-element `proof` array; raises CanonicalizationError,
        or data_model.DataModelError for a credential that breaks the VC 2.0 data model."""
        if "proof" in document:
            raise ValueError("the document already has a proof; proof sets are not supported")
        signed_bytes = self.hash_data(document).signed_bytes
        if data_model.is_credential(document):
            # Every signing path passes here: nothing the data model forbids is ever signed.
            data_model.check(document)
        signature = self._private_key.sign(signed_bytes)
        proof = {
            "type": PROOF_TYPE,
            "cryptosuite": CRYPTOSUITE,
            "created": self._created,
            "verificationMethod": self._verification_method,
            "proofPurpose": ASSERTION_METHOD,
            "proofValue": multibase_encode(signature),
        }
        # The OB 3.0 JSON Schema requires `proof` to be an array.
        return {**document, "proof": [proof]}


def _context_key(context: Any) -> tuple[str, ...] | str:
    """Return a key that tells @context values apart: a tuple for a list of URLs, else JSON text."""
    if context.__class__ is list and all(entry.__class__ is str for entry in context):
        return tuple(context)
    return json.dumps(context, separators=(",", ":"), ensure_ascii=False)


def sign_document(
    document: Mapping[str, Any],
    *,
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: str,
    canonicalizer: Canonicalizer | None = None,
) -> dict[str, Any]:
    """Return a copy of document secured by one eddsa-rdfc-2022 proof; raises CanonicalizationError."""
    signer = Signer(
        private_key=private_key,
        verification_method=verification_method,
        created=created,
        canonicalizer=canonicalizer,
    )
    return signer.sign(document)


# ---------------------------------------------------------------- verification


def verify_proof(
    document: Any,
    *,
    public_key: Ed25519PublicKey | KeyResolver,
    proof_purpose: str = ASSERTION_METHOD,
    canonicalizer: Canonicalizer | None = None,
) -> ProofVerification:
    """Return whether document's single eddsa-rdfc-2022 proof verifies; never raises on bad input.

    public_key is the expected key, or a resolver from verificationMethod to key that raises
    KeyNotResolved (or another LookupError / ValueError) when it cannot. canonicalizer defaults
    to the general path, canonicalize.
    """
    if not isinstance(document, Mapping):
        return _rejected(
            Step.READ_PROOF, Failure.MALFORMED_DOCUMENT, "the document is not a JSON object"
        )
    proof = _single_proof(document)
    if isinstance(proof, ProofVerification):
        return proof
    problem = _check_proof_options(proof, proof_purpose=proof_purpose)
    if problem is not None:
        return problem
    method: str = proof["verificationMethod"]
    proof_context = proof.get("@context", document.get("@context"))
    if not _context_starts_with(document.get("@context"), proof_context):
        return _rejected(
            Step.READ_PROOF,
            Failure.CONTEXT_MISMATCH,
            "the proof's @context is not a prefix of the document's",
            method,
        )
    try:
        signature = _decode_proof_value(proof["proofValue"])
    except MultiformatError as exc:
        return _rejected(Step.READ_PROOF, Failure.MALFORMED_PROOF_VALUE, str(exc), method)

    if isinstance(public_key, Ed25519PublicKey):
        key = public_key
    else:
        try:
            key = public_key(method)
        except (LookupError, ValueError) as exc:
            return _rejected(Step.RESOLVE_KEY, Failure.KEY_NOT_RESOLVED, str(exc), method)
        if not isinstance(key, Ed25519PublicKey):
            detail = f"the resolver gave {type(key).__name__}, not an Ed25519 public key"
            return _rejected(Step.RESOLVE_KEY, Failure.KEY_NOT_RESOLVED, detail, method)

    unsecured = {name: value for name, value in document.items() if name != "proof"}
    options = {name: value for name, value in proof.items() if name != "proofValue"}
    options["@context"] = _context_with_data_integrity(proof_context)
    canonical = canonicalizer or canonicalize
    try:
        canonical_proof = canonical(options)
    except CanonicalizationError as exc:
        return _rejected(Step.CANONICALIZE_PROOF, exc.failure, exc.detail, method)
    try:
        canonical_document = canonical(unsecured)
    except CanonicalizationError as exc:
        return _rejected(Step.CANONICALIZE_DOCUMENT, exc.failure, exc.detail, method)

    try:
        key.verify(signature, _sha256(canonical_proof) + _sha256(canonical_document))
    except InvalidSignature:
        return _rejected(
            Step.CHECK_SIGNATURE,
            Failure.BAD_SIGNATURE,
            "the signature does not match the document and key",
            method,
        )
    return ProofVerification(verified=True, verification_method=method)


def _single_proof(document: Mapping[str, Any]) -> Mapping[str, Any] | ProofVerification:
    """Return the one proof of document (an object or a one-element array), or a rejection."""
    proof = document.get("proof")
    if proof is None or proof == []:
        return _rejected(Step.READ_PROOF, Failure.MISSING_PROOF, "the document has no proof")
    if isinstance(proof, list):
        if len(proof) != 1:
            detail = f"found {len(proof)} proofs; proof sets and chains are not supported"
            return _rejected(Step.READ_PROOF, Failure.MULTIPLE_PROOFS, detail)
        proof = proof[0]
    if not isinstance(proof, Mapping):
        return _rejected(Step.READ_PROOF, Failure.MALFORMED_PROOF, "the proof is not a JSON object")
    return proof


def _check_proof_options(
    proof: Mapping[str, Any], *, proof_purpose: str
) -> ProofVerification | None:
    """Return a rejection unless proof is a well-formed eddsa-rdfc-2022 proof for proof_purpose."""
    method = proof.get("verificationMethod")
    if proof.get("type") != PROOF_TYPE:
        return _rejected(
            Step.READ_PROOF, Failure.WRONG_PROOF_TYPE, f"proof type {proof.get('type')!r}"
        )
    if proof.get("cryptosuite") != CRYPTOSUITE:
        return _rejected(
            Step.READ_PROOF,
            Failure.WRONG_CRYPTOSUITE,
            f"cryptosuite {proof.get('cryptosuite')!r}",
        )
    if not isinstance(method, str) or not method:
        return _rejected(
            Step.READ_PROOF, Failure.MALFORMED_PROOF, "verificationMethod must be a string"
        )
    if proof.get("proofPurpose") != proof_purpose:
        return _rejected(
            Step.READ_PROOF,
            Failure.WRONG_PROOF_PURPOSE,
            f"proofPurpose {proof.get('proofPurpose')!r}, expected {proof_purpose!r}",
            method,
        )
    if "created" in proof and not _is_date_time(proof["created"], zone_required=False):
        return _rejected(
            Step.READ_PROOF, Failure.MALFORMED_PROOF, f"created {proof['created']!r}", method
        )
    if not isinstance(proof.get("proofValue"), str):
        return _rejected(
            Step.READ_PROOF, Failure.MALFORMED_PROOF_VALUE, "proofValue must be a string", method
        )
    return None


def _decode_proof_value(proof_value: str) -> bytes:
    """Return the 64-byte signature of a base58btc multibase proofValue; raises MultiformatError."""
    if not proof_value.startswith("z"):
        raise MultiformatError("proofValue must be multibase base58btc (start with 'z')")
    signature = base58btc_decode(proof_value[1:])
    if len(signature) != SIGNATURE_LENGTH:
        raise MultiformatError(
            f"an Ed25519 signature has {SIGNATURE_LENGTH} bytes, got {len(signature)}"
        )
    return signature


def _context_starts_with(document_context: Any, proof_context: Any) -> bool:
    """Return True when the proof's @context entries begin the document's, in order."""
    document_entries = (
        document_context if isinstance(document_context, list) else [document_context]
    )
    proof_entries = proof_context if isinstance(proof_context, list) else [proof_context]
    return document_entries[: len(proof_entries)] == proof_entries


def _rejected(step: Step, failure: Failure, detail: str, method: Any = None) -> ProofVerification:
    """Return a failed ProofVerification."""
    return ProofVerification(
        verified=False,
        failed_step=step,
        failure=failure,
        detail=detail,
        verification_method=method if isinstance(method, str) else None,
    )
