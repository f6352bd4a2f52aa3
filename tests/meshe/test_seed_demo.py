import pytest
from django.core.management import call_command

from credentials import verifier
from credentials.models import IssuedCredential, MicroCredential
from institutions.models import Institution, Membership
from learners.models import User


@pytest.mark.django_db
def test_seed_demo_creates_two_institutions_with_staff_and_learners():
    call_command("seed_demo")
    assert set(Institution.objects.values_list("slug", flat=True)) == {"uni-a", "uni-b"}
    assert Membership.objects.filter(institution__slug="uni-a", role="admin").exists()
    assert User.objects.filter(email="learner@example.org", memberships__isnull=True).exists()
    credential = IssuedCredential.objects.filter(holder_email="learner@example.org").first()
    assert credential is not None
    assert verifier.verify(credential.document)["verified"]


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing():
    call_command("seed_demo")

    def counts() -> tuple[int, ...]:
        return tuple(
            model.objects.count()
            for model in (Institution, User, Membership, MicroCredential, IssuedCredential)
        )

    before = counts()
    call_command("seed_demo")
    assert counts() == before
