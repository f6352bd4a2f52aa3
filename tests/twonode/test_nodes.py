"""Two real nodes on loopback: what works between them today, and the harness's own tools."""

import json
import signal
import time

import pytest

from tests.conftest import wait_for
from tests.twonode.faults import FaultProxy, Mode
from tests.twonode.nodes import MANIFEST_PATH, Certificates, Node, http_request

WHO_AM_I = """
from django.conf import settings
from institutions.models import Institution

result = {
    "slugs": sorted(Institution.objects.values_list("slug", flat=True)),
    "database": str(settings.DATABASES["default"]["NAME"]),
    "broker": settings.CELERY_BROKER_URL,
    "queue": getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}).get("data_folder_in", ""),
}
"""


def verify_on(node: Node, document: dict[str, object]) -> dict[str, object]:
    response = node.request(
        "/api/v1/verify",
        method="POST",
        body=json.dumps(document).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 200, response
    return dict(response.json())


def check(verdict: dict[str, object], name: str) -> dict[str, object]:
    checks = verdict["checks"]
    assert isinstance(checks, list)
    return next(c for c in checks if c["check"] == name)


def mails_to(node: Node, address: str) -> int:
    folder = node.var_dir / "mail"
    if not folder.exists():
        return 0
    return sum(address in path.read_text(errors="replace") for path in folder.iterdir())


def test_each_node_has_its_own_database_and_broker_and_lists_only_its_own_institution(
    node_a, node_b
):
    a, b = node_a.run(WHO_AM_I), node_b.run(WHO_AM_I)
    assert a["slugs"] == ["uni-a"]
    assert b["slugs"] == ["uni-b"]
    assert a["database"] != b["database"]
    assert (a["broker"], a["queue"]) != (b["broker"], b["queue"])
    for node, slug in ((node_a, "uni-a"), (node_b, "uni-b")):
        manifest = node.manifest()
        assert manifest["node"] == node.base_url
        assert [i["slug"] for i in manifest["institutions"]] == [slug]
        assert manifest["institutions"][0]["did"] == node.institutions[slug]


def test_node_a_resolves_node_b_did_document_over_https(node_a, node_b, proxy_b):
    did_b = node_b.institutions["uni-b"]
    assert did_b == f"did:web:127.0.0.1%3A{node_b.port}:institutions:uni-b"
    document = node_a.run(
        """
        from credentials.issuing.verifier import node_dependencies

        result = node_dependencies()["resolver"].resolve(did)
        """,
        did=did_b,
    )
    assert document["id"] == did_b
    assert document["assertionMethod"]
    # Fetched from B over the network, not found in A's own database.
    assert proxy_b.count("/institutions/uni-b/did.json", status=200) == 1


def test_a_credential_issued_on_a_verifies_on_b_until_a_revokes_it(node_a, node_b):
    specification = node_a.publish_specification("uni-a", title="Open Data for Policy")
    credential = node_a.issue_credential(specification, holder_email="grace@example.org")

    verdict = verify_on(node_b, credential["document"])
    assert verdict["verified"] is True, verdict
    assert check(verdict, "issuer_key")["ok"] is True
    assert check(verdict, "status")["ok"] is True

    assert node_a.revoke_credential(credential["public_id"]) == "revoked"
    verdict = verify_on(node_b, credential["document"])
    assert verdict["verified"] is False
    assert check(verdict, "status")["ok"] is False
    assert "revoked" in json.dumps(verdict["errors"]).lower(), verdict


RESOLVE_WITHOUT_CACHE = """
from credentials.standards.did_resolution import DidResolver, ResolutionError, fetch_json_https

resolver = DidResolver(fetch=lambda url: fetch_json_https(url, allow_insecure_loopback=True))
try:
    result = resolver.resolve(did)["id"]
except ResolutionError as exc:
    result = exc.reason.value
"""


def test_while_b_answers_500_a_cannot_resolve_its_did_and_then_can_again(node_a, node_b, proxy_b):
    did_b = node_b.institutions["uni-b"]
    proxy_b.mode = Mode.ERROR_500
    assert node_a.run(RESOLVE_WITHOUT_CACHE, did=did_b) == "http-error"
    proxy_b.pass_through()
    assert node_a.run(RESOLVE_WITHOUT_CACHE, did=did_b) == did_b
    did_path = "/institutions/uni-b/did.json"
    assert proxy_b.counts() == {did_path: 2}
    assert proxy_b.count(did_path, status=500) == proxy_b.count(did_path, status=200) == 1


def test_the_proxy_forwards_bodies_and_answers_400_drops_connections_and_holds_requests(
    node_b, proxy_b, loopback_certificates: Certificates
):
    posted = node_b.request(
        "/api/v1/verify",
        method="POST",
        body=b'{"not": "a credential"}',
        headers={"Content-Type": "application/json"},
    )
    assert posted.status == 200
    assert posted.json()["verified"] is False

    proxy_b.mode = Mode.ERROR_400
    refused = node_b.request(MANIFEST_PATH)
    assert refused.status == 400
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["reason"] == "invalid-message"

    proxy_b.mode = Mode.DROP
    with pytest.raises(OSError):
        node_b.request(MANIFEST_PATH)

    proxy_b.hold(0.5)
    started = time.monotonic()
    assert node_b.request(MANIFEST_PATH).status == 200
    assert time.monotonic() - started >= 0.5

    assert [(seen.path, seen.mode, seen.status) for seen in proxy_b.seen] == [
        ("/api/v1/verify", Mode.PASS, 200),
        (MANIFEST_PATH, Mode.ERROR_400, 400),
        (MANIFEST_PATH, Mode.DROP, None),
        (MANIFEST_PATH, Mode.HOLD, 200),
    ]


def test_a_proxy_of_its_own_can_stand_in_front_of_any_node(
    node_a, loopback_certificates: Certificates
):
    with FaultProxy(node_a.web_url, certificates=loopback_certificates) as proxy:
        proxy.mode = Mode.ERROR_500
        failed = http_request(proxy.url(MANIFEST_PATH), certificates=loopback_certificates)
        proxy.pass_through()
        answer = http_request(proxy.url(MANIFEST_PATH), certificates=loopback_certificates)
    assert failed.status == 500
    assert answer.status == 200
    assert answer.json()["node"] == node_a.base_url
    assert proxy.counts() == {MANIFEST_PATH: 2}


def test_node_b_down_is_a_502_at_its_address_and_comes_back(node_b, proxy_b):
    node_b.stop_web()
    with pytest.raises(ConnectionRefusedError):
        http_request(node_b.web_url + MANIFEST_PATH, certificates=node_b.certificates)
    assert node_b.request(MANIFEST_PATH).status == 502
    node_b.start_web()
    assert node_b.manifest()["node"] == node_b.base_url
    assert [seen.status for seen in proxy_b.seen] == [502, 200]


def test_a_node_worker_runs_its_own_queue_and_queued_work_survives_a_killed_worker(node_a, node_b):
    specification = node_a.publish_specification("uni-a", title="Statistics in Practice")
    node_a.issue_credential(specification, holder_email="first@example.org")
    assert wait_for(lambda: mails_to(node_a, "first@example.org") == 1, timeout=30)

    assert node_a.kill_worker(signal.SIGKILL) == -signal.SIGKILL
    node_a.issue_credential(specification, holder_email="second@example.org")
    time.sleep(1)
    assert mails_to(node_a, "second@example.org") == 0

    node_a.restore()
    assert wait_for(lambda: mails_to(node_a, "second@example.org") == 1, timeout=30)
    assert mails_to(node_b, "first@example.org") == mails_to(node_b, "second@example.org") == 0
