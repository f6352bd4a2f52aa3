"""The wallet in pages: only a page of cards is rendered, while filters, order and totals
cover every credential, and the page links keep the filters."""

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from credentials.issuing import services
from credentials.models import IssuedCredential
from learners import selectors
from tests.factories import MicroCredentialFactory, UserFactory
from tests.learners.holding import ImportedCredentialFactory, held_credential, uni_x_is_a_partner
from tests.learners.pages import card_titles

pytestmark = pytest.mark.django_db

WALLET = reverse("learners:wallet")


@pytest.fixture
def three_per_page(monkeypatch):
    monkeypatch.setattr(selectors, "WALLET_PAGE_SIZE", 3)


@pytest.fixture
def learner():
    """Five credentials issued a day apart (Course 0 the newest), one of them revoked, and
    an import."""
    learner = UserFactory()
    micro_credential = MicroCredentialFactory(ects=Decimal("2"))
    for number in range(5):
        credential = held_credential(learner, micro_credential)
        IssuedCredential.objects.filter(pk=credential.pk).update(
            issued_at=credential.issued_at - timedelta(days=number)
        )
    services.credential_revoke(credential=credential, actor=None)  # the oldest
    uni_x_is_a_partner()
    ImportedCredentialFactory(owner=learner, title="Imported one", ects=Decimal("3"))
    return learner


def page_links(text: str) -> list[str]:
    nav = re.search(r'<nav class="pagination".*?</nav>', text, re.DOTALL)
    assert nav is not None
    return [html.unescape(link) for link in re.findall(r'href="([^"]+)"', nav[0])]


def test_a_page_shows_a_page_of_cards_and_totals_count_them_all(logged_in, learner, three_per_page):
    page = logged_in(learner).get(WALLET)
    assert len(card_titles(page.text)) == 3
    assert "6 credentials" in page.text
    # Four valid issued credentials of 2 ECTS and the import's 3, across both pages.
    assert "<strong>11 ECTS</strong> in valid credentials from institutions this portal knows" in (
        page.text
    )
    assert "Page 1 of 2" in page.text


def test_the_second_page_holds_the_rest_in_the_same_order(logged_in, learner, three_per_page):
    client = logged_in(learner)
    whole = selectors.wallet(user=learner).view()
    first = card_titles(client.get(WALLET).text)
    second = card_titles(client.get(WALLET, {"page": 2}).text)
    assert first + second == [html.escape(card.title) for card in whole.cards]
    assert second[-1] == "Imported one"  # imports without a date go last; this one is oldest


def test_page_links_keep_the_filters_and_the_order(logged_in, learner, three_per_page):
    page = logged_in(learner).get(WALLET, {"status": "valid", "sort": "oldest"})
    assert "5 credentials shown of 6" in page.text
    assert page_links(page.text) == ["?status=valid&sort=oldest&page=2"]
    second = logged_in(learner).get(WALLET, {"status": "valid", "sort": "oldest", "page": 2})
    assert page_links(second.text) == ["?status=valid&sort=oldest&page=1"]
    assert len(card_titles(second.text)) == 2


@pytest.mark.parametrize(("asked", "shown"), [("9", "Page 2 of 2"), ("none", "Page 1 of 2")])
def test_a_page_past_the_end_or_not_a_number_shows_a_page_rather_than_an_error(
    logged_in, learner, three_per_page, asked, shown
):
    page = logged_in(learner).get(WALLET, {"page": asked})
    assert page.status_code == 200
    assert shown in page.text


def test_one_page_needs_no_page_links(logged_in, learner):
    page = logged_in(learner).get(WALLET)
    assert len(card_titles(page.text)) == 6
    assert 'class="pagination"' not in page.text


def test_any_page_loads_in_the_same_number_of_queries(
    logged_in, learner, three_per_page, django_assert_max_num_queries
):
    client = logged_in(learner)
    # As the wallet's own query-count test counts: 6 for the cards, 4 for the pathways.
    with django_assert_max_num_queries(10):
        client.get(WALLET, {"page": 2, "status": "valid"})
