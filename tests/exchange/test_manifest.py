import pytest
from django.urls import reverse

from exchange.manifest import HostedInstitution, build_manifest
from tests.factories import InstitutionFactory


def test_the_manifest_lists_institutions_with_their_codes_and_endpoints_under_the_base_url():
    institution = HostedInstitution(
        slug="uni-a",
        name="University A",
        country="PT",
        did="did:web:node.example:institutions:uni-a",
        did_document_url="https://node.example/institutions/uni-a/did.json",
    )
    manifest = build_manifest(base_url="https://node.example/", institutions=[institution])
    assert manifest["protocolVersion"] == "1"
    assert manifest["node"] == "https://node.example"
    assert manifest["institutions"] == [
        {
            "slug": "uni-a",
            "name": "University A",
            "country": "PT",
            "did": "did:web:node.example:institutions:uni-a",
            "didDocument": "https://node.example/institutions/uni-a/did.json",
            "schacCode": "",
            "erasmusCode": "",
            "endpoints": {
                "partnership": "https://node.example/exchange/v1/uni-a/partnership",
                "catalogue": "https://node.example/exchange/v1/uni-a/catalogue",
                "inbox": "https://node.example/exchange/v1/uni-a/inbox",
                "notices": "https://node.example/exchange/v1/uni-a/notices",
                "echo": "https://node.example/exchange/v1/uni-a/echo",
            },
            "elmCatalogue": "https://node.example/catalogue/elm/?institution=uni-a",
        }
    ]
    assert manifest["elmCatalogue"]["feed"] == "https://node.example/catalogue/elm/"
    assert manifest["elmCatalogue"]["offer"] == (
        "https://node.example/catalogue/{public_id}/elm.jsonld"
    )


@pytest.mark.django_db
def test_the_node_manifest_is_served_at_its_well_known_path(client, settings):
    settings.MESHE_BASE_URL = "https://node.example"
    InstitutionFactory(slug="uni-b", name="University B", country="DE")
    InstitutionFactory(slug="uni-a", name="University A", country="PT")
    response = client.get("/.well-known/meshe-node.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["node"] == "https://node.example"
    assert [i["slug"] for i in body["institutions"]] == ["uni-a", "uni-b"]
    assert body["institutions"][0]["did"] == "did:web:node.example:institutions:uni-a"
    assert body["institutions"][0]["didDocument"] == (
        "https://node.example/institutions/uni-a/did.json"
    )
    assert reverse("exchange:node_manifest") == "/.well-known/meshe-node.json"


@pytest.mark.django_db
def test_the_node_manifest_refuses_a_post(client):
    assert client.post("/.well-known/meshe-node.json").status_code == 405


@pytest.mark.django_db
def test_the_node_manifest_costs_one_query_however_many_institutions(
    client, django_assert_num_queries
):
    InstitutionFactory.create_batch(3)
    with django_assert_num_queries(1):
        client.get("/.well-known/meshe-node.json")
