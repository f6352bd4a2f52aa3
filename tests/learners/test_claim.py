import html

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from credentials.issuing import services
from credentials.models import CredentialEvent, IssuedCredential
from learners import services as learner_services
from learners.exceptions import ClaimError
from tests.factories import UserFactory, issue
from tests.learners.holding import issued_with_link
from tests.mail import claim_token

pytestmark = pytest.mark.django_db


def test_the_learner_is_mailed_text_and_html_with_a_single_use_claim_link():
    credential, token = issued_with_link()
    message = mail.outbox[-1]
    assert message.to == ["ana@example.eu"]
    assert isinstance(message, mail.EmailMultiAlternatives)
    html = str(message.alternatives[0][0])
    assert f"/claim/{token}/" in html
    assert "Add it to my wallet" in html
    assert token not in credential.claim_token_hash  # only the hash is kept
    assert credential.events.filter(action=CredentialEvent.Action.NOTIFIED).count() == 1
    services.holder_notify(credential_id=credential.pk)  # a repeated task sends nothing
    assert len(mail.outbox) == 1


def test_claiming_with_the_verified_address_puts_it_in_the_wallet(logged_in):
    credential, token = issued_with_link()
    learner = UserFactory(email="ana@example.eu")
    client = logged_in(learner)
    response = client.post(reverse("learners:claim", kwargs={"token": token}), follow=True)
    assert "is in your wallet." in response.text
    assert credential.version.title in response.text
    credential.refresh_from_db()
    assert credential.holder == learner
    again = client.post(reverse("learners:claim", kwargs={"token": token}), follow=True)
    assert "already been used" in again.text


def test_a_claim_link_opened_by_someone_else_does_not_attach(logged_in):
    credential, token = issued_with_link()
    intruder = UserFactory(email="mallory@example.eu")
    response = logged_in(intruder).post(
        reverse("learners:claim", kwargs={"token": token}), follow=True
    )
    assert "was issued to ana@example.eu" in response.text
    credential.refresh_from_db()
    assert credential.holder is None


def test_an_unverified_address_is_not_enough():
    _credential, token = issued_with_link()
    learner = UserFactory(email="other@example.eu")
    EmailAddress.objects.create(user=learner, email="ana@example.eu", verified=False)
    with pytest.raises(ClaimError):
        learner_services.credential_claim(token=token, user=learner)


@pytest.mark.date_sensitive
def test_an_expired_link_is_refused_with_what_to_do():
    credential, token = issued_with_link()
    IssuedCredential.objects.filter(pk=credential.pk).update(claim_expires_at=timezone.now())
    with pytest.raises(ClaimError, match="expired"):
        learner_services.credential_claim(token=token, user=UserFactory(email="ana@example.eu"))


def test_a_resent_link_replaces_the_old_one(eager_celery, django_capture_on_commit_callbacks):
    credential, old = issued_with_link()
    with django_capture_on_commit_callbacks(execute=True):
        services.credential_resend_claim(credential=credential, actor=None)
    new = claim_token(mail.outbox[-1])
    assert new != old
    learner = UserFactory(email="ana@example.eu")
    with pytest.raises(ClaimError):
        learner_services.credential_claim(token=old, user=learner)
    assert learner_services.credential_claim(token=new, user=learner).holder == learner


def test_anonymous_visitors_are_asked_to_sign_in_first(client):
    _credential, token = issued_with_link()
    response = client.get(reverse("learners:claim", kwargs={"token": token}))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert f"claim%2F{token}" in response.url


def test_credentials_issued_before_sign_up_appear_once_the_address_is_verified(client):
    credential = issue(holder_email="Ana@Example.eu")
    learner = UserFactory(email="late@example.eu")
    EmailAddress.objects.create(user=learner, email="ana@example.eu", verified=True)
    assert learner_services.credentials_attach(user=learner) == 1
    credential.refresh_from_db()
    assert credential.holder == learner
    assert learner_services.credentials_attach(user=learner) == 0


def test_signing_in_attaches_what_was_issued_meanwhile(client):
    learner = UserFactory(email="ana@example.eu")
    credential = issue()
    client.post(
        reverse("account_login"),
        {"login": "ana@example.eu", "password": "correct-horse-battery-staple"},
    )
    credential.refresh_from_db()
    assert credential.holder == learner
    wallet = client.get(reverse("learners:wallet"))
    assert credential.version.title in wallet.text


