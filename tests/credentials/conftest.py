import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.credentials.standards_paths import STANDARDS_DIR


@dataclass(frozen=True)
class Interop:
    """The independent vc-js signer and verifier (../shared/interop), installed by make test."""

    directory: Path
    node: str

    def run(self, script: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.node, str(self.directory / script), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "STANDARDS_DIR": str(STANDARDS_DIR)},
        )


@pytest.fixture(scope="session")
def interop() -> Interop:
    directory = os.environ.get("MESHE_INTEROP_DIR")
    if not directory:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must check against vc-js: set MESHE_INTEROP_DIR (make test does)")
        pytest.skip("MESHE_INTEROP_DIR is not set: no vc-js interop install to check against")
    path = Path(directory)
    if not (path / "verify.mjs").is_file() or not (path / "node_modules").is_dir():
        pytest.fail(
            f"MESHE_INTEROP_DIR={directory} is not a copy of shared/interop with `npm ci` run in it"
        )
    node = shutil.which("node")
    if node is None:
        pytest.fail("MESHE_INTEROP_DIR is set but `node` is not on PATH")
    return Interop(directory=path, node=node)
