"""Issue 16 through the real browser, on a desktop and a phone: a credential an institution's systems signed
through the VC-API is on the staff's list, marked as issued via the API, and the staff revoke
it on the same confirmation page as an issued credential: a listed reason, their own words and a
tick. No serious axe violation, nothing wider than the phone. Screenshots land in MESHE_SCREENSHOTS (default
var/screenshots/vc-api-credentials)."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from credentials.issuing import services
from credentials.models import ApiCredential, CredentialStatus
from institutions.models import ApiToken, Role
from tests.browser.axe import serious_violations
from tests.browser.sessions import _session_for
from tests.factories import MembershipFactory, make_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("MESHE_SCREENSHOTS", "var/screenshots")) / "vc-api-credentials"
CREDENTIAL_ID = "https://sis.aldermoor.example/credentials/2026/0042-data-literacy-workshop"
REASON = "Signed twice by the nightly registry job"


@pytest.mark.parametrize(("size", "width"), [("desktop", 1280), ("phone", 360)])
def test_staff_see_and_revoke_a_vc_api_credential(
    live_server, page: Page, settings, size: str, width: int
):
    settings.MESHE_BASE_URL = live_server.url
    membership = MembershipFactory(role=Role.ADMIN, institution__name="University of Aldermoor")
    institution = membership.institution
    make_token(institution)
    services.api_credential_sign(
        token=ApiToken.objects.get(institution=institution),
        credential={
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": CREDENTIAL_ID,
            "type": ["VerifiableCredential"],
            "issuer": institution.did,
            "credentialSubject": {"id": "did:example:ana", "name": "Ana Kowalska"},
        },
        credential_id=CREDENTIAL_ID,
        with_status=True,
    )
    page.set_viewport_size({"width": width, "height": 740})
    page.context.add_cookies(
        [{"name": "sessionid", "value": _session_for(membership.user), "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/staff/{institution.slug}/credentials/")
    expect(page.get_by_role("heading", name="Issued via the API")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{size}-01-list.png"), full_page=True)
    assert overflow(page) <= 0

    page.get_by_role("link", name=CREDENTIAL_ID).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Issued via the API")
    assert overflow(page) <= 0
    assert serious_violations(page) == []
    page.get_by_role("link", name="Revoke…").click()

    expect(page.get_by_role("heading", name="Revoke a credential")).to_be_visible()
    expect(page.get_by_text("signed through the VC-API", exact=False).first).to_be_visible()
    expect(page.get_by_text("did:example:ana")).to_be_visible()
    confirm = page.get_by_label(
        f"Yes, revoke {CREDENTIAL_ID}, signed through the VC-API, for good."
    )
    expect(confirm).not_to_be_checked()
    assert overflow(page) <= 0
    assert serious_violations(page) == []
    page.screenshot(path=str(SHOTS / f"{size}-02-confirm.png"), full_page=True)

    # Nothing chosen, nothing ticked: the page stays and the credential too.
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("heading", name="Revoke a credential")).to_be_visible()
    assert ApiCredential.objects.get().status == CredentialStatus.ISSUED

    page.get_by_label("Reason:", exact=True).select_option(label="Issued in error")
    page.get_by_label("In your own words").fill(REASON)
    confirm.check()
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("The credential is revoked.")).to_be_visible()
    expect(page.get_by_text(f"Issued in error: {REASON}", exact=False)).to_be_visible()
    assert overflow(page) <= 0
    assert serious_violations(page) == []
    page.screenshot(path=str(SHOTS / f"{size}-03-revoked.png"), full_page=True)
    revoked = ApiCredential.objects.get()
    assert revoked.status == CredentialStatus.REVOKED
    assert (revoked.status_reason_code, revoked.status_reason) == ("issued_in_error", REASON)


def overflow(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))
