"""A learner's whole journey through the wallet, with a screenshot of each step.

Screenshots go to learner-journey/ in the folder MESHE_SCREENSHOTS names, as the other browser
journeys do (.ci/run sets it); by default var/screenshots/learner-journey.
"""

import io
import json
import os
import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from learners import services as learner_services
from learners.models import ImportedCredential, ShareLink, User
from tests.credentials.test_services import issue
from tests.factories import PASSWORD, MicroCredentialFactory, UserFactory
from tests.learners.elsewhere import signed_elsewhere

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shots() -> Path:
    folder = ROOT / os.environ.get("MESHE_SCREENSHOTS", "var/screenshots") / "learner-journey"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_a_learner_keeps_shares_imports_exports_and_leaves(
    live_server, page: Page, browser: Browser, settings, shots: Path
):
    settings.MESHE_BASE_URL = live_server.url
    learner = UserFactory(email="ana@example.eu", name="Ana Kowalska")
    micro_credential = MicroCredentialFactory(
        title="Data Literacy for Public Administration",
        institution__name="University of Aldermoor",
    )
    credential = issue(micro_credential, holder_email="ana@example.eu")
    learner_services.credentials_attach(user=learner)

    # Sign in: the wallet lists the credential.
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill("ana@example.eu")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My credentials")
    card = page.get_by_role("listitem").filter(has_text="Data Literacy for Public Administration")
    expect(card).to_contain_text("University of Aldermoor")
    expect(card).to_contain_text("5 ECTS")
    expect(card).to_contain_text("EQF Level 6")
    expect(card).to_contain_text("Valid")
    page.screenshot(path=shots / "01-wallet.png", full_page=True)

    # The credential in plain words, verified live.
    card.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Verified: authentic and valid")).to_be_visible()
    expect(page.get_by_role("heading", name="Workload")).to_be_visible()
    expect(page.get_by_text(re.compile("About 125.150 hours of study"))).to_be_visible()
    page.screenshot(path=shots / "02-credential.png", full_page=True)

    # A share link.
    page.get_by_label("Label (only you see it)").fill("Job application")
    page.get_by_role("button", name="Create a share link").click()
    expect(page.get_by_text("New link:")).to_be_visible()
    link = ShareLink.objects.get(owner=learner)
    share_url = f"{live_server.url}/s/{link.slug}"
    expect(page.get_by_role("link", name=share_url)).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Add to LinkedIn profile"))).to_be_visible()
    page.screenshot(path=shots / "03-share-link.png", full_page=True)

    # Opened by someone who is not signed in.
    stranger = browser.new_context()
    outside = stranger.new_page()
    outside.goto(share_url)
    expect(outside.get_by_role("heading", name="Authentic and valid")).to_be_visible()
    expect(outside.get_by_role("heading", level=1)).to_have_text(micro_credential.title)
    outside.screenshot(path=shots / "04-shared-logged-out.png", full_page=True)

    # Revoked: gone.
    page.get_by_role("button", name=re.compile("^Revoke")).click()
    expect(page.get_by_text("The link no longer works.")).to_be_visible()
    page.screenshot(path=shots / "05-link-revoked.png", full_page=True)
    response = outside.goto(share_url)
    assert response is not None and response.status == 404
    expect(outside.get_by_role("heading", name="We could not find that page")).to_be_visible()
    outside.screenshot(path=shots / "06-revoked-link-404.png", full_page=True)
    stranger.close()

    # Import a credential from another university (signed with a did:key, checked offline).
    page.get_by_role("link", name="My credentials").first.click()
    page.get_by_role("link", name="Import a credential").click()
    page.get_by_label("or paste the credential (JSON)").fill(signed_elsewhere())
    page.screenshot(path=shots / "07-import-form.png", full_page=True)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("is in your wallet, and verified.")).to_be_visible()
    expect(page.get_by_role("heading", name="Verified: authentic and valid")).to_be_visible()
    page.screenshot(path=shots / "08-imported.png", full_page=True)
    page.get_by_role("link", name=re.compile("My credentials")).first.click()
    imported_card = page.locator(".wallet-card-imported")
    expect(imported_card).to_contain_text("Imported")
    expect(imported_card).to_contain_text("Marine Biology Field Methods")
    expect(page.get_by_text("2 credentials")).to_be_visible()
    page.screenshot(path=shots / "09-wallet-with-import.png", full_page=True)

    # Download everything.
    page.get_by_role("link", name="Your data").click()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download my data").click()
    archive = zipfile.ZipFile(io.BytesIO(download_info.value.path().read_bytes()))
    assert "account.json" in archive.namelist()
    assert f"credentials/{credential.public_id}.json" in archive.namelist()
    assert json.loads(archive.read("account.json"))["account"]["email"] == "ana@example.eu"
    page.screenshot(path=shots / "10-your-data.png", full_page=True)

    # Delete the account.
    page.get_by_role("link", name="Delete my account…").click()
    page.get_by_label("Your password").fill(PASSWORD)
    page.screenshot(path=shots / "11-delete-confirm.png", full_page=True)
    page.get_by_role("button", name="Delete my account for good").click()
    expect(page.get_by_text("Your account and personal data are deleted.")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    page.screenshot(path=shots / "12-deleted.png", full_page=True)
    assert not User.objects.filter(email="ana@example.eu").exists()
    assert not ImportedCredential.objects.exists()
    credential.refresh_from_db()
    assert credential.holder is None
