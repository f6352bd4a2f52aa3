import pytest
from django.urls import reverse

from credentials.models import IssuedCredential
from learners.models import PublicProfile
from tests.factories import MicroCredentialFactory, UserFactory
from tests.learners.holding import held_credential

pytestmark = pytest.mark.django_db

EDIT = reverse("learners:profile")


def test_a_learner_switches_on_a_profile_listing_the_credentials_they_choose(logged_in, client):
    learner = UserFactory(name="Ana Kowalska")
    shown = held_credential(learner, MicroCredentialFactory(title="Shown on profile"))
    held_credential(learner, MicroCredentialFactory(title="Kept private"))
    owner = logged_in(learner)
    response = owner.post(
        EDIT,
        {
            "is_public": "on",
            "slug": "ana-k",
            "headline": "Policy analyst",
            "credentials": [shown.pk],
        },
    )
    assert response.status_code == 302
    owner.logout()
    page = client.get("/p/ana-k")
    assert page.status_code == 200
    assert "Ana Kowalska" in page.text and "Policy analyst" in page.text
    assert "Shown on profile" in page.text
    assert "Kept private" not in page.text
    assert shown.get_absolute_url() in page.text


def test_a_blank_address_gets_a_generated_one(logged_in):
    learner = UserFactory(name="Ana Kowalska")
    logged_in(learner).post(EDIT, {"is_public": "on"})
    assert PublicProfile.objects.get(user=learner).slug.startswith("ana-kowalska-")


def test_a_profile_is_404_until_switched_on_and_after_switched_off(logged_in, client):
    learner = UserFactory()
    owner = logged_in(learner)
    owner.post(EDIT, {"slug": "quiet"})
    owner.logout()
    assert client.get("/p/quiet").status_code == 404
    owner.force_login(learner)
    owner.post(EDIT, {"slug": "quiet", "is_public": "on"})
    owner.logout()
    assert client.get("/p/quiet").status_code == 200


def test_an_address_someone_else_has_is_a_form_error(logged_in):
    logged_in(UserFactory()).post(EDIT, {"slug": "taken", "is_public": "on"})
    response = logged_in(UserFactory()).post(EDIT, {"slug": "taken", "is_public": "on"})
    assert response.status_code == 400
    assert "The address taken is taken" in response.text


def test_another_learners_credential_cannot_be_put_on_a_profile(logged_in):
    theirs = held_credential(UserFactory())
    learner = UserFactory()
    response = logged_in(learner).post(
        EDIT, {"slug": "mine", "is_public": "on", "credentials": [theirs.pk]}
    )
    assert response.status_code == 400
    assert not PublicProfile.objects.filter(user=learner).exists()


def test_a_credential_that_left_the_wallet_leaves_the_profile(logged_in, client):
    learner = UserFactory()
    credential = held_credential(learner)
    logged_in(learner).post(
        EDIT, {"slug": "ana", "is_public": "on", "credentials": [credential.pk]}
    )
    IssuedCredential.objects.filter(pk=credential.pk).update(holder=None)
    client.logout()
    assert credential.version.title not in client.get("/p/ana").text
