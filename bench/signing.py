"""Signs/s and verifies/s of our eddsa-rdfc-2022 on one core, as ratios to Node's vc-js in the same run.

Run from the repository root:

    python bench/signing.py [--quick] [--n N] [--cpu CPU] [--interop-dir DIR]

It times, one operation at a time, `signing.sign_document` (one call per credential, as the
portal's `_sign` does; "batch" rows reuse one `signing.Signer`, as `credential_issue` does) and
`signing.verify_proof`, on the general path (pyld) and through
`canonical_templates.canonicalize_fast` ("fast"; "unseen" verifies a document that takes the
general path while its proof options come from the shape cache), for the realistic micro-credential of bench/sample.py
(signing a different learner's credential each time) and for the OB 3.0 basic example that the
vc-js harness's bench.mjs signs. In the same run, on the same core, it runs bench.mjs, and
bench/node_same_document.mjs (the same vc-js stack) on the realistic credential, then prints each
of our figures divided by Node's: median against median, loop throughput against loop throughput.

The Node harness (tests/vcjs) is found through --interop-dir, else MESHE_INTEROP_DIR, else
var/interop, where `make interop` installs it; the key pair and the OB 3.0 example come from
tests/standards. Not part of the test suite.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[1]
if str(REPOSITORY) not in sys.path:
    # Run as a script, Python puts bench/ on the path, not the repository.
    sys.path.insert(0, str(REPOSITORY))

from importlib.metadata import version  # noqa: E402

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from bench import report, sample  # noqa: E402
from credentials.standards import canonical_templates, didkey, signing  # noqa: E402
from credentials.standards.multiformats import decode_ed25519_private_key  # noqa: E402

# Where `make interop` installs the vc-js harness of tests/vcjs (overridable).
DEFAULT_INTEROP_DIR = REPOSITORY / "var" / "interop"
STANDARDS_DIR = REPOSITORY / "tests" / "standards"
CREATED = "2025-06-30T14:05:00Z"
# Distinct learners signed in turn, so per-learner values really change between operations.
LEARNERS = 64
SIGN_TARGET = 10.0
VERIFY_GENERAL_TARGET = 5.0  # issue 20: five times vc-js on the same document
VERIFY_SEEN_SHAPE_TARGET = 2.0


@dataclass(frozen=True, slots=True)
class Figures:
    """Timings of one operation in bench.mjs's terms."""

    n: int
    median_ms: float
    p90_ms: float
    loop_ops_per_s: float

    @property
    def median_ops_per_s(self) -> float:
        """Return 1000 / median, as bench.mjs reports it."""
        return 1000 / self.median_ms

    @classmethod
    def from_node(cls, report: Mapping[str, Any]) -> "Figures":
        """Return the figures of one bench.mjs operation report."""
        return cls(
            n=report["n"],
            median_ms=report["median_ms"],
            p90_ms=report["p90_ms"],
            loop_ops_per_s=report["loop_ops_per_s"],
        )


@dataclass(frozen=True, slots=True)
class Row:
    """One measured operation of ours, with the Node figures it is compared with."""

    document: str
    operation: str
    path: str
    ours: Figures
    node_reference: Figures | None
    node_same_document: Figures | None


def time_loop(n: int, warmup: int, operations: list[Callable[[], object]]) -> Figures:
    """Return the timings of n calls after warmup calls, cycling through operations."""
    for number in range(warmup):
        operations[number % len(operations)]()
    elapsed = []
    clock = time.perf_counter_ns
    for number in range(n):
        operation = operations[number % len(operations)]
        start = clock()
        operation()
        elapsed.append(clock() - start)
    milliseconds = sorted(value / 1e6 for value in elapsed)
    return Figures(
        n=n,
        median_ms=statistics.median(milliseconds),
        p90_ms=milliseconds[min(n - 1, int(0.9 * n))],
        loop_ops_per_s=n * 1000 / sum(milliseconds),
    )


def pin_to_cpu(cpu: int | None) -> int:
    """Pin this process to one CPU (default: the last one it may use) and return it."""
    allowed = sorted(os.sched_getaffinity(0))
    chosen = allowed[-1] if cpu is None else cpu
    os.sched_setaffinity(0, {chosen})
    return chosen


