import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.urls import reverse

from credentials.standards.multiformats import decode_ed25519_public_key
from institutions import selectors, services
from institutions.key_storage import KeyStorageError, open_private_key, seal_private_key
from institutions.models import AuditEvent, KeyStatus, Role, SigningKey
from tests.factories import InstitutionFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def test_a_sealed_key_opens_with_the_same_secret_and_binding():
    key = Ed25519PrivateKey.generate()
    sealed = seal_private_key(key, secret="s" * 40, bound_to="z6MkA")
    opened = open_private_key(sealed, secret="s" * 40, bound_to="z6MkA")
    assert opened.public_key() == key.public_key()


def test_a_sealed_key_holds_no_plain_seed():
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes_raw()
    assert seed not in seal_private_key(key, secret="s" * 40, bound_to="z6MkA")


@pytest.mark.parametrize(
    ("secret", "bound_to"), [("t" * 40, "z6MkA"), ("s" * 40, "z6MkB")], ids=["secret", "binding"]
)
def test_a_sealed_key_refuses_another_secret_or_binding(secret, bound_to):
    sealed = seal_private_key(Ed25519PrivateKey.generate(), secret="s" * 40, bound_to="z6MkA")
    with pytest.raises(KeyStorageError):
        open_private_key(sealed, secret=secret, bound_to=bound_to)


def test_a_tampered_sealed_key_is_refused():
    sealed = bytearray(
        seal_private_key(Ed25519PrivateKey.generate(), secret="s" * 40, bound_to="k")
    )
    sealed[-1] ^= 1
    with pytest.raises(KeyStorageError, match="does not open"):
        open_private_key(bytes(sealed), secret="s" * 40, bound_to="k")


def test_a_new_institution_gets_an_active_key_whose_private_half_matches():
    institution = InstitutionFactory()
    key = selectors.active_signing_key(institution=institution)
    public = decode_ed25519_public_key(key.public_key_multibase)
    assert key.private_key.public_key() == public
    assert key.verification_method == f"{institution.did}#key-1"


def test_rotation_retires_the_old_key_and_audits(settings):
    institution = InstitutionFactory()
    first = selectors.active_signing_key(institution=institution)
    admin = MembershipFactory(institution=institution).user
    second = services.signing_key_rotate(actor=admin, institution=institution)
    first.refresh_from_db()
    assert first.status == KeyStatus.RETIRED
    assert first.retired_at is not None
    assert second.number == 2
    assert selectors.active_signing_key(institution=institution) == second
    event = AuditEvent.objects.get(
        action="signing_key.rotated", institution=institution, actor=admin
    )
    assert event.detail == {
        "retired": "key-1",
        "active": "key-2",
        "public_key": second.public_key_multibase,
    }


def test_the_did_uses_the_node_host_with_the_port_percent_encoded(settings):
    settings.MESHE_BASE_URL = "http://127.0.0.1:8000"
    assert InstitutionFactory(slug="uni-a").did == "did:web:127.0.0.1%3A8000:institutions:uni-a"
    settings.MESHE_BASE_URL = "https://uni.example.eu/meshe"
    assert InstitutionFactory(slug="uni-b").did == "did:web:uni.example.eu:meshe:institutions:uni-b"


def test_the_did_document_lists_retired_keys_for_assertion_but_authenticates_with_the_active_one(
    client, settings
):
    settings.MESHE_BASE_URL = "https://meshe.example.eu"
    institution = InstitutionFactory(slug="uni-a")
    services.signing_key_rotate(actor=None, institution=institution)
    response = client.get("/institutions/uni-a/did.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/did+ld+json"
    document = response.json()
    did = "did:web:meshe.example.eu:institutions:uni-a"
    assert document["id"] == did
    assert document["assertionMethod"] == [f"{did}#key-1", f"{did}#key-2"]
    assert document["authentication"] == [f"{did}#key-2"]
    keys = {key.number: key for key in SigningKey.objects.filter(institution=institution)}
    assert [method["publicKeyMultibase"] for method in document["verificationMethod"]] == [
        keys[1].public_key_multibase,
        keys[2].public_key_multibase,
    ]
    assert all(method["controller"] == did for method in document["verificationMethod"])
    assert "sealed" not in response.text


def test_an_unknown_institution_has_no_did_document(client):
    assert client.get("/institutions/nowhere/did.json").status_code == 404


def test_an_admin_rotates_the_key_from_the_institution_page(logged_in):
    admin = MembershipFactory()
    client = logged_in(admin.user)
    page = client.get(admin.institution.get_absolute_url())
    assert "Rotate signing key" in page.text
    response = client.post(
        reverse("institutions:key_rotate", kwargs={"slug": admin.institution.slug}), follow=True
    )
    assert "New signing key key-2 is active." in response.text
    assert SigningKey.objects.filter(institution=admin.institution).count() == 2


def test_an_issuer_cannot_rotate_the_key(logged_in):
    issuer = MembershipFactory(role=Role.ISSUER)
    client = logged_in(issuer.user)
    assert "Rotate signing key" not in client.get(issuer.institution.get_absolute_url()).text
    response = client.post(
        reverse("institutions:key_rotate", kwargs={"slug": issuer.institution.slug})
    )
    assert response.status_code == 403
    assert SigningKey.objects.filter(institution=issuer.institution).count() == 1


def test_the_public_institution_page_shows_offers_and_key_fingerprints(client):
    institution = InstitutionFactory(slug="uni-a", name="University of Aldermoor")
    key = selectors.active_signing_key(institution=institution)
    response = client.get("/institutions/uni-a/")
    assert response.status_code == 200
    assert "University of Aldermoor" in response.text
    assert hashlib.sha256(key.public_key_multibase.encode()).hexdigest() in response.text
    assert client.get("/institutions/nowhere/").status_code == 404
