"""Partnerships between two institutions, both hosted by the live test server: every message
travels over HTTP, signed, exactly as between two nodes."""

from typing import Any

import pytest
from django.test import Client

from exchange import services
from exchange.exceptions import ExchangeError
from exchange.models import Partner, PartnerStatus
from institutions.models import AuditEvent, Role
from institutions.selectors import key_fingerprint
from institutions.services import signing_key_rotate
from tests.factories import InstitutionFactory, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def node(live_server, settings):
    settings.MESHE_BASE_URL = live_server.url
    settings.MESHE_OUTBOUND_ALLOW_LOOPBACK = True
    return live_server.url


@pytest.fixture
def uni_a():
    return InstitutionFactory(slug="uni-a", name="University A", country="PT")


@pytest.fixture
def uni_b():
    return InstitutionFactory(slug="uni-b", name="University B", country="DE")


def admin_of(institution, role=Role.ADMIN) -> Client:
    client = Client()
    client.force_login(MembershipFactory(institution=institution, role=role).user)
    return client


def request_partnership(client: Client, node: str, *, to, note: str = "") -> Any:
    fingerprints = ",".join(
        key_fingerprint(key.public_key_multibase) for key in to.signing_keys.order_by("number")
    )
    return client.post(
        "/staff/uni-a/partners/discover/",
        {"node": node, "did": to.did, "fingerprints": fingerprints, "note": note},
    )


def partner_of(institution, other) -> Partner:
    return Partner.objects.get(institution=institution, did=other.did)


def test_the_discovery_page_shows_the_nodes_institutions_with_key_fingerprints(node, uni_a, uni_b):
    page = admin_of(uni_a).get("/staff/uni-a/partners/discover/", {"node": node})
    assert page.status_code == 200
    text = page.content.decode()
    assert "University B" in text
    assert uni_b.did in text
    key = uni_b.signing_keys.get()
    assert key_fingerprint(key.public_key_multibase) in text


def test_an_unreachable_node_is_reported_in_plain_words(node, uni_a):
    page = admin_of(uni_a).get("/staff/uni-a/partners/discover/", {"node": "http://127.0.0.1:9"})
    assert page.status_code == 200
    assert "Could not read the node&#x27;s manifest" in page.content.decode()


def test_a_request_travels_signed_and_waits_in_the_partners_inbox(node, uni_a, uni_b):
    response = request_partnership(admin_of(uni_a), node, to=uni_b, note="Erasmus+ alliance")
    ours = partner_of(uni_a, uni_b)
    assert response.status_code == 302
    assert response["Location"] == f"/staff/uni-a/partners/{ours.public_id}/"
    assert ours.status == PartnerStatus.REQUESTED
    assert ours.pinned_keys == [
        {
            "id": uni_b.signing_keys.get().verification_method,
            "publicKeyMultibase": uni_b.signing_keys.get().public_key_multibase,
        }
    ]
    theirs = partner_of(uni_b, uni_a)
    assert theirs.status == PartnerStatus.RECEIVED
    assert theirs.request_note == "Erasmus+ alliance"
    assert theirs.endpoints["inbox"] == f"{node}/exchange/v1/uni-a/inbox"
    assert theirs.pinned_keys[0]["publicKeyMultibase"] == (
        uni_a.signing_keys.get().public_key_multibase
    )
    inbox = admin_of(uni_b).get("/staff/uni-b/partners/")
    assert "Request received, awaiting our answer" in inbox.content.decode()


def test_acceptance_confirms_both_sides_and_the_echo_answers_signed(node, uni_a, uni_b):
    request_partnership(admin_of(uni_a), node, to=uni_b)
    theirs = partner_of(uni_b, uni_a)
    response = admin_of(uni_b).post(f"/staff/uni-b/partners/{theirs.public_id}/accept/")
    assert response.status_code == 302
    assert partner_of(uni_b, uni_a).status == PartnerStatus.CONFIRMED
    assert partner_of(uni_a, uni_b).status == PartnerStatus.CONFIRMED
    ours = partner_of(uni_a, uni_b)
    check = admin_of(uni_a).post(f"/staff/uni-a/partners/{ours.public_id}/check/", follow=True)
    assert "answered with a valid signature" in check.content.decode()
    assert partner_of(uni_a, uni_b).last_success_at is not None


def test_a_declined_request_is_declined_on_both_sides(node, uni_a, uni_b):
    request_partnership(admin_of(uni_a), node, to=uni_b)
    theirs = partner_of(uni_b, uni_a)
    admin_of(uni_b).post(f"/staff/uni-b/partners/{theirs.public_id}/decline/")
    assert partner_of(uni_a, uni_b).status == PartnerStatus.DECLINED
    assert partner_of(uni_b, uni_a).status == PartnerStatus.DECLINED


