import hashlib
import json
import re
import shutil
import socket
from pathlib import Path

import pytest
from cachetools import LRUCache
from pyld import jsonld

from credentials.standards import signing
from credentials.standards.jsonld import loader
from credentials.standards.jsonld.loader import (
    CONTEXT_SHA256,
    CONTEXTS_DIR,
    BundledContextsTampered,
    ContextNotBundled,
    bundled_index,
    check_bundled_contexts,
    load_document,
)
from tests.credentials.standards_paths import (
    OB3_IMPL_VECTOR,
    STANDARDS_DIR,
    W3C_EDDSA_VECTORS,
    read_json,
)

EDC_AP_URL = "http://data.europa.eu/snb/model/context/edc-ap"

# The provenance of each bundled context: file, canonical URL(s), repository, path, SHA-256 of
# the copied file, and the Recommendation that prints that digest, if one does.
CONTEXTS_README = CONTEXTS_DIR.parent / "README.md"
README_ROW = re.compile(
    r"^\| `([^`]+)` \| (.+?) \| (\S+) \| `([^`]+)` \| `([0-9a-f]{64})` \| (.*?) ?\|$", re.MULTILINE
)


def readme_rows() -> dict[str, tuple[list[str], str, str]]:
    """Return file name -> (canonical URLs, SHA-256, published digest note) from the README."""
    text = CONTEXTS_README.read_text(encoding="utf-8")
    return {
        name: (re.findall(r"`([^`]+)`", urls), digest, published)
        for name, urls, _repository, _path, digest, published in README_ROW.findall(text)
    }


# Every JSON-LD document of the published vectors, canonicalised in the no-network test.
VECTOR_DOCUMENTS = [
    W3C_EDDSA_VECTORS / "unsigned.json",
    W3C_EDDSA_VECTORS / "employmentAuth.json",
    W3C_EDDSA_VECTORS / "eddsa-rdfc-2022" / "proofConfigDataInt.json",
    W3C_EDDSA_VECTORS / "eddsa-rdfc-2022" / "employ" / "proofConfigDataInt.json",
    OB3_IMPL_VECTOR / "credential.json",
]


@pytest.fixture
def empty_context_cache(monkeypatch):
    """Gives pyld a fresh process-wide resolved-context cache, so contexts must be loaded again."""
    monkeypatch.setattr(jsonld, "_resolved_context_cache", LRUCache(maxsize=100))


@pytest.fixture
def loader_calls(monkeypatch):
    """Records every URL the signing module asks the loader for."""
    calls = []

    def recording_loader(url, options=None):
        calls.append(url)
        return load_document(url, options)

    monkeypatch.setattr(signing, "load_document", recording_loader)
    return calls


def test_every_bundled_file_matches_its_pinned_sha256():
    check_bundled_contexts()


def test_a_changed_byte_in_a_bundled_context_is_detected(tmp_path, monkeypatch):
    copy = tmp_path / "contexts"
    shutil.copytree(CONTEXTS_DIR, copy)
    target = copy / "credentials-v2.jsonld"
    target.write_bytes(
        target.read_bytes().replace(b"VerifiableCredential", b"VerifiableCredentiaL", 1)
    )
    monkeypatch.setattr(loader, "CONTEXTS_DIR", copy)
    with pytest.raises(BundledContextsTampered, match=r"credentials-v2\.jsonld has SHA-256"):
        check_bundled_contexts()


def test_an_unpinned_file_among_the_contexts_is_detected(tmp_path, monkeypatch):
    copy = tmp_path / "contexts"
    shutil.copytree(CONTEXTS_DIR, copy)
    (copy / "extensions.json").write_text("{}")
    monkeypatch.setattr(loader, "CONTEXTS_DIR", copy)
    with pytest.raises(BundledContextsTampered, match=r"extensions\.json is not pinned"):
        check_bundled_contexts()


def test_the_pins_agree_with_the_digests_published_in_the_w3c_recommendations():
    published = {
        name: digest
        for name, (_urls, digest, note) in readme_rows().items()
        if "Recommendation" in note
    }
    assert set(published) == {
        "credentials-v2.jsonld",
        "credentials-status-v1.jsonld",
        "data-integrity-v2.jsonld",
        "multikey-v1.jsonld",
        "jwk-v1.jsonld",
        "cid-v1.jsonld",
    }
    for name, digest in published.items():
        assert CONTEXT_SHA256[name] == digest, name


def test_bundled_contexts_have_the_digests_of_the_copies_their_readme_records():
    rows = readme_rows()
    bundled = {path.name for path in CONTEXTS_DIR.iterdir()} - {"index.json"}
    assert set(rows) == bundled
    for name, (_urls, digest, _note) in rows.items():
        assert hashlib.sha256((CONTEXTS_DIR / name).read_bytes()).hexdigest() == digest, name


