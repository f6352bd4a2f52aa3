"""Partner worlds for the exchange tests: two institutions on one node, partnered both ways,
and requests signed by a partner to this node's exchange endpoints.

The signed-request helpers post to the test urlconf's tiny endpoints: a test module using them
sets `pytest.mark.urls("tests.exchange.inbound_urls")`.
"""

import secrets
import time
from datetime import date

from django.conf import settings
from django.test import Client

from accounts.models import User
from credentials.issuing import services as credential_services
from credentials.models import IssuedCredential
from credentials.standards.multiformats import decode_ed25519_public_key
from exchange import http_signatures as hs
from exchange.manifest import endpoint_urls
from exchange.models import Partner, PartnerStatus
from institutions import selectors as institution_selectors
from institutions.models import Institution, Role
from tests.factories import InstitutionFactory, MembershipFactory, MicroCredentialFactory


def pinned_keys_of(institution: Institution) -> list[dict[str, str]]:
    key = institution_selectors.active_signing_key(institution=institution)
    return [{"id": key.verification_method, "publicKeyMultibase": key.public_key_multibase}]


def keys_of(institution: Institution) -> list[dict[str, str]]:
    """Every signing key of the institution, as a partner pins them."""
    return [
        {"id": key.verification_method, "publicKeyMultibase": key.public_key_multibase}
        for key in institution.signing_keys.all()
    ]


def partner_row(
    institution: Institution,
    other: Institution,
    *,
    base_url: str = "http://127.0.0.1:9",
    status: str = PartnerStatus.CONFIRMED,
) -> Partner:
    """`institution`'s Partner row for `other`, whose endpoints are at base_url."""
    return Partner.objects.create(
        institution=institution,
        base_url=base_url,
        did=other.did,
        name=other.name,
        country=other.country,
        endpoints=endpoint_urls(base_url=base_url, slug=other.slug),
        pinned_keys=pinned_keys_of(other),
        status=status,
    )


def two_partners(
    *, base_url: str = "http://127.0.0.1:9"
) -> tuple[Institution, Institution, Partner, Partner]:
    """University A and University B, and each one's Partner row for the other."""
    uni_a = InstitutionFactory(slug="uni-a", name="University A", country="PT")
    uni_b = InstitutionFactory(slug="uni-b", name="University B", country="DE")
    return (
        uni_a,
        uni_b,
        partner_row(uni_a, uni_b, base_url=base_url),
        partner_row(uni_b, uni_a, base_url=base_url),
    )


def issue(institution: Institution, *, holder: User | None = None, **overrides) -> IssuedCredential:
    fields = {
        "holder_name": "Ana Kowalska",
        "holder_email": holder.email if holder else "ana@example.eu",
        "awarded_date": date(2026, 1, 20),
        **overrides,
    }
    credential = credential_services.credential_issue(
        actor=None,
        institution=institution,
        micro_credential=MicroCredentialFactory(institution=institution, title="Data Literacy"),
        **fields,
    )
    if holder is not None:
        IssuedCredential.objects.filter(pk=credential.pk).update(holder=holder)
        credential.holder = holder
    return credential


def staff_client(institution: Institution, role: str = Role.ADMIN) -> tuple[Client, User]:
    membership = MembershipFactory(institution=institution, role=role)
    client = Client()
    client.force_login(membership.user)
    return client, membership.user


def partnership(*, status: str = PartnerStatus.CONFIRMED, keys=None) -> tuple[Partner, Institution]:
    """A receiver hosted here and a Partner row for a sender hosted here too, so the sender's
    DID document resolves from the database."""
    receiver, sender = InstitutionFactory(), InstitutionFactory()
    partner = Partner.objects.create(
        institution=receiver,
        base_url=settings.MESHE_BASE_URL,
        did=sender.did,
        name=sender.name,
        status=status,
        pinned_keys=pinned_keys_of(sender) if keys is None else keys,
    )
    return partner, sender


def send(
    client,
    *,
    sender: Institution,
    slug: str,
    name: str = "echo",
    body: bytes = b'{"ping":"p-1"}',
    created: int | None = None,
    nonce: str | None = None,
    sent_body: bytes | None = None,
):
    """POSTs body signed by sender's active key; returns the answer and the signed request."""
    path = f"/exchange/v1/{slug}/{name}"
    key = institution_selectors.active_signing_key(institution=sender)
    message = hs.Message(
        method="POST",
        target_uri=settings.MESHE_BASE_URL + path,
        headers={"Content-Type": "application/json"},
        body=body,
    )
    added = hs.sign_request(
        message,
        private_key=key.private_key,
        key_id=key.verification_method,
        created=int(time.time()) if created is None else created,
        nonce=nonce or secrets.token_urlsafe(16),
    )
    response = client.post(
        path,
        data=body if sent_body is None else sent_body,
        content_type="application/json",
        headers=added,
    )
    return response, hs.Message(
        message.method, message.target_uri, {**message.headers, **added}, body
    )


def answer_verifies(response, request: hs.Message, receiver: Institution) -> bool:
    keys = {
        entry["id"]: decode_ed25519_public_key(entry["publicKeyMultibase"])
        for entry in pinned_keys_of(receiver)
    }
    result = hs.verify_response(
        hs.Response(response.status_code, dict(response.headers), response.content),
        request=request,
        public_key_for=keys.get,
        now=int(time.time()),
        seen_nonce=lambda key_id, nonce: False,
    )
    return result.ok


def reason(response) -> str:
    assert response["Content-Type"] == "application/problem+json"
    return response.json()["reason"]
