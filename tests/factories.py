import json
from datetime import date, timedelta
from decimal import Decimal

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import User
from credentials.catalogue import pathway_services
from credentials.issuing import services as credential_services
from credentials.models import IssuedCredential, MicroCredential, Pathway
from institutions import services
from institutions.models import ApiScope, Institution, Invitation, Membership, Role

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified_email(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class InstitutionFactory(factory.django.DjangoModelFactory[Institution]):
    class Meta:
        model = Institution
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"uni-{n}")
    name = factory.Sequence(lambda n: f"University {n}")
    country = "BE"
    require_mfa = False

    @factory.post_generation
    def signing_key(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            services.signing_key_rotate(actor=None, institution=self)


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    institution = factory.SubFactory(InstitutionFactory)
    role = Role.ADMIN


class InvitationFactory(factory.django.DjangoModelFactory[Invitation]):
    class Meta:
        model = Invitation

    institution = factory.SubFactory(InstitutionFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.org")
    role = Role.ISSUER
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))


EQF_6 = "http://data.europa.eu/snb/eqf/6"
WRITTEN_EXAMINATION = "http://data.europa.eu/snb/assessment/6e6cb2cc78"
BLENDED = "http://data.europa.eu/snb/learning-assessment/e92d221e4d"
INSTITUTIONAL_EVALUATION = "http://data.europa.eu/snb/accreditation/003293d2ce"


class MicroCredentialFactory(factory.django.DjangoModelFactory[MicroCredential]):
    class Meta:
        model = MicroCredential

    institution = factory.SubFactory(InstitutionFactory)
    status = MicroCredential.Status.PUBLISHED
    title = factory.Sequence(lambda n: f"Data Literacy {n}")
    description = "Reading, questioning and communicating data in public policy work."
    learning_outcomes = factory.LazyFunction(
        lambda: [
            {
                "text": "Interpret descriptive statistics in policy reports.",
                "esco": [
                    {
                        "uri": "http://data.europa.eu/esco/skill/7dd94ad3-13d6-43fe-8b94-51fcbf67ced9",
                        "label": "think critically",
                    }
                ],
            }
        ]
    )
    ects = Decimal("5")
    workload_hours = 140
    eqf_level = EQF_6
    assessment_type = WRITTEN_EXAMINATION
    form_of_participation = BLENDED
    quality_assurance = INSTITUTIONAL_EVALUATION


def issue(micro_credential=None, **overrides) -> IssuedCredential:
    """A credential issued by the services, to Ana Kowalska unless overridden."""
    micro_credential = micro_credential or MicroCredentialFactory()
    fields = {
        "actor": None,
        "institution": micro_credential.institution,
        "micro_credential": micro_credential,
        "holder_name": "Ana Kowalska",
        "holder_email": "ana@example.eu",
        "awarded_date": date(2026, 11, 20),
        **overrides,
    }
    return credential_services.credential_issue(**fields)


def issue_many(count: int, micro_credential=None) -> list[IssuedCredential]:
    """`count` credentials issued in one batch, to learner0@example.eu and on."""
    micro_credential = micro_credential or MicroCredentialFactory()
    return credential_services.credential_issue_many(
        actor=None,
        institution=micro_credential.institution,
        micro_credential=micro_credential,
        recipients=[
            credential_services.Recipient(
                holder_name=f"Learner {n}",
                holder_email=f"learner{n}@example.eu",
                awarded_date=date(2026, 11, 20),
            )
            for n in range(count)
        ],
    )


ALL_SCOPES = list(ApiScope.values)
# A recipient as the issuer API takes it.
LEARNER = {
    "holder_name": "Ana Kowalska",
    "holder_email": "ana@example.eu",
    "awarded_date": "2026-06-30",
}


def make_token(institution, *, scopes=ALL_SCOPES, revoked: bool = False) -> str:
    """An issuer API token's secret, created by a new admin of the institution."""
    admin = MembershipFactory(institution=institution)
    token, text = services.api_token_create(
        actor=admin.user, institution=institution, name="SIS", scopes=scopes
    )
    if revoked:
        services.api_token_revoke(actor=admin.user, token=token)
    return text


# A partner's specification that a_pathway counts as one of its parts.
PARTNER = "https://partner.example/spec/ethics"


def imported_document(url: str) -> str:
    """An imported credential's document, as much of it as names its achievement."""
    return json.dumps(
        {"type": ["VerifiableCredential"], "credentialSubject": {"achievement": {"id": url}}}
    )


def a_pathway(rule: str = "all_of", **fields) -> tuple[Pathway, list]:
    """A published pathway of two local parts (one of another institution) and a partner's."""
    awards = MicroCredentialFactory(title="Master of Data")
    own = MicroCredentialFactory(institution=awards.institution, title="Statistics")
    other = MicroCredentialFactory(title="Ethics of AI")
    pathway = pathway_services.pathway_save(
        actor=None,
        institution=awards.institution,
        title="Data pathway",
        rule=rule,
        awards=awards,
        **fields,
    )
    for part in (own, other):
        pathway_services.pathway_component_add(actor=None, pathway=pathway, micro_credential=part)
    pathway_services.pathway_component_add(
        actor=None,
        pathway=pathway,
        external_url=PARTNER,
        external_title="Partner ethics",
        external_ects=Decimal("3"),
    )
    pathway = pathway_services.pathway_set_status(
        actor=None, pathway=pathway, status=Pathway.Status.PUBLISHED
    )
    return pathway, [own, other]
