"""Every page of the portal fits a 360 px wide phone: none scrolls sideways.

The pages come from the URL conf as the authorization matrix walks it
(tests/security/test_authorization_matrix.py): its DOORS table names every URL pattern, says how
to fill its arguments from the matrix's small world and who may open it, and its own test fails
when a URL has no entry, so a new page is walked here as soon as it is routed. Each page is
opened by each of the anonymous visitor, the learner and the institution's admin who may see it
(their headers differ). What answers is looked at only when it is an HTML page: a 2xx answer
of type text/html that is not an attachment; JSON, PDFs, images, downloads and redirects are
not pages. Then the states a plain GET does not reach: a verification result, the check before
signing, a spreadsheet with row errors and the editor with errors.
"""

from collections.abc import Callable, Collection, Iterator

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.urls import reverse
from playwright.sync_api import Page, ViewportSize, expect

from credentials.issuing import services as credential_services
from credentials.models import IssuedCredential, MicroCredential
from institutions.models import Institution
from tests.browser.axe import serious_violations
from tests.security.test_authorization_matrix import (
    A_ADMIN,
    ANONYMOUS,
    DOORS,
    LEARNER,
    World,
    build_world,
    door_url,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE: ViewportSize = {"width": 360, "height": 800}
# Who looks at a page, when the matrix says they may: their headers and what the page shows
# them differ. Staff pages are seen by the admin, who sees every button.
LOOKERS = (ANONYMOUS, LEARNER, A_ADMIN)
SEES_THE_PAGE = {200, 202}


# The innermost elements that reach past the right edge of the screen, to name in a failure.
PAST_THE_EDGE = """(edge) => [...document.querySelectorAll("body *")]
    .filter((el) => el.getBoundingClientRect().right > edge + 0.5)
    .filter((el) => ![...el.children].some((child) => child.getBoundingClientRect().right > edge + 0.5))
    .slice(0, 3)
    .map((el) => el.tagName.toLowerCase() + (el.className ? "." + String(el.className).split(" ").join(".") : ""))"""


def page_width(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def too_wide(page: Page) -> str | None:
    """How wide the page is and what sticks out, when it is wider than the phone."""
    width = page_width(page)
    if width <= PHONE["width"]:
        return None
    return f"{width} px: {', '.join(page.evaluate(PAST_THE_EDGE, PHONE['width']))}"


def is_a_page(status: int, headers: dict[str, str]) -> bool:
    """An HTML page to look at; JSON, PDF, images, downloads and redirects are not."""
    content_type = headers.get("content-type", "")
    disposition = headers.get("content-disposition", "")
    return (
        200 <= status < 300
        and content_type.startswith("text/html")
        and not disposition.startswith("attachment")
    )


def sign_in(page: Page, base_url: str, world: World, actor: str) -> None:
    page.context.clear_cookies()
    if actor != ANONYMOUS:
        page.context.add_cookies(
            [{"name": "sessionid", "value": world.sessions[actor], "url": base_url}]
        )


def _verify_result(page: Page, base_url: str, world: World) -> None:
    document = IssuedCredential.objects.get(public_id=world["credential"]).document
    page.goto(base_url + reverse("credentials:verify"))
    page.get_by_label("Paste the credential (JSON)").fill(document)
    page.get_by_role("button", name="Verify").click()
    expect(page.locator(".verdict")).to_be_visible()


def _issue_preview(page: Page, base_url: str, world: World) -> None:
    page.goto(base_url + reverse("credentials:issue", kwargs={"slug": world["a"]}))
    page.get_by_label("Micro-credential").select_option(label="Data Literacy")
    page.get_by_label("Learner's full name").fill("Anastasia Konstantinopoulou-Wiśniewska")
    page.get_by_label("Learner's e-mail address").fill(
        "anastasia.konstantinopoulou-wisniewska@example.eu"
    )
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Check before signing")).to_be_visible()


def _bulk_check_with_row_errors(page: Page, base_url: str, world: World) -> None:
    institution = Institution.objects.get(slug=world["a"])
    job = credential_services.bulk_job_create(
        actor=world.users[A_ADMIN],
        institution=institution,
        micro_credential=MicroCredential.objects.get(public_id=world["micro_credential"]),
        filename="learners-of-the-spring-semester-2026-faculty-of-public-administration.csv",
        content=(
            b"name,email,awarded_date\n"
            b"Jo,jo@example.eu,2026-01-01\n"
            b",not-an-address-at-all-but-a-very-long-word-without-spaces,2026-13-45\n"
        ),
    )
    page.goto(
        base_url
        + reverse("credentials:bulk_job", kwargs={"slug": world["a"], "public_id": job.public_id})
    )
    expect(page.get_by_role("heading", name="Rows with problems (skipped)")).to_be_visible()


def _editor_with_errors(page: Page, base_url: str, world: World) -> None:
    page.goto(base_url + reverse("credentials:micro_credential_new", kwargs={"slug": world["a"]}))
    # Past the browser's own check of required fields, so that the server answers with errors.
    page.evaluate("document.querySelector('form[data-editor]').noValidate = true")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#error-summary")).to_be_visible()


def _compare_two_offers(page: Page, base: str, world: World) -> None:
    offers = MicroCredential.objects.filter(
        institution__slug=world["a"], status=MicroCredential.Status.PUBLISHED
    ).values_list("public_id", flat=True)[:2]
    query = "&".join(f"offer={public_id}" for public_id in offers)
    page.goto(base + reverse("credentials:compare") + "?" + query)
    expect(page.get_by_role("region", name="Where the offers differ")).to_be_visible()


STATES: dict[str, Callable[[Page, str, World], None]] = {
    "compare, two offers side by side": _compare_two_offers,
    "verify, showing a result": _verify_result,
    "issue, check before signing": _issue_preview,
    "bulk check, rows with problems": _bulk_check_with_row_errors,
    "editor, with errors": _editor_with_errors,
}


def every_page(
    page: Page, base: str, world: World, *, names: Collection[str] | None = None
) -> Iterator[str]:
    """Opens each HTML page of DOORS (or of `names`) as each looker who may see it, then each
    state of STATES, and yields what it is looking at."""
    for actor in LOOKERS:
        sign_in(page, base, world, actor)
        for name, item in DOORS.items():
            door = next((door for door in item.doors if door.method == "get"), None)
            if door is None or door.expect[actor] not in SEES_THE_PAGE:
                continue
            if names is not None and name not in names:
                continue
            if item.session is not None:
                session = SessionStore(session_key=world.sessions[actor])
                session.update(item.session(world))
                session.save()
            url = door_url(name, item, world, actor) + (f"?{door.query}" if door.query else "")
            answer = page.request.get(base + url, max_redirects=0)
            if not is_a_page(answer.status, answer.headers):
                continue
            page.goto(base + url)
            yield f"{name} ({actor}) {url}"
    sign_in(page, base, world, A_ADMIN)
    for state, reach in STATES.items():
        reach(page, base, world)
        yield f"{state} {page.url}"


def test_every_page_fits_a_phone(live_server, page: Page, settings):
    settings.MESHE_BASE_URL = live_server.url
    world = build_world()
    page.set_viewport_size(PHONE)
    wide: dict[str, str] = {}
    looked_at: list[str] = []
    for looking_at in every_page(page, live_server.url, world):
        looked_at.append(looking_at.split(" ", 1)[0])
        if found := too_wide(page):
            wide[looking_at] = found
    # The walk reached the pages (a broken world would skip them all and pass).
    assert {"home", "credentials:staff_list", "learners:wallet"} <= set(looked_at)
    assert wide == {}, f"pages wider than {PHONE['width']} px: {wide}"


# The pages whose layout the phone work changed: tables stacked or framed, charts, filters.
RESHAPED = {
    "credentials:catalogue",
    "credentials:dashboard",
    "credentials:staff_list",
    "credentials:micro_credentials",
    "credentials:pathways",
    "credentials:pathway_learners",
    "institutions:detail",
    "institutions:public",
    "institutions:members",
    "institutions:audit",
    "institutions:api_tokens",
    "exchange:partners",
    "exchange:partner",
    "exchange:partner_offers",
    "exchange:deliveries",
    "exchange:incoming",
    "learners:credential",
    "wallet_issuance:offer",
}


def test_the_reshaped_pages_pass_axe_on_a_phone(live_server, page: Page, settings):
    settings.MESHE_BASE_URL = live_server.url
    world = build_world()
    page.set_viewport_size(PHONE)
    problems = {
        looking_at: found
        for looking_at in every_page(page, live_server.url, world, names=RESHAPED)
        if (found := serious_violations(page))
    }
    assert problems == {}


def test_the_check_sees_a_page_that_scrolls_sideways(page: Page):
    page.set_viewport_size(PHONE)
    page.set_content('<html lang="en"><body><table><tr><td>x' + "x" * 80 + "</td></tr></table>")
    assert page_width(page) > PHONE["width"]


def test_only_html_answers_are_pages():
    html = {"content-type": "text/html; charset=utf-8"}
    assert is_a_page(200, html)
    assert not is_a_page(302, {**html, "location": "/"})
    assert not is_a_page(200, {"content-type": "application/json"})
    assert not is_a_page(200, {"content-type": "application/pdf"})
    assert not is_a_page(200, {"content-type": "image/png"})
    assert not is_a_page(200, {**html, "content-disposition": 'attachment; filename="a.csv"'})
