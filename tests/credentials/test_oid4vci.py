"""OpenID4VCI issuance from the portal: metadata, offers, the pre-authorised code grant, nonces,
key proofs, both credential formats, the Token Status List, and every refusal the spec names."""

import json
import re
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from credentials.issuing import services
from credentials.models import CredentialStatus, WalletCredential, WalletOffer
from credentials.standards import jose, oid4vci, sd_jwt, signing, token_status_list
from credentials.standards.multiformats import base64url_decode, decode_ed25519_public_key
from credentials.wallet import issuance as wi
from institutions import selectors as institution_selectors
from institutions.models import AuditEvent
from tests.factories import UserFactory
from tests.learners.holding import held_credential
from tests.mail import pin_in

pytestmark = pytest.mark.django_db


class Wallet:
    """Just enough of a wallet to drive the protocol from a test, with one Ed25519 key."""

    def __init__(self, client, credential, key=None) -> None:
        self.client = client
        self.institution = credential.institution
        self.key = key or Ed25519PrivateKey.generate()
        self.issuer = wi.credential_issuer_id(self.institution)

    def url(self, name: str) -> str:
        return reverse(f"wallet_issuance:{name}", kwargs={"slug": self.institution.slug})

    def token(self, code: str, pin: str | None):
        data = {"grant_type": oid4vci.PRE_AUTHORIZED_CODE_GRANT, "pre-authorized_code": code}
        if pin is not None:
            data["tx_code"] = pin
        return self.client.post(self.url("token"), data)

    def nonce(self) -> str:
        return self.client.post(self.url("nonce")).json()["c_nonce"]

    def proof(self, *, nonce, aud=None, iat=None, typ=oid4vci.PROOF_TYPE, signer=None, header=None):
        head = {"typ": typ, "jwk": jose.public_jwk(self.key), **(header or {})}
        payload = {"aud": aud or self.issuer, "iat": iat or int(time.time()), "nonce": nonce}
        return jose.sign_compact(head, payload, signer or self.key)

    def credential(self, access_token: str, configuration: str, proof: str | None = None):
        body = {
            "credential_configuration_id": configuration,
            "proofs": {"jwt": [proof or self.proof(nonce=self.nonce())]},
        }
        return self.client.post(
            self.url("credential"),
            json.dumps(body),
            content_type="application/json",
            headers={"Authorization": f"Bearer {access_token}"},
        )


@pytest.fixture
def learner():
    return UserFactory(email="ana@example.eu")


@pytest.fixture
def held(learner):
    return held_credential(learner, grade="8.5")


def make_offer(learner, credential, capture) -> tuple[str, str]:
    """Offers the credential; returns the pre-authorised code (from the link) and the PIN (from
    the e-mail)."""
    mail.outbox.clear()
    with capture(execute=True):
        new = wi.wallet_offer_create(user=learner, credential=credential)
    offer = json.loads(parse_qs(urlsplit(new.uri).query)["credential_offer"][0])
    grant = offer["grants"][oid4vci.PRE_AUTHORIZED_CODE_GRANT]
    return grant["pre-authorized_code"], pin_in(mail.outbox[-1])


@pytest.fixture
def offered(learner, held, django_capture_on_commit_callbacks):
    return make_offer(learner, held, django_capture_on_commit_callbacks)


@pytest.fixture
def wallet(client, held):
    return Wallet(client, held)


@pytest.fixture
def access_token(wallet, offered):
    code, pin = offered
    response = wallet.token(code, pin)
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def error_of(response) -> str:
    return response.json()["error"]


# Discovery -----------------------------------------------------------------------------------


def test_issuer_metadata_is_served_with_the_well_known_segment_before_the_path(client, held):
    issuer = wi.credential_issuer_id(held.institution)
    path = urlsplit(issuer).path
    response = client.get(f"/.well-known/openid-credential-issuer{path}")
    assert response.status_code == 200
    metadata = response.json()
    assert metadata["credential_issuer"] == issuer
    assert metadata["nonce_endpoint"].startswith(issuer + "/oid4vci/")
    configurations = metadata["credential_configurations_supported"]
    assert {c["format"] for c in configurations.values()} == {"ldp_vc", "dc+sd-jwt"}
    assert configurations[oid4vci.SD_JWT]["vct"] == wi.vct_url()
    server = client.get(f"/.well-known/oauth-authorization-server{path}").json()
    assert server["issuer"] == issuer
    assert server["grant_types_supported"] == [oid4vci.PRE_AUTHORIZED_CODE_GRANT]


