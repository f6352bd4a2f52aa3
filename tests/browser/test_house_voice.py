"""The portal's one voice in a browser, at 360 px: allauth's pages in German with "Sie",
MESHE's labels and sentence case; German staff pages without English left over; ECTS with a
decimal comma in French. Each page fits the screen and passes axe."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from institutions.models import Role
from tests.browser.axe import serious_violations
from tests.browser.sessions import _session_for
from tests.factories import MembershipFactory, MicroCredentialFactory, UserFactory, issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GERMAN_DU = re.compile(r"\b(du|dich|dir|dein\w*)\b", re.IGNORECASE)


def fits_and_passes_axe(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    assert serious_violations(page) == []


@pytest.fixture
def small_screen_in(page: Page, live_server):
    def open_in(language: str) -> Page:
        page.set_viewport_size({"width": 360, "height": 800})
        page.context.add_cookies(
            [{"name": "django_language", "value": language, "url": live_server.url}]
        )
        return page

    return open_in


def test_a_german_visitor_signs_in_on_a_page_that_says_sie(live_server, small_screen_in):
    page = small_screen_in("de")
    UserFactory(email="lea@example.eu")
    page.goto(live_server.url + reverse("account_login"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmelden")
    expect(page.get_by_label("E-Mail-Adresse")).to_be_visible()
    expect(page.get_by_label("Angemeldet bleiben")).to_be_visible()
    assert not GERMAN_DU.search(page.locator("main").inner_text())
    fits_and_passes_axe(page)

    page.get_by_label("E-Mail-Adresse").fill("lea@example.eu")
    page.get_by_label("Passwort:", exact=True).fill("not the password")
    page.get_by_role("button", name="Anmelden").click()
    expect(
        page.get_by_text("Die E-Mail-Adresse oder das Passwort ist nicht korrekt.")
    ).to_be_visible()

    for name in ["account_signup", "account_reset_password"]:
        page.goto(live_server.url + reverse(name))
        assert not GERMAN_DU.search(page.locator("main").inner_text()), name
        fits_and_passes_axe(page)


def test_the_account_pages_read_in_sentence_case_on_a_small_screen(live_server, small_screen_in):
    page = small_screen_in("en")
    page.context.add_cookies(
        [{"name": "sessionid", "value": _session_for(UserFactory()), "url": live_server.url}]
    )
    for name, heading in [
        ("account_email", "E-mail addresses"),
        ("account_change_password", "Change password"),
        ("mfa_index", "Two-factor authentication"),
        ("socialaccount_connections", "Institutional logins"),
        ("account_logout", "Sign out"),
    ]:
        page.goto(live_server.url + reverse(name))
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        fits_and_passes_axe(page)


def test_german_staff_pages_leave_nothing_in_english(live_server, small_screen_in, settings):
    settings.MESHE_BASE_URL = live_server.url
    page = small_screen_in("de")
    staff = MembershipFactory(role=Role.ISSUER)
    page.context.add_cookies(
        [{"name": "sessionid", "value": _session_for(staff.user), "url": live_server.url}]
    )
    slug = staff.institution.slug
    page.goto(live_server.url + reverse("credentials:micro_credential_new", kwargs={"slug": slug}))
    text = page.locator("main").inner_text()
    assert "Select an option" not in text
    assert page.locator("option", has_text="Bitte wählen…").count() > 0
    fits_and_passes_axe(page)


def test_a_french_reader_sees_half_credits_with_a_decimal_comma(live_server, small_screen_in):
    page = small_screen_in("fr")
    micro_credential = MicroCredentialFactory(ects=Decimal("4.50"))
    credential = issue(micro_credential)
    for path in [credential.get_absolute_url(), reverse("credentials:catalogue")]:
        page.goto(live_server.url + path)
        expect(page.locator("main").get_by_text("4,5 ECTS").first).to_be_visible()
        assert "4.50 ECTS" not in page.locator("main").inner_text()
        fits_and_passes_axe(page)
