"""A prospective learner's view of the catalogue, at desktop and 360 px phone widths: the
offer page's practical information and skills, the comparison limit, and no serious axe
violation on the offer, catalogue and compare pages. Screenshots in
MESHE_SCREENSHOTS/offer-page."""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import Page, ViewportSize, expect

from tests.factories import InstitutionFactory, MicroCredentialFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("MESHE_SCREENSHOTS", "var/screenshots")) / "offer-page"
WIDTHS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 360, "height": 780},
}
AXE = Axe()
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def overflow(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def serious_violations(page: Page) -> list[str]:
    results = AXE.run(page, options=WCAG_AA)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']}"
        for violation in results.response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]


def an_offer(**fields):
    aldermoor = InstitutionFactory(name="University of Aldermoor", slug="aldermoor", country="NL")
    return MicroCredentialFactory(
        institution=aldermoor,
        title="Data Literacy",
        prerequisites="Secondary-school mathematics.",
        further_information_url="https://aldermoor.example/data-literacy",
        enrolment_url="https://aldermoor.example/enrol/data-literacy-for-public-administration",
        enrolment_contact="study-office-of-the-faculty@aldermoor.example",
        start_dates=["2027-03-01", "2027-09-06"],
        duration_amount=6,
        duration_unit="weeks",
        schedule="Tuesday evenings, 18:00 to 21:00",
        cost="fee",
        price=Decimal("250.00"),
        currency="EUR",
        instruction_languages=["en", "nl"],
        place="Utrecht, Science Park campus",
        **fields,
    )


@pytest.mark.parametrize("size", WIDTHS, ids=list(WIDTHS))
def test_the_offer_page_shows_practical_information_and_skills(live_server, page: Page, size):
    offer = an_offer()
    page.set_viewport_size(WIDTHS[size])
    page.goto(live_server.url + reverse("credentials:offer", kwargs={"public_id": offer.public_id}))

    practical = page.get_by_role("region", name="Practical information")
    expect(practical).to_be_visible()
    expect(practical.get_by_role("link", name="Enrol on the institution's site")).to_be_visible()
    expect(practical.get_by_text("1 March 2027, 6 September 2027")).to_be_visible()
    expect(practical.get_by_text("250.00 EUR")).to_be_visible()
    expect(practical.get_by_text("English, Dutch")).to_be_visible()
    skills = page.get_by_role("list", name="Skills you will practise")
    expect(skills.get_by_role("link", name="think critically")).to_be_visible()
    expect(page.get_by_text("This service uses the ESCO classification")).to_be_visible()
    expect(page.get_by_text("Secondary-school mathematics.")).to_be_visible()
    shot(page, f"{size}-offer")
    assert overflow(page) <= 0


@pytest.mark.parametrize("size", WIDTHS, ids=list(WIDTHS))
def test_ticking_a_fourth_offer_says_the_limit_inline(live_server, page: Page, size):
    for title in ("Alpha", "Bravo", "Charlie", "Delta"):
        MicroCredentialFactory(title=title)
    page.set_viewport_size(WIDTHS[size])
    page.goto(live_server.url + reverse("credentials:catalogue"))
    boxes = page.get_by_label("Compare")
    for index in range(3):
        boxes.nth(index).check()
    boxes.nth(3).click()
    expect(page.get_by_role("status").filter(has_text="Up to 3 offers")).to_be_visible()
    expect(boxes.nth(3)).not_to_be_checked()
    shot(page, f"{size}-compare-limit")
    boxes.nth(0).uncheck()
    expect(page.get_by_text("Up to 3 offers can be compared")).to_have_count(0)
    boxes.nth(3).check()
    expect(boxes.nth(3)).to_be_checked()
    page.get_by_role("button", name="Compare the ticked offers (up to 3)").click()
    expect(page.get_by_role("heading", name="Same for all")).to_be_visible()
    shot(page, f"{size}-compare")
    assert overflow(page) <= 0


def test_without_javascript_the_compare_page_says_the_limit(live_server, browser):
    offers = [MicroCredentialFactory(title=title) for title in ("A1", "B2", "C3", "D4")]
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + reverse("credentials:catalogue"))
    for offer in offers:
        page.locator(f"#compare-{offer.public_id}").check()
    page.get_by_role("button", name="Compare the ticked offers (up to 3)").click()
    expect(page.get_by_text("Up to 3 offers can be compared side by side")).to_be_visible()
    context.close()


def test_offer_catalogue_and_compare_pages_have_no_serious_violations(live_server, page: Page):
    offer = an_offer()
    other = MicroCredentialFactory(title="Machine Learning", ects=Decimal(3))
    pages = [
        reverse("credentials:offer", kwargs={"public_id": offer.public_id}),
        reverse("credentials:catalogue"),
        reverse("credentials:catalogue") + "?ects_min=abc&country=Narnia",
        reverse("credentials:compare") + f"?offer={offer.public_id}&offer={other.public_id}",
    ]
    problems = {}
    for path in pages:
        for size in WIDTHS.values():
            page.set_viewport_size(size)
            page.goto(live_server.url + path)
            problems[f"{path} {size['width']}"] = serious_violations(page)
    assert {path: found for path, found in problems.items() if found} == {}
