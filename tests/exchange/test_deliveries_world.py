"""Shared set-up for the delivery tests: two institutions on one node, partnered both ways.

No tests here; the delivery, outbox and incoming tests import these helpers.
"""

from datetime import date

from django.test import Client

from credentials import services as credential_services
from credentials.models import IssuedCredential
from exchange.manifest import endpoint_urls
from exchange.models import Partner, PartnerStatus
from institutions import selectors as institution_selectors
from institutions.models import Institution, Role
from learners.models import User
from tests.factories import InstitutionFactory, MembershipFactory, MicroCredentialFactory


def pinned_keys_of(institution: Institution) -> list[dict[str, str]]:
    key = institution_selectors.active_signing_key(institution=institution)
    return [{"id": key.verification_method, "publicKeyMultibase": key.public_key_multibase}]


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
