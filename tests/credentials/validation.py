"""Checking a built document against the standards' own rules: 1EdTech's JSON Schema for Open
Badges 3.0 and the Commission's SHACL shapes for the European Digital Credential."""

import functools
from datetime import datetime
from pathlib import Path

import jsonschema
import rdflib
from pyshacl import validate

from credentials.standards import signing
from tests.credentials.standards_paths import STANDARDS_DIR, read_json

SCHEMA = STANDARDS_DIR / "ob3" / "schema" / "achievementcredential.json"
ENDORSEMENT_SCHEMA = STANDARDS_DIR / "ob3" / "schema" / "endorsementcredential.json"
EDC_DIR = STANDARDS_DIR / "edc"


def schema_validator(path: Path = SCHEMA) -> jsonschema.Draft201909Validator:
    """1EdTech's schema, with date-time checked (jsonschema skips it without rfc3339-validator)."""
    schema = read_json(path)
    format_checker = jsonschema.FormatChecker()

    @format_checker.checks("date-time", raises=ValueError)
    def is_date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parsed = datetime.fromisoformat(value)
        return "T" in value and parsed.tzinfo is not None

    jsonschema.Draft201909Validator.check_schema(schema)
    # Every $ref in this schema points inside it ("#/$defs/…"); nothing is fetched.
    return jsonschema.Draft201909Validator(schema, format_checker=format_checker)


def schema_errors(document: dict, schema: Path = SCHEMA) -> list[str]:
    return sorted(
        f"{error.json_path}: {error.message}"
        for error in schema_validator(schema).iter_errors(document)
    )


@functools.cache
def shapes() -> rdflib.Graph:
    # edc-generic-full owl:imports edc-generic-no-cv; both are loaded here so nothing is fetched.
    graph = rdflib.Graph()
    for name in ("EDC-generic-no-cv.ttl", "EDC-generic-full.ttl"):
        graph.parse(EDC_DIR / "shacl" / name, format="turtle")
    return graph


def shacl_report(document: dict) -> tuple[bool, str]:
    # canonicalize expands with the bundled contexts only and refuses undefined terms, so the
    # data graph holds every statement the JSON makes.
    # An EDC has no named graph (no embedded proof), so its N-Quads are N-Triples.
    data = rdflib.Graph()
    data.parse(data=signing.canonicalize(document), format="nt")
    # No ontology and no inference, as the Commission's validator runs these shapes: RDFS
    # inference over ELM.ttl's domains would type every Organisation as a Person too, and then
    # even the official sealed sample fails.
    conforms, _, text = validate(
        data, shacl_graph=shapes(), inference="none", allow_warnings=True, do_owl_imports=False
    )
    return conforms, text


# The Learning Opportunity and Qualification shapes, for offers published as ELM (elm_offer).
# LOQ-constraints-mdr.ttl owl:imports LOQ-constraints.ttl (under an https address that names
# nothing) and adds the controlled-vocabulary rules; both are loaded, nothing is fetched.
LOQ_SHAPES: tuple[str, ...] = ("LOQ-constraints.ttl",)
LOQ_MDR_SHAPES: tuple[str, ...] = ("LOQ-constraints.ttl", "LOQ-constraints-mdr.ttl")


# The LOQ shapes check URLs with Java regular expressions, which Python's re (pyshacl's) does
# not read: an inline flag after "^", and Java's character-class union "[a[b]]" with \p{…}
# classes. Each Java piece becomes its Python equivalent; test_builders_elm_offer proves that
# every pattern compiles afterwards and that a bad URL is still refused.
JAVA_TO_PYTHON_REGEX: dict[str, str] = {
    "^(?i)": "(?i)^",
    r"\[[[A-Fa-f0-9]\:\.]*[%[\p{L}\p{Nl}\p{Nd}]]*\]": r"\[[A-Fa-f0-9:.]*(?:%|[^\W_])*\]",
}


def python_pattern(pattern: str) -> str:
    for java, python in JAVA_TO_PYTHON_REGEX.items():
        pattern = pattern.replace(java, python)
    return pattern


@functools.cache
def loq_shapes(names: tuple[str, ...] = LOQ_SHAPES, *, all_active: bool = False) -> rdflib.Graph:
    """The LOQ shapes as pyshacl can run them; all_active switches on the shapes the
    Commission ships deactivated (LearningAchievementSpecificationShape, in 1.1.0)."""
    graph = rdflib.Graph()
    for name in names:
        graph.parse(EDC_DIR / "shacl" / name, format="turtle")
    if all_active:
        graph.remove((None, rdflib.SH.deactivated, None))
    sh_pattern = rdflib.SH.pattern
    for subject, _, value in list(graph.triples((None, sh_pattern, None))):
        graph.remove((subject, sh_pattern, value))
        graph.add((subject, sh_pattern, rdflib.Literal(python_pattern(str(value)))))
    return graph


def loq_report(
    document: dict, *, shapes: tuple[str, ...] = LOQ_SHAPES, all_active: bool = False
) -> tuple[bool, str]:
    """Validate an ELM LearningOpportunity against the LOQ shapes, as shacl_report does an EDC."""
    data = rdflib.Graph()
    data.parse(data=signing.canonicalize(document), format="nt")
    conforms, _, text = validate(
        data,
        shacl_graph=loq_shapes(shapes, all_active=all_active),
        inference="none",
        allow_warnings=True,
        do_owl_imports=False,
    )
    return conforms, text


def loq_violations(
    document: dict, *, shapes: tuple[str, ...] = LOQ_SHAPES, all_active: bool = False
) -> set[tuple[str, str]]:
    """The (result path, value node) of every violation the LOQ shapes find in a document."""
    data = rdflib.Graph()
    data.parse(data=signing.canonicalize(document), format="nt")
    _, results, _ = validate(
        data,
        shacl_graph=loq_shapes(shapes, all_active=all_active),
        inference="none",
        allow_warnings=True,
        do_owl_imports=False,
    )
    found = set()
    # Top-level results only: those of sh:node carry the nested ones as sh:detail.
    for result in results.objects(None, rdflib.SH.result):
        found.add(
            (
                str(results.value(result, rdflib.SH.resultPath)),
                str(results.value(result, rdflib.SH.value)),
            )
        )
    return found
