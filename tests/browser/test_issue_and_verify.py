import json
import re

import pytest
from playwright.sync_api import Page, expect

from institutions.models import Role
from tests.browser.sessions import _session_for
from tests.factories import MembershipFactory, MicroCredentialFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_issue_a_credential_that_verifies_until_revoked(live_server, page: Page, settings):
    settings.MESHE_BASE_URL = live_server.url
    membership = MembershipFactory(role=Role.ISSUER, institution__name="University of Aldermoor")
    micro_credential = MicroCredentialFactory(
        institution=membership.institution, title="Data Literacy for Public Administration"
    )
    page.context.add_cookies(
        [{"name": "sessionid", "value": _session_for(membership.user), "url": live_server.url}]
    )

    page.goto(f"{live_server.url}/staff/{membership.institution.slug}/credentials/issue/")
    page.get_by_label("Micro-credential").select_option(label=micro_credential.title)
    page.get_by_label("Learner's full name").fill("Ana Kowalska")
    page.get_by_label("Learner's e-mail address").fill("ana@example.eu")
    page.get_by_label("Grade").fill("8.5")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Check before signing")).to_be_visible()
    page.get_by_role("button", name="Sign and issue").click()
    expect(page.get_by_text("Credential issued to Ana Kowalska.")).to_be_visible()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Signed credential (JSON-LD)").click()
    document = download_info.value.path().read_text()
    assert (
        json.loads(document)["credentialSubject"]["achievement"]["name"] == micro_credential.title
    )
    staff_page = page.url

    page.goto(f"{live_server.url}/verify")
    page.get_by_label("Paste the credential (JSON)").fill(document)
    page.get_by_role("button", name="Verify").click()
    verdict = page.get_by_role("heading", name="Verified: issued by University of Aldermoor")
    expect(verdict).to_be_visible()

    page.goto(staff_page)
    page.get_by_role("link", name="Revoke…").click()
    page.get_by_label("Reason:", exact=True).select_option(label="Issued in error")
    page.get_by_label("In your own words").fill("Issued to the wrong person")
    page.get_by_label(re.compile("^Yes, revoke")).check()
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("The credential is revoked.")).to_be_visible()

    page.goto(f"{live_server.url}/verify")
    page.get_by_label("Paste the credential (JSON)").fill(document)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Not valid")).to_be_visible()
    expect(page.get_by_text("Revoked by the issuer").first).to_be_visible()
