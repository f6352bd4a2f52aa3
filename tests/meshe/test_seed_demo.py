import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from credentials.issuing import verifier
from credentials.models import IssuedCredential, MicroCredential
from institutions.models import Institution, Membership


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


@pytest.mark.django_db
def test_seed_demo_with_one_institution_creates_only_that_one_and_its_staff():
    call_command("seed_demo", "--institution", "uni-b")
    assert list(Institution.objects.values_list("slug", flat=True)) == ["uni-b"]
    assert set(Membership.objects.values_list("user__email", flat=True)) == {"admin@uni-b.example"}
    assert not User.objects.filter(email__endswith="@uni-a.example").exists()
    assert set(MicroCredential.objects.values_list("institution__slug", flat=True)) == {"uni-b"}
    assert set(IssuedCredential.objects.values_list("institution__slug", flat=True)) == {"uni-b"}


@pytest.mark.django_db
def test_seed_demo_with_named_institutions_twice_changes_nothing():
    call_command("seed_demo", "--institution", "uni-a", "--institution", "uni-b")
    before = IssuedCredential.objects.count(), Membership.objects.count()
    call_command("seed_demo", "--institution", "uni-a", "--institution", "uni-b")
    assert (IssuedCredential.objects.count(), Membership.objects.count()) == before
    assert set(Institution.objects.values_list("slug", flat=True)) == {"uni-a", "uni-b"}


@pytest.mark.django_db
def test_seed_demo_with_an_unknown_institution_fails_naming_the_known_ones():
    with pytest.raises(
        CommandError, match=r"Unknown demo institution uni-z: choose from uni-a, uni-b"
    ):
        call_command("seed_demo", "--institution", "uni-a", "--institution", "uni-z")
    assert not Institution.objects.exists()


@pytest.mark.django_db
def test_seed_demo_warns_when_the_database_was_seeded_for_another_port(settings):
    settings.MESHE_BASE_URL = "http://127.0.0.1:8000"
    quiet = io.StringIO()
    call_command("seed_demo", "--institution", "uni-a", stderr=quiet)
    assert quiet.getvalue() == ""

    settings.MESHE_BASE_URL = "http://127.0.0.1:9000"
    warned = io.StringIO()
    call_command("seed_demo", "--institution", "uni-a", stderr=warned)
    assert "signed as did:web:127.0.0.1%3A8000:institutions:uni-a" in warned.getvalue()
    assert "do not verify at http://127.0.0.1:9000" in warned.getvalue()
