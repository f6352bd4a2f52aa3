"""Issue 16 through the real browser, on a phone: a credential an institution's systems signed
through the VC-API is on the staff's list, marked as issued via the API, and the staff revoke
it with a reason and a confirmation. Screenshots land in MESHE_SCREENSHOTS (default
var/screenshots/vc-api-credentials)."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from credentials.issuing import services
from credentials.models import ApiCredential, CredentialStatus
from institutions.models import ApiToken, Role
from tests.browser.sessions import _session_for
from tests.factories import MembershipFactory, make_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("MESHE_SCREENSHOTS", "var/screenshots")) / "vc-api-credentials"
CREDENTIAL_ID = "https://sis.aldermoor.example/credentials/2026/0042-data-literacy-workshop"


def test_staff_see_and_revoke_a_vc_api_credential_on_a_phone(live_server, page: Page, settings):
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
    page.set_viewport_size({"width": 360, "height": 740})
    page.context.add_cookies(
        [{"name": "sessionid", "value": _session_for(membership.user), "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/staff/{institution.slug}/credentials/")
    expect(page.get_by_role("heading", name="Issued via the API")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "01-list.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0

    page.get_by_role("link", name=CREDENTIAL_ID).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Issued via the API")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    # The browser itself asks for the confirmation before anything is sent.
    expect(page.get_by_label("I understand that revoking is final.")).to_have_attribute(
        "required", ""
    )
    page.get_by_label("Reason").last.fill("Signed by mistake by the test system")
    page.get_by_label("I understand that revoking is final.").check()
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("The credential is revoked.")).to_be_visible()
    page.screenshot(path=str(SHOTS / "02-revoked.png"), full_page=True)
    assert ApiCredential.objects.get().status == CredentialStatus.REVOKED