def test_a_learner_never_sees_another_learners_credentials(logged_in):
    issue(holder_email="ana@example.eu")
    learner_services.credentials_attach(user=UserFactory(email="ana@example.eu"))
    other = UserFactory(email="ben@example.eu")
    wallet = logged_in(other).get(reverse("learners:wallet"))
    assert "Data Literacy" not in wallet.text


# The claim link names the credential, before and after signing in --------------------------


def claim_url(token: str) -> str:
    return reverse("learners:claim", kwargs={"token": token})


def test_the_sign_in_and_sign_up_pages_reached_from_a_claim_link_name_the_credential(client):
    credential, token = issued_with_link()
    title, institution = credential.version.title, credential.institution.name
    login = client.get(claim_url(token), follow=True)
    assert login.redirect_chain[-1][0].startswith(reverse("account_login"))
    text = html.unescape(login.text)
    assert f"Sign in to add {title} from {institution} to your wallet." in text
    signup = client.get(reverse("account_signup"), {"next": claim_url(token)})
    assert f"Create your account to add {title} from {institution} to your wallet." in (
        html.unescape(signup.text)
    )
    # A sign-in page leading elsewhere does not speak of it.
    elsewhere = client.get(reverse("account_login"), {"next": "/wallet/"})
    assert "to your wallet." not in html.unescape(elsewhere.text)


def test_the_claim_page_names_the_credential_and_the_institution(logged_in):
    credential, token = issued_with_link()
    page = logged_in(UserFactory(email="ana@example.eu")).get(claim_url(token))
    text = html.unescape(page.text)
    assert (
        f"<h1>Add {credential.version.title} from {credential.institution.name} to your wallet</h1>"
        in text
    )
    # The one heading of an open link: none of a used, expired or unknown one.
    assert text.count("<h1") == 1
    for closed in ("already been used", "has expired", "does not work"):
        assert closed not in text


def test_a_used_link_shows_its_learner_where_the_credential_is(logged_in):
    credential, token = issued_with_link()
    ana = UserFactory(email="ana@example.eu")
    client = logged_in(ana)
    client.post(claim_url(token))
    text = html.unescape(client.get(claim_url(token)).text)
    assert "This link has already been used" in text
    page = reverse("learners:credential", kwargs={"public_id": credential.public_id})
    assert (
        f'<a class="button" href="{page}">Open {credential.version.title} in your wallet</a>'
        in (text)
    )


def test_a_used_link_tells_anyone_else_it_was_claimed_without_saying_by_whom(client, logged_in):
    credential, token = issued_with_link(holder_name="Ana Kowalska")
    client = logged_in(UserFactory(email="ana@example.eu"))
    client.post(claim_url(token))
    client.logout()
    for visitor in (client, logged_in(UserFactory(email="ben@example.eu"))):
        response = visitor.get(claim_url(token))
        assert response.status_code == 200
        text = html.unescape(response.text)
        assert "This link has already been used" in text
        assert f"{credential.version.title} from {credential.institution.name} was claimed" in text
        assert "ana@example.eu" not in text
        assert "Ana Kowalska" not in text
        assert reverse("learners:credential", kwargs={"public_id": credential.public_id}) not in (
            text
        )
        visitor.logout()


def test_claiming_twice_is_nothing_for_the_learner_who_claimed():
    credential, token = issued_with_link()
    ana = UserFactory(email="ana@example.eu")
    assert learner_services.credential_claim(token=token, user=ana) == credential
    assert learner_services.credential_claim(token=token, user=ana) == credential


@pytest.mark.date_sensitive
def test_an_expired_link_names_the_credential_and_what_to_do(client):
    credential, token = issued_with_link()
    IssuedCredential.objects.filter(pk=credential.pk).update(claim_expires_at=timezone.now())
    text = html.unescape(client.get(claim_url(token)).text)
    assert "This link has expired" in text
    assert credential.version.title in text


def test_a_replaced_link_says_it_does_not_work_and_names_nothing(client):
    credential, token = issued_with_link()
    services.credential_resend_claim(credential=credential, actor=None)
    text = html.unescape(client.get(claim_url(token)).text)
    assert "This link does not work" in text
    assert credential.version.title not in text
