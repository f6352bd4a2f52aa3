"""ECTS read the same on every page, e-mail and PDF: "4 ECTS", "4.5 ECTS", and "4,5 ECTS" in
French and German, never "4.00 ECTS" (credentials.ects and its template filters)."""

import html
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.conf import settings
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from credentials.ects import ects_number, ects_text
from tests.factories import MicroCredentialFactory, issue


@pytest.fixture(autouse=True)
def english_after_each_test() -> Iterator[None]:
    """A request with Accept-Language leaves its language active in this thread; the tests
    after this one render e-mails and pages in English again."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.mark.parametrize(
    ("value", "english", "french"),
    [
        (Decimal("4.00"), "4", "4"),
        (Decimal("4.50"), "4.5", "4,5"),
        (Decimal("2.25"), "2.25", "2,25"),
        (Decimal("40.00"), "40", "40"),
        (7.5, "7.5", "7,5"),
        (3, "3", "3"),
        ("6.0", "6", "6"),
    ],
)
def test_a_number_of_ects_drops_trailing_zeros_and_takes_the_languages_separator(
    value, english, french
):
    with translation.override("en"):
        assert ects_number(value) == english
    with translation.override("fr"):
        assert ects_number(value) == french
    with translation.override("de"):
        assert ects_number(value) == french


def test_no_workload_reads_as_nothing_and_text_is_kept_as_it_is():
    assert ects_number(None) == ""
    assert ects_number("") == ""
    assert ects_text(None) == ""
    assert ects_number("several") == "several"


def test_the_template_filters_write_the_unit_or_the_number_alone():
    template = Template("{% load ects %}{{ a|ects }} / {{ b|ects_number }}")
    context = Context({"a": Decimal("4.00"), "b": Decimal("2.50")})
    with translation.override("en"):
        assert template.render(context) == "4 ECTS / 2.5"
    with translation.override("de"):
        assert template.render(context) == "4 ECTS / 2,5"


def shown(client, url: str, language: str) -> str:
    response = client.get(url, headers={"Accept-Language": language})
    assert response.status_code == 200
    return html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))


def ects_on(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:[.,]\d+)? ECTS", text))


@pytest.mark.django_db
def test_the_public_credential_page_and_the_catalogue_agree_on_whole_credits(client):
    micro_credential = MicroCredentialFactory(ects=Decimal("4.00"))
    credential = issue(micro_credential)
    credential_page = shown(client, credential.get_absolute_url(), "en")
    catalogue = shown(client, reverse("credentials:catalogue"), "en")
    offer = reverse("credentials:offer", kwargs={"public_id": micro_credential.public_id})
    offer_page = shown(client, offer, "en")
    for text in (credential_page, catalogue, offer_page):
        assert "4 ECTS" in text
        assert "4.00 ECTS" not in text
        assert "4.0 ECTS" not in text


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "de"])
def test_half_credits_take_a_decimal_comma_in_french_and_german(client, language):
    micro_credential = MicroCredentialFactory(ects=Decimal("4.50"))
    credential = issue(micro_credential)
    credential_page = shown(client, credential.get_absolute_url(), language)
    catalogue = shown(client, reverse("credentials:catalogue"), language)
    assert "4,5 ECTS" in credential_page
    assert "4,5 ECTS" in catalogue
    assert ects_on(credential_page) <= {"4,5 ECTS"}
