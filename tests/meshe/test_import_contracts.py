"""The layers of docs/architecture.md hold, and import-linter (pyproject.toml's contracts) would
catch the next import that breaks them."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("meshe", "accounts", "institutions", "credentials", "exchange", "learners")
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports over the packages in `tree`, with the project's contracts."""
    return subprocess.run(
        [LINT_IMPORTS, str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def copy_of_the_code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("code")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tree / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.json", "*.ttf", "*.jsonld", "*.mo"),
        )
    return tree


def test_the_code_keeps_every_contract(copy_of_the_code):
    result = lint_imports(copy_of_the_code)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "source", "broken"),
    [
        (
            "exchange/_sideways.py",
            "import learners.models\n",
            "exchange is not allowed to import learners",
        ),
        (
            "learners/_sideways.py",
            "import exchange.selectors\n",
            "learners is not allowed to import exchange",
        ),
        (
            "institutions/_upward.py",
            "from credentials.issuing import services\n",
            "institutions is not allowed to import credentials",
        ),
        (
            "meshe/errors.py",
            "import accounts.models\n",
            "meshe.errors is not allowed to import accounts",
        ),
        (
            "credentials/standards/_django.py",
            "from django.db import models\n",
            "The standards core imports no Django and nothing of MESHE outside itself BROKEN",
        ),
        ("meshe/_unplaced.py", "", "meshe._unplaced"),
        (
            "credentials/issuing/_upward.py",
            "from credentials.staff import views\n",
            "credentials.issuing is not allowed to import credentials.staff",
        ),
    ],
)
def test_an_import_against_the_layers_breaks_a_contract(copy_of_the_code, module, source, broken):
    changed = copy_of_the_code / module
    before = changed.read_text() if changed.exists() else None
    changed.write_text((before or "") + source)
    try:
        result = lint_imports(copy_of_the_code)
    finally:
        if before is None:
            changed.unlink()
        else:
            changed.write_text(before)
    assert result.returncode == 1
    assert broken in result.stdout
