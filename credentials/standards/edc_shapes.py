"""The Commission's `edc-generic-full` SHACL shapes, checked against an EDC when it is verified.

The shapes (bundled in `shacl/`) are parsed once per process; an EDC is expanded with the
bundled contexts only (signing.canonicalize refuses undefined terms, so the graph holds every
statement the JSON makes) and validated without inference, as the Commission's validator runs
these shapes. Measured on the Commission's sealed sample (113 KB): about 0.2 s after the first
check, which parses the shapes (0.4 s); the verifier's size cap bounds the document.
"""

import dataclasses
import functools
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from credentials.standards import signing

if TYPE_CHECKING:
    import rdflib

SHAPES_DIR: Final = Path(__file__).resolve().parent / "shacl"
SHAPE_FILES: Final = ("EDC-generic-no-cv.ttl", "EDC-generic-full.ttl")
SHAPES_NAME: Final = "edc-generic-full"
SHACL: Final = "http://www.w3.org/ns/shacl#"


@dataclasses.dataclass(frozen=True)
class ShapesReport:
    conforms: bool
    violations: int  # results of severity Violation


# rdflib and pyshacl take over a second to import: only a process that checks an EDC pays it.


@functools.cache
def shapes() -> "rdflib.Graph":
    import rdflib

    graph = rdflib.Graph()
    for name in SHAPE_FILES:
        graph.parse(SHAPES_DIR / name, format="turtle")
    return graph


def check(document: Mapping[str, Any]) -> ShapesReport:
    """Validate an (unsealed) EDC against edc-generic-full; raises signing.CanonicalizationError
    when it cannot be expanded with the bundled contexts or is over the canonicalisation budgets
    (JSON values, blank nodes, work), which bound this check as they bound every other."""
    import rdflib
    from pyshacl import validate

    data = rdflib.Graph()
    # An EDC carries no embedded proof, so its N-Quads are N-Triples.
    data.parse(data=signing.canonicalize(dict(document)), format="nt")
    conforms, report, _ = validate(
        data, shacl_graph=shapes(), inference="none", allow_warnings=True, do_owl_imports=False
    )
    violations = sum(
        1
        for _ in report.subjects(
            rdflib.URIRef(SHACL + "resultSeverity"), rdflib.URIRef(SHACL + "Violation")
        )
    )
    return ShapesReport(conforms=bool(conforms), violations=violations)
