"""Security headers, the content security policy and the production cookie settings."""

import json

import pytest
from django.urls import reverse

from tests.factories import MembershipFactory
from tests.meshe.processes import PRODUCTION, run_django

PAGES = ["home", "credentials:verify", "account_login", "account_signup"]


def csp_of(response) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_pages_send_the_security_headers(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_pages_send_a_strict_content_security_policy(client, name):
    csp = csp_of(client.get(reverse(name)))
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    # Scripts from this site, and inline ones only with the nonce of the page that uses one.
    assert csp["script-src"][0] == "'self'"
    assert all(value.startswith("'nonce-") for value in csp["script-src"][1:])
    assert all("unsafe" not in value for values in csp.values() for value in values)


@pytest.mark.django_db
def test_staff_pages_and_the_429_page_carry_the_headers_too(logged_in, settings):
    admin = MembershipFactory()
    page = logged_in(admin.user).get(reverse("institutions:audit", kwargs={"slug": "x"}))
    assert page["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    settings.MESHE_RATE_LIMITS = {**settings.MESHE_RATE_LIMITS, "verify": "1/m"}
    client = logged_in(admin.user)
    client.post(reverse("credentials:verify"), {"document": "{}"})
    refused = client.post(reverse("credentials:verify"), {"document": "{}"})
    assert refused.status_code == 429
    assert "frame-ancestors 'none'" in refused["Content-Security-Policy"]


@pytest.mark.django_db
def test_https_requests_get_hsts_for_a_year_with_subdomains_and_preload(client):
    response = client.get(reverse("home"), secure=True)
    assert response["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")


SHOW_PRODUCTION = """
import json
from django.conf import settings as s
from django.test import Client
response = Client().get("/verify", secure=True, headers={"host": "meshe.uni-a.example"})
plain = Client().get("/", headers={"host": "meshe.uni-a.example"})
print(json.dumps({
    "session_secure": s.SESSION_COOKIE_SECURE,
    "session_httponly": s.SESSION_COOKIE_HTTPONLY,
    "csrf_secure": s.CSRF_COOKIE_SECURE,
    "language_secure": s.LANGUAGE_COOKIE_SECURE,
    "ssl_redirect": s.SECURE_SSL_REDIRECT,
    "allauth_proxies": s.ALLAUTH_TRUSTED_PROXY_COUNT,
    "status": response.status_code,
    "hsts": response.get("Strict-Transport-Security"),
    "csrf_cookie_secure": bool(response.cookies["csrftoken"]["secure"]),
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location"),
}))
"""


def test_production_settings_make_cookies_secure_and_redirect_to_https():
    env = {**PRODUCTION, "MESHE_TRUSTED_PROXY_COUNT": "1", "MESHE_STATIC_MANIFEST": "false"}
    # No database, cache server or collected static files here: the pages need none.
    env.pop("DATABASE_URL")
    env.pop("REDIS_URL")
    result = run_django(env, "shell", "--no-imports", "-c", SHOW_PRODUCTION)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert shown == {
        "session_secure": True,
        "session_httponly": True,
        "csrf_secure": True,
        "language_secure": True,
        "ssl_redirect": True,
        "allauth_proxies": 1,
        "status": 200,
        "hsts": "max-age=31536000; includeSubDomains; preload",
        "csrf_cookie_secure": True,
        "plain_status": 301,
        "plain_location": "https://meshe.uni-a.example/",
    }


def test_check_deploy_refuses_a_malformed_rate_limit():
    env = {**PRODUCTION, "MESHE_RATE_LIMITS": '{"verify": "lots"}'}
    result = run_django(env, "check", "--deploy")
    assert result.returncode != 0
    assert "meshe.E001" in result.stderr
