"""MESHE's own vc-js harness (tests/vcjs: keygen.mjs, sign.mjs, verify.mjs), which `make interop`
installs in var/interop and the `interop` fixture (tests/conftest.py) finds through
MESHE_INTEROP_DIR."""

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

# The harness reads the JSON-LD contexts and the standards data of this repository.
REPOSITORY = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Interop:
    """An independent signer and verifier (digitalbazaar's vc-js), installed by make test;
    the standards, wallet and browser tests check against it."""

    directory: Path
    node: str

    def run(
        self, script: str, *args: str, loopback_ca: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Runs one harness script; `loopback_ca` makes its did:web and --map look-ups speak
        HTTPS to loopback hosts under that CA (the two-node tests' nodes)."""
        env = {**os.environ, "MESHE_REPOSITORY": str(REPOSITORY)}
        if loopback_ca is not None:
            env["MESHE_LOOPBACK_CA"] = str(loopback_ca)
        return subprocess.run(
            [self.node, str(self.directory / script), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=env,
        )
