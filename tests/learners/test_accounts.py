import json
import re
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.account.models import EmailAddress
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_sign_up_verify_email_then_sign_in(client):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "lea@example.org",
            "name": "Lea Learner",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="lea@example.org")
    assert user.name == "Lea Learner"
    assert not EmailAddress.objects.get(user=user).verified

    assert len(mail.outbox) == 1

    # Until the address is verified, signing in only points back to the e-mailed link.
    client.logout()
    response = client.post(
        reverse("account_login"), {"login": "lea@example.org", "password": PASSWORD}
    )
    assert response.url == reverse("account_email_verification_sent")
    assert client.get(reverse("learners:wallet")).status_code == 302

    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", str(mail.outbox[0].body))
    assert link is not None
    path = urlsplit(link.group(0)).path
    response = client.post(path)
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified

    client.logout()
    response = client.post(
        reverse("account_login"), {"login": "LEA@example.org", "password": PASSWORD}
    )
    assert response.url == reverse("dashboard")
    assert client.get(reverse("dashboard")).url == reverse("learners:wallet")


def test_sign_in_with_a_wrong_password_says_so(client):
    UserFactory(email="lea@example.org")
    response = client.post(
        reverse("account_login"), {"login": "lea@example.org", "password": "nope"}
    )
    assert response.status_code == 200
    assert "The e-mail address or the password is not correct." in response.text


def test_password_reset_sends_a_link(client):
    UserFactory(email="lea@example.org")
    response = client.post(reverse("account_reset_password"), {"email": "lea@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


class DiscoveryHandler(BaseHTTPRequestHandler):
    """An OpenID provider's discovery document, as an institution's IdP would serve it."""

    def do_GET(self) -> None:
        base = self.server.base_url  # type: ignore[attr-defined]  # set by the fixture below
        body = json.dumps(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token",
                "userinfo_endpoint": f"{base}/userinfo",
                "jwks_uri": f"{base}/jwks",
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def identity_provider():
    server = HTTPServer(("127.0.0.1", 0), DiscoveryHandler)
    server.base_url = f"http://127.0.0.1:{server.server_port}"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.base_url  # type: ignore[attr-defined]
    server.shutdown()


def test_a_generic_oidc_provider_is_switched_on_by_settings(client, settings, identity_provider):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": "campus",
                    "name": "Campus Login",
                    "client_id": "meshe-node",
                    "secret": "s3cret",
                    "settings": {"server_url": identity_provider},
                }
            ],
            "OAUTH_PKCE_ENABLED": True,
        }
    }
    login_page = client.get(reverse("account_login"))
    assert "Campus Login" in login_page.text

    response = client.post("/accounts/oidc/campus/login/")
    assert response.status_code == 302
    target = urlsplit(response.url)
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{identity_provider}/authorize"
    query = parse_qs(target.query)
    assert query["client_id"] == ["meshe-node"]
    assert query["code_challenge_method"] == ["S256"]
    assert "openid" in query["scope"][0]


def self_signed_certificate() -> str:
    """The base64 body of a throw-away X.509 certificate, as an IdP's metadata gives it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.campus.example")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    return "".join(pem.strip().splitlines()[1:-1])


def test_an_institutional_saml_idp_is_switched_on_by_settings(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "saml": {
            "APPS": [
                {
                    "name": "Aldermoor University Login",
                    "provider_id": "https://idp.campus.example/metadata",
                    "client_id": "aldermoor",
                    "settings": {
                        "idp": {
                            "entity_id": "https://idp.campus.example/metadata",
                            "sso_url": "https://idp.campus.example/sso",
                            "x509cert": self_signed_certificate(),
                        }
                    },
                }
            ]
        }
    }
    assert "Aldermoor University Login" in client.get(reverse("account_login")).text
    settings.ALLOWED_HOSTS = ["meshe.uni-a.eu"]
    response = client.post(
        "/accounts/saml/aldermoor/login/", HTTP_HOST="meshe.uni-a.eu", secure=True
    )
    assert response.status_code == 302
    target = urlsplit(response.url)
    assert f"{target.scheme}://{target.netloc}{target.path}" == "https://idp.campus.example/sso"
    assert "SAMLRequest" in parse_qs(target.query)
