"""A learner's journey through the wallet, with a screenshot of each step: the wallet, a
credential, its three downloads, a share link opened logged out and revoked, a credential
signed by the independent vc-js signer imported and verified, the data export and the
account's deletion.

With test_claim_journey (the claim e-mail, signing up, claiming and pathway progress) it is
the learner's whole path. Screenshots go to learner-journey/ in the folder MESHE_SCREENSHOTS
names, as the other browser journeys do (.ci/run sets it); by default
var/screenshots/learner-journey. The import needs the vc-js install MESHE_INTEROP_DIR names
(see the `interop` fixture).
"""

import io
import json
import os
import re
import zipfile
from pathlib import Path
from urllib.parse import urljoin

import pytest
from playwright.sync_api import APIResponse, Browser, Locator, Page, expect

from accounts.models import User
from learners import services as learner_services
from learners.models import ImportedCredential, ShareLink
from tests.factories import PASSWORD, MicroCredentialFactory, UserFactory, issue
from tests.interop import Interop
from tests.learners.elsewhere import holder_identifiers, ob3_credential

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shots() -> Path:
    folder = ROOT / os.environ.get("MESHE_SCREENSHOTS", "var/screenshots") / "learner-journey"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def signed_by_vc_js(interop: Interop, folder: Path) -> str:
    """A credential of a university that is not on this node, signed by the independent vc-js
    signer (tests/vcjs/sign.mjs) under a fresh did:key issuer."""
    keygen = interop.run("keygen.mjs", "key")
    assert keygen.returncode == 0, keygen.stderr
    key_file = folder / "key.json"
    key_file.write_text(keygen.stdout, encoding="utf-8")
    did = "did:key:" + json.loads(keygen.stdout)["publicKeyMultibase"]
    unsigned = folder / "unsigned.json"
    document = ob3_credential(did)
    document["credentialSubject"]["identifier"] = holder_identifiers(email="ana@example.eu")
    unsigned.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    out = folder / "signed.json"
    signed = interop.run("sign.mjs", str(unsigned), "--key", str(key_file), "--out", str(out))
    assert signed.returncode == 0, signed.stderr
    return out.read_text(encoding="utf-8")


def fetch_link(page: Page, section: Locator, name: str) -> APIResponse:
    """What the link serves, fetched with the page's cookies (a JSON file opens inline)."""
    href = section.get_by_role("link", name=name).get_attribute("href")
    assert href is not None
    return page.request.get(urljoin(page.url, href))


