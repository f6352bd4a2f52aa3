"""allauth's pages and e-mails speak MESHE's voice in English, French and German: sentence
case, "e-mail", "Sie" in German, and e-mails signed by the portal rather than by the host."""

import html
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_after_each_test() -> Iterator[None]:
    """A request with Accept-Language leaves its language active in this thread; the tests
    after this one render e-mails and pages in English again."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


SIGNED_OUT_PAGES = [
    "account_login",
    "account_signup",
    "account_reset_password",
    "account_reset_password_done",
    "account_email_verification_sent",
]
SIGNED_IN_PAGES = [
    "account_logout",
    "account_email",
    "account_change_password",
    "account_reauthenticate",
    "mfa_index",
    "socialaccount_connections",
]
# allauth's own wording, which its templates and forms would show without MESHE's.
ALLAUTH_WORDING = [
    "Sign In",
    "Sign Up",
    "Sign Out",
    "Remember Me",
    "Email:",
    "Email Address",
    "Password Reset",
    "Change Password",
    "Make Primary",
    "Verify Your",
    "Successfully signed",
    "Two-Factor Authentication",
    "Account Connections",
    "Third-Party Account",
]
# German second person singular: "du", "dich", "dir", "dein…", "Dein…".
GERMAN_DU = re.compile(r"\b(du|dich|dir|dein\w*)\b", re.IGNORECASE)


def visible_text(response) -> str:
    """What a reader sees: the page without tags, scripts or the head."""
    assert response.status_code == 200
    body = response.content.decode()
    body = re.sub(r"<(script|head)\b.*?</\1>", " ", body, flags=re.S)
    placeholders = " ".join(re.findall(r'placeholder="([^"]*)"', body))
    return html.unescape(re.sub(r"<[^>]+>", " ", body) + " " + placeholders)


def pages(client: Client, language: str) -> dict[str, str]:
    headers = {"Accept-Language": language}
    found = {
        name: visible_text(client.get(reverse(name), headers=headers)) for name in SIGNED_OUT_PAGES
    }
    client.force_login(UserFactory())
    for name in SIGNED_IN_PAGES:
        found[name] = visible_text(client.get(reverse(name), headers=headers))
    return found


def test_the_account_pages_use_the_portal_wording_not_allauths(client):
    for name, text in pages(client, "en").items():
        for wording in ALLAUTH_WORDING:
            assert wording not in text, (name, wording)


def test_the_sign_in_form_asks_for_an_e_mail_address_and_offers_remember_me(client):
    text = visible_text(client.get(reverse("account_login")))
    assert "E-mail address" in text
    assert "Remember me" in text
    assert "Forgot your password?" in text


@pytest.mark.parametrize(
    ("language", "sign_in", "remember"),
    [("fr", "Se connecter", "Rester connecté"), ("de", "Anmelden", "Angemeldet bleiben")],
)
def test_the_sign_in_page_reads_in_french_and_german(client, language, sign_in, remember):
    text = visible_text(client.get(reverse("account_login"), headers={"Accept-Language": language}))
    assert sign_in in text
    assert remember in text


def test_every_german_account_page_says_sie_never_du(client):
    for name, text in pages(client, "de").items():
        assert not GERMAN_DU.search(text), (name, GERMAN_DU.search(text))


def test_a_wrong_password_is_refused_in_german_with_sie(client):
    UserFactory(email="lea@example.org")
    response = client.post(
        reverse("account_login"),
        {"login": "lea@example.org", "password": "nope"},
        headers={"Accept-Language": "de"},
    )
    text = visible_text(response)
    assert "Die E-Mail-Adresse oder das Passwort ist nicht korrekt." in text
    assert not GERMAN_DU.search(text)


def sign_up(client: Client, language: str) -> mail.EmailMessage:
    client.post(
        reverse("account_signup"),
        {"email": "lea@example.org", "name": "Lea", "password1": PASSWORD, "password2": PASSWORD},
        headers={"Accept-Language": language},
    )
    assert len(mail.outbox) == 1
    return mail.outbox[0]


def test_the_sign_up_e_mail_is_signed_by_the_portal_not_by_the_host(client):
    message = sign_up(client, "en")
    assert message.subject == "[MESHE] Confirm your e-mail address"
    body = str(message.body)
    assert body.startswith("Hello,")
    assert "Hello from" not in body
    assert "The MESHE team" in body
    assert settings.MESHE_BASE_URL in body
    assert "/accounts/confirm-email/" in body
    # Like the portal's other e-mails, it has an HTML part, with the same link.
    assert isinstance(message, mail.EmailMultiAlternatives)
    (html_part, mimetype), *_ = message.alternatives
    assert mimetype == "text/html"
    assert "The MESHE team" in str(html_part)
    assert re.search(r'href="https?://[^"]+/accounts/confirm-email/', str(html_part))


def test_the_sign_up_e_mail_speaks_german_with_sie(client):
    message = sign_up(client, "de")
    assert message.subject == "[MESHE] Bestätigen Sie Ihre E-Mail-Adresse"
    body = str(message.body)
    assert body.startswith("Guten Tag,")
    assert "Ihr MESHE-Team" in body
    assert not GERMAN_DU.search(body)


def test_the_password_reset_e_mail_and_pages_speak_french(client):
    UserFactory(email="lea@example.org")
    headers = {"Accept-Language": "fr"}
    response = client.post(
        reverse("account_reset_password"), {"email": "lea@example.org"}, headers=headers
    )
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.subject == "[MESHE] Réinitialiser votre mot de passe"
    body = str(message.body)
    assert body.startswith("Bonjour,")
    assert "L'équipe MESHE" in body
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+/", body)
    assert link is not None
    # The key page redirects once to a URL without the key, then asks for the new password.
    page = client.get(urlsplit(link.group(0)).path, headers=headers, follow=True)
    text = visible_text(page)
    assert "Choisir un nouveau mot de passe" in text
    assert "Nouveau mot de passe (confirmation)" in text


def test_passwords_that_differ_are_refused_in_german_with_sie(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "lea@example.org", "name": "Lea", "password1": PASSWORD, "password2": "other"},
        headers={"Accept-Language": "de"},
    )
    text = visible_text(response)
    assert "Bitte geben Sie zweimal dasselbe Passwort ein." in text
    assert not GERMAN_DU.search(text)


def test_the_second_factor_step_of_sign_in_reads_in_sentence_case_and_with_sie(client):
    from allauth.mfa.models import Authenticator

    user = UserFactory(email="lea@example.org")
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})
    response = client.post(
        reverse("account_login"), {"login": "lea@example.org", "password": PASSWORD}
    )
    assert response.url == reverse("mfa_authenticate")
    english = visible_text(client.get(reverse("mfa_authenticate")))
    assert "Two-factor authentication" in english
    assert "Sign In" not in english
    german = visible_text(
        client.get(reverse("mfa_authenticate"), headers={"Accept-Language": "de"})
    )
    assert "Bitte geben Sie einen Authenticator-Code ein" in german
    assert not GERMAN_DU.search(german)


def test_the_two_factor_page_names_its_sections_in_sentence_case(client):
    client.force_login(UserFactory())
    text = visible_text(client.get(reverse("mfa_index")))
    for heading in ["Two-factor authentication", "Authenticator app", "Recovery codes"]:
        assert heading in text
    for wording in ["Authenticator App", "Recovery Codes", *ALLAUTH_WORDING]:
        assert wording not in text
