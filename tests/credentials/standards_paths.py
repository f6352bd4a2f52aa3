"""Where the read-only standards data lives: ../shared/standards beside the repository."""

import json
from pathlib import Path
from typing import Any

# In CI the repository is cloned beside a read-only copy of shared/.
STANDARDS_DIR = Path(__file__).resolve().parents[3] / "shared" / "standards"
W3C_EDDSA_VECTORS = STANDARDS_DIR / "vectors" / "vc-di-eddsa"
OB3_IMPL_VECTOR = STANDARDS_DIR / "ob3" / "impl-test-vector"


def read_json(path: Path) -> Any:
    """Return the parsed JSON of a standards file."""
    return json.loads(path.read_text(encoding="utf-8"))
