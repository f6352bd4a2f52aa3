import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.issuing import verifier
from credentials.standards import didkey, signing
from exchange import selectors
from exchange.models import Partner, PartnerStatus
from tests.factories import InstitutionFactory

pytestmark = pytest.mark.django_db

DID = "did:web:uni-b.example:institutions:uni-b"


def make_partner(status: str) -> Partner:
    return Partner.objects.create(
        institution=InstitutionFactory(),
        base_url="https://uni-b.example",
        did=DID,
        name="University B",
        status=status,
    )


def test_a_confirmed_partner_is_an_agreed_partner():
    make_partner(PartnerStatus.CONFIRMED)
    assert selectors.agreed_partner_name(did=DID) == "University B"


def test_a_proposed_partner_is_not_yet_agreed():
    make_partner(PartnerStatus.REQUESTED)
    assert selectors.agreed_partner_name(did=DID) is None


def test_an_unknown_did_is_not_a_partner():
    make_partner(PartnerStatus.CONFIRMED)
    assert selectors.agreed_partner_name(did="did:web:elsewhere.example") is None


def test_the_partner_list_is_in_the_admin(admin_client):
    make_partner(PartnerStatus.REQUESTED)
    response = admin_client.get("/admin/exchange/partner/")
    assert response.status_code == 200
    assert b"University B" in response.content


def test_the_verifier_knows_an_agreed_partners_credentials(interop_free_partner_credential):
    document, did = interop_free_partner_credential
    result = verifier.verify(document)
    known = next(check for check in result["checks"] if check["check"] == "issuer_known")
    assert known["ok"] is False
    Partner.objects.create(
        institution=InstitutionFactory(),
        base_url="https://uni-b.example",
        did=did,
        name="University B",
        status="confirmed",
    )
    result = verifier.verify(document)
    known = next(check for check in result["checks"] if check["check"] == "issuer_known")
    assert (known["ok"], known["detail"]) == (True, "Known issuer: University B")
    assert result["trust"] == "known_issuer"
    assert result["summary"]["issuer"] == {
        "id": did,
        "name": "University B",
        "declared_name": result["summary"]["issuer"]["declared_name"],
        "confirmed": True,
    }


@pytest.fixture
def interop_free_partner_credential():
    """A credential signed by a did:key issuer, which resolves without any network."""
    key = Ed25519PrivateKey.generate()
    did = didkey.did_key_for(key.public_key())
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner"},
    }
    signed = signing.sign_document(
        document,
        private_key=key,
        verification_method=didkey.verification_method_id_for(key.public_key()),
        created="2026-01-01T00:00:00Z",
    )
    return signed, did
