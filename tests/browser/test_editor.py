"""The micro-credential editor in a real browser, at desktop and 360 px phone width: outcomes
added and removed in place with JavaScript and by submitting without it, and publishing through
the preview and its confirmation. Screenshots land in MESHE_SCREENSHOTS/editor."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from credentials.models import MicroCredential
from institutions.models import Role
from tests.browser.sessions import _session_for
from tests.factories import MembershipFactory, MicroCredentialFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("MESHE_SCREENSHOTS", "var/screenshots")) / "editor"
WIDTHS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 360, "height": 780},
}
SKILL = "http://data.europa.eu/esco/skill/7dd94ad3-13d6-43fe-8b94-51fcbf67ced9"


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def signed_in(
    browser: Browser, live_server, user, *, size: str, javascript: bool = True
) -> BrowserContext:
    context = browser.new_context(viewport=WIDTHS[size], java_script_enabled=javascript)
    context.add_cookies(
        [{"name": "sessionid", "value": _session_for(user), "url": live_server.url}]
    )
    return context


def fits_the_screen(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def fill_required_elements(page: Page) -> None:
    page.get_by_label("Title:", exact=True).fill("Circular Economy Basics")
    page.get_by_label("Description:", exact=True).fill("Materials, loops and business models.")
    page.get_by_label("Workload in ECTS").fill("2.5")
    page.get_by_label("Level (EQF)").select_option(label="Level 6")
    page.get_by_label("Type of assessment").select_option(label="written examination")
    page.get_by_label("Form of participation").select_option(label="Blended")
    page.get_by_label("Type of quality assurance").select_option(label="Institutional evaluation")


def outcome_rows(page: Page):
    return page.locator("[data-formset-row]:visible")


@pytest.mark.parametrize("size", WIDTHS, ids=list(WIDTHS))
def test_staff_add_and_remove_outcomes_in_place_and_choose_every_element(
    live_server, browser: Browser, size
):
    staff = MembershipFactory(role=Role.ISSUER)
    context = signed_in(browser, live_server, staff.user, size=size)
    page = context.new_page()
    page.goto(f"{live_server.url}/staff/{staff.institution.slug}/micro-credentials/new/")

    # Nothing is chosen in advance; the browser itself refuses to save the empty choices.
    for label in ("Level (EQF)", "Type of assessment", "Form of participation"):
        expect(page.get_by_label(label)).to_have_value("")
        expect(page.get_by_label(label)).to_have_attribute("required", "")
    expect(page.get_by_text("* required")).to_be_visible()
    assert fits_the_screen(page)
    shot(page, f"{size}-01-empty-editor")

    fill_required_elements(page)
    page.get_by_label("Dutch").check()
    page.get_by_label("English", exact=True).check()
    # One row to start with and one blank: add a third in place, then remove the second.
    expect(outcome_rows(page)).to_have_count(2)
    expect(page.get_by_role("checkbox", name="Remove this outcome")).to_have_count(0)
    outcome_rows(page).nth(0).get_by_label("Learning outcome").fill("Explain material loops.")
    outcome_rows(page).nth(0).get_by_label("ESCO skills (links, one per line)").fill(SKILL)
    outcome_rows(page).nth(1).get_by_label("Learning outcome").fill("Written by mistake.")
    page.get_by_role("button", name="Add another outcome").click()
    expect(outcome_rows(page)).to_have_count(3)
    third = outcome_rows(page).nth(2)
    expect(third.get_by_label("Learning outcome")).to_be_focused()
    expect(third.get_by_role("combobox", name="Find an ESCO skill")).to_be_visible()
    third.get_by_label("Learning outcome").fill("Design a take-back scheme.")
    outcome_rows(page).nth(1).get_by_role("button", name="Remove this outcome").click()
    expect(outcome_rows(page)).to_have_count(2)
    assert fits_the_screen(page)
    shot(page, f"{size}-02-filled-editor")

    page.get_by_role("button", name="Save", exact=True).last.click()
    expect(page.get_by_text("Saved Circular Economy Basics.")).to_be_visible()
    saved = MicroCredential.objects.get()
    assert [outcome["text"] for outcome in saved.learning_outcomes] == [
        "Explain material loops.",
        "Design a take-back scheme.",
    ]
    assert sorted(saved.instruction_languages) == ["en", "nl"]
    # The staff page shows what was entered, languages by name.
    expect(page.get_by_text("Dutch, English")).to_be_visible()
    assert fits_the_screen(page)
    shot(page, f"{size}-03-detail")
    context.close()


@pytest.mark.parametrize("size", WIDTHS, ids=list(WIDTHS))
def test_the_editor_works_without_javascript(live_server, browser: Browser, size):
    staff = MembershipFactory(role=Role.ISSUER)
    context = signed_in(browser, live_server, staff.user, size=size, javascript=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/staff/{staff.institution.slug}/micro-credentials/new/")
    fill_required_elements(page)
    rows = page.locator("[data-formset-row]")
    rows.nth(0).get_by_label("Learning outcome").fill("Explain material loops.")
    rows.nth(1).get_by_label("Learning outcome").fill("Written by mistake.")

    # Without JavaScript "Add another outcome" comes back with what was typed and one more row.
    page.get_by_role("button", name="Add another outcome").click()
    expect(rows).to_have_count(3)
    expect(page.get_by_label("Title:", exact=True)).to_have_value("Circular Economy Basics")
    expect(page.locator("#error-summary")).to_have_count(0)
    assert MicroCredential.objects.count() == 0
    rows.nth(2).get_by_label("Learning outcome").fill("Design a take-back scheme.")
    rows.nth(1).get_by_label("Remove this outcome").check()
    assert fits_the_screen(page)
    shot(page, f"{size}-04-without-javascript")

    page.get_by_role("button", name="Save", exact=True).last.click()
    expect(page.get_by_text("Saved Circular Economy Basics.")).to_be_visible()
    saved = MicroCredential.objects.get()
    assert [outcome["text"] for outcome in saved.learning_outcomes] == [
        "Explain material loops.",
        "Design a take-back scheme.",
    ]
    context.close()


@pytest.mark.parametrize("size", WIDTHS, ids=list(WIDTHS))
def test_errors_are_summed_up_and_lead_to_their_field(live_server, browser: Browser, size):
    staff = MembershipFactory(role=Role.ISSUER)
    context = signed_in(browser, live_server, staff.user, size=size)
    page = context.new_page()
    page.goto(f"{live_server.url}/staff/{staff.institution.slug}/micro-credentials/new/")
    fill_required_elements(page)
    # Remove the only written outcome: the server, not the browser, has to say what is wrong.
    page.locator("[data-formset-row]").first.get_by_role(
        "button", name="Remove this outcome"
    ).click()
    page.get_by_role("button", name="Save", exact=True).last.click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Add at least one learning outcome.")
    assert fits_the_screen(page)
    shot(page, f"{size}-05-errors")
    summary.get_by_role("link", name="Add at least one learning outcome.").click()
    expect(page).to_have_url(
        f"{live_server.url}/staff/{staff.institution.slug}/micro-credentials/new/#outcomes"
    )
    context.close()


@pytest.mark.parametrize("size", WIDTHS, ids=list(WIDTHS))
def test_publishing_shows_the_public_page_as_a_preview_and_asks_first(
    live_server, browser: Browser, settings, size
):
    settings.MESHE_BASE_URL = live_server.url
    staff = MembershipFactory(role=Role.ISSUER)
    draft = MicroCredentialFactory(
        institution=staff.institution,
        title="Circular Economy Basics",
        status=MicroCredential.Status.DRAFT,
    )
    context = signed_in(browser, live_server, staff.user, size=size)
    page = context.new_page()
    page.goto(
        f"{live_server.url}/staff/{staff.institution.slug}/micro-credentials/{draft.public_id}/"
    )
    page.get_by_role("link", name="Preview and publish").click()
    expect(page.get_by_text("Nothing is public yet.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Circular Economy Basics")
    expect(page.get_by_text("The published version is permanent")).to_be_visible()
    assert fits_the_screen(page)
    shot(page, f"{size}-06-preview")
    # Not ticked: the browser keeps the form; nothing is published.
    page.get_by_role("button", name="Publish").click()
    draft.refresh_from_db()
    assert draft.status == MicroCredential.Status.DRAFT
    page.get_by_label("I have checked the preview: publish it for everyone to see.").check()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Circular Economy Basics is now published.")).to_be_visible()
    draft.refresh_from_db()
    assert draft.status == MicroCredential.Status.PUBLISHED
    page.get_by_role("link", name="Public page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Circular Economy Basics")
    expect(page.get_by_text("Nothing is public yet.")).to_have_count(0)
    context.close()
