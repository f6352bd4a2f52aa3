from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

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
