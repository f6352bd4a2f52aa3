"""From the e-mail to the wallet, at desktop and 360 px phone widths: a learner with no account
follows the claim link, which names the credential before and after signing up, verifies the
address, claims, sees the pathway the credential counts toward, and finds the used link saying
where the credential is. With
test_learner_journey (downloads, sharing, importing, the data export and deleting the account)
it is the learner's whole path. Screenshots go to MESHE_SCREENSHOTS/claim-journey."""

import os
import re
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import Page, ViewportSize, expect

from credentials.issuing import services
from tests.browser.axe import serious_violations
from tests.factories import PASSWORD, a_pathway, issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("MESHE_SCREENSHOTS", "var/screenshots")) / "claim-journey"


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def link_in_last_mail(pattern: str) -> str:
    found = re.search(pattern, str(mail.outbox[-1].body))
    assert found is not None, mail.outbox[-1].body
    return found.group(0)


WIDTHS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 360, "height": 740},
}


def fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    assert serious_violations(page) == []


@pytest.mark.parametrize("size", WIDTHS, ids=list(WIDTHS))
def test_a_new_learner_claims_from_the_email_and_sees_pathway_progress(
    live_server, page: Page, settings, size
):
    settings.MESHE_BASE_URL = live_server.url
    page.set_viewport_size(WIDTHS[size])
    _pathway, (statistics, _ethics) = a_pathway()
    credential = issue(statistics, holder_name="Lea Learner", holder_email="lea@example.eu")
    services.holder_notify(credential_id=credential.pk)
    claim_url = link_in_last_mail(r"http://\S+/claim/[^/\s]+/")
    invitation = f"to add Statistics from {statistics.institution.name} to your wallet."

    # The link names the credential and its institution before signing in or up.
    page.goto(claim_url)
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_text("Sign in " + invitation)).to_be_visible()
    fits(page)
    shot(page, f"{size}-01-asked-to-sign-in")
    page.get_by_role("main").get_by_role("link", name="Create an account").click()
    expect(page.get_by_text("Create your account " + invitation)).to_be_visible()
    fits(page)
    page.get_by_label("E-mail address").fill("lea@example.eu")
    page.get_by_label("Full name").fill("Lea Learner")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create an account").click()
    expect(page.get_by_role("heading", name="Confirm your e-mail address")).to_be_visible()
    shot(page, f"{size}-02-verify-email")

    page.goto(link_in_last_mail(r"http://\S+/accounts/confirm-email/\S+/"))
    page.get_by_role("button", name="Confirm").click()
    # Confirming the address signs in and leads back to the claim, which still names it.
    heading = f"Add Statistics from {statistics.institution.name} to your wallet"
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    fits(page)
    shot(page, f"{size}-03-confirmed-claim-named")
    page.get_by_role("button", name="Add to my wallet").click()
    expect(page.get_by_text("Statistics is in your wallet.")).to_be_visible()
    card = page.get_by_role("listitem").filter(has_text="Statistics")
    expect(card.first).to_be_visible()
    expect(page.get_by_text("Data pathway")).to_be_visible()
    expect(page.get_by_text("have 1 of 3")).to_be_visible()
    shot(page, f"{size}-04-wallet-with-pathway")

    # The used link says so, and shows its learner where the credential is.
    page.goto(claim_url)
    expect(page.get_by_role("heading", name="This link has already been used")).to_be_visible()
    fits(page)
    shot(page, f"{size}-05-used-link")
    page.get_by_role("link", name="Open Statistics in your wallet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Statistics")

    # Anyone else learns it was claimed, not by whom.
    page.context.clear_cookies()
    page.goto(claim_url)
    expect(page.get_by_role("heading", name="This link has already been used")).to_be_visible()
    expect(page.get_by_text("Lea Learner")).to_have_count(0)
    expect(page.get_by_text("lea@example.eu")).to_have_count(0)
    shot(page, f"{size}-06-used-link-anyone")
