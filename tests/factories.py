from datetime import timedelta
from decimal import Decimal

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from credentials.models import MicroCredential
from institutions import services
from institutions.models import Institution, Invitation, Membership, Role
from learners.models import User

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
