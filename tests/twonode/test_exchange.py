"""The exchange between two real nodes, step by step as institutions live it: A asks B to be a
partner and B accepts; B syncs A's catalogue; A's learner sends a credential to B; B's
recognition decision comes back to A; A revokes the credential and B's copy says so.

Every step is a service called on one node (node.run); the signed HTTP between the nodes is
carried by the nodes' own Celery workers and beat, and each effect is asserted in the database
of the node where it lands.
"""

import json

import pytest

from tests.twonode.nodes import Node

# Seconds a message between the nodes may take, worker pick-up and retries included.
CARRIED = 60.0


@pytest.fixture(scope="module")
def node_env() -> dict[str, str]:
    return {
        "MESHE_DELIVERY_RETRY_BASE_SECONDS": "1",
        "MESHE_DELIVERY_RETRY_CAP_SECONDS": "2",
        "MESHE_OUTBOX_SWEEP_SECONDS": "1",
        # The tests' own bursts are not abuse; the limits have tests of their own.
        "MESHE_RATE_LIMITS": json.dumps({"exchange": "100000/m", "exchange_ip": "100000/m"}),
    }


@pytest.fixture(scope="module")
def partners(node_a: Node, node_b: Node) -> None:
    """uni-a and uni-b agreed partners, for the steps after the first."""
    node_a.partner_with(node_b)


PARTNER_ROW = """
from exchange.models import Notice, Partner

partner = Partner.objects.get(institution__slug=slug, did=remote_did)
result = {
    "status": partner.status,
    "name": partner.name,
    "note": partner.request_note,
    "pinned": sorted(key["id"] for key in partner.pinned_keys),
    "endpoints": partner.endpoints,
    "notices": sorted(
        (n.payload["type"], n.status) for n in Notice.objects.filter(partner=partner)
    ),
}
"""

OWN_KEYS = """
from institutions.models import Institution
from institutions.selectors import did_document

document = did_document(slug=slug)
result = sorted(method["id"] for method in document["verificationMethod"])
"""


def test_a_partnership_asked_on_a_and_accepted_on_b_is_agreed_on_both_with_keys_pinned(
    node_a: Node, node_b: Node
) -> None:
    did_a, did_b = node_a.institutions["uni-a"], node_b.institutions["uni-b"]
    assert (
        node_a.run(
            """
        from exchange import discovery, services
        from institutions.models import Institution

        institution = Institution.objects.get(slug="uni-a")
        admin = institution.memberships.get().user
        node = discovery.node_discover(node_url=node_url)
        remote = node.institution(did_b)
        keys = discovery.did_keys(did=remote.did)
        result = services.partnership_request(
            institution=institution, actor=admin, remote=remote, keys=keys,
            note="Erasmus+ alliance",
        ).status
        """,
            node_url=node_b.base_url,
            did_b=did_b,
        )
        == "requested"
    )

    # A's worker carries the request; B reads A's manifest and DID document and files it.
    assert node_b.wait_partner_status(node_a, "received", timeout=CARRIED) == "received"
    at_b = node_b.run(PARTNER_ROW, slug="uni-b", remote_did=did_a)
    assert at_b["name"] == "Universiteit A"
    assert at_b["note"] == "Erasmus+ alliance"
    assert at_b["pinned"] == node_a.run(OWN_KEYS, slug="uni-a")
    assert at_b["endpoints"]["inbox"] == node_a.url("/exchange/v1/uni-a/inbox")

    assert (
        node_b.run(
            """
        from exchange import services
        from exchange.models import Partner

        partner = Partner.objects.get(institution__slug="uni-b", did=did_a)
        admin = partner.institution.memberships.get().user
        result = services.partnership_change(partner=partner, actor=admin, action="accept").status
        """,
            did_a=did_a,
        )
        == "confirmed"
    )

    assert node_a.wait_partner_status(node_b, "confirmed", timeout=CARRIED) == "confirmed"
    at_a = node_a.run(PARTNER_ROW, slug="uni-a", remote_did=did_b)
    assert at_a["pinned"] == node_b.run(OWN_KEYS, slug="uni-b")
    assert at_a["endpoints"]["inbox"] == node_b.url("/exchange/v1/uni-b/inbox")
    assert at_a["notices"] == [["request", "delivered"]]
    # B's worker records A's signed answer to the acceptance just after A applied it.
    assert node_b.wait(
        PARTNER_ROW + "done = result['notices'] == [('accept', 'delivered')]",
        slug="uni-b",
        remote_did=did_a,
    )["notices"] == [["accept", "delivered"]]


def test_b_syncs_a_catalogue_and_sees_a_published_offers(
    node_a: Node, node_b: Node, partners: None
) -> None:
    node_a.publish_specification("uni-a", title="Urban Data Analytics", ects="6")
    node_a.publish_specification("uni-a", title="Policy Writing", ects="3")

    assert node_b.run(
        """
        from exchange import catalogue_sync
        from exchange.models import Partner

        partner = Partner.objects.get(institution__slug="uni-b", did=did_a)
        admin = partner.institution.memberships.get().user
        result = catalogue_sync.partner_catalogue_sync_request(actor=admin, partner=partner)
        """,
        did_a=node_a.institutions["uni-a"],
    )
    synced = node_b.wait(
        """
        from exchange.models import Partner, PartnerOffer

        partner = Partner.objects.get(institution__slug="uni-b", did=did_a)
        done = partner.sync_finished_at is not None
        result = {
            "error": partner.sync_error,
            "offers": sorted(
                (o.title, str(o.ects), o.eqf_level, o.withdrawn_at is None)
                for o in PartnerOffer.objects.filter(partner=partner)
            ),
            "watermark": partner.catalogue_watermark,
        }
        """,
        did_a=node_a.institutions["uni-a"],
        timeout=CARRIED,
    )
    assert synced["error"] == ""
    offers = [tuple(offer) for offer in synced["offers"]]
    assert ("Urban Data Analytics", "6.0", 6, True) in offers
    assert ("Policy Writing", "3.0", 6, True) in offers
    assert synced["watermark"]


