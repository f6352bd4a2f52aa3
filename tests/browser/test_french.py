"""The portal in French: a visitor switches language in the footer and reads the guide, and a
learner's wallet in English and French at desktop and phone widths, with screenshots in
MESHE_SCREENSHOTS/wallet (by default var/screenshots/wallet)."""

import os
from pathlib import Path

import pytest
from django.utils import timezone, translation
from django.utils.formats import date_format
from playwright.sync_api import Page, ViewportSize, expect

from learners import services as learner_services
from tests.factories import PASSWORD, MicroCredentialFactory, UserFactory, issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
WIDTHS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 390, "height": 844},
}


@pytest.fixture
def shots() -> Path:
    folder = ROOT / os.environ.get("MESHE_SCREENSHOTS", "var/screenshots") / "wallet"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def switch_language(page: Page, name_local: str) -> None:
    """Choose a language in the footer's switcher and send it with the keyboard."""
    footer = page.get_by_role("contentinfo")
    footer.get_by_role("combobox", name="Language").select_option(label=name_local)
    footer.get_by_role("button", name="Change").press("Enter")


def test_a_visitor_switches_to_french_and_reads_the_guide(live_server, page: Page):
    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    switch_language(page, "français")

    # Back on the same page, now in French.
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Des micro-certifications auxquelles les universités font confiance "
        "et qui appartiennent aux apprenants"
    )

    page.get_by_role("contentinfo").get_by_role(
        "link", name="Que sont les micro-certifications\u00a0?"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Qu'est-ce qu'une micro-certification\u00a0?"
    )
    guide = page.get_by_role("navigation", name="Guide")
    guide.get_by_role("link", name="Comment la lire").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Comment lire une micro-certification"
    )
    expect(page.get_by_role("term").filter(has_text="6. Acquis d'apprentissage")).to_be_visible()
    expect(
        page.get_by_text("Son niveau dans le cadre européen des certifications (CEC)")
    ).to_be_visible()

    # The choice persists: the next page, reached without the switcher, is French too.
    page.goto(live_server.url + "/catalogue/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Catalogue des micro-certifications")
    expect(page.get_by_role("contentinfo").get_by_role("combobox", name="Langue")).to_have_value(
        "fr"
    )


@pytest.mark.date_sensitive
@pytest.mark.parametrize("size", WIDTHS, ids=list(WIDTHS))
def test_a_learners_wallet_in_english_and_french(
    live_server, page: Page, settings, shots: Path, size: str
):
    settings.MESHE_BASE_URL = live_server.url
    page.set_viewport_size(WIDTHS[size])
    learner = UserFactory(email="ana@example.eu", name="Ana Kowalska")
    for title, institution in [
        ("Data Literacy for Public Administration", "University of Aldermoor"),
        ("Circular Economy in Practice", "Université de Valrose"),
    ]:
        micro_credential = MicroCredentialFactory(title=title, institution__name=institution)
        credential = issue(micro_credential, holder_email="ana@example.eu")
    # The card shows the day the credential was issued (today, in Brussels), written in French.
    with translation.override("fr"):
        issued_in_french = date_format(timezone.localtime(credential.issued_at), "DATE_FORMAT")
    learner_services.credentials_attach(user=learner)

    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill("ana@example.eu")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My credentials")
    expect(page.get_by_text("2 credentials", exact=False).first).to_be_visible()
    page.screenshot(path=shots / f"{size}-01-wallet-en.png", full_page=True)

    switch_language(page, "français")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes attestations")
    card = page.get_by_role("listitem").filter(has_text="Circular Economy in Practice")
    expect(card).to_contain_text("Université de Valrose")
    expect(card).to_contain_text("Valide")
    expect(card.get_by_role("definition").first).to_have_text(issued_in_french)
    page.screenshot(path=shots / f"{size}-02-wallet-fr.png", full_page=True)
    if size == "phone":
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
