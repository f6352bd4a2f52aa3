"""Learners holding credentials: issued by the portal and attached or claimed by link, or
imported."""

import hashlib
from datetime import UTC, datetime
from decimal import Decimal

import factory
from django.core import mail

from accounts.models import User
from credentials.issuing import services as credential_services
from credentials.models import IssuedCredential
from learners import services as learner_services
from learners.models import ImportedCredential
from tests.factories import UserFactory, issue
from tests.mail import claim_token


def held_credential(learner: User, micro_credential=None, **overrides) -> IssuedCredential:
    """A credential issued to the learner's address and attached to their wallet."""
    credential = issue(micro_credential, holder_email=learner.email, **overrides)
    learner_services.credentials_attach(user=learner)
    credential.refresh_from_db()
    return credential


class ImportedCredentialFactory(factory.django.DjangoModelFactory[ImportedCredential]):
    """A row as credential_import leaves it, without signing a document for it."""

    class Meta:
        model = ImportedCredential

    owner = factory.SubFactory(UserFactory)
    format = ImportedCredential.Format.VC
    document = factory.Sequence(lambda n: f'{{"n": {n}}}')
    digest = factory.LazyAttribute(lambda o: hashlib.sha256(o.document.encode()).hexdigest())
    title = factory.Sequence(lambda n: f"Imported course {n}")
    issuer_id = "did:web:uni-x.example"
    issuer_name = "Universidad de Ejemplo"
    issued_at = datetime(2024, 3, 1, tzinfo=UTC)
    ects = Decimal("3")
    eqf_level = "http://data.europa.eu/snb/eqf/7"
    verification = factory.LazyFunction(
        lambda: {"verified": True, "checks": [], "errors": [], "warnings": []}
    )
    verified_at = datetime(2024, 3, 2, tzinfo=UTC)


def issued_with_link(**overrides) -> tuple[IssuedCredential, str]:
    """A credential whose learner was mailed the claim link, and the link's token."""
    credential = issue(**overrides)
    credential_services.holder_notify(credential_id=credential.pk)
    credential.refresh_from_db()
    return credential, claim_token(mail.outbox[-1])
