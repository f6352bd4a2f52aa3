"""Wallets that no one here wrote (tests/wallet/node: @openid4vc/openid4vci, a 1.0 client, and
@sphereon/oid4vci-client 0.20, one of the drafts' era) receive both formats from the running
portal; vc-js and @sd-jwt/sd-jwt-vc verify them.

Set MESHE_WALLET_DIR to a copy of tests/wallet/node in which `npm ci` has been run, and
MESHE_INTEROP_DIR as for the other interop tests (make test does both).
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.core import mail
from django.urls import reverse

from credentials.issuing import services
from credentials.models import WalletCredential
from credentials.standards import oid4vci
from credentials.wallet import issuance as wi
from tests.factories import UserFactory
from tests.learners.holding import held_credential
from tests.mail import pin_in

pytestmark = pytest.mark.django_db(transaction=True)

ELEVEN_ELEMENTS = {
    "name",
    "title",
    "issuerCountry",
    "awardingBody",
    "issuanceDate",
    "learningOutcomes",
    "notionalWorkload",
    "level",
    "typeOfAssessment",
    "formOfParticipation",
    "qualityAssurance",
}


@pytest.fixture(scope="session")
def wallet_node() -> Path:
    directory = os.environ.get("MESHE_WALLET_DIR")
    if not directory:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the Node test wallet: set MESHE_WALLET_DIR (make test does)")
        pytest.skip("MESHE_WALLET_DIR is not set: no installed Node test wallet")
    path = Path(directory)
    if not (path / "wallet.mjs").is_file() or not (path / "node_modules").is_dir():
        pytest.fail(f"MESHE_WALLET_DIR={directory} is not tests/wallet/node with `npm ci` run")
    if shutil.which("node") is None:
        pytest.fail("MESHE_WALLET_DIR is set but `node` is not on PATH")
    return path


def node(wallet_node: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [shutil.which("node") or "node", str(wallet_node / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=wallet_node,
    )


@pytest.fixture
def node_base(live_server, settings) -> str:
    settings.MESHE_BASE_URL = live_server.url
    return live_server.url


def offer_from_the_page(client, credential) -> tuple[str, str]:
    """The learner asks for an offer on the credential's page: the link shown there, and the PIN
    that arrives by e-mail."""
    page = client.post(
        reverse("wallet_issuance:offer_create", args=[credential.public_id]), follow=True
    )
    link = re.search(r'href="(openid-credential-offer://[^"]+)"', page.content.decode())
    assert link is not None
    offer_uri = link.group(1).replace("&amp;", "&")
    offer = json.loads(unquote(offer_uri.split("credential_offer=", 1)[1]))
    assert offer["credential_issuer"] == wi.credential_issuer_id(credential.institution)
    assert offer["credential_configuration_ids"] == [oid4vci.LDP_VC, oid4vci.SD_JWT]
    return offer_uri, pin_in(mail.outbox[-1])


def test_a_third_party_wallet_receives_both_formats_and_they_verify(
    wallet_node, interop, node_base, logged_in, tmp_path
):
    learner = UserFactory(email="ana@example.eu")
    credential = held_credential(learner, grade="8.5")
    offer_uri, pin = offer_from_the_page(logged_in(learner), credential)

    received = node(
        wallet_node,
        "wallet.mjs",
        "--offer",
        offer_uri,
        "--pin",
        pin,
        "--out",
        str(tmp_path),
        "--insecure",
        "true",
    )
    assert received.returncode == 0, received.stdout + received.stderr
    assert json.loads(received.stdout) == {"received": ["ldp_vc", "dc+sd-jwt"], "version": "V1"}
    wallet = json.loads((tmp_path / "wallet.json").read_text())
    stored = {row.format: row.document for row in WalletCredential.objects.all()}
    assert stored["dc+sd-jwt"] == wallet["credentials"]["dc+sd-jwt"]
    assert json.loads(stored["ldp_vc"]) == wallet["credentials"]["ldp_vc"]

    # ldp_vc: vc-js verifies proof, issuer = key controller and the Bitstring Status List.
    ldp_vc = str(tmp_path / "ldp_vc.json")
    status_map = f"{node_base}/status/={node_base}/status/"
    checked = interop.run("verify.mjs", ldp_vc, "--map", status_map)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    report = json.loads(checked.stdout)
    assert report["verified"] is True
    assert wallet["credentials"]["ldp_vc"]["credentialSubject"]["id"].startswith("did:key:z6Mk")

    # SD-JWT VC: @sd-jwt/sd-jwt-vc verifies it, its status and type, then a presentation of
    # two claims with key binding.
    args = [
        "--wallet",
        str(tmp_path / "wallet.json"),
        "--disclose",
        "title,awardingBody",
        "--aud",
        "https://admissions.example.eu",
        "--nonce",
        "n-0S6_WzA2Mj",
    ]
    verified = node(wallet_node, "verify-sd-jwt.mjs", *args)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    result = json.loads(verified.stdout)
    assert set(result["issued"]) >= ELEVEN_ELEMENTS
    assert result["issued"]["grade"] == "8.5"
    assert result["presented"]["title"] == credential.version.title
    assert result["presented"]["awardingBody"] == credential.institution.name
    assert not {"name", "mail", "grade", "learningOutcomes"} & set(result["presented"])
    assert result["presented"]["cnf"]["jwk"] == wallet["holder"]["publicJwk"]
    assert result["keyBinding"]["payload"]["aud"] == "https://admissions.example.eu"
    assert result["typeMetadata"]["vct"] == wi.vct_url()
    assert result["statusList"]["header"]["typ"] == "statuslist+jwt"

    # Revoked: both verifiers now refuse.
    services.credential_revoke(credential=credential, actor=None)
    refused = interop.run("verify.mjs", ldp_vc, "--map", status_map)
    assert refused.returncode == 1
    assert "revocation" in refused.stdout.lower()
    refused = node(wallet_node, "verify-sd-jwt.mjs", *args)
    assert refused.returncode != 0
    assert "Status is not valid" in refused.stdout + refused.stderr


def test_a_wallet_of_the_drafts_era_receives_both_formats_and_they_verify(
    wallet_node, interop, node_base, logged_in, tmp_path
):
    """@sphereon/oid4vci-client 0.20 (draft 15) reads the metadata at the drafts' location,
    sends one `proof`, and signs the second request with the c_nonce it used for the first: the
    portal refuses that one as used, saying so with a fresh c_nonce, and the wallet asks again."""
    learner = UserFactory(email="ana@example.eu")
    credential = held_credential(learner, grade="8.5")
    offer_uri, pin = offer_from_the_page(logged_in(learner), credential)

    received = node(
        wallet_node, "draft-wallet.mjs", "--offer", offer_uri, "--pin", pin, "--out", str(tmp_path)
    )
    assert received.returncode == 0, received.stdout + received.stderr
    report = json.loads(received.stdout)
    assert report["received"] == ["ldp_vc", "dc+sd-jwt"]
    issuer = wi.credential_issuer_id(credential.institution)
    # The drafts' locations, each answered with JSON (openid-configuration with a JSON 404).
    asked = {entry["url"]: entry for entry in report["asked"]}
    for name, status in [
        ("openid-credential-issuer", 200),
        ("openid-configuration", 404),
        ("oauth-authorization-server", 200),
    ]:
        answer = asked[f"{issuer}/.well-known/{name}"]
        assert (answer["status"], answer["type"]) == (status, "application/json")
    # The second format was refused once for its used c_nonce, and then delivered.
    assert report["retried"] == [oid4vci.SD_JWT]
    (refusal,) = report["errors"]
    assert refusal["error"] == "invalid_nonce"
    assert "good for one credential request" in refusal["error_description"]
    assert refusal["c_nonce"] and refusal["c_nonce_expires_in"] == wi.NONCE_LIFETIME.seconds

    wallet = json.loads((tmp_path / "wallet.json").read_text())
    stored = {row.format: row.document for row in WalletCredential.objects.all()}
    assert stored["dc+sd-jwt"] == wallet["credentials"]["dc+sd-jwt"]
    assert json.loads(stored["ldp_vc"]) == wallet["credentials"]["ldp_vc"]

    ldp_vc = tmp_path / "ldp_vc.json"
    ldp_vc.write_text(json.dumps(wallet["credentials"]["ldp_vc"]))
    checked = interop.run(
        "verify.mjs", str(ldp_vc), "--map", f"{node_base}/status/={node_base}/status/"
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)["verified"] is True
    verified = node(
        wallet_node,
        "verify-sd-jwt.mjs",
        "--wallet",
        str(tmp_path / "wallet.json"),
        "--disclose",
        "title",
        "--aud",
        "https://admissions.example.eu",
        "--nonce",
        "n-0S6_WzA2Mj",
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    result = json.loads(verified.stdout)
    assert result["presented"]["cnf"]["jwk"] == wallet["holder"]["publicJwk"]
