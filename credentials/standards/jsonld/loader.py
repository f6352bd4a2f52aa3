"""A strictly local JSON-LD document loader over the contexts bundled in credentials/standards/jsonld/contexts/."""

import copy
import functools
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

CONTEXTS_DIR: Final = Path(__file__).resolve().parent / "contexts"
INDEX_FILE: Final = "index.json"

# SHA-256 of every file in CONTEXTS_DIR. Where a W3C Recommendation publishes a digest for a
# context (credentials-v2, credentials-status-v1, data-integrity-v2, multikey-v1, jwk-v1, cid-v1),
# the value here is that digest. A changed context silently changes every signature over it.
CONTEXT_SHA256: Final[Mapping[str, str]] = MappingProxyType(
    {
        "cid-v1.jsonld": "ea216ecc1cb02cd39b693dba2250141e270ba0bf95890be107dd9a9e8e43de85",
        "citizenship-v4rc1.jsonld": "5038c7383afd7ab2158f1b997913a8f60978a0abcf96e0b0d08e29f146d2db1e",
        "credentials-examples-v2.jsonld": "57393fbc69d6efb9b9b5dc9cb6b9880b0944360abfe2eaf459c9e58cf2279d7c",
        "credentials-status-v1.jsonld": "fda5add353231e6a6884a46b12e6c75464281900cb348284d9c360f62381d9f7",
        "credentials-undefined-terms-v2.jsonld": "82dab514ba44eb18f5d1b0f638c5e140c6a556fbfb5089601bdc0fa5eb8b2581",
        "credentials-v1.jsonld": "ab4ddd9a531758807a79a5b450510d61ae8d147eab966cc9a200c07095b0cdcc",
        "credentials-v2.jsonld": "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734",
        "data-integrity-v1.jsonld": "b5d829bd09aa7c42abc6efa0c8ed7635313b5487f37ccfce3ecd149ca9418554",
        "data-integrity-v2.jsonld": "67f21e6e33a6c14e5ccfd2fc7865f7474fb71a04af7e94136cb399dfac8ae8f4",
        "did-v1.jsonld": "4f3eae5568c9c5f036a082088f9e192019ee06faa78973c87ff91d5421b88dad",
        "ed25519-2020-v1.jsonld": "3db5c19efb0047a6edfd3b36e24346a8a3caad369d749e3c2d69e862696403e5",
        "edc-ap-context.jsonld": "528f8a0e86dbbec7db2216c61806e6311feedac77a51d1a38b0a1d49e4c337fb",
        "index.json": "dcd6c389c38c8a74e64fd0e3a7675d5826d81473f7412c248d45edffd8fe577e",
        "jwk-v1.jsonld": "0f14b62f6071aafe00df265770ea0c7508e118247d79b7d861a406d2aa00bece",
        "multikey-v1.jsonld": "ba2c182de2d92f7e47184bcca8fcf0beaee6d3986c527bf664c195bbc7c58597",
        "ob-v3p0-context-3.0.1.json": "d582f3564282fb3b709136d28412e78e70b678b4dbc2f0221f67d84932748355",
        "ob-v3p0-context-3.0.2.json": "00666ad080ba407687ed1846b7f5e7495f5019042b202a727de47c48a1755c53",
        "ob-v3p0-context-3.0.3.json": "ef2fa9c7846dce233cc166b43639027278be4ee44f00bb1d45c75de2dd0cd761",
        "ob-v3p0-context.json": "b077fa134d909d92c1dcd1c153f2af1b244aeb415967fdc1467d7fc5dd48ac10",
        "openbadges-v2.jsonld": "3c0c25a0e581c64cbe632197377c4f334c6c0b95f0d90e3b74449781612b153d",
        "security-v1.jsonld": "abaf97e107d1925503c433dcaf3ffd2831697cacc1ed2a293e1bc8030d5bcb47",
        "security-v2.jsonld": "611bd81151d5efe53ec9aed78f5a813e577287bc9451ee26d6879b1b8b46bc3b",
        "status-list-2021-v1.jsonld": "6dd06a52bedb771e059c1083ba8ba7848dce22f6b4a8cfa0b98ba3fc188870e4",
    }
)


class ContextNotBundled(LookupError):
    """Raised for any URL (of any scheme) that is not a canonical URL in the bundled index."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"JSON-LD document {url!r} is not bundled; the local loader fetches nothing"
        )
        self.url = url


class BundledContextsTampered(Exception):
    """Raised when the bundled context files differ from their pinned SHA-256 digests."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("bundled JSON-LD contexts do not match their pins: " + "; ".join(problems))
        self.problems = problems


@functools.cache
def bundled_index() -> Mapping[str, str]:
    """Return the read-only mapping of canonical context URL to bundled file name."""
    index = json.loads((CONTEXTS_DIR / INDEX_FILE).read_bytes())
    return MappingProxyType(index)


def load_document(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return a pyld RemoteDocument for a bundled context URL; raises ContextNotBundled for any other."""
    file_name = bundled_index().get(url)
    if file_name is None:
        raise ContextNotBundled(url)
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        # pyld resolves nested context URLs in place, so it gets its own copy of the parsed file.
        "document": copy.deepcopy(_parsed(file_name)),
        # pyld 3.3 keeps a context in its process-wide resolved-context cache only when the
        # loader tags it "static"; untagged contexts are reloaded and reprocessed on every call.
        "tag": "static",
    }


def check_bundled_contexts() -> None:
    """Return quietly when every bundled file matches CONTEXT_SHA256; raises BundledContextsTampered."""
    problems = []
    present = {path.name for path in CONTEXTS_DIR.iterdir() if path.is_file()}
    for name in sorted(present - CONTEXT_SHA256.keys()):
        problems.append(f"{name} is not pinned")
    for name, expected in sorted(CONTEXT_SHA256.items()):
        if name not in present:
            problems.append(f"{name} is missing")
            continue
        actual = hashlib.sha256((CONTEXTS_DIR / name).read_bytes()).hexdigest()
        if actual != expected:
            problems.append(f"{name} has SHA-256 {actual}, pinned {expected}")
    for url, name in sorted(bundled_index().items()):
        if name == INDEX_FILE or name not in CONTEXT_SHA256:
            problems.append(f"index maps {url} to unpinned file {name}")
    if problems:
        raise BundledContextsTampered(problems)


@functools.cache
def _parsed(file_name: str) -> Any:
    """Return the parsed JSON of one bundled file, read from disk once per process."""
    return json.loads((CONTEXTS_DIR / file_name).read_bytes())
