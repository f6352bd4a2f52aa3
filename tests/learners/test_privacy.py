import io
import json
import zipfile

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from accounts.models import User
from credentials.issuing.verifier import verify
from credentials.models import CredentialEvent, IssuedCredential
from learners import services as learner_services
from learners.exceptions import WalletError
from learners.models import ImportedCredential, LearnerEvent, PublicProfile, ShareLink
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from tests.learners.elsewhere import signed_elsewhere
from tests.learners.holding import held_credential

pytestmark = pytest.mark.django_db

EXPORT = reverse("learners:export")
DELETE = reverse("learners:delete")


def full_wallet() -> tuple[User, IssuedCredential, ShareLink, ImportedCredential]:
    learner = UserFactory(name="Ana Kowalska")
    EmailAddress.objects.create(user=learner, email="ana.other@example.eu", verified=False)
    credential = held_credential(learner)
    link = learner_services.share_link_create(user=learner, credential=credential, label="CV")
    imported = learner_services.credential_import(user=learner, raw=signed_elsewhere())
    learner_services.profile_save(
        user=learner, is_public=True, slug="ana", credentials=[credential]
    )
    return learner, credential, link, imported


def test_the_download_holds_account_json_and_every_document_verbatim(logged_in):
    learner, credential, link, imported = full_wallet()
    response = logged_in(learner).post(EXPORT)
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="meshe-data-')
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == [
        "account.json",
        f"credentials/{credential.public_id}.json",
        f"imported/{imported.public_id}.json",
    ]
    assert archive.read(f"credentials/{credential.public_id}.json").decode() == credential.document
    assert archive.read(f"imported/{imported.public_id}.json").decode() == imported.document
    account = json.loads(archive.read("account.json"))
    assert account["account"]["email"] == learner.email
    assert account["account"]["name"] == "Ana Kowalska"
    assert {a["email"] for a in account["email_addresses"]} == {
        learner.email,
        "ana.other@example.eu",
    }
    assert account["credentials"][0]["id"] == credential.credential_id
    assert account["share_links"][0]["url"].endswith(f"/s/{link.slug}")
    assert account["share_links"][0]["label"] == "CV"
    assert account["imported_credentials"][0]["verification"]["verified"] is True
    assert account["public_profile"]["credentials"] == [credential.credential_id]
    assert {event["action"] for event in account["activity"]} >= {"share_created", "imported"}
    assert LearnerEvent.objects.filter(user=learner, action="data_exported").count() == 1


def test_the_download_is_post_only_and_for_the_signed_in_learner(logged_in, client):
    assert client.post(EXPORT).status_code == 302  # to sign in
    assert logged_in(UserFactory()).get(EXPORT).status_code == 405


def test_deleting_asks_for_the_password_and_a_wrong_one_deletes_nothing(logged_in):
    learner, *_ = full_wallet()
    client = logged_in(learner)
    assert "Your password" in client.get(DELETE).text
    response = client.post(DELETE, {"password": "wrong"})
    assert response.status_code == 400
    assert "That is not your password." in response.text
    assert User.objects.filter(pk=learner.pk).exists()


def test_deleting_erases_personal_data_and_detaches_issued_credentials(logged_in, client):
    learner, credential, link, _imported = full_wallet()
    owner = logged_in(learner)
    response = owner.post(DELETE, {"password": PASSWORD}, follow=True)
    assert "Your account and personal data are deleted." in response.text
    assert not User.objects.filter(pk=learner.pk).exists()
    assert not EmailAddress.objects.filter(
        email__in=[learner.email, "ana.other@example.eu"]
    ).exists()
    assert not ShareLink.objects.exists()
    assert not ImportedCredential.objects.exists()
    assert not PublicProfile.objects.exists()
    assert list(LearnerEvent.objects.values_list("user", "action", "subject")) == [
        (None, "account_deleted", "1 issued credentials detached")
    ]
    # The issued credential stays, valid, with nobody's account attached.
    credential.refresh_from_db()
    assert credential.holder is None
    assert verify(credential.document)["verified"] is True
    assert (
        CredentialEvent.objects.filter(credential=credential, action="claimed").get().actor is None
    )
    # Signed out, and the share link is gone.
    assert owner.get(reverse("learners:wallet")).status_code == 302
    assert client.get(f"/s/{link.slug}").status_code == 404
    assert client.get("/p/ana").status_code == 404


def test_an_account_without_a_password_confirms_by_typing_its_address(logged_in):
    learner = UserFactory(email="sso@example.eu")
    learner.set_unusable_password()
    learner.save()
    client = logged_in(learner)
    assert "Type your e-mail address to confirm" in client.get(DELETE).text
    assert client.post(DELETE, {"confirmation": "someone@else"}).status_code == 400
    assert client.post(DELETE, {"confirmation": " SSO@example.eu "}).status_code == 302
    assert not User.objects.filter(pk=learner.pk).exists()


def test_staff_must_leave_their_institution_before_deleting(logged_in):
    membership = MembershipFactory(institution__name="Aldermoor")
    response = logged_in(membership.user).post(DELETE, {"password": PASSWORD})
    assert response.status_code == 400
    assert "You are on the staff of Aldermoor" in response.text
    assert User.objects.filter(pk=membership.user_id).exists()


def test_deleting_is_all_or_nothing(monkeypatch):
    learner, credential, *_ = full_wallet()

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(User, "delete", fail)
    with pytest.raises(RuntimeError):
        learner_services.account_delete(user=learner)
    credential.refresh_from_db()
    assert credential.holder_id == learner.pk
    assert ShareLink.objects.count() == ImportedCredential.objects.count() == 1
    assert EmailAddress.objects.filter(user=learner).count() == 2


def test_an_address_of_a_deleted_account_can_sign_up_again_and_gets_its_credentials_back():
    learner, credential, *_ = full_wallet()
    email = learner.email
    learner_services.account_delete(user=learner)
    again = UserFactory(email=email)
    assert learner_services.credentials_attach(user=again) == 1
    credential.refresh_from_db()
    assert credential.holder == again


def test_staff_cannot_be_deleted_through_the_service_either():
    membership = MembershipFactory()
    with pytest.raises(WalletError):
        learner_services.account_delete(user=membership.user)