def run_node(arguments: list[str], *, cpu: int, cwd: Path) -> Mapping[str, Any]:
    """Run node with arguments on one CPU (under taskset when there is one); return its JSON."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not on PATH")
    command = [node, *arguments]
    taskset = shutil.which("taskset")
    if taskset is not None:
        command = [taskset, "-c", str(cpu), *command]
    # The harness reads this repository's contexts and standards data, wherever it is installed.
    environment = {**os.environ, "MESHE_REPOSITORY": str(REPOSITORY)}
    finished = subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, check=False
    )
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {finished.stderr.strip()}")
    report: Mapping[str, Any] = json.loads(finished.stdout)
    return report


def our_rows(
    *, document: str, unsigned: list[dict[str, Any]], n: int, fast_n: int, warmup: int
) -> dict[tuple[str, str], Figures]:
    """Return our sign and verify figures on the general path and the fast path."""
    key_pair = json.loads(
        (standards_dir() / "vectors" / "vc-di-eddsa" / "keyPair.json").read_text("utf-8")
    )
    private_key = decode_ed25519_private_key(key_pair["privateKeyMultibase"])
    public = key_pair["publicKeyMultibase"]
    method = f"did:key:{public}#{public}"
    fast = canonical_templates.canonicalize_fast

    def signer(
        item: dict[str, Any], canonicalizer: signing.Canonicalizer | None
    ) -> Callable[[], dict[str, Any]]:
        return lambda: signing.sign_document(
            item,
            private_key=private_key,
            verification_method=method,
            created=CREATED,
            canonicalizer=canonicalizer,
        )

    def verifier(
        item: dict[str, Any], canonicalizer: signing.Canonicalizer | None
    ) -> Callable[[], object]:
        def verify() -> None:
            result = signing.verify_proof(
                item, public_key=didkey.public_key_for, canonicalizer=canonicalizer
            )
            if not result.verified:
                raise AssertionError(f"{document}: {result.failure} {result.detail}")

        return verify

    # credential_issue signs a batch with one Signer, which hashes the proof options once.
    batch = signing.Signer(
        private_key=private_key, verification_method=method, created=CREATED, canonicalizer=fast
    )

    def batch_signer(item: dict[str, Any]) -> Callable[[], dict[str, Any]]:
        return lambda: batch.sign(item)

    # A credential of a shape never seen before, as a third party's is at first: the document
    # takes the general path, while its proof options (one shape for every eddsa-rdfc-2022 proof
    # over the same @context) come from the shape cache.
    proof_shapes = canonical_templates.ShapeCache(compile_after=1)

    def unseen_shape(document: Mapping[str, Any]) -> str:
        if "proofPurpose" in document:
            return proof_shapes.canonicalize(document)
        return signing.canonicalize(document)

    signed = [signer(item, None)() for item in unsigned]
    assert_same_proofs(unsigned, signed, private_key=private_key, method=method)
    fast_warmup = max(warmup, 2 * len(unsigned))
    return {
        ("sign", "general"): time_loop(n, warmup, [signer(item, None) for item in unsigned]),
        ("sign", "fast"): time_loop(fast_n, fast_warmup, [signer(item, fast) for item in unsigned]),
        ("sign", "batch"): time_loop(
            fast_n, fast_warmup, [batch_signer(item) for item in unsigned]
        ),
        ("verify", "general"): time_loop(
            n,
            warmup,
            [verifier(item, None) for item in signed],
        ),
        ("verify", "unseen"): time_loop(
            n, warmup, [verifier(item, unseen_shape) for item in signed]
        ),
        ("verify", "fast"): time_loop(
            fast_n,
            fast_warmup,
            [verifier(item, fast) for item in signed],
        ),
    }


def assert_same_proofs(
    unsigned: list[dict[str, Any]],
    signed: list[dict[str, Any]],
    *,
    private_key: Ed25519PrivateKey,
    method: str,
) -> None:
    """Raise unless the fast path signs every document exactly as the general path did."""
    for _round in range(2):
        for item, general in zip(unsigned, signed, strict=True):
            fast = signing.sign_document(
                item,
                private_key=private_key,
                verification_method=method,
                created=CREATED,
                canonicalizer=canonical_templates.canonicalize_fast,
            )
            if fast != general:
                raise AssertionError("the fast path signed a document differently")


def standards_dir() -> Path:
    """Return the standards test data folder, tests/standards."""
    return STANDARDS_DIR


def ratios(ours: Figures, node: Figures | None) -> str:
    """Return 'median ratio / loop ratio' of ours to node, as '12.30x / 20.10x', or 'n/a'."""
    if node is None:
        return "n/a"
    median = ours.median_ops_per_s / node.median_ops_per_s
    loop = ours.loop_ops_per_s / node.loop_ops_per_s
    return f"{median:.2f}x / {loop:.2f}x"


def print_report(rows: list[Row], *, header: list[str], notes: list[str]) -> None:
    """Print the figures, the ratios and the targets."""
    for line in header:
        print(line)
    print()
    print(
        f"{'document':<26} {'operation':<9} {'path':<8} {'median ms':>10} {'median/s':>9} "
        f"{'loop/s':>8} {'p90 ms':>8}"
    )
    for row in rows:
        print(
            f"{row.document:<26} {row.operation:<9} {row.path:<8} {row.ours.median_ms:>10.3f} "
            f"{row.ours.median_ops_per_s:>9.1f} {row.ours.loop_ops_per_s:>8.1f} "
            f"{row.ours.p90_ms:>8.3f}"
        )
    print()
    print("Ratios, ours / Node (median against median; loop against loop):")
    print(
        f"{'document':<26} {'operation':<9} {'path':<8} {'vs bench.mjs (basic)':>22} "
        f"{'vs Node, same document':>24}"
    )
    for row in rows:
        reference = row.node_reference
        same = row.node_same_document
        against_reference = ratios(row.ours, reference)
        against_same = ratios(row.ours, same)
        print(
            f"{row.document:<26} {row.operation:<9} {row.path:<8} {against_reference:>22} "
            f"{against_same:>24}"
        )
    print()
    print("Targets (realistic micro-credential; each ratio median / loop):")
    targets = [
        ("sign", "fast", SIGN_TARGET, "signing (portal issuing, fast path)"),
        ("verify", "general", VERIFY_GENERAL_TARGET, "verification, general path"),
        ("verify", "unseen", VERIFY_GENERAL_TARGET, "verification, unseen document shape"),
        ("verify", "fast", VERIFY_SEEN_SHAPE_TARGET, "verification, shape already seen"),
    ]
    for operation, path, target, label in targets:
        row = next(
            item
            for item in rows
            if item.document == REALISTIC and item.operation == operation and item.path == path
        )
        for name, node in (
            ("bench.mjs", row.node_reference),
            ("same document", row.node_same_document),
        ):
            if node is None:
                print(f"  {label} >= {target:g}x Node ({name}): n/a (no Node figures)")
                continue
            median = row.ours.median_ops_per_s / node.median_ops_per_s
            loop = row.ours.loop_ops_per_s / node.loop_ops_per_s
            verdict = "met" if min(median, loop) >= target else "NOT met"
            print(
                f"  {label} >= {target:g}x Node ({name}): {median:.2f}x / {loop:.2f}x -> {verdict}"
            )
    for note in notes:
        print(note)


REALISTIC = "realistic micro-credential"
BASIC = "OB 3.0 basic example"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its report; return 1 when the Node reference could not run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--n", type=int, help="timed operations per general-path row and Node")
    parser.add_argument("--warmup", type=int, help="untimed operations before each row")
    parser.add_argument("--cpu", type=int, help="the CPU to run on (default: the last allowed)")
    parser.add_argument("--interop-dir", type=Path, help="the interop tool with node_modules")
    arguments = parser.parse_args(argv)
    n = arguments.n or (30 if arguments.quick else 300)
    warmup = arguments.warmup if arguments.warmup is not None else (5 if arguments.quick else 30)
    cpu = pin_to_cpu(arguments.cpu)
    interop_dir = (
        arguments.interop_dir or Path(os.environ.get("MESHE_INTEROP_DIR", DEFAULT_INTEROP_DIR))
    ).resolve()

    run = collect(quick=arguments.quick, n=n, warmup=warmup, cpu=cpu, interop_dir=interop_dir)
    print_report(run.rows, header=run.header, notes=run.notes)
    return 1 if run.node_failure else 0


@dataclass(frozen=True, slots=True)
class Run:
    """Everything one run measured."""

    rows: list[Row]
    header: list[str]
    notes: list[str]
    node_failure: str | None
    raw_sign_per_s: float
    raw_verify_per_s: float


def raw_ed25519(seconds: float = 1.0) -> tuple[float, float]:
    """Ed25519 signs/s and verifies/s of `cryptography` over 64 bytes (two SHA-256 hashes, what
    eddsa-rdfc-2022 signs), on this core: the ceiling for any signer in this process."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    message = bytes(range(64))
    signature = key.sign(message)
    rates = []
    for operation in (lambda: key.sign(message), lambda: public.verify(signature, message)):
        runs, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            operation()
            runs += 1
        rates.append(runs / (time.perf_counter() - started))
    return rates[0], rates[1]


