"""An institution's numbers on a desktop and on a phone: every title whole, months in the page's
language, bars and progress bars in the brand colour, nothing sideways; and the catalogue's
filters lined up under their labels."""

import io

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from PIL import Image
from playwright.sync_api import Locator, Page, ViewportSize, expect

from credentials.issuing import services as credential_services
from institutions.models import Role
from tests.browser.axe import serious_violations
from tests.browser.sessions import _session_for
from tests.factories import MembershipFactory, MicroCredentialFactory, issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 360, "height": 800},
}
LONG_TITLE = "Literacy for Public Administration in the Age of Artificial Intelligence"

# The colour a custom property of the stylesheet resolves to, in the form computed styles use.
BRAND = """() => {
    const probe = document.createElement("span");
    probe.style.color = "var(--brand)";
    document.body.append(probe);
    const colour = getComputedStyle(probe).color;
    probe.remove();
    return colour;
}"""


def signed_in_staff(page: Page, live_server, *, role: Role = Role.ADMIN):
    membership = MembershipFactory(role=role, institution__name="University of Aldermoor")
    page.context.add_cookies(
        [{"name": "sessionid", "value": _session_for(membership.user), "url": live_server.url}]
    )
    return membership


def is_whole(locator: Locator) -> bool:
    """Shown without being cut: its text fits inside its own box."""
    return locator.evaluate("(el) => el.scrollWidth <= el.clientWidth + 1")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_numbers_show_long_titles_whole_in_brand_colours(
    live_server, page: Page, settings, width: str
):
    settings.MESHE_BASE_URL = live_server.url
    page.set_viewport_size(WIDTHS[width])
    membership = signed_in_staff(page, live_server, role=Role.VIEWER)
    micro_credential = MicroCredentialFactory(institution=membership.institution, title=LONG_TITLE)
    issue(micro_credential, holder_email="ana@example.eu")
    page.goto(
        live_server.url
        + reverse("credentials:dashboard", kwargs={"slug": membership.institution.slug})
    )

    label = page.locator(".bar-chart-label", has_text=LONG_TITLE)
    expect(label).to_have_text(LONG_TITLE)
    expect(label).to_be_visible()
    assert is_whole(label)
    bar = page.locator(".bar-chart rect.chart-bar").last
    assert bar.evaluate("(el) => getComputedStyle(el).fill") == page.evaluate(BRAND)
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width]["width"]
    assert serious_violations(page) == []


def test_the_months_are_german_on_a_german_page(live_server, page: Page, settings):
    settings.MESHE_BASE_URL = live_server.url
    page.set_viewport_size(WIDTHS["phone"])
    membership = signed_in_staff(page, live_server, role=Role.VIEWER)
    page.context.add_cookies(
        [{"name": django_settings.LANGUAGE_COOKIE_NAME, "value": "de", "url": live_server.url}]
    )
    page.goto(
        live_server.url
        + reverse("credentials:dashboard", kwargs={"slug": membership.institution.slug})
    )
    labels = page.locator(".bar-chart").first.locator(".bar-chart-label").all_inner_texts()
    german = {
        "Januar", "Februar", "März", "April", "Mai", "Juni",
        "Juli", "August", "September", "Oktober", "November", "Dezember",
    }  # fmt: skip
    assert len(labels) == 12
    assert {label.rsplit(" ", 1)[0] for label in labels} == german


def test_progress_bars_are_in_the_brand_colour(live_server, page: Page, settings):
    settings.MESHE_BASE_URL = live_server.url
    page.set_viewport_size(WIDTHS["phone"])
    membership = signed_in_staff(page, live_server)
    job = credential_services.bulk_job_create(
        actor=membership.user,
        institution=membership.institution,
        micro_credential=MicroCredentialFactory(institution=membership.institution),
        filename="learners.csv",
        content=b"name,email,awarded_date\nJo,jo@example.eu,2026-01-01\n",
    )
    page.goto(
        live_server.url
        + reverse(
            "credentials:bulk_job",
            kwargs={"slug": membership.institution.slug, "public_id": job.public_id},
        )
    )
    page.get_by_role("button", name="Issue 1 valid row").click()
    progress = page.locator("#bulk-progress")
    expect(progress).to_have_attribute("value", "100")
    # The filled part is drawn by the browser, out of reach of computed styles: read its pixels.
    picture = Image.open(io.BytesIO(progress.screenshot())).convert("RGB")
    middle = picture.getpixel((picture.width // 2, picture.height // 2))
    assert isinstance(middle, tuple)
    assert f"rgb({middle[0]}, {middle[1]}, {middle[2]})" == page.evaluate(BRAND)
    assert progress.evaluate("(el) => getComputedStyle(el).accentColor") == page.evaluate(BRAND)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_catalogue_filters_stand_under_their_labels(live_server, page: Page, width: str):
    page.set_viewport_size(WIDTHS[width])
    page.goto(live_server.url + reverse("credentials:catalogue"))
    form = page.get_by_role("search", name="Search the catalogue")
    fields = form.locator(".field:not(.field-checkbox)")
    boxes = []
    for index in range(fields.count()):
        field = fields.nth(index)
        label = field.locator("label").bounding_box()
        control = field.locator("input, select").bounding_box()
        assert label and control
        # The label straight above its control, flush left.
        assert abs(label["x"] - control["x"]) <= 1, field.inner_text()
        assert label["y"] + label["height"] <= control["y"] + 1, field.inner_text()
        boxes.append((label, control))
    # Fields side by side in a row have their labels, and their controls, on one line.
    rows: dict[int, list[tuple[float, float]]] = {}
    for label, control in boxes:
        rows.setdefault(round(control["y"] + control["height"]), []).append(
            (label["y"] + label["height"], control["y"])
        )
    for row in rows.values():
        assert max(y for y, _ in row) - min(y for y, _ in row) <= 1
        assert max(y for _, y in row) - min(y for _, y in row) <= 1
    if width == "desktop":
        assert any(len(row) > 1 for row in rows.values())
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width]["width"]