def test_only_the_side_that_suspended_may_resume_and_either_side_may_end(node, uni_a, uni_b):
    request_partnership(admin_of(uni_a), node, to=uni_b)
    admin_of(uni_b).post(f"/staff/uni-b/partners/{partner_of(uni_b, uni_a).public_id}/accept/")
    a_admin, b_admin = admin_of(uni_a), admin_of(uni_b)
    ours, theirs = partner_of(uni_a, uni_b), partner_of(uni_b, uni_a)

    a_admin.post(f"/staff/uni-a/partners/{ours.public_id}/suspend/")
    assert partner_of(uni_b, uni_a).status == PartnerStatus.SUSPENDED
    refused = b_admin.post(f"/staff/uni-b/partners/{theirs.public_id}/resume/", follow=True)
    assert "cannot be changed that way" in refused.content.decode()
    assert partner_of(uni_b, uni_a).status == PartnerStatus.SUSPENDED

    a_admin.post(f"/staff/uni-a/partners/{ours.public_id}/resume/")
    assert partner_of(uni_a, uni_b).status == PartnerStatus.CONFIRMED
    assert partner_of(uni_b, uni_a).status == PartnerStatus.CONFIRMED

    b_admin.post(f"/staff/uni-b/partners/{theirs.public_id}/end/")
    assert partner_of(uni_b, uni_a).status == PartnerStatus.ENDED
    assert partner_of(uni_a, uni_b).status == PartnerStatus.ENDED
    actions = set(AuditEvent.objects.filter(institution=uni_a).values_list("action", flat=True))
    assert {"partner.requested", "partner.suspend", "partner.resume"} <= actions
    assert "partner.end_received" in actions


def test_a_request_is_refused_when_the_keys_changed_since_they_were_shown(node, uni_a, uni_b):
    client = admin_of(uni_a)
    response = client.post(
        "/staff/uni-a/partners/discover/",
        {"node": node, "did": uni_b.did, "fingerprints": "0" * 64},
        follow=True,
    )
    assert "keys changed since they were shown" in response.content.decode()
    assert not Partner.objects.exists()


def test_asking_an_institution_that_asked_first_accepts_its_request(node, uni_a, uni_b):
    request_partnership(admin_of(uni_a), node, to=uni_b)
    fingerprints = key_fingerprint(uni_a.signing_keys.get().public_key_multibase)
    admin_of(uni_b).post(
        "/staff/uni-b/partners/discover/",
        {"node": node, "did": uni_a.did, "fingerprints": fingerprints},
    )
    assert partner_of(uni_b, uni_a).status == PartnerStatus.CONFIRMED
    assert partner_of(uni_a, uni_b).status == PartnerStatus.CONFIRMED


def test_an_institution_cannot_partner_with_itself(node, uni_a):
    from exchange import discovery

    remote = discovery.node_discover(node_url=node).institution(uni_a.did)
    with pytest.raises(ExchangeError):
        services.partnership_request(
            institution=uni_a,
            actor=MembershipFactory(institution=uni_a).user,
            remote=remote,
            keys=discovery.did_keys(did=uni_a.did),
        )


def test_viewers_see_partners_but_only_admins_change_them(node, uni_a, uni_b):
    request_partnership(admin_of(uni_a), node, to=uni_b)
    theirs = partner_of(uni_b, uni_a)
    viewer = admin_of(uni_b, role=Role.VIEWER)
    assert viewer.get(f"/staff/uni-b/partners/{theirs.public_id}/").status_code == 200
    assert viewer.post(f"/staff/uni-b/partners/{theirs.public_id}/accept/").status_code == 403
    assert viewer.get("/staff/uni-b/partners/discover/", {"node": node}).status_code == 403
    assert partner_of(uni_b, uni_a).status == PartnerStatus.RECEIVED


def test_another_institutions_staff_get_404_for_a_partner(node, uni_a, uni_b):
    request_partnership(admin_of(uni_a), node, to=uni_b)
    ours = partner_of(uni_a, uni_b)
    outsider = admin_of(InstitutionFactory(slug="uni-c"))
    assert outsider.get(f"/staff/uni-a/partners/{ours.public_id}/").status_code == 404
    assert outsider.get(f"/staff/uni-c/partners/{ours.public_id}/").status_code == 404


def test_a_partners_key_rotation_is_picked_up_from_its_did_document_on_both_sides(
    node, uni_a, uni_b
):
    request_partnership(admin_of(uni_a), node, to=uni_b)
    admin_of(uni_b).post(f"/staff/uni-b/partners/{partner_of(uni_b, uni_a).public_id}/accept/")
    new_key = signing_key_rotate(actor=None, institution=uni_b)

    # B's answers are now signed by a key A never pinned: A finds it in B's DID document.
    latency = services.partner_echo(partner=partner_of(uni_a, uni_b))
    assert latency >= 0
    pinned = [key["id"] for key in partner_of(uni_a, uni_b).pinned_keys]
    assert new_key.verification_method in pinned
    # And B's requests, signed by the new key, are accepted by A the same way.
    services.partner_echo(partner=partner_of(uni_b, uni_a))
    assert AuditEvent.objects.filter(institution=uni_a, action="partner.key_pinned").exists()
