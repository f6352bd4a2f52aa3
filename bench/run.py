"""`make bench`: every benchmark, each in a fresh process, as one table of figures, references
measured in the same run, ratios and goals.

    python -m bench.run [--quick] [--only signing pages ...]

Each module in MODULES is a file bench/<name>.py with `measure(*, quick: bool) -> list[Row]`
(see bench/report.py). A module that is not there yet (bench/exchange.py) prints as "not yet
measured"; one that fails prints its last error line. The table is also written, in Markdown
and JSON, to var/bench/ for docs/performance.md.
"""

import argparse
import importlib
import json
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

from bench import harness, report  # noqa: E402

# (module, section title, what to print when the module is missing)
MODULES = (
    ("signing", "sign and verify, one core"),
    ("bulk_issue", "bulk issue"),
    ("verify_load", "public verification under load"),
    ("pages", "pages at scale"),
    ("scale", "cost as data grows: 1,000,000 issued credentials"),
    ("certificate", "PDF certificate"),
    ("exchange", "exchange between two nodes"),
    ("soak", "soak under mixed load, hostile traffic in the second half"),
)
# Per module; generous, since the machine is shared. Seeding a million credentials in each
# variant takes longer than any other module.
TIMEOUT_SECONDS = 1800
TIMEOUTS = {"scale": 7200}
OUTPUT = REPOSITORY / "var" / "bench"


def child(name: str, *, quick: bool, out: Path) -> None:
    """Run one module's measure() in this process and write its rows to `out`."""
    module = importlib.import_module(f"bench.{name}")
    rows = module.measure(quick=quick)
    out.write_text(report.dump(rows), "utf-8")


def run_module(name: str, *, quick: bool) -> list[report.Row]:
    out = OUTPUT / f"{name}.json"
    out.unlink(missing_ok=True)
    command = [sys.executable, "-m", "bench.run", "--child", name, "--out", str(out)]
    if quick:
        command.append("--quick")
    started = time.perf_counter()
    print(f"{name} …", file=sys.stderr, flush=True)
    try:
        finished = subprocess.run(
            command,
            cwd=REPOSITORY,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=TIMEOUTS.get(name, TIMEOUT_SECONDS),
            check=False,
        )
        errors = finished.stderr
        ok = finished.returncode == 0 and out.exists()
    except subprocess.TimeoutExpired as exc:
        errors = f"timed out after {exc.timeout:.0f} s"
        ok = False
    progress = [line for line in errors.splitlines() if line.startswith("  … ")]
    for line in progress:
        print(line, file=sys.stderr)
    print(f"{name}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    if ok:
        return report.load(out.read_text("utf-8"))
    tail = ([line for line in errors.splitlines() if line.strip()] or ["no output"])[-1]
    return [report.Row(f"{name}", None, "", note=f"FAILED: {tail}")]


def sections_of(results: list[tuple[str, list[report.Row]]]) -> list[tuple[str, list[report.Row]]]:
    """Memory rows, whichever module measured them, go to a section of their own."""
    memory: list[report.Row] = []
    sections = []
    for title, rows in results:
        kept = [row for row in rows if not row.name.startswith("RSS ")]
        memory += [row for row in rows if row.name.startswith("RSS ")]
        if kept:
            sections.append((title, kept))
    if memory:
        sections.append(("memory after repeated work", memory))
    return sections


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions: a smoke run")
    parser.add_argument("--only", nargs="+", choices=[name for name, _ in MODULES])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, quick=args.quick, out=args.out)
        return

    OUTPUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = [
        (title, run_module(name, quick=args.quick))
        for name, title in MODULES
        if not args.only or name in args.only
    ]
    sections = sections_of(results)
    variants = " and ".join(variant.label for variant in harness.services())
    heading = (
        f"MESHE bench, {'quick' if args.quick else 'full'} run,"
        f" {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.machine()},"
        f" {len(__import__('os').sched_getaffinity(0))} cores, Python {platform.python_version()};"
        f" services: {variants}; {time.perf_counter() - started:.0f} s"
    )
    print()
    print(heading)
    print(report.text_table(sections))
    (OUTPUT / "results.md").write_text(
        heading + "\n\n" + report.markdown_table(sections) + "\n", "utf-8"
    )
    (OUTPUT / "results.json").write_text(
        json.dumps(
            {
                "heading": heading,
                "sections": [[t, [r.to_json() for r in rows]] for t, rows in sections],
            },
            indent=1,
        ),
        "utf-8",
    )


if __name__ == "__main__":
    main()
