"""Checking a built document against the standards' own rules: 1EdTech's JSON Schema for Open
Badges 3.0 and the Commission's SHACL shapes for the European Digital Credential."""

import functools
from datetime import datetime

import jsonschema
import rdflib
from pyshacl import validate

from credentials.standards import signing
from tests.credentials.standards_paths import STANDARDS_DIR, read_json

SCHEMA = STANDARDS_DIR / "ob3" / "schema" / "achievementcredential.json"
EDC_DIR = STANDARDS_DIR / "edc"


def schema_validator() -> jsonschema.Draft201909Validator:
    """1EdTech's schema, with date-time checked (jsonschema skips it without rfc3339-validator)."""
    schema = read_json(SCHEMA)
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


def schema_errors(document: dict) -> list[str]:
    return sorted(
        f"{error.json_path}: {error.message}" for error in schema_validator().iter_errors(document)
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