def collect(*, quick: bool, n: int, warmup: int, cpu: int, interop_dir: Path) -> Run:
    """Measure ours, the Node reference and raw Ed25519 on one core (the caller pinned it)."""
    fast_n = 10 * n
    key_pair = json.loads(
        (standards_dir() / "vectors" / "vc-di-eddsa" / "keyPair.json").read_text("utf-8")
    )
    issuer_did = f"did:key:{key_pair['publicKeyMultibase']}"
    realistic = sample.credentials(LEARNERS, issuer_did=issuer_did)
    basic = json.loads(
        (standards_dir() / "ob3" / "examples" / "basicOpenBadgeCredential.json").read_text("utf-8")
    )
    basic["issuer"]["id"] = issuer_did

    node_failure = None
    node_reference: Mapping[str, Any] | None = None
    node_same: Mapping[str, Any] | None = None
    try:
        if not (interop_dir / "node_modules").is_dir():
            raise RuntimeError(
                f"{interop_dir} has no node_modules; install it with `make interop`"
                f" (or: cp -r {REPOSITORY / 'tests' / 'vcjs'} {interop_dir}"
                f" && (cd {interop_dir} && npm ci))"
            )
        node_reference = run_node(
            [str(interop_dir / "bench.mjs"), "--n", str(n), "--warmup", str(warmup)],
            cpu=cpu,
            cwd=interop_dir,
        )
        with tempfile.TemporaryDirectory() as scratch:
            credential_file = Path(scratch) / "realistic.json"
            credential_file.write_text(json.dumps(realistic[0]), "utf-8")
            node_same = run_node(
                [
                    str(REPOSITORY / "bench" / "node_same_document.mjs"),
                    "--interop-dir",
                    str(interop_dir),
                    "--credential",
                    str(credential_file),
                    "--n",
                    str(n),
                    "--warmup",
                    str(warmup),
                ],
                cpu=cpu,
                cwd=interop_dir,
            )
    except (OSError, RuntimeError, ValueError) as exc:
        node_failure = str(exc)

    ours = {
        REALISTIC: our_rows(
            document=REALISTIC, unsigned=realistic, n=n, fast_n=fast_n, warmup=warmup
        ),
        BASIC: our_rows(document=BASIC, unsigned=[basic], n=n, fast_n=fast_n, warmup=warmup),
    }

    def node_figures(report: Mapping[str, Any] | None, operation: str) -> Figures | None:
        return Figures.from_node(report["results"][0][operation]) if report else None

    rows = []
    for document, figures in ours.items():
        for (operation, path), measured in figures.items():
            reference = node_figures(node_reference, operation)
            same = reference if document == BASIC else node_figures(node_same, operation)
            rows.append(Row(document, operation, path, measured, reference, same))

    info = canonical_templates.SHAPES.info()
    header = [
        "MESHE eddsa-rdfc-2022 benchmark"
        f" ({'quick' if quick else 'full'} run, one core: CPU {cpu})",
        f"  Python {platform.python_version()}, pyld {version('pyld')},"
        f" cryptography {version('cryptography')}; {platform.processor() or platform.machine()}",
        f"  ours: n={n} per general-path row, n={fast_n} per fast row, warm-up {warmup};"
        f" realistic credential signed for {LEARNERS} learners in turn"
        f" ({len(json.dumps(realistic[0]))} bytes unsigned)",
    ]
    if node_reference and node_same:
        reference_result = node_reference["results"][0]
        header += [
            f"  Node {node_reference['node']} (vc-js, {interop_dir}), n={n}, warm-up {warmup}:",
            f"    bench.mjs, {reference_result['example']} ({reference_result['credential_bytes']} bytes signed):"
            f" sign {reference_result['sign']['median_ops_per_s']}/s median,"
            f" {reference_result['sign']['loop_ops_per_s']}/s loop;"
            f" verify {reference_result['verify']['median_ops_per_s']}/s median,"
            f" {reference_result['verify']['loop_ops_per_s']}/s loop",
            f"    node_same_document.mjs, the realistic credential"
            f" ({node_same['results'][0]['credential_bytes']} bytes signed):"
            f" sign {node_same['results'][0]['sign']['median_ops_per_s']}/s median,"
            f" {node_same['results'][0]['sign']['loop_ops_per_s']}/s loop;"
            f" verify {node_same['results'][0]['verify']['median_ops_per_s']}/s median,"
            f" {node_same['results'][0]['verify']['loop_ops_per_s']}/s loop",
        ]
    else:
        header.append(f"  Node reference NOT measured: {node_failure}")
    notes = [
        "",
        f"Shape cache: {info.hits} template hits, {info.general} general-path runs,"
        f" {info.compiled} shapes compiled, {info.uncompilable} uncompilable,"
        f" {info.shapes}/{info.max_shapes} cached.",
        "Every fast-path signature was checked equal to the general path's before timing.",
        "vc-js verifyCredential also checks the data model and dates; verify_proof checks the"
        " proof only (both resolve did:key in-process).",
    ]
    raw_sign, raw_verify = raw_ed25519(0.5 if quick else 2.0)
    return Run(rows, header, notes, node_failure, raw_sign, raw_verify)


