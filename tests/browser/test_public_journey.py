"""What the public sees: search and compare offers, read an institution, verify a credential
by upload while logged out — at desktop and phone widths, with screenshots in
MESHE_SCREENSHOTS/public-journey."""

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.factories import InstitutionFactory, MicroCredentialFactory, issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("MESHE_SCREENSHOTS", "var/screenshots")) / "public-journey"
WIDTHS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 390, "height": 844},
}


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("size", WIDTHS, ids=list(WIDTHS))
def test_a_visitor_searches_compares_and_verifies(
    live_server, page: Page, settings, tmp_path, size
):
    settings.MESHE_BASE_URL = live_server.url
    page.set_viewport_size(WIDTHS[size])
    aldermoor = InstitutionFactory(name="University of Aldermoor", slug="aldermoor", country="NL")
    data = MicroCredentialFactory(institution=aldermoor, title="Data Literacy", ects=Decimal(5))
    MicroCredentialFactory(institution=aldermoor, title="Machine Learning Basics", ects=Decimal(3))
    MicroCredentialFactory(institution=aldermoor, title="Circular Economy", ects=Decimal("2.5"))
    credential = issue(data)

    page.goto(f"{live_server.url}/catalogue/")
    shot(page, f"{size}-01-catalogue")
    page.get_by_label("ECTS from").fill("3")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="Circular Economy")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"ects_min=3"))  # the search can be shared
    page.get_by_label("Compare").first.check()
    page.get_by_label("Compare").nth(1).check()
    page.get_by_role("button", name="Compare the ticked offers (up to 3)").click()
    expect(page.get_by_role("row", name="7. Workload", exact=False)).to_be_visible()
    shot(page, f"{size}-02-compare")

    page.get_by_role("link", name="Data Literacy").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Data Literacy")
    shot(page, f"{size}-03-offer")
    page.get_by_role("link", name="University of Aldermoor").click()
    expect(page.get_by_text("Fingerprint (SHA-256 of the public key)")).to_be_visible()
    shot(page, f"{size}-04-institution")

    upload = tmp_path / "credential.json"
    upload.write_text(credential.document)
    page.goto(f"{live_server.url}/verify")
    page.get_by_label("or upload the credential file").set_input_files(str(upload))
    page.get_by_role("button", name="Verify").click()
    expect(
        page.get_by_role("heading", name="Verified: issued by University of Aldermoor")
    ).to_be_visible()
    shot(page, f"{size}-05-verified")

    page.goto(live_server.url + credential.get_absolute_url())
    expect(
        page.get_by_role("heading", name="Verified: issued by University of Aldermoor")
    ).to_be_visible()
    shot(page, f"{size}-06-shared-credential")


def test_the_catalogue_fits_a_phone_screen(live_server, page: Page):
    InstitutionFactory(name="University of Aldermoor", slug="aldermoor")
    page.set_viewport_size(WIDTHS["phone"])
    page.goto(f"{live_server.url}/catalogue/")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
