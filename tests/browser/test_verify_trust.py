"""/verify as an employer uses it, at desktop and 360 px phone widths: a MESHE credential
(known issuer), a did:key credential carrying a real university's name (unknown issuer), a
tampered one (not valid) and a baked PNG badge; each page fits the screen and axe finds no
serious or critical violation."""

import json
import re
from datetime import UTC, date, datetime

import pytest
from axe_playwright_python.sync_playwright import Axe
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import Page, ViewportSize, expect

from credentials.standards import didkey, signing
from tests.factories import MicroCredentialFactory, issue
from tests.learners.elsewhere import ob3_credential

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 360, "height": 780},
}
AXE = Axe()
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
SENTENCE = re.compile(
    r"Nora Nieuw was awarded Sustainable Urban Mobility Planning \(4 ECTS, EQF 6\) by "
    r"University of Aldermoor on 20 November 2026\."
)


def self_signed_as(name: str) -> str:
    key = Ed25519PrivateKey.generate()
    document = ob3_credential(didkey.did_key_for(key.public_key()))
    document["issuer"]["name"] = name
    return json.dumps(
        signing.sign_document(
            document,
            private_key=key,
            verification_method=didkey.verification_method_id_for(key.public_key()),
            created=signing.format_created(datetime(2025, 1, 1, tzinfo=UTC)),
        )
    )


def serious_violations(page: Page) -> list[str]:
    results = AXE.run(page, options=WCAG_AA)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']}"
        for violation in results.response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]


def verify_pasted(page: Page, base: str, document: str) -> None:
    page.goto(f"{base}/verify")
    page.get_by_label("Paste the credential (JSON)").fill(document)
    page.get_by_role("button", name="Verify").click()


def assert_fits_and_accessible(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    assert serious_violations(page) == []


@pytest.mark.parametrize("size", WIDTHS, ids=list(WIDTHS))
def test_an_employer_tells_known_unknown_and_tampered_credentials_apart(
    live_server, page: Page, settings, tmp_path, size
):
    settings.MESHE_BASE_URL = live_server.url
    page.set_viewport_size(WIDTHS[size])
    micro = MicroCredentialFactory(
        title="Sustainable Urban Mobility Planning",
        ects=4,
        institution__name="University of Aldermoor",
    )
    credential = issue(micro, holder_name="Nora Nieuw", awarded_date=date(2026, 11, 20))

    # Known: the sentence first, then "Verified: issued by …" with the key's fingerprint.
    verify_pasted(page, live_server.url, credential.document)
    expect(page.get_by_text(SENTENCE)).to_be_visible()
    expect(
        page.get_by_role("heading", name="Verified: issued by University of Aldermoor")
    ).to_be_visible()
    expect(page.get_by_text("Signing key fingerprint (SHA-256):")).to_be_visible()
    # The checks are folded under the verdict, one click away.
    checks = page.locator("details.verdict-checks")
    expect(checks.get_by_text("Signature", exact=True)).to_be_hidden()
    checks.get_by_text("Technical checks").click()
    expect(checks.get_by_text("Signature", exact=True)).to_be_visible()
    assert_fits_and_accessible(page)

    # Unknown: a did:key that calls itself the same university is never "Verified".
    verify_pasted(page, live_server.url, self_signed_as("University of Aldermoor"))
    expect(
        page.get_by_role("heading", name="Signature valid, issuer not confirmed")
    ).to_be_visible()
    expect(
        page.get_by_text(
            "The issuer calls itself University of Aldermoor; this portal cannot confirm it."
        )
    ).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("^Verified"))).to_have_count(0)
    assert_fits_and_accessible(page)

    # Tampered: not valid, the failure named, nothing ticked that the signature must vouch for.
    tampered = json.loads(credential.document)
    tampered["credentialSubject"]["identifier"][1]["identityHash"] = "Lea Leugen"
    verify_pasted(page, live_server.url, json.dumps(tampered))
    expect(page.get_by_role("heading", name="Not valid")).to_be_visible()
    expect(page.get_by_text("The signature does not match").first).to_be_visible()
    validity = page.locator("li", has_text="Validity dates")
    expect(validity).to_have_class("check-skipped")
    expect(page.locator("li.check-ok", has_text="Known issuer")).to_have_count(0)
    assert_fits_and_accessible(page)

    # A baked PNG badge, as the credential page offers it, verifies by upload.
    png = page.request.get(f"{live_server.url}/credentials/{credential.public_id}/badge.png")
    badge = tmp_path / "badge.png"
    badge.write_bytes(png.body())
    page.goto(f"{live_server.url}/verify")
    page.get_by_label("or upload the credential file").set_input_files(str(badge))
    page.get_by_role("button", name="Verify").click()
    expect(
        page.get_by_role("heading", name="Verified: issued by University of Aldermoor")
    ).to_be_visible()
    expect(page.get_by_text(SENTENCE)).to_be_visible()
    assert_fits_and_accessible(page)
