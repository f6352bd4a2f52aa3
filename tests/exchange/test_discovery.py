import json

import pytest

from exchange import discovery, messages
from exchange.exceptions import ExchangeError
from exchange.manifest import HostedInstitution, build_manifest

NODE = "https://node-b.example"
DID = "did:web:node-b.example:institutions:uni-b"


def manifest(**changes):
    document = build_manifest(
        base_url=NODE,
        institutions=[
            HostedInstitution(
                slug="uni-b",
                name="University B",
                country="de",
                did=DID,
                did_document_url=f"{NODE}/institutions/uni-b/did.json",
                schac_code="uni-b.de",
            )
        ],
    )
    document["institutions"][0].update(changes)
    return document


def test_a_manifest_gives_each_institution_with_its_endpoints():
    node = discovery.parse_manifest(manifest(), node=NODE)
    remote = node.institution(DID)
    assert remote.name == "University B"
    assert remote.country == "DE"
    assert remote.schac_code == "uni-b.de"
    assert remote.endpoints["inbox"] == f"{NODE}/exchange/v1/uni-b/inbox"


def test_a_manifest_may_not_speak_for_a_did_on_another_host():
    with pytest.raises(ExchangeError, match="not on that node"):
        discovery.parse_manifest(manifest(did="did:web:elsewhere.example:x"), node=NODE)


def test_a_manifest_may_not_send_endpoints_to_another_host():
    endpoints = manifest()["institutions"][0]["endpoints"] | {"inbox": "https://evil.example/i"}
    with pytest.raises(ExchangeError, match="not on that node"):
        discovery.parse_manifest(manifest(endpoints=endpoints), node=NODE)


@pytest.mark.parametrize(
    "document",
    [
        {"protocol": "something-else", "protocolVersion": "1", "institutions": []},
        {"protocol": "meshe-exchange", "protocolVersion": "2", "institutions": []},
        {"protocol": "meshe-exchange", "protocolVersion": "1", "institutions": "uni-b"},
        {"protocol": "meshe-exchange", "protocolVersion": "1", "institutions": [["uni-b"]]},
    ],
)
def test_anything_but_a_version_1_manifest_is_refused(document):
    with pytest.raises(ExchangeError):
        discovery.parse_manifest(document, node=NODE)


def test_only_ed25519_authentication_keys_of_a_did_document_are_taken_with_absolute_ids():
    document = {
        "id": DID,
        "verificationMethod": [
            {
                "id": "#key-1",
                "type": "Multikey",
                "controller": DID,
                "publicKeyMultibase": "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
            },
            {"id": "#key-2", "type": "JsonWebKey", "publicKeyJwk": {}},
            {
                "id": "#key-0",
                "type": "Multikey",
                "controller": DID,
                "publicKeyMultibase": "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
            },
            "not a method",
        ],
        "authentication": ["#key-1", "#key-2", "#key-3"],
    }
    keys = discovery.keys_in(document)
    assert [key.id for key in keys] == [f"{DID}#key-1"]
    assert len(keys[0].fingerprint) == 64


def partnership(**changes):
    body = {
        "type": "request",
        "from": {"did": DID, "name": "University B", "node": NODE},
        "to": "did:web:a.example:institutions:uni-a",
        "note": "hello",
    } | changes
    return json.dumps(body).encode()


def test_a_partnership_message_names_its_signer_and_receiver():
    message = messages.partnership_message(
        partnership(), sender_did=DID, receiver_did="did:web:a.example:institutions:uni-a"
    )
    assert message["type"] == "request"
    assert message["from"]["node"] == NODE


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[1]", "JSON object"),
        (b"{", "not JSON"),
        (partnership(type="merge"), "type must be"),
        (partnership(to="did:web:someone-else"), "to must be"),
        (partnership(**{"from": {"did": "did:web:other", "node": NODE}}), "signed the request"),
        (partnership(note="x" * 2001), "note must be"),
    ],
)
def test_a_bad_partnership_message_is_refused_with_the_reason(body, reason):
    with pytest.raises(messages.InvalidMessage, match=reason):
        messages.partnership_message(
            body, sender_did=DID, receiver_did="did:web:a.example:institutions:uni-a"
        )