def measure(*, quick: bool) -> list[report.Row]:
    """The signing rows of `make bench`: rates are loop throughput (operations over the total
    time, pauses included), for us and for Node alike."""
    cpu = pin_to_cpu(None)
    interop_dir = Path(os.environ.get("MESHE_INTEROP_DIR", DEFAULT_INTEROP_DIR)).resolve()
    n = 30 if quick else 300
    run = collect(quick=quick, n=n, warmup=5 if quick else 30, cpu=cpu, interop_dir=interop_dir)
    found = {(row.document, row.operation, row.path): row for row in run.rows}
    failure = f"Node reference not measured: {run.node_failure}" if run.node_failure else ""

    def loop(figures: Figures | None) -> float | None:
        return None if figures is None else figures.loop_ops_per_s

    rows = []
    for operation, path, label, goal in (
        ("sign", "fast", "sign, portal issuing (shape template)", SIGN_TARGET),
        ("sign", "batch", "sign, bulk (proof config hashed once)", SIGN_TARGET),
        ("verify", "general", "verify, general path (pyld)", VERIFY_GENERAL_TARGET),
        ("verify", "fast", "verify, shape already seen", VERIFY_SEEN_SHAPE_TARGET),
    ):
        row = found[(REALISTIC, operation, path)]
        basic = found[(BASIC, operation, path)]
        raw = run.raw_sign_per_s if operation == "sign" else run.raw_verify_per_s
        rows += [
            report.Row(
                f"{label}, realistic 7.9 KB",
                row.ours.loop_ops_per_s,
                "/s",
                reference_name=f"vc-js bench.mjs {operation} (OB3 basic ex.)",
                reference=loop(row.node_reference),
                goal_ratio=goal,
                note=failure,
            ),
            report.Row(
                "  … same document in vc-js",
                row.ours.loop_ops_per_s,
                "/s",
                reference_name=f"vc-js {operation}, realistic credential",
                reference=loop(row.node_same_document),
                goal_ratio=goal,
            ),
            report.Row(
                "  … OB3 basic example, as bench.mjs",
                basic.ours.loop_ops_per_s,
                "/s",
                reference_name=f"vc-js bench.mjs {operation} (OB3 basic ex.)",
                reference=loop(basic.node_reference),
                goal_ratio=goal,
            ),
            report.Row(
                "  … against the crypto alone",
                row.ours.loop_ops_per_s,
                "/s",
                reference_name=f"raw Ed25519 {operation} (cryptography)",
                reference=raw,
            ),
        ]
    return rows


if __name__ == "__main__":
    sys.exit(main())
