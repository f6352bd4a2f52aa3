"""The standards test data in tests/standards is the copy its README and SHA256SUMS describe."""

import hashlib

from tests.credentials.standards_paths import STANDARDS_DIR

OWN_FILES = {"README.md", "SHA256SUMS"}


def recorded_digests() -> dict[str, str]:
    """Return path (relative to tests/standards) -> SHA-256, as `sha256sum` wrote them."""
    lines = (STANDARDS_DIR / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    return {path: digest for digest, path in (line.split("  ", 1) for line in lines)}


def test_every_standards_file_has_the_sha256_recorded_for_its_source_copy():
    present = {
        path.relative_to(STANDARDS_DIR).as_posix()
        for path in STANDARDS_DIR.rglob("*")
        if path.is_file() and path.name not in OWN_FILES
    }
    recorded = recorded_digests()
    assert present == set(recorded)
    for path, digest in recorded.items():
        assert hashlib.sha256((STANDARDS_DIR / path).read_bytes()).hexdigest() == digest, path
