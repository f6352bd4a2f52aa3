import pytest
from django.urls import reverse

from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def nav(response) -> str:
    html = response.text
    return html[html.index('<nav aria-label="Main">') : html.index("</nav>")]


def test_anonymous_visitors_see_sign_in_and_sign_up(client):
    menu = nav(client.get("/"))
    assert "Sign in" in menu
    assert "Create an account" in menu
    assert "My credentials" not in menu
    assert "Staff" not in menu


def test_learners_see_their_credentials_but_no_staff_links(logged_in):
    menu = nav(logged_in(UserFactory()).get("/"))
    assert "My credentials" in menu
    assert "Sign out" in menu
    assert "Staff" not in menu
    assert "Sign in" not in menu


def test_staff_see_their_institutions(logged_in):
    membership = MembershipFactory(institution__name="Aldermoor")
    menu = nav(logged_in(membership.user).get("/"))
    assert "Staff" in menu
    assert "Aldermoor" in menu
    assert "My credentials" in menu


def test_sign_in_lands_staff_on_staff_home_and_learners_on_their_wallet(logged_in):
    staff = MembershipFactory().user
    assert logged_in(staff).get(reverse("dashboard")).url == reverse("institutions:staff_home")
    learner = UserFactory()
    assert logged_in(learner).get(reverse("dashboard")).url == reverse("learners:wallet")
