import pytest
from django.urls import reverse

from institutions.models import Role
from meshe.views import GUIDE
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("page", GUIDE, ids=[page.slug for page in GUIDE])
def test_every_guide_page_reads_with_the_guide_navigation(client, page):
    response = client.get(reverse("guide", kwargs={"slug": page.slug}))
    assert response.status_code == 200
    assert "<h1>" in response.text
    for other in GUIDE:
        assert reverse("guide", kwargs={"slug": other.slug}) in response.text
    assert 'aria-current="page"' in response.text


def test_the_guide_starts_with_what_a_micro_credential_is(client):
    response = client.get(reverse("guide_home"))
    assert "What is a micro-credential?" in response.text


def test_an_unknown_guide_page_is_404(client):
    assert client.get("/guide/no-such-page/").status_code == 404


def test_every_page_links_to_the_guide_and_to_verification(client):
    footer = client.get("/").text
    assert reverse("guide_home") in footer
    assert reverse("credentials:verify") in footer


def test_the_staff_guide_describes_the_editor_and_is_linked_from_it(logged_in):
    issuer = MembershipFactory(role=Role.ISSUER)
    guide = reverse("guide", kwargs={"slug": "describing-a-micro-credential"})
    editor = reverse("credentials:micro_credential_new", kwargs={"slug": issuer.institution.slug})
    client = logged_in(issuer.user)
    assert guide in client.get(editor).text
    page = client.get(guide).text
    assert "Choose…" in page
    assert "Add another outcome" in page
    assert "Preview and publish" in page
