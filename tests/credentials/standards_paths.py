"""Where the standards test data lives: tests/standards in this repository (see its README)."""

import json
from pathlib import Path
from typing import Any

STANDARDS_DIR = Path(__file__).resolve().parents[1] / "standards"
W3C_EDDSA_VECTORS = STANDARDS_DIR / "vectors" / "vc-di-eddsa"
OB3_IMPL_VECTOR = STANDARDS_DIR / "ob3" / "impl-test-vector"
# MESHE's own vc-js harness (installed by `make interop` in var/interop) and its fixtures.
VCJS_DIR = Path(__file__).resolve().parents[1] / "vcjs"


def read_json(path: Path) -> Any:
    """Return the parsed JSON of a standards file."""
    return json.loads(path.read_text(encoding="utf-8"))