def test_the_metadata_is_served_where_the_drafts_look_too_as_the_same_json(client, held):
    """Wallets of the drafts append the well-known segment to the issuer's URL."""
    path = urlsplit(wi.credential_issuer_id(held.institution)).path
    for name in ("openid-credential-issuer", "oauth-authorization-server"):
        inserted = client.get(f"/.well-known/{name}{path}")
        appended = client.get(f"{path}/.well-known/{name}")
        assert appended.status_code == 200
        assert appended["Content-Type"] == "application/json"
        assert appended.json() == inserted.json()


def test_other_well_known_names_under_an_issuer_answer_a_json_404(client, held):
    """Some clients read every answer as JSON while they probe (openid-configuration first)."""
    path = urlsplit(wi.credential_issuer_id(held.institution)).path
    response = client.get(f"{path}/.well-known/openid-configuration")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "not_found"
    unknown = client.get("/institutions/nope/.well-known/openid-credential-issuer")
    assert unknown.status_code == 404


def test_metadata_of_an_unknown_institution_is_404(client):
    assert client.get("/.well-known/openid-credential-issuer/institutions/nope").status_code == 404


def test_the_vct_url_serves_type_metadata_naming_every_disclosable_claim(client):
    metadata = client.get(urlsplit(wi.vct_url()).path).json()
    assert metadata["vct"] == wi.vct_url()
    paths = {claim["path"][0] for claim in metadata["claims"]}
    assert {"name", "grade", "title", "learningOutcomes", "qualityAssurance"} <= paths


# The offer -------------------------------------------------------------------------------------


def test_the_holder_gets_a_qr_code_and_link_and_a_pin_by_e_mail(
    logged_in, learner, held, django_capture_on_commit_callbacks
):
    client = logged_in(learner)
    page = client.get(reverse("learners:credential", args=[held.public_id]))
    assert b'id="add-to-wallet"' in page.content
    assert b"Add to a wallet or download" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("wallet_issuance:offer_create", args=[held.public_id]), follow=True
        )
    assert response.status_code == 200
    html = response.content.decode()
    assert "openid-credential-offer://?credential_offer=" in html
    assert 'src="data:image/svg+xml' in html
    assert mail.outbox[-1].to == ["ana@example.eu"]
    assert pin_in(mail.outbox[-1])
    offer = WalletOffer.objects.get()
    assert offer.pin_sent_to == "ana@example.eu"
    found = re.search(r"pre-authorized_code%22%3A%22([^%]+)%22", html)
    assert found is not None
    code = found.group(1)
    assert code not in offer.code_hash and offer.code_hash == wi._sha256(code)


@pytest.mark.date_sensitive
def test_the_offer_page_closes_once_the_code_is_used_or_expired(logged_in, learner, held):
    client = logged_in(learner)
    response = client.post(reverse("wallet_issuance:offer_create", args=[held.public_id]))
    assert response.status_code == 302
    page = response["Location"]
    assert client.get(page).status_code == 200
    WalletOffer.objects.update(expires_at=timezone.now())
    closed = client.get(page)
    assert closed.status_code == 302
    assert closed["Location"].endswith("#add-to-wallet")
    other = logged_in(UserFactory())
    assert other.get(page).status_code == 404


def test_nobody_but_the_holder_can_make_an_offer(logged_in, held):
    client = logged_in(UserFactory())
    response = client.post(reverse("wallet_issuance:offer_create", args=[held.public_id]))
    assert response.status_code == 404
    assert not WalletOffer.objects.exists()


def test_a_new_offer_closes_the_previous_one(
    wallet, learner, held, offered, django_capture_on_commit_callbacks
):
    make_offer(learner, held, django_capture_on_commit_callbacks)
    code, pin = offered
    assert error_of(wallet.token(code, pin)) == "invalid_grant"


def test_a_revoked_credential_cannot_be_offered(learner, held):
    services.credential_revoke(credential=held, actor=None)
    with pytest.raises(services.CredentialError):
        wi.wallet_offer_create(user=learner, credential=held)


# Token endpoint -------------------------------------------------------------------------------


