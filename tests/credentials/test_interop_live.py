"""The portal's credentials checked by vc-js, with the portal serving DIDs and status lists."""

import json

import pytest

from credentials.issuing import services
from tests.factories import issue

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def node_base(live_server, settings) -> str:
    """Makes the live server the node's public address, so DIDs and lists resolve there."""
    settings.MESHE_BASE_URL = live_server.url
    return live_server.url


def vc_js_verify(interop, tmp_path, document: str, base: str) -> tuple[int, dict]:
    path = tmp_path / "credential.json"
    path.write_text(document)
    result = interop.run("verify.mjs", str(path), "--map", f"{base}/status/={base}/status/")
    return result.returncode, json.loads(result.stdout)


def test_vc_js_verifies_an_issued_credential_and_sees_suspension_and_revocation(
    interop, tmp_path, node_base
):
    credential = issue()
    code, report = vc_js_verify(interop, tmp_path, credential.document, node_base)
    assert code == 0, report
    assert report["verified"] is True
    assert report["issuer"] == credential.institution.did

    services.credential_suspend(credential=credential, actor=None)
    code, report = vc_js_verify(interop, tmp_path, credential.document, node_base)
    assert code == 1
    assert report["verified"] is False
    assert "suspension" in json.dumps(report).lower()

    services.credential_reinstate(credential=credential, actor=None)
    code, report = vc_js_verify(interop, tmp_path, credential.document, node_base)
    assert code == 0, report

    services.credential_revoke(credential=credential, actor=None)
    code, report = vc_js_verify(interop, tmp_path, credential.document, node_base)
    assert code == 1
    assert "revocation" in json.dumps(report).lower()


def test_vc_js_verifies_a_status_list_credential_served_by_the_portal(interop, tmp_path, node_base):
    credential = issue()
    path = tmp_path / "list.json"
    path.write_text(credential.revocation_list.document)
    result = interop.run("verify.mjs", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
