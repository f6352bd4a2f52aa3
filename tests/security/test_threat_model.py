"""The threat model (docs/security.md) names, for each mitigation, the tests that prove it; these
tests keep the page from drifting: every named test exists, and every mitigation names one."""

import importlib
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
THREAT_MODEL = ROOT / "docs" / "security.md"

# tests/<path>.py::<test>, or tests/<path>.py::<Class>::<test>
REFERENCE = re.compile(r"\b(tests/[\w/]+\.py)((?:::\w+)+)")


def references(text: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(path, tuple(names.split("::")[1:])) for path, names in REFERENCE.findall(text)]


def mitigation_rows(text: str) -> list[str]:
    """The body rows of every table under "## Mitigations"."""
    section = text.split("\n## Mitigations\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if not line.startswith("|") or line.startswith("|---"):
            continue
        if line.split("|")[1].strip() == "threat":  # a table's header
            continue
        rows.append(line)
    return rows


def test_the_threat_model_names_tests():
    assert len(references(THREAT_MODEL.read_text())) >= 50


def test_every_mitigation_names_a_test_that_proves_it():
    rows = mitigation_rows(THREAT_MODEL.read_text())
    assert len(rows) >= 30
    unproved = [row.split("|")[1].strip() for row in rows if not references(row)]
    assert not unproved, f"mitigations without a test: {unproved}"


@pytest.mark.parametrize(
    ("path", "names"),
    sorted(set(references(THREAT_MODEL.read_text()))),
    ids=lambda value: "::".join(value) if isinstance(value, tuple) else value,
)
def test_every_named_test_exists(path, names):
    assert (ROOT / path).is_file(), f"{path} does not exist"
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    found: object = module
    for name in names:
        found = getattr(found, name, None)
        assert found is not None, f"{path}::{'::'.join(names)} does not exist"
    assert names[-1].startswith("test_") and inspect.isfunction(found), (
        f"{path}::{'::'.join(names)} is not a test function"
    )


def test_a_misspelt_reference_would_be_caught():
    bogus = "see `tests/security/test_threat_model.py::test_that_does_not_exist`"
    ((path, names),) = references(bogus)
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    assert not hasattr(module, names[0])