def test_the_code_and_pin_buy_one_access_token_and_the_code_is_refused_after_use(wallet, offered):
    code, pin = offered
    first = wallet.token(code, pin)
    assert first.status_code == 200
    assert first.json()["token_type"] == "Bearer"
    assert first["Cache-Control"] == "no-store"
    second = wallet.token(code, pin)
    assert second.status_code == 400
    assert error_of(second) == "invalid_grant"


@pytest.mark.date_sensitive
def test_an_expired_code_is_refused(wallet, offered):
    WalletOffer.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert error_of(wallet.token(*offered)) == "invalid_grant"


def test_a_wrong_pin_is_refused_and_the_fifth_kills_the_code(wallet, offered):
    code, pin = offered
    wrong = f"{(int(pin) + 1) % 10**6:06d}"
    for _attempt in range(wi.MAX_PIN_ATTEMPTS):
        response = wallet.token(code, wrong)
        assert response.status_code == 400
        assert error_of(response) == "invalid_grant"
    assert WalletOffer.objects.get().blocked_at is not None
    assert error_of(wallet.token(code, pin)) == "invalid_grant"
    assert AuditEvent.objects.filter(action="wallet.offer_blocked").count() == 1


def test_a_missing_pin_is_an_invalid_request_and_an_unknown_grant_is_unsupported(wallet, offered):
    code, _pin = offered
    assert error_of(wallet.token(code, None)) == "invalid_request"
    response = wallet.client.post(wallet.url("token"), {"grant_type": "authorization_code"})
    assert error_of(response) == "unsupported_grant_type"


def test_an_unknown_code_is_an_invalid_grant(wallet):
    assert error_of(wallet.token("nope", "123456")) == "invalid_grant"


# Credential endpoint ------------------------------------------------------------------------


def test_the_ldp_vc_is_the_stored_credential_bound_to_the_holder_and_signed_again(
    wallet, held, access_token
):
    response = wallet.credential(access_token, oid4vci.LDP_VC)
    assert response.status_code == 200, response.content
    document = response.json()["credentials"][0]["credential"]
    original = json.loads(held.document)
    assert document["credentialSubject"]["id"] == jose.holder_did(jose.public_jwk(wallet.key))
    assert document["credentialSubject"]["id"].startswith("did:key:z6Mk")
    assert document["id"] == original["id"]
    assert document["credentialStatus"] == original["credentialStatus"]
    subject = {k: v for k, v in document["credentialSubject"].items() if k != "id"}
    assert subject == original["credentialSubject"]
    key = institution_selectors.active_signing_key(institution=held.institution)
    assert signing.verify_proof(
        document, public_key=decode_ed25519_public_key(key.public_key_multibase)
    ).verified
    stored = WalletCredential.objects.get(format="ldp_vc")
    assert json.loads(stored.document) == document


def test_the_sd_jwt_vc_hides_the_learner_and_grade_and_binds_the_holder_key(
    wallet, held, access_token
):
    response = wallet.credential(access_token, oid4vci.SD_JWT)
    assert response.status_code == 200, response.content
    issued = response.json()["credentials"][0]["credential"]
    key = institution_selectors.active_signing_key(institution=held.institution)
    verified = sd_jwt.verify(issued, public_jwk=jose.public_jwk(key.private_key))
    assert verified.header["kid"] == key.verification_method
    assert verified.header["typ"] == "dc+sd-jwt"
    claims = verified.claims
    assert claims["iss"] == held.institution.did
    assert claims["vct"] == wi.vct_url()
    assert claims["cnf"]["jwk"] == jose.public_jwk(wallet.key)
    assert claims["name"] == held.holder_name and claims["grade"] == "8.5"
    clear = json.loads(base64url_decode(issued.split("~")[0].split(".")[1]))
    assert "name" not in clear and "grade" not in clear and "mail" not in clear
    row = WalletCredential.objects.get(format="dc+sd-jwt")
    assert row.token_status_list is not None
    assert claims["status"]["status_list"] == {
        "idx": row.token_status_index,
        "uri": row.token_status_list.url,
    }
    assert row.document == issued


def test_each_issuance_is_audited(wallet, access_token):
    wallet.credential(access_token, oid4vci.LDP_VC)
    event = AuditEvent.objects.get(action="wallet.credential_issued")
    assert event.detail["format"] == "ldp_vc"
    assert event.detail["holder_key"] == jose.thumbprint(jose.public_jwk(wallet.key))