def test_the_readme_gives_the_source_of_every_url_of_the_shipped_index():
    recorded = {url: name for name, (urls, _digest, _note) in readme_rows().items() for url in urls}
    assert dict(bundled_index()) == recorded
    assert recorded[EDC_AP_URL] == "edc-ap-context.jsonld"


def test_every_indexed_url_loads_as_a_static_remote_document():
    for url in bundled_index():
        remote = load_document(url)
        assert remote["documentUrl"] == url
        assert remote["contextUrl"] is None
        assert remote["tag"] == "static"
        assert "@context" in remote["document"]


def test_each_load_returns_an_independent_copy_of_the_context():
    first = load_document("https://www.w3.org/ns/credentials/v2")
    first["document"]["@context"]["VerifiableCredential"] = "mutated"
    second = load_document("https://www.w3.org/ns/credentials/v2")
    assert second["document"]["@context"]["VerifiableCredential"] != "mutated"


def test_each_bundled_file_is_read_from_disk_only_once(monkeypatch):
    reads = []
    original = Path.read_bytes

    def counting_read_bytes(path):
        reads.append(path.name)
        return original(path)

    bundled_index()
    loader._parsed.cache_clear()
    monkeypatch.setattr(Path, "read_bytes", counting_read_bytes)
    for _ in range(3):
        load_document("https://w3id.org/security/data-integrity/v2")
    assert reads == ["data-integrity-v2.jsonld"]


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/ctx",
        "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
        # An http variant of an https context, and the reverse.
        "http://www.w3.org/ns/credentials/v2",
        "https://data.europa.eu/snb/model/context/edc-ap",
        "https://www.w3.org/ns/credentials/v2/",
        "HTTPS://WWW.W3.ORG/ns/credentials/v2",
        f"file://{CONTEXTS_DIR / 'credentials-v2.jsonld'}",
        "file:///etc/passwd",
        "credentials-v2.jsonld",
        "data:application/json,{}",
    ],
)
def test_the_loader_refuses_any_url_not_in_the_index_and_names_it(url):
    with pytest.raises(ContextNotBundled) as refusal:
        load_document(url)
    assert refusal.value.url == url
    assert url in str(refusal.value)


def test_an_unknown_context_fails_canonicalisation_with_a_named_reason():
    document = {**read_json(W3C_EDDSA_VECTORS / "unsigned.json")}
    document["@context"] = [*document["@context"], "https://example.com/ctx"]
    with pytest.raises(signing.CanonicalizationError) as failure:
        signing.canonicalize(document)
    assert failure.value.failure is signing.Failure.CONTEXT_NOT_BUNDLED
    assert "https://example.com/ctx" in failure.value.detail


def test_canonicalising_every_vector_opens_no_socket(
    monkeypatch, empty_context_cache, loader_calls
):
    def refuse(*args, **kwargs):
        raise AssertionError("a socket connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    for path in VECTOR_DOCUMENTS:
        assert signing.canonicalize(read_json(path)).endswith(" .\n")
    # The cache was empty, so every context really came through the bundled loader.
    assert set(loader_calls) >= {
        "https://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/ns/credentials/examples/v2",
        "https://w3id.org/citizenship/v4rc1",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    }


def test_pyld_reuses_static_contexts_across_calls(empty_context_cache, loader_calls):
    document = read_json(OB3_IMPL_VECTOR / "credential.json")
    signing.canonicalize(document)
    assert len(loader_calls) >= 2
    loader_calls.clear()
    signing.canonicalize(document)
    assert loader_calls == []


def test_pyld_reloads_contexts_on_every_call_without_the_static_tag(
    monkeypatch, empty_context_cache
):
    calls = []

    def untagged_loader(url, options=None):
        calls.append(url)
        remote = load_document(url, options)
        del remote["tag"]
        return remote

    monkeypatch.setattr(signing, "load_document", untagged_loader)
    document = read_json(OB3_IMPL_VECTOR / "credential.json")
    signing.canonicalize(document)
    first_call = list(calls)
    calls.clear()
    signing.canonicalize(document)
    assert calls == first_call != []


def test_the_edc_context_is_served_and_processed_by_pyld():
    unsigned = STANDARDS_DIR / "edc" / "examples" / "elm-Sample-MC-Annex1-unsigned.jsonld"
    document = json.loads(unsigned.read_text(encoding="utf-8"))
    expanded = jsonld.expand(document, {"documentLoader": load_document, "base": None})
    assert expanded
