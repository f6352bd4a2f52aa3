"""Type-ahead searches/s of credentials.catalogue.esco over the real ESCO skills index, on one core.

Run from the repository root, after `make esco-index`:

    python bench/esco_search.py [--index PATH] [--seconds S]

It loads the index once (and prints how long that took), then runs a mix of queries as a person
types them: two letters, a word, a phrase, a word from the middle of labels, a miss, accented
input and a pasted URI, each repeated for about S seconds, and prints queries/s and the mean
time per query for each and for the mix. Not part of the test suite.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
if str(REPOSITORY) not in sys.path:
    # Run as a script, Python puts bench/ on the path, not the repository.
    sys.path.insert(0, str(REPOSITORY))

from django.conf import settings  # noqa: E402

QUERIES = (
    "da",
    "data",
    "data analysis",
    "python",
    "manage",
    "team",
    "ysis",
    "analysis data",
    "crème brûlée",
    "zzzz",
    "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=REPOSITORY / "var/esco/skills.tsv.gz")
    parser.add_argument("--seconds", type=float, default=0.5, help="per query")
    args = parser.parse_args()
    # The module reads one setting; the rest of the project's settings are not needed.
    settings.configure(MESHE_ESCO_INDEX=args.index, USE_I18N=False)

    from credentials.catalogue import esco

    started = time.perf_counter()
    count = len(esco.search("a", limit=100_000))
    print(
        f"index: {args.index} ({count} skills match 'a'), loaded in {_ms(time.perf_counter() - started)}"
    )

    per_query = []
    for query in QUERIES:
        runs, elapsed = 0, 0.0
        started = time.perf_counter()
        while elapsed < args.seconds:
            found = esco.search(query, limit=20)
            runs += 1
            elapsed = time.perf_counter() - started
        per_query.append(elapsed / runs)
        top = found[0].label if found else "-"
        print(f"{query[:40]!r:44} {runs / elapsed:9.0f} q/s  {_ms(elapsed / runs):>9}  top: {top}")
    mean = statistics.fmean(per_query)
    print(f"{'mix (mean time per query)':44} {1 / mean:9.0f} q/s  {_ms(mean):>9}")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


if __name__ == "__main__":
    main()