def test_a_format_is_delivered_once_per_offer(wallet, access_token):
    assert wallet.credential(access_token, oid4vci.SD_JWT).status_code == 200
    again = wallet.credential(access_token, oid4vci.SD_JWT)
    assert again.status_code == 400
    assert error_of(again) == "credential_request_denied"


def test_a_proof_with_a_nonce_we_did_not_issue_is_an_invalid_nonce(wallet, access_token):
    response = wallet.credential(
        access_token, oid4vci.LDP_VC, wallet.proof(nonce="made-up-by-the-wallet")
    )
    assert error_of(response) == "invalid_nonce"


def test_a_nonce_is_used_once_and_the_refusal_says_so_with_a_fresh_one(wallet, access_token):
    nonce = wallet.nonce()
    assert (
        wallet.credential(access_token, oid4vci.LDP_VC, wallet.proof(nonce=nonce)).status_code
        == 200
    )
    again = wallet.credential(access_token, oid4vci.SD_JWT, wallet.proof(nonce=nonce))
    assert again.status_code == 400
    refusal = again.json()
    assert refusal["error"] == "invalid_nonce"
    # What a wallet can act on: the rule, where to get another, and one to use at once.
    assert "good for one credential request" in refusal["error_description"]
    assert wi.endpoints(wallet.institution).nonce in refusal["error_description"]
    assert refusal["c_nonce"] != nonce
    assert refusal["c_nonce_expires_in"] == wi.NONCE_LIFETIME.seconds
    fresh = wallet.proof(nonce=refusal["c_nonce"])
    assert wallet.credential(access_token, oid4vci.SD_JWT, fresh).status_code == 200


def test_a_proof_without_a_nonce_gets_one_in_the_refusal_as_the_drafts_expect(wallet, access_token):
    """Wallets of drafts up to 13 know no Nonce Endpoint: they sign their first proof without
    a nonce and take the c_nonce the invalid_proof error gives them."""
    head = {"typ": oid4vci.PROOF_TYPE, "jwk": jose.public_jwk(wallet.key)}
    bare = jose.sign_compact(head, {"aud": wallet.issuer, "iat": int(time.time())}, wallet.key)
    refusal = wallet.credential(access_token, oid4vci.LDP_VC, bare).json()
    assert refusal["error"] == "invalid_proof"
    proof = wallet.proof(nonce=refusal["c_nonce"])
    assert wallet.credential(access_token, oid4vci.LDP_VC, proof).status_code == 200


def test_a_refusal_a_new_nonce_would_not_mend_carries_none(wallet, access_token):
    proof = wallet.proof(nonce=wallet.nonce(), aud="https://elsewhere.example")
    refusal = wallet.credential(access_token, oid4vci.LDP_VC, proof).json()
    assert refusal["error"] == "invalid_proof"
    assert "c_nonce" not in refusal


@pytest.mark.date_sensitive
def test_an_expired_nonce_is_an_invalid_nonce(wallet, access_token, time_machine):
    nonce = wallet.nonce()
    time_machine.move_to(timezone.now() + wi.NONCE_LIFETIME + timedelta(seconds=5))
    response = wallet.credential(access_token, oid4vci.LDP_VC, wallet.proof(nonce=nonce))
    assert response.status_code in (400, 401)
    # The access token lives longer than a nonce, so the nonce is what is refused.
    assert error_of(response) == "invalid_nonce"


def test_a_proof_for_another_audience_is_an_invalid_proof(wallet, access_token):
    proof = wallet.proof(nonce=wallet.nonce(), aud="https://elsewhere.example")
    assert error_of(wallet.credential(access_token, oid4vci.LDP_VC, proof)) == "invalid_proof"


def test_a_proof_signed_by_another_key_than_its_jwk_is_an_invalid_proof(wallet, access_token):
    proof = wallet.proof(nonce=wallet.nonce(), signer=Ed25519PrivateKey.generate())
    response = wallet.credential(access_token, oid4vci.LDP_VC, proof)
    assert response.status_code == 400
    assert error_of(response) == "invalid_proof"


