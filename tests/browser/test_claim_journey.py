"""From the e-mail to the wallet: a learner with no account follows the claim link, signs up,
verifies the address, claims, and sees the pathway the credential counts toward. With
test_learner_journey (downloads, sharing, importing, the data export and deleting the account)
it is the learner's whole path. Screenshots go to MESHE_SCREENSHOTS/claim-journey."""

import os
import re
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from credentials.issuing import services
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


def test_a_new_learner_claims_from_the_email_and_sees_pathway_progress(
    live_server, page: Page, settings
):
    settings.MESHE_BASE_URL = live_server.url
    _pathway, (statistics, _ethics) = a_pathway()
    credential = issue(statistics, holder_name="Lea Learner", holder_email="lea@example.eu")
    services.holder_notify(credential_id=credential.pk)
    claim_url = link_in_last_mail(r"http://\S+/claim/[^/\s]+/")

    page.goto(claim_url)
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    shot(page, "01-asked-to-sign-in")
    page.get_by_role("link", name=re.compile("sign up", re.I)).first.click()
    page.get_by_label("Email").fill("lea@example.eu")
    page.get_by_label("Full name").fill("Lea Learner")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
    shot(page, "02-verify-email")

    page.goto(link_in_last_mail(r"http://\S+/accounts/confirm-email/\S+/"))
    page.get_by_role("button", name="Confirm").click()
    shot(page, "03-confirmed")

    page.goto(claim_url)
    page.get_by_role("button", name="Add to my wallet").click()
    expect(page.get_by_text("Statistics is in your wallet.")).to_be_visible()
    card = page.get_by_role("listitem").filter(has_text="Statistics")
    expect(card.first).to_be_visible()
    expect(page.get_by_text("Data pathway")).to_be_visible()
    expect(page.get_by_text("have 1 of 3")).to_be_visible()
    shot(page, "04-wallet-with-pathway")
