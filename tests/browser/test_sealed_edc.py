import json

import pytest
from playwright.sync_api import Page, expect

from tests.browser.sessions import _session_for
from tests.credentials import e_seals
from tests.factories import MembershipFactory, MicroCredentialFactory, issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_uploads_an_e_seal_and_the_sealed_edc_verifies_on_the_verify_page(
    live_server, page: Page, settings, tmp_path
):
    settings.MESHE_BASE_URL = live_server.url
    admin = MembershipFactory(institution__name="University of Aldermoor")
    credential = issue(MicroCredentialFactory(institution=admin.institution))
    key = e_seals.rsa_key()
    certificate = e_seals.certificate(key, name="University of Aldermoor")
    upload = tmp_path / "aldermoor-e-seal.p12"
    upload.write_bytes(e_seals.pkcs12_file(key, [certificate]))
    anchors = tmp_path / "anchors.pem"
    anchors.write_bytes(e_seals.pem_of(certificate))
    settings.MESHE_EDC_TRUST_ANCHORS = str(anchors)
    page.context.add_cookies(
        [{"name": "sessionid", "value": _session_for(admin.user), "url": live_server.url}]
    )

    page.goto(f"{live_server.url}/staff/{admin.institution.slug}/")
    page.get_by_role("link", name="Manage the e-seal certificate").click()
    page.get_by_label("Certificate and key").set_input_files(str(upload))
    page.get_by_label("Passphrase").fill(e_seals.PASSPHRASE)
    page.get_by_role("button", name="Upload certificate").click()
    expect(
        page.get_by_text("European Digital Credentials are now sealed by University of Aldermoor.")
    ).to_be_visible()

    page.goto(f"{live_server.url}{credential.get_absolute_url()}")
    expect(page.get_by_text("sealed by University of Aldermoor")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="European Digital Credential (EDC, JSON-LD)").click()
    document = download_info.value.path().read_text()
    assert set(json.loads(document)) == {"payload", "signatures"}

    page.goto(f"{live_server.url}/verify")
    page.get_by_label("Paste the credential (JSON)").fill(document)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Sealed by University of Aldermoor")).to_be_visible()
