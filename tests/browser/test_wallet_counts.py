"""The wallet's totals say what they count and list what they do not, at desktop and 360 px phone
widths, and the pages that say so have no serious accessibility violation. Screenshots go to
MESHE_SCREENSHOTS/wallet-counts."""

import os
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, ViewportSize, expect

from learners.models import ImportedCredential
from tests.browser.axe import serious_violations
from tests.browser.sessions import _session_for
from tests.factories import UserFactory
from tests.learners.holding import everything_in_a_wallet

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("MESHE_SCREENSHOTS", "var/screenshots")) / "wallet-counts"
WIDTHS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 360, "height": 740},
}


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def overflow(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


@pytest.mark.parametrize("size", WIDTHS, ids=list(WIDTHS))
def test_the_wallet_counts_what_is_the_learners_and_valid_and_says_what_it_leaves_out(
    live_server, page: Page, settings, size
):
    settings.MESHE_BASE_URL = live_server.url
    page.set_viewport_size(WIDTHS[size])
    lea = UserFactory(email="lea@example.eu", name="Lea Learner")
    everything_in_a_wallet(lea)
    page.context.add_cookies(
        [{"name": "sessionid", "value": _session_for(lea), "url": live_server.url}]
    )

    page.goto(live_server.url + reverse("learners:wallet"))
    totals = page.locator(".wallet-totals")
    expect(totals).to_contain_text("5 credentials")
    expect(totals).to_contain_text(
        "8 ECTS in valid credentials from institutions this portal knows"
    )
    left_out = page.get_by_role("region", name="Not counted in the total or in pathways")
    expect(left_out.get_by_role("listitem")).to_have_text(
        [
            "Revoked, suspended, expired or not verified: 1 credential",
            "Issued to another person: 1 credential",
            "From an issuer this portal does not know: 1 credential",
        ]
    )
    self_declared = page.locator(".wallet-card").filter(has_text="From a self-declared university")
    expect(self_declared).to_contain_text("calls itself University of Aldermoor")
    expect(self_declared).to_contain_text("Not counted: from an issuer this portal does not know")
    assert overflow(page) <= 0
    shot(page, f"{size}-01-wallet")
    assert serious_violations(page) == []

    # One entry per issuer; the self-declared name is marked, and filtering by it counts nothing.
    institution = page.get_by_label("Institution")
    labels = institution.locator("option").all_text_contents()
    assert labels[0] == "All institutions"
    assert labels.count("Universidad de Ejemplo") == 1  # the partner's two imports, one entry
    assert labels.count("University of Aldermoor (self-declared)") == 1
    assert len(labels) == len(set(labels)) == 5
    institution.select_option(label="University of Aldermoor (self-declared)")
    page.get_by_role("button", name="Show").click()
    expect(totals).to_contain_text(
        "0 ECTS in valid credentials from institutions this portal knows"
    )
    expect(page.locator(".wallet-card")).to_have_count(1)
    shot(page, f"{size}-02-filtered")

    # The import's own page says why it is not counted.
    page.get_by_role("link", name="From a self-declared university").click()
    expect(
        page.get_by_role("heading", name="Not counted in your totals or pathways")
    ).to_be_visible()
    expect(
        page.get_by_text(
            "The issuer calls itself University of Aldermoor; this portal cannot confirm it.",
            exact=True,
        )
    ).to_be_visible()
    assert overflow(page) <= 0
    shot(page, f"{size}-03-imported-not-counted")
    assert serious_violations(page) == []

    page.get_by_role("link", name="What the wallet counts").click()
    expect(page.get_by_role("heading", name="Credentials issued to someone else")).to_be_visible()
    assert overflow(page) <= 0
    assert serious_violations(page) == []
    assert ImportedCredential.objects.filter(owner=lea).count() == 3
