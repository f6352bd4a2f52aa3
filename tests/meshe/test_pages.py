import pytest
from django.test import Client
from django.urls import path

from meshe import urls as meshe_urls


def explode(request):
    raise RuntimeError("boom")


urlpatterns = [*meshe_urls.urlpatterns, path("explode/", explode)]
handler500 = meshe_urls.handler500


@pytest.mark.django_db
def test_home_page_shows_what_meshe_is(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Micro-credentials that universities trust and learners own" in response.content
    assert b'class="skip-link" href="#main"' in response.content
    assert b'<main id="main"' in response.content


@pytest.mark.django_db
def test_every_page_carries_a_content_security_policy_and_security_headers(client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_an_unknown_page_gets_the_friendly_404(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert b"We could not find that page" in response.content


@pytest.mark.django_db
@pytest.mark.urls("tests.meshe.test_pages")
def test_an_unexpected_error_gets_the_500_page_without_details():
    client = Client(raise_request_exception=False)
    response = client.get("/explode/")
    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content
    assert b"boom" not in response.content


@pytest.mark.django_db
def test_the_language_can_be_switched_from_any_page(client):
    response = client.post("/i18n/setlang/", {"language": "de", "next": "/"})
    assert response.status_code == 302
    assert client.cookies["django_language"].value == "de"
