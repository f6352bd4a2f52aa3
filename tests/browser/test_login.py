import re

import pytest
from playwright.sync_api import Page, expect

from institutions.models import Role
from tests.factories import PASSWORD, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_staff_member_signs_in_and_sees_their_institutions(live_server, page: Page):
    membership = MembershipFactory(
        user__email="anna@aldermoor.example",
        institution__name="University of Aldermoor",
        role=Role.ADMIN,
    )
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign in").click()

    page.get_by_label("E-mail address").fill(membership.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/staff/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your institutions")
    expect(page.get_by_role("link", name="University of Aldermoor").first).to_be_visible()
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign out")
    ).to_be_visible()


def test_the_skip_link_is_the_first_thing_keyboard_users_reach(live_server, page: Page):
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    skip.press("Enter")
    expect(page.locator("main")).to_be_focused()
