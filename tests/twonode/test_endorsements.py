"""Endorsements between two real nodes: B endorses A's offer, A's next credential carries the
endorsement, vc-js verifies the credential and the endorsement it carries independently, and
once B revokes the endorsement, A's pages and vc-js both say it is revoked."""

import json
from pathlib import Path

import pytest

from meshe.devnodes import http_request
from tests.interop import Interop
from tests.twonode.nodes import Node

# Seconds a message between the nodes may take, worker pick-up and retries included.
CARRIED = 60.0
COMMENT = "Recognised at Université B for 5 ECTS toward the MSc Data Science"


@pytest.fixture(scope="module")
def node_env() -> dict[str, str]:
    return {
        "MESHE_DELIVERY_RETRY_BASE_SECONDS": "1",
        "MESHE_DELIVERY_RETRY_CAP_SECONDS": "2",
        "MESHE_OUTBOX_SWEEP_SECONDS": "1",
        "MESHE_RATE_LIMITS": json.dumps({"exchange": "100000/m", "exchange_ip": "100000/m"}),
    }


B_SYNCS_AND_ENDORSES = """
from exchange import catalogue_sync
from exchange.models import Partner, PartnerOffer

partner = Partner.objects.get(institution__slug="uni-b", did=did_a)
admin = partner.institution.memberships.get().user
catalogue_sync.partner_catalogue_sync(partner_id=partner.pk)
offer = PartnerOffer.objects.get(partner=partner, remote_id__endswith=offer_id + "/")
result = str(catalogue_sync.partner_offer_endorse(actor=admin, offer=offer, comment=comment).public_id)
"""

B_REVOKES = """
from credentials.models import Endorsement
from exchange import catalogue_sync
from exchange.models import PartnerOffer

endorsement = Endorsement.objects.get(public_id=endorsement_id)
offer = PartnerOffer.objects.get(remote_id=endorsement.subject_id)
admin = offer.partner.institution.memberships.get().user
result = catalogue_sync.partner_offer_endorsement_revoke(
    actor=admin, offer=offer, endorsement=endorsement, reason="The MSc closed"
).state
"""

ENDORSEMENT_AT_A = """
from credentials.models import Endorsement

row = Endorsement.objects.filter(micro_credential__public_id=offer_id).first()
result = None if row is None else {
    "state": row.state, "source": row.source, "endorser": row.endorser_name,
    "comment": row.comment,
}
done = result is not None and result["state"] == wanted
"""

A_VERIFIES = """
import json
from credentials.issuing import verifier
from credentials.models import IssuedCredential

credential = IssuedCredential.objects.get(public_id=public_id)
answer = verifier.verify(credential.document)
result = {"verified": answer["verified"], "endorsements": answer["endorsements"]}
"""


def vc_js(interop: Interop, folder: Path, name: str, document: dict, *nodes: Node) -> dict:
    """vc-js's report on a document, reading the nodes' DIDs and status lists over HTTPS."""
    path = folder / f"{name}.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    maps = [
        argument
        for node in nodes
        for argument in ("--map", f"{node.base_url}/status/={node.base_url}/status/")
    ]
    certificates = nodes[0].certificates
    assert certificates is not None
    result = interop.run("verify.mjs", str(path), *maps, loopback_ca=certificates.ca_file)
    report: dict = json.loads(result.stdout)
    return report


def test_b_endorses_a_offer_and_a_third_party_verifies_the_credential_and_its_endorsement(
    node_a: Node, node_b: Node, interop: Interop, tmp_path: Path
) -> None:
    node_a.partner_with(node_b)
    offer_id = node_a.publish_specification("uni-a", title="Data Literacy", ects="5")
    endorsement_id = node_b.run(
        B_SYNCS_AND_ENDORSES, did_a=node_a.institutions["uni-a"], offer_id=offer_id, comment=COMMENT
    )
    received = node_a.wait(ENDORSEMENT_AT_A, offer_id=offer_id, wanted="verified", timeout=CARRIED)
    assert received == {
        "state": "verified",
        "source": "partner",
        "endorser": "Université B",
        "comment": COMMENT,
    }

    credential = node_a.issue_credential(offer_id)
    document = credential["document"]
    (carried,) = document["credentialSubject"]["achievement"]["endorsement"]
    assert carried["issuer"]["id"] == node_b.institutions["uni-b"]
    assert carried["credentialSubject"]["endorsementComment"] == COMMENT

    # The third party: vc-js, reading each node's DID document and status lists itself.
    report = vc_js(interop, tmp_path, "credential", document, node_a)
    assert report["verified"] is True, report
    endorsement_report = vc_js(interop, tmp_path, "endorsement", carried, node_b)
    assert endorsement_report["verified"] is True, endorsement_report
    assert endorsement_report["issuer"] == node_b.institutions["uni-b"]

    at_a = node_a.run(A_VERIFIES, public_id=credential["public_id"])
    assert at_a["verified"] is True
    assert [(e["state"], e["endorser"]["known"]) for e in at_a["endorsements"]["checked"]] == [
        ("verified", True)
    ]

    # B revokes: A hears of it over the exchange and checks B's status list itself.
    assert node_b.run(B_REVOKES, endorsement_id=endorsement_id) == "revoked"
    node_a.wait(ENDORSEMENT_AT_A, offer_id=offer_id, wanted="revoked", timeout=CARRIED)
    offer_page = http_request(
        node_a.url(f"/catalogue/{offer_id}/"), certificates=node_a.certificates
    )
    assert "Endorsed by Université B — revoked" in offer_page.body.decode()
    credential_page = http_request(
        node_a.url(f"/credentials/{credential['public_id']}"), certificates=node_a.certificates
    )
    assert "Endorsed by Université B — revoked" in credential_page.body.decode()
    at_a = node_a.run(A_VERIFIES, public_id=credential["public_id"])
    assert at_a["verified"] is True  # a revoked endorsement never makes the credential invalid
    assert [e["state"] for e in at_a["endorsements"]["checked"]] == ["revoked"]
    revoked_report = vc_js(interop, tmp_path, "revoked", carried, node_b)
    assert revoked_report["verified"] is False
    assert "revocation" in json.dumps(revoked_report).lower()

    later = node_a.issue_credential(offer_id)
    assert "endorsement" not in later["document"]["credentialSubject"]["achievement"]
