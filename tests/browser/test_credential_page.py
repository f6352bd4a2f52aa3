"""The learner's credential page on a desktop and on a phone: the badge, the title, the
institution and the status first, then the three actions people come for (share, add to a
wallet or download, send for recognition) above the fold; one sharing section for the
credential's own address and its share links; the technical checks folded below; the badge
picture in the wallet, on the public page and on the public profile."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from exchange.models import Partner, PartnerStatus
from learners import services as learner_services
from learners.models import ShareLink
from tests.browser.axe import serious_violations
from tests.browser.sessions import _session_for
from tests.factories import MicroCredentialFactory, UserFactory
from tests.learners.holding import held_credential

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 360, "height": 800},
}
TITLE = "Data Literacy for Public Administration"


@pytest.fixture(params=list(SIZES))
def size(request: pytest.FixtureRequest) -> ViewportSize:
    return SIZES[request.param]


@pytest.fixture
def learner():
    return UserFactory(email="ana@example.eu", name="Ana Kowalska")


@pytest.fixture
def credential(learner, live_server, settings):
    settings.MESHE_BASE_URL = live_server.url
    return held_credential(
        learner,
        MicroCredentialFactory(title=TITLE, institution__name="University of Aldermoor"),
        holder_name="Ana Kowalska",
    )


def a_partner_of(credential) -> Partner:
    return Partner.objects.create(
        institution=credential.institution,
        base_url="https://uni-x.example",
        did="did:web:uni-x.example",
        name="Universidad de Ejemplo",
        status=PartnerStatus.CONFIRMED,
    )


def open_as(page: Page, user, url: str, live_server, size: ViewportSize) -> None:
    page.set_viewport_size(size)
    page.context.add_cookies(
        [{"name": "sessionid", "value": _session_for(user), "url": live_server.url}]
    )
    page.goto(live_server.url + url)


def page_of(credential) -> str:
    return reverse("learners:credential", kwargs={"public_id": credential.public_id})


def above_the_fold(element: Locator, size: ViewportSize) -> None:
    """Wholly inside the first screen, without scrolling either way."""
    expect(element).to_be_visible()
    box = element.bounding_box()
    assert box is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"], box
    assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"], box


def shows_a_picture(image: Locator) -> None:
    expect(image).to_be_visible()
    assert image.evaluate("image => image.complete && image.naturalWidth > 0")


def fits(page: Page, size: ViewportSize) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]


def test_the_badge_title_institution_status_and_the_three_actions_come_first(
    live_server, page: Page, learner, credential, size
):
    a_partner_of(credential)
    open_as(page, learner, page_of(credential), live_server, size)

    badge = page.get_by_role("img", name=f"Badge of {TITLE}")
    shows_a_picture(badge)
    above_the_fold(badge, size)
    above_the_fold(page.get_by_role("heading", level=1, name=TITLE), size)
    head = page.locator(".credential-head")
    expect(head).to_contain_text("University of Aldermoor")
    above_the_fold(head.get_by_text("Valid", exact=True), size)
    expect(head).to_contain_text("Verified: issued by University of Aldermoor")

    actions = page.get_by_role("region", name="What you can do with it")
    for control in (
        actions.get_by_role("button", name="Copy link"),
        actions.get_by_role("link", name=re.compile("^Add to LinkedIn")),
        actions.get_by_role("button", name="Add to a wallet"),
        actions.get_by_text("Download", exact=True),
        actions.get_by_role("link", name="Send for recognition"),
    ):
        above_the_fold(control, size)
    fits(page, size)

    # The technical checks stay, folded, below the actions.
    checks = page.locator("details.verdict-checks")
    expect(checks).not_to_have_attribute("open", "")
    expect(checks.get_by_text("Signature", exact=True)).to_be_hidden()
    actions_box, checks_box = actions.bounding_box(), checks.bounding_box()
    assert actions_box is not None and checks_box is not None
    assert checks_box["y"] > actions_box["y"] + actions_box["height"]
    checks.get_by_text("Technical checks").click()
    expect(checks.get_by_text("Signature", exact=True)).to_be_visible()

    # The downloads unfold in place.
    actions.get_by_text("Download", exact=True).click()
    downloads = actions.get_by_role("list", name="Downloads")
    for name in (
        "Signed credential (Open Badges 3.0, JSON-LD)",
        "European Digital Credential (EDC, JSON-LD)",
        "Printable certificate (PDF)",
        "Badge image (PNG)",
        "Badge image (SVG)",
    ):
        expect(downloads.get_by_role("link", name=name)).to_be_visible()
    fits(page, size)
    assert serious_violations(page) == []

    actions.get_by_role("link", name="Send for recognition").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Send for recognition")


def test_without_a_partner_a_sentence_says_where_recognition_is_possible(
    live_server, page: Page, learner, credential, size
):
    open_as(page, learner, page_of(credential), live_server, size)
    actions = page.get_by_role("region", name="What you can do with it")
    expect(actions.get_by_role("link", name="Send for recognition")).to_have_count(0)
    expect(actions).to_contain_text(
        "University of Aldermoor has no partner university to send it to yet."
    )
    guide = actions.get_by_role("link", name="Where recognition is possible")
    above_the_fold(guide, size)
    guide.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Getting a micro-credential recognised by another university"
    )


def test_sharing_copies_the_address_and_fills_in_linkedin(
    live_server, page: Page, learner, credential, size
):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    open_as(page, learner, page_of(credential), live_server, size)
    own = live_server.url + credential.get_absolute_url()
    share = page.locator("#share")
    expect(share.get_by_role("textbox", name="Address to share")).to_have_value(own)
    share.get_by_role("button", name="Copy link").click()
    expect(share.get_by_role("status")).to_have_text("Link copied")
    assert page.evaluate("navigator.clipboard.readText()") == own

    linkedin = share.get_by_role("link", name=re.compile("^Add to LinkedIn"))
    expect(linkedin).to_have_attribute("target", "_blank")
    href = linkedin.get_attribute("href")
    assert href is not None and href.startswith("https://www.linkedin.com/profile/add?")
    query = parse_qs(urlsplit(href).query)
    assert query["name"] == [TITLE]
    assert query["organizationName"] == ["University of Aldermoor"]
    assert query["certUrl"] == [own]
    assert query["certId"] == [f"urn:uuid:{credential.public_id}"]


def test_without_javascript_the_address_is_plain_text_to_select(
    live_server, browser: Browser, learner, credential, size
):
    context = browser.new_context(java_script_enabled=False, viewport=size)
    page = context.new_page()
    open_as(page, learner, page_of(credential), live_server, size)
    share = page.locator("#share")
    address = share.get_by_role("textbox", name="Address to share")
    expect(address).to_have_value(live_server.url + credential.get_absolute_url())
    expect(address).to_be_editable(editable=False)
    expect(share.get_by_role("button", name="Copy link")).to_be_hidden()
    above_the_fold(address, size)
    context.close()


def test_one_sharing_section_switches_the_address_and_lists_links_with_copy_expiry_and_revoke(
    live_server, page: Page, browser: Browser, learner, credential, size
):
    open_as(page, learner, page_of(credential), live_server, size)
    sharing = page.get_by_role("region", name="Who can see it")
    expect(sharing).to_contain_text("Your credential has its own address")
    expect(sharing).to_contain_text("Share links are extra addresses")
    switch = sharing.get_by_role("switch", name="Anyone with the address can see it")
    expect(switch).to_be_checked()
    expect(sharing.get_by_text("You have no share link to this credential yet.")).to_be_visible()
    assert serious_violations(page) == []

    # Off: the own address shows nothing, and the top offers to make a link instead.
    switch.uncheck()
    sharing.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Its own address and QR code no longer show it.")).to_be_visible()
    expect(switch).not_to_be_checked()
    expect(page.locator("#share")).to_contain_text("It is hidden at its own address")
    stranger = browser.new_context()
    response = stranger.new_page().goto(live_server.url + credential.get_absolute_url())
    assert response is not None and response.status == 404
    stranger.close()

    # A link, with its label, a copy button and when it stops working.
    new_link = page.get_by_role("form", name="Create a share link")
    new_link.get_by_label("Label (only you see it)").fill("Job application")
    new_link.get_by_label("Stops working after (optional)").fill("2999-01-01")
    new_link.get_by_role("button", name="Create a share link").click()
    expect(page.get_by_text("New link:")).to_be_visible()
    link = ShareLink.objects.get(owner=learner)
    links = sharing.get_by_role("list", name="Share links")
    item = links.get_by_role("listitem").filter(has_text="Job application")
    expect(item.get_by_role("textbox", name="Address of Job application")).to_have_value(link.url)
    expect(item.get_by_role("button", name=re.compile("^Copy link"))).to_be_visible()
    expect(item).to_contain_text("works until 1 January 2999")
    expect(item).to_contain_text("0 views")
    # The top now offers the link, since the own address is hidden.
    expect(page.locator("#share").get_by_role("textbox")).to_have_value(link.url)
    fits(page, size)
    assert serious_violations(page) == []

    # Revoking asks first, and Cancel changes nothing.
    item.get_by_role("link", name=re.compile("^Revoke…")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Revoke this share link?")
    expect(page.get_by_text("This cannot be undone")).to_be_visible()
    expect(page.locator("main")).to_contain_text(link.url)
    fits(page, size)
    assert serious_violations(page) == []
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    link.refresh_from_db()
    assert link.revoked_at is None

    item.get_by_role("link", name=re.compile("^Revoke…")).click()
    page.get_by_role("button", name="Revoke the link").click()
    expect(page.get_by_text("The link no longer works.")).to_be_visible()
    expect(item.get_by_text("Revoked", exact=True)).to_be_visible()
    expect(item.get_by_role("link", name=re.compile("^Revoke"))).to_have_count(0)
    link.refresh_from_db()
    assert link.revoked_at is not None
    expect(page.locator("#share")).to_contain_text("It is hidden at its own address")


def test_the_badge_shows_in_the_wallet_on_the_public_page_and_on_the_public_profile(
    live_server, page: Page, learner, credential, size
):
    learner_services.profile_save(
        user=learner, is_public=True, slug="ana", headline="", credentials=[credential]
    )
    open_as(page, learner, reverse("learners:wallet"), live_server, size)
    card = page.locator(".wallet-card").filter(has_text=TITLE)
    shows_a_picture(card.locator("img.badge-thumb"))
    fits(page, size)
    assert serious_violations(page) == []

    page.context.clear_cookies()
    page.goto(live_server.url + credential.get_absolute_url())
    shows_a_picture(page.get_by_role("img", name=f"Badge of {TITLE}"))
    fits(page, size)
    assert serious_violations(page) == []

    page.goto(live_server.url + reverse("learners:profile_public", kwargs={"slug": "ana"}))
    entry = page.get_by_role("listitem").filter(has_text=TITLE)
    shows_a_picture(entry.locator("img.badge-thumb"))
    fits(page, size)
    assert serious_violations(page) == []