def test_a_learner_keeps_shares_imports_exports_and_leaves(
    live_server, page: Page, browser: Browser, settings, shots: Path, interop: Interop, tmp_path
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
    page.get_by_label("E-mail address").fill("ana@example.eu")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My credentials")
    card = page.get_by_role("listitem").filter(has_text="Data Literacy for Public Administration")
    expect(card).to_contain_text("University of Aldermoor")
    expect(card).to_contain_text("5 ECTS")
    expect(card).to_contain_text("EQF Level 6")
    expect(card).to_contain_text("Valid")
    page.screenshot(path=shots / "01-wallet.png", full_page=True)

    # The credential in plain words, verified live.
    card.get_by_role("link").click()
    expect(page.get_by_role("heading", name=re.compile("^Verified: issued by"))).to_be_visible()
    expect(page.get_by_role("heading", name="Workload")).to_be_visible()
    expect(page.get_by_text(re.compile("About 125.150 hours of study"))).to_be_visible()
    page.screenshot(path=shots / "02-credential.png", full_page=True)

    # The three formats: the signed Open Badge, the European Digital Credential, the PDF.
    page.get_by_text("Download", exact=True).click()
    downloads = page.get_by_role("list", name="Downloads")
    signed = fetch_link(page, downloads, "Signed credential (Open Badges 3.0, JSON-LD)")
    assert signed.status == 200
    document = json.loads(signed.body())
    assert "OpenBadgeCredential" in document["type"]
    assert document["proof"]
    edc = fetch_link(page, downloads, "European Digital Credential (EDC, JSON-LD)")
    assert edc.status == 200
    assert "EuropeanDigitalCredential" in json.loads(edc.body())["type"]
    # The first request queues the certificate's render and answers 202 until it is stored.
    certificate = fetch_link(page, downloads, "Printable certificate (PDF)")
    for _ in range(60):
        if certificate.status != 202:
            break
        page.wait_for_timeout(500)
        certificate = fetch_link(page, downloads, "Printable certificate (PDF)")
    assert certificate.status == 200
    assert certificate.headers["content-type"] == "application/pdf"
    assert certificate.body().startswith(b"%PDF")
    downloads.screenshot(path=shots / "03-downloads.png")

    # A share link.
    page.get_by_label("Label (only you see it)").fill("Job application")
    page.get_by_role("button", name="Create a share link").click()
    expect(page.get_by_text("New link:")).to_be_visible()
    link = ShareLink.objects.get(owner=learner)
    share_url = f"{live_server.url}/s/{link.slug}"
    expect(page.get_by_role("textbox", name="Address of Job application")).to_have_value(share_url)
    expect(page.get_by_role("link", name=re.compile("Add to LinkedIn profile"))).to_be_visible()
    page.screenshot(path=shots / "04-share-link.png", full_page=True)

    # Opened by someone who is not signed in.
    stranger = browser.new_context()
    outside = stranger.new_page()
    outside.goto(share_url)
    expect(outside.get_by_role("heading", name=re.compile("^Verified: issued by"))).to_be_visible()
    expect(outside.get_by_role("heading", level=1)).to_have_text(micro_credential.title)
    outside.screenshot(path=shots / "05-shared-logged-out.png", full_page=True)

    # Revoked, once confirmed: gone.
    page.get_by_role("link", name=re.compile("^Revoke…")).click()
    page.get_by_role("button", name="Revoke the link").click()
    expect(page.get_by_text("The link no longer works.")).to_be_visible()
    page.screenshot(path=shots / "06-link-revoked.png", full_page=True)
    response = outside.goto(share_url)
    assert response is not None and response.status == 404
    expect(outside.get_by_role("heading", name="We could not find that page")).to_be_visible()
    outside.screenshot(path=shots / "07-revoked-link-404.png", full_page=True)
    stranger.close()

    # Import a credential from another university, signed by vc-js with a did:key (checked
    # offline).
    page.get_by_role("link", name="My credentials").first.click()
    page.get_by_role("link", name="Import a credential").click()
    page.get_by_label("or paste the credential (JSON)").fill(signed_by_vc_js(interop, tmp_path))
    page.screenshot(path=shots / "08-import-form.png", full_page=True)
    page.get_by_role("button", name="Import").click()
    # Hers, and its signature holds; but its issuer is a did:key that only calls itself a
    # university, so it is kept and not counted.
    expect(page.get_by_text("its signature is valid, but it is not counted")).to_be_visible()
    expect(page.get_by_text("Issued to one of your verified e-mail addresses.")).to_be_visible()
    expect(
        page.get_by_text(
            "The issuer calls itself Université d'Exemple; this portal cannot confirm it.",
            exact=True,
        )
    ).to_be_visible()
    page.screenshot(path=shots / "09-imported.png", full_page=True)
    page.get_by_role("link", name=re.compile("My credentials")).first.click()
    imported_card = page.locator(".wallet-card-imported")
    expect(imported_card).to_contain_text("Imported")
    expect(imported_card).to_contain_text("Marine Biology Field Methods")
    expect(imported_card).to_contain_text("calls itself Université d'Exemple")
    expect(page.get_by_text("2 credentials")).to_be_visible()
    expect(page.locator(".wallet-totals")).to_contain_text(
        "5 ECTS in valid credentials from institutions this portal knows"
    )
    expect(
        page.get_by_text("From an issuer this portal does not know: 1 credential")
    ).to_be_visible()
    page.screenshot(path=shots / "10-wallet-with-import.png", full_page=True)

    # The same credential again: already in the wallet, with a link to it.
    page.get_by_role("link", name="Import a credential").click()
    page.get_by_label("or paste the credential (JSON)").fill(
        ImportedCredential.objects.get(owner=learner).document
    )
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("This credential is already in your wallet")).to_be_visible()
    page.get_by_role("link", name="Open the copy in your wallet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Marine Biology Field Methods")
    page.get_by_role("link", name=re.compile("My credentials")).first.click()

    # Download everything.
    page.get_by_role("link", name="Your data").click()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download my data").click()
    archive = zipfile.ZipFile(io.BytesIO(download_info.value.path().read_bytes()))
    assert "account.json" in archive.namelist()
    assert f"credentials/{credential.public_id}.json" in archive.namelist()
    assert json.loads(archive.read("account.json"))["account"]["email"] == "ana@example.eu"
    page.screenshot(path=shots / "11-your-data.png", full_page=True)

    # Delete the account.
    page.get_by_role("link", name="Delete my account…").click()
    page.get_by_label("Your password").fill(PASSWORD)
    page.screenshot(path=shots / "12-delete-confirm.png", full_page=True)
    page.get_by_role("button", name="Delete my account for good").click()
    expect(page.get_by_text("Your account and personal data are deleted.")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    page.screenshot(path=shots / "13-deleted.png", full_page=True)
    assert not User.objects.filter(email="ana@example.eu").exists()
    assert not ImportedCredential.objects.exists()
    credential.refresh_from_db()
    assert credential.holder is None