LEARNER_SENDS = """
from credentials.models import IssuedCredential
from exchange import deliveries
from exchange.models import Partner

credential = IssuedCredential.objects.get(public_id=public_id)
partner = Partner.objects.get(institution=credential.institution, did=did_b)
delivery = deliveries.delivery_create(
    credential=credential, partner=partner, actor=None, by_learner=True, note=note
)
result = str(delivery.public_id)
"""

DELIVERY_AT_A = """
from exchange.models import Delivery

delivery = Delivery.objects.get(public_id=public_id)
result = {
    "status": delivery.status,
    "attempts": delivery.attempts,
    "last_status": delivery.last_status,
    "last_error": delivery.last_error,
    "decision": delivery.decision,
    "ects": None if delivery.decision_ects is None else str(delivery.decision_ects),
    "programme": delivery.decision_programme,
}
done = result["status"] in wanted and (not decided or bool(delivery.decision))
"""

INCOMING_AT_B = """
from exchange.models import IncomingCredential

rows = list(IncomingCredential.objects.filter(credential_id=credential_id))
result = [
    {
        "verified": row.verified,
        "document": row.document,
        "learner": row.learner_name,
        "note": row.consent_note,
        "title": row.title,
        "status": row.credential_status,
        "from": row.partner.did,
    }
    for row in rows
]
done = len(rows) == 1 and (not wanted or rows[0].credential_status in wanted)
"""

DOCUMENT_AT_A = """
from credentials.models import IssuedCredential

result = IssuedCredential.objects.get(public_id=public_id).document
"""


def send_for_recognition(node_a: Node, node_b: Node, *, holder: str) -> tuple[str, str, str]:
    """A's learner sends a new credential to uni-b; (public id, credential id, delivery id)
    once A has it delivered."""
    specification = node_a.publish_specification("uni-a", title="Data Literacy")
    credential = node_a.issue_credential(specification, holder_name=holder)
    delivery = node_a.run(
        LEARNER_SENDS,
        public_id=credential["public_id"],
        did_b=node_b.institutions["uni-b"],
        note="For the MSc Data Science at B",
    )
    sent = node_a.wait(DELIVERY_AT_A, public_id=delivery, wanted=["delivered"], decided=False)
    assert sent["last_status"] == 201, sent
    return credential["public_id"], credential["document"]["id"], delivery


def test_a_learner_credential_arrives_at_b_verified_and_b_decision_comes_back_to_a(
    node_a: Node, node_b: Node, partners: None
) -> None:
    public_id, credential_id, delivery = send_for_recognition(node_a, node_b, holder="Ada Byron")

    (incoming,) = node_b.wait(INCOMING_AT_B, credential_id=credential_id, wanted=[])
    assert incoming["verified"] is True
    assert incoming["from"] == node_a.institutions["uni-a"]
    assert incoming["learner"] == "Ada Byron"
    assert incoming["note"] == "For the MSc Data Science at B"
    assert incoming["title"] == "Data Literacy"
    assert incoming["status"] == "valid"
    # Stored as A signed it, byte for byte.
    assert incoming["document"] == node_a.run(DOCUMENT_AT_A, public_id=public_id)

    node_b.run(
        """
        from decimal import Decimal
        from exchange import deliveries
        from exchange.models import IncomingCredential

        incoming = IncomingCredential.objects.select_related("partner__institution").get(
            credential_id=credential_id
        )
        admin = incoming.partner.institution.memberships.get().user
        deliveries.incoming_decide(
            incoming=incoming, actor=admin, decision="recognised", ects=Decimal("5.0"),
            programme="MSc Data Science", reason="",
        )
        """,
        credential_id=credential_id,
    )

    decided = node_a.wait(
        DELIVERY_AT_A, public_id=delivery, wanted=["delivered"], decided=True, timeout=CARRIED
    )
    assert (decided["decision"], decided["ects"], decided["programme"]) == (
        "recognised",
        "5.0",
        "MSc Data Science",
    )
    assert decided["attempts"] == 1


def test_a_revocation_at_a_reaches_b_copy_of_the_credential(
    node_a: Node, node_b: Node, partners: None
) -> None:
    public_id, credential_id, _delivery = send_for_recognition(
        node_a, node_b, holder="Grace Hopper"
    )
    (before,) = node_b.wait(INCOMING_AT_B, credential_id=credential_id, wanted=[])
    assert before["status"] == "valid"

    assert node_a.revoke_credential(public_id, reason="Awarded in error") == "revoked"

    # A's status notice is a hint: B re-reads A's status list and marks its copy revoked.
    (after,) = node_b.wait(
        INCOMING_AT_B, credential_id=credential_id, wanted=["revoked"], timeout=CARRIED
    )
    assert after["verified"] is False
    assert node_a.wait(
        """
        from exchange.models import Notice

        notices = Notice.objects.filter(kind="status", payload__credentialId=credential_id)
        result = [(n.payload["status"], n.status, n.last_status) for n in notices]
        done = all(status == "delivered" for _s, status, _l in result)
        """,
        credential_id=credential_id,
    ) == [["revoked", "delivered", 200]]
