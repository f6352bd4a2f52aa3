"""Learners holding credentials: issued by the portal and attached or claimed by link, or
imported."""

import hashlib
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import factory
from django.core import mail

from accounts.models import User
from credentials.issuing import services as credential_services
from credentials.models import IssuedCredential
from exchange.models import Partner, PartnerStatus
from learners import services as learner_services
from learners.models import ImportedCredential
from tests.factories import InstitutionFactory, MicroCredentialFactory, UserFactory, issue
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
    holder = ImportedCredential.Holder.ADDRESS
    verification = factory.LazyFunction(
        lambda: {
            "verified": True,
            "checks": [
                {"check": "proof", "ok": True, "detail": ""},
                {"check": "issuer_key", "ok": True, "detail": ""},
            ],
            "errors": [],
            "warnings": [],
        }
    )
    verified_at = datetime(2024, 3, 2, tzinfo=UTC)


UNI_X = "did:web:uni-x.example"


def uni_x_is_a_partner(name: str = "Universidad de Ejemplo") -> Partner:
    """Makes the factory's issuer (UNI_X) a partner both sides confirmed: one this portal knows.
    Idempotent."""
    known = Partner.objects.filter(did=UNI_X, status=PartnerStatus.CONFIRMED).first()
    if known is not None:
        return known
    return Partner.objects.create(
        institution=InstitutionFactory(),
        base_url="https://uni-x.example",
        did=UNI_X,
        name=name,
        status=PartnerStatus.CONFIRMED,
    )


def issued_with_link(**overrides) -> tuple[IssuedCredential, str]:
    """A credential whose learner was mailed the claim link, and the link's token."""
    credential = issue(**overrides)
    credential_services.holder_notify(credential_id=credential.pk)
    credential.refresh_from_db()
    return credential, claim_token(mail.outbox[-1])


def everything_in_a_wallet(learner: User) -> None:
    """Gives the learner 5 ECTS issued here and 3 imported from a partner (8 theirs, valid and
    known), and keeps 4 from an issuer that only calls itself a university, 4 of another
    person's and a revoked 2 (none counted)."""
    held_credential(learner, MicroCredentialFactory(title="Statistics", ects=Decimal("5")))
    revoked = held_credential(
        learner, MicroCredentialFactory(title="Ethics of AI", ects=Decimal("2"))
    )
    credential_services.credential_revoke(credential=revoked, actor=None, reason="x")
    uni_x_is_a_partner()
    ImportedCredentialFactory(owner=learner, title="From the partner", ects=Decimal("3"))
    ImportedCredentialFactory(
        owner=learner,
        title="From a self-declared university",
        issuer_id="did:key:z6MkselfDeclared",
        issuer_name="University of Aldermoor",
        ects=Decimal("4"),
    )
    ImportedCredentialFactory(
        owner=learner,
        title="Nora's",
        holder=ImportedCredential.Holder.OTHER,
        ects=Decimal("4"),
    )


def as_if_issued_elsewhere() -> None:
    """Gives every credential issued here another public id, so that their signed documents
    (whose ids no longer name a credential of this portal) import as another node's would: the
    wallet refuses an import of a credential issued here (its claim link adds it)."""
    for credential in IssuedCredential.objects.all():
        IssuedCredential.objects.filter(pk=credential.pk).update(public_id=uuid.uuid4())