@pytest.mark.date_sensitive
def test_a_proof_of_the_wrong_type_or_too_old_is_an_invalid_proof(wallet, access_token):
    wrong_type = wallet.proof(nonce=wallet.nonce(), typ="JWT")
    assert error_of(wallet.credential(access_token, oid4vci.LDP_VC, wrong_type)) == "invalid_proof"
    stale = wallet.proof(nonce=wallet.nonce(), iat=int(time.time()) - 3600)
    assert error_of(wallet.credential(access_token, oid4vci.LDP_VC, stale)) == "invalid_proof"


def test_a_did_key_kid_names_the_holder_key_too(wallet, access_token):
    did = jose.holder_did(jose.public_jwk(wallet.key))
    head = {"typ": oid4vci.PROOF_TYPE, "kid": f"{did}#{did.removeprefix('did:key:')}"}
    payload = {"aud": wallet.issuer, "iat": int(time.time()), "nonce": wallet.nonce()}
    proof = jose.sign_compact(head, payload, wallet.key)
    response = wallet.credential(access_token, oid4vci.LDP_VC, proof)
    assert response.status_code == 200, response.content
    assert response.json()["credentials"][0]["credential"]["credentialSubject"]["id"] == did


def test_a_missing_or_unknown_access_token_is_an_invalid_token(wallet, offered):
    response = wallet.credential("not-a-token", oid4vci.LDP_VC)
    assert response.status_code == 401
    assert error_of(response) == "invalid_token"
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_an_unknown_configuration_and_a_missing_proof_are_refused_by_name(wallet, access_token):
    response = wallet.credential(access_token, "jwt_vc_json_whatever")
    assert error_of(response) == "unknown_credential_configuration"
    bare = wallet.client.post(
        wallet.url("credential"),
        json.dumps({"credential_configuration_id": oid4vci.LDP_VC}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {access_token}"},
    )
    assert error_of(bare) == "invalid_proof"


def post_credential_request(wallet, access_token, body):
    return wallet.client.post(
        wallet.url("credential"),
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {access_token}"},
    )


def test_a_single_proof_of_the_drafts_is_one_element_of_proofs(wallet, access_token):
    body = {
        "credential_configuration_id": oid4vci.SD_JWT,
        "proof": {"proof_type": "jwt", "jwt": wallet.proof(nonce=wallet.nonce())},
    }
    response = post_credential_request(wallet, access_token, body)
    assert response.status_code == 200, response.content
    (issued,) = WalletCredential.objects.all()
    assert issued.holder_jwk == jose.public_jwk(wallet.key)


@pytest.mark.parametrize(
    ("proof", "error"),
    [
        ("a-bare-string", "invalid_proof"),
        ({"proof_type": "ldp_vp", "ldp_vp": {}}, "invalid_proof"),
        ({"proof_type": "jwt", "jwt": ["one", "two"]}, "invalid_proof"),
    ],
)
def test_a_malformed_single_proof_is_refused_by_name(wallet, access_token, proof, error):
    body = {"credential_configuration_id": oid4vci.LDP_VC, "proof": proof}
    response = post_credential_request(wallet, access_token, body)
    assert response.status_code == 400
    assert error_of(response) == error
    assert not WalletCredential.objects.exists()


def test_a_request_with_both_proof_and_proofs_is_refused(wallet, access_token):
    """Two places for the key proof would leave which one binds the credential to guesswork."""
    jwt = wallet.proof(nonce=wallet.nonce())
    body = {
        "credential_configuration_id": oid4vci.LDP_VC,
        "proof": {"proof_type": "jwt", "jwt": jwt},
        "proofs": {"jwt": [jwt]},
    }
    response = post_credential_request(wallet, access_token, body)
    assert response.status_code == 400
    assert error_of(response) == "invalid_credential_request"
    assert "not both" in response.json()["error_description"]
    assert not WalletCredential.objects.exists()


def test_a_credential_revoked_after_the_token_is_refused(wallet, held, access_token):
    services.credential_revoke(credential=held, actor=None)
    response = wallet.credential(access_token, oid4vci.LDP_VC)
    assert error_of(response) == "credential_request_denied"


# Token Status List ------------------------------------------------------------------------------


def statuses_served(client, row) -> tuple[dict, bytes]:
    response = client.get(urlsplit(row.url).path)
    assert response["Content-Type"] == "application/statuslist+jwt"
    token = response.content.decode()
    key = institution_selectors.active_signing_key(institution=row.institution)
    header, payload = jose.verify_compact(
        token, jose.public_jwk(key.private_key), algorithms=("EdDSA",)
    )
    claims = json.loads(payload)
    packed = token_status_list.decode_lst(claims["status_list"]["lst"])
    return header | claims, packed


def test_status_changes_show_in_the_token_status_list(client, wallet, held, access_token):
    wallet.credential(access_token, oid4vci.SD_JWT)
    issued = WalletCredential.objects.get()
    row, index = issued.token_status_list, issued.token_status_index
    assert row is not None and index is not None
    served, packed = statuses_served(client, row)
    assert served["typ"] == "statuslist+jwt"
    assert served["sub"] == row.url
    assert served["status_list"]["bits"] == 2
    assert token_status_list.get_status(packed, index) == token_status_list.VALID
    for status, expected in [
        (CredentialStatus.SUSPENDED, token_status_list.SUSPENDED),
        (CredentialStatus.ISSUED, token_status_list.VALID),
        (CredentialStatus.REVOKED, token_status_list.INVALID),
        (CredentialStatus.REVOKED, token_status_list.INVALID),
    ]:
        wi.token_status_sync(credential=held, status=status)
        _served, packed = statuses_served(client, row)
        assert token_status_list.get_status(packed, index) == expected


def test_revoking_through_the_service_flips_the_token_status_bit(
    client, wallet, held, access_token
):
    wallet.credential(access_token, oid4vci.SD_JWT)
    issued = WalletCredential.objects.get()
    assert issued.token_status_index is not None
    services.credential_revoke(credential=held, actor=None)
    _served, packed = statuses_served(client, issued.token_status_list)
    assert token_status_list.get_status(packed, issued.token_status_index) == 1


# Hostile bodies --------------------------------------------------------------------------------


def oauth_refusal(response) -> str:
    """The RFC 6749 §5.2 error of a refused request: JSON, not stored, never Django's HTML page."""
    assert response.status_code == 400, response.content[:200]
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["error_description"]
    return body["error"]


def test_a_token_request_with_too_many_fields_gets_an_oauth_error(wallet, settings):
    fields = "&".join(f"f{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = wallet.client.post(
        wallet.url("token"), fields, content_type="application/x-www-form-urlencoded"
    )
    assert oauth_refusal(response) == "invalid_request"


def test_an_oversized_token_request_gets_an_oauth_error(wallet, settings):
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = wallet.client.post(
        wallet.url("token"),
        f"grant_type={oid4vci.PRE_AUTHORIZED_CODE_GRANT}&pad={padding}",
        content_type="application/x-www-form-urlencoded",
    )
    assert oauth_refusal(response) == "invalid_request"


def test_an_oversized_credential_request_gets_an_oauth_error(wallet, access_token, settings):
    response = wallet.client.post(
        wallet.url("credential"),
        json.dumps({"pad": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {access_token}"},
    )
    assert oauth_refusal(response) == "invalid_request"


def test_an_oversized_request_with_a_single_proof_still_gets_an_oauth_error(
    wallet, access_token, settings
):
    body = {
        "credential_configuration_id": oid4vci.LDP_VC,
        "proof": {"proof_type": "jwt", "jwt": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)},
    }
    response = post_credential_request(wallet, access_token, body)
    assert oauth_refusal(response) == "invalid_request"


def test_a_credential_request_with_too_many_form_fields_gets_an_oauth_error(wallet, access_token):
    fields = "&".join(f"f{n}=1" for n in range(100_000))
    response = wallet.client.post(
        wallet.url("credential"),
        fields,
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Bearer {access_token}"},
    )
    assert oauth_refusal(response) == "invalid_credential_request"


@pytest.mark.parametrize(
    ("now", "until"),
    [
        ("2026-01-15T01:51:00+01:00", "until 02:01 CET."),  # winter time in Brussels
        ("2027-07-15T01:51:00+02:00", "until 02:01 CEST."),  # summer time
    ],
)
def test_the_pin_e_mail_says_until_when_in_24_hour_time_naming_the_zone(
    time_machine, django_capture_on_commit_callbacks, now, until
):
    time_machine.move_to(now, tick=False)
    learner = UserFactory(email="ana@example.eu")
    credential = held_credential(learner)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        wi.wallet_offer_create(user=learner, credential=credential)
    (message,) = mail.outbox
    assert until in message.body
    assert ".." not in message.body
    assert pin_in(message)
