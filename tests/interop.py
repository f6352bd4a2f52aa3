"""The independent vc-js stack in ../shared/interop, which the `interop` fixture (tests/conftest.py)
finds through MESHE_INTEROP_DIR."""

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.credentials.standards_paths import STANDARDS_DIR


@dataclass(frozen=True)
class Interop:
    """The independent vc-js signer and verifier (../shared/interop), installed by make test;
    the standards, wallet and browser tests check against it."""

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
