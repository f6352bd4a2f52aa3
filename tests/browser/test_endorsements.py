"""Endorsing through the real browser, at desktop and phone widths: a partner's staff sign an
endorsement of an offer, the offering institution's offer page and the credential it issues
next list it as verified; revoking asks for a reason and a confirmation, and then both pages
say revoked. Screenshots go to MESHE_SCREENSHOTS/endorsements."""

import os
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, ViewportSize, expect

from credentials.models import Endorsement
from exchange import catalogue_sync
from exchange.models import PartnerOffer
from institutions.models import Role
from tests.browser.axe import serious_violations
from tests.browser.sessions import _session_for
from tests.exchange.catalogues import publish
from tests.exchange.partners import partner_row
from tests.factories import InstitutionFactory, MembershipFactory, issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("MESHE_SCREENSHOTS", "var/screenshots")) / "endorsements"
WIDTHS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 360, "height": 740},
}
COMMENT = "Recognised at Baltic Technical University for 5 ECTS toward the MSc Data Science"


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def fits_and_reads(page: Page) -> None:
    assert overflow(page) <= 0
    assert serious_violations(page) == []


@pytest.mark.parametrize("size", WIDTHS, ids=list(WIDTHS))
def test_a_partner_endorses_an_offer_and_both_pages_show_it_then_its_revocation(
    live_server, page: Page, settings, size
):
    settings.MESHE_BASE_URL = live_server.url
    settings.MESHE_OUTBOUND_ALLOW_LOOPBACK = True
    page.set_viewport_size(WIDTHS[size])
    offering = InstitutionFactory(slug="uni-a", name="University of Aldermoor")
    endorsing = InstitutionFactory(slug="btu", name="Baltic Technical University")
    partner_row(offering, endorsing, base_url=live_server.url)
    b_to_a = partner_row(endorsing, offering, base_url=live_server.url)
    offer = publish(offering, title="Data Literacy for Public Administration", status="published")
    catalogue_sync.partner_catalogue_sync(partner_id=b_to_a.pk)
    imported = PartnerOffer.objects.get(partner=b_to_a)
    staff = MembershipFactory(institution=endorsing, role=Role.ISSUER)
    page.context.add_cookies(
        [{"name": "sessionid", "value": _session_for(staff.user), "url": live_server.url}]
    )

    page.goto(
        live_server.url
        + reverse(
            "exchange:partner_offer_endorse",
            kwargs={"slug": endorsing.slug, "public_id": imported.public_id},
        )
    )
    expect(page.get_by_text("Your institution has not endorsed this offer yet.")).to_be_visible()
    page.get_by_label("What your institution says about the offer").fill(COMMENT)
    fits_and_reads(page)
    shot(page, f"{size}-01-endorse")
    page.get_by_role("button", name="Sign and send the endorsement").click()
    expect(
        page.get_by_text("the endorsement is on its way to University of Aldermoor")
    ).to_be_visible()
    expect(page.get_by_role("cell", name=COMMENT)).to_be_visible()
    fits_and_reads(page)
    shot(page, f"{size}-02-endorsed")
    assert Endorsement.objects.get(micro_credential=offer).state == Endorsement.State.VERIFIED

    credential = issue(offer)
    for url, name in (
        (reverse("credentials:offer", kwargs={"public_id": offer.public_id}), "offer"),
        (credential.get_absolute_url(), "credential"),
    ):
        page.goto(live_server.url + url)
        expect(
            page.get_by_text("Endorsed by Baltic Technical University — verified")
        ).to_be_visible()
        expect(page.get_by_text(COMMENT)).to_be_visible()
        fits_and_reads(page)
        shot(page, f"{size}-03-{name}")

    page.goto(
        live_server.url
        + reverse(
            "exchange:partner_offer_endorse",
            kwargs={"slug": endorsing.slug, "public_id": imported.public_id},
        )
    )
    page.get_by_role("link", name="Revoke").click()
    expect(page.get_by_role("heading", name="Revoke the endorsement")).to_be_visible()
    fits_and_reads(page)
    shot(page, f"{size}-04-confirm")
    # A reason without the confirmation changes nothing.
    page.get_by_label("Why is the endorsement revoked?").fill("The MSc closed")
    page.get_by_role("button", name="Revoke the endorsement").click()
    expect(page.get_by_role("heading", name="Revoke the endorsement")).to_be_visible()
    assert Endorsement.objects.get(micro_credential=offer).state == Endorsement.State.VERIFIED
    page.get_by_label("I understand that this cannot be undone").check()
    page.get_by_role("button", name="Revoke the endorsement").click()
    expect(page.get_by_text("is revoked; University of Aldermoor is told")).to_be_visible()

    page.context.clear_cookies()
    for url, name in (
        (reverse("credentials:offer", kwargs={"public_id": offer.public_id}), "offer"),
        (credential.get_absolute_url(), "credential"),
    ):
        page.goto(live_server.url + url)
        expect(
            page.get_by_text("Endorsed by Baltic Technical University — revoked")
        ).to_be_visible()
        fits_and_reads(page)
        shot(page, f"{size}-05-{name}-revoked")
