"""Revoking through the real browser, at desktop and phone widths: the confirmation page names
the learner and the credential and wants a reason; afterwards the public page says REVOKED
with the date at the top and keeps the reason to itself. Screenshots go to
MESHE_SCREENSHOTS/revocation."""

import os
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from playwright.sync_api import Page, ViewportSize, expect

from credentials.models import CredentialStatus, IssuedCredential
from institutions.models import Role
from tests.browser.axe import serious_violations
from tests.browser.sessions import _session_for
from tests.factories import MembershipFactory, MicroCredentialFactory, issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("MESHE_SCREENSHOTS", "var/screenshots")) / "revocation"
WIDTHS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 360, "height": 740},
}
REASON = "Plagiarism found in the final project"


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("size", WIDTHS, ids=list(WIDTHS))
def test_staff_revoke_after_confirming_and_the_public_sees_revoked_without_the_reason(
    live_server, page: Page, settings, size
):
    settings.MESHE_BASE_URL = live_server.url
    page.set_viewport_size(WIDTHS[size])
    staff = MembershipFactory(role=Role.ISSUER, institution__name="University of Aldermoor")
    credential = issue(
        MicroCredentialFactory(
            institution=staff.institution, title="Sustainable Urban Mobility Planning"
        ),
        holder_name="Nora Nieuw",
        holder_email="nora@example.eu",
    )
    page.context.add_cookies(
        [{"name": "sessionid", "value": _session_for(staff.user), "url": live_server.url}]
    )
    page.goto(
        live_server.url
        + reverse(
            "credentials:staff_detail",
            kwargs={"slug": staff.institution.slug, "public_id": credential.public_id},
        )
    )
    page.get_by_role("link", name="Revoke…").click()

    expect(page.get_by_role("heading", name="Revoke a credential")).to_be_visible()
    expect(page.get_by_text("Nora Nieuw · nora@example.eu")).to_be_visible()
    confirm = page.get_by_label(
        "Yes, revoke Sustainable Urban Mobility Planning of Nora Nieuw for good."
    )
    expect(confirm).not_to_be_checked()
    assert overflow(page) <= 0
    assert serious_violations(page) == []
    shot(page, f"{size}-01-confirm")

    # Nothing chosen, nothing ticked: the page stays and the credential too.
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("heading", name="Revoke a credential")).to_be_visible()
    assert IssuedCredential.objects.get(pk=credential.pk).status == CredentialStatus.ISSUED

    page.get_by_label("Reason:", exact=True).select_option(label="Academic misconduct")
    page.get_by_label("In your own words").fill(REASON)
    confirm.check()
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("The credential is revoked.")).to_be_visible()
    expect(page.get_by_text(re.compile(f"Academic misconduct — {REASON}"))).to_be_visible()
    shot(page, f"{size}-02-revoked")

    revoked = IssuedCredential.objects.get(pk=credential.pk)
    assert revoked.status == CredentialStatus.REVOKED
    day = date_format(
        timezone.localdate(revoked.events.get(action="revoked").created_at), "DATE_FORMAT"
    )

    page.context.clear_cookies()
    page.goto(live_server.url + credential.get_absolute_url())
    banner = page.get_by_role("note", name="Status of this credential")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("REVOKED")
    expect(banner).to_contain_text(f"Revoked by the issuer on {day}.")
    # At the top: above the title.
    banner_box = banner.bounding_box()
    title_box = page.get_by_role("heading", level=1).bounding_box()
    assert banner_box is not None and title_box is not None
    assert banner_box["y"] < title_box["y"]
    assert REASON not in page.content()
    assert "Academic misconduct" not in page.content()
    expect(page.get_by_text("it will not show a later suspension or revocation")).to_be_visible()
    assert overflow(page) <= 0
    assert serious_violations(page) == []
    shot(page, f"{size}-03-public-revoked")


@pytest.mark.parametrize("size", WIDTHS, ids=list(WIDTHS))
def test_a_bulk_suspension_lists_the_credentials_before_it_changes_them(
    live_server, page: Page, settings, size
):
    settings.MESHE_BASE_URL = live_server.url
    page.set_viewport_size(WIDTHS[size])
    staff = MembershipFactory(role=Role.ISSUER)
    micro_credential = MicroCredentialFactory(institution=staff.institution, title="GIS Basics")
    for name in ("Ada Lovelace", "Ben Müller"):
        issue(micro_credential, holder_name=name, holder_email=f"{name[:3].lower()}@example.eu")
    page.context.add_cookies(
        [{"name": "sessionid", "value": _session_for(staff.user), "url": live_server.url}]
    )
    page.goto(
        live_server.url + reverse("credentials:staff_list", kwargs={"slug": staff.institution.slug})
    )
    page.get_by_label("Select Ada Lovelace").check()
    page.get_by_label("Select Ben Müller").check()
    page.get_by_label("Action").select_option(label="Suspend")
    page.get_by_role("button", name="Continue…").click()

    expect(page.get_by_role("heading", name="2 credentials selected")).to_be_visible()
    expect(page.get_by_text("Ada Lovelace — GIS Basics")).to_be_visible()
    expect(page.get_by_text("Ben Müller — GIS Basics")).to_be_visible()
    assert not IssuedCredential.objects.filter(status=CredentialStatus.SUSPENDED).exists()
    assert overflow(page) <= 0
    assert serious_violations(page) == []
    shot(page, f"{size}-04-bulk-confirm")

    page.get_by_label("Reason:", exact=True).select_option(label="Assessment result changed")
    page.get_by_label("Yes, suspend these 2 credentials.").check()
    page.get_by_role("button", name="Suspend").click()
    expect(page.get_by_text("2 credentials changed.")).to_be_visible()
    assert IssuedCredential.objects.filter(status=CredentialStatus.SUSPENDED).count() == 2
