"""Abuse limits: the counter, the keys, and each limited door answering 429 with Retry-After."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from meshe import rate_limits
from tests.factories import PASSWORD, MicroCredentialFactory, UserFactory, make_token
from tests.learners.holding import issued_with_link

LIMITS = {
    "verify": "3/m",
    "claim": "2/m",
    "api": "2/m",
    "exchange": "2/m",
    "exchange_ip": "100/m",
}


@pytest.fixture
def tight(settings):
    """Small limits, so a test reaches each one in a few requests."""
    settings.MESHE_RATE_LIMITS = dict(LIMITS)
    return settings


@pytest.fixture
def frozen(time_machine):
    """The clock at the start of a minute, standing still until the test moves it."""
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=1)
    time_machine.move_to(start, tick=False)
    return time_machine


def refused(response, *, seconds: int | None = None) -> bool:
    retry_after = response.get("Retry-After")
    if response.status_code != 429 or retry_after is None or int(retry_after) < 1:
        return False
    return seconds is None or int(retry_after) == seconds


# ---------------------------------------------------------------- the counter and its keys


@pytest.mark.parametrize(
    ("text", "count", "seconds"),
    [("30/m", 30, 60), ("5/300s", 5, 300), ("1000/d", 1000, 86400), ("2/10m", 2, 600)],
)
def test_a_rate_reads_as_count_per_period(text, count, seconds):
    assert rate_limits.parse_rate(text) == rate_limits.Rate(count=count, seconds=seconds)


@pytest.mark.parametrize("text", ["30", "0/m", "30/minute", "-1/m", "3/0s", "ten/m"])
def test_a_malformed_rate_is_refused(text):
    with pytest.raises(ValueError, match="is not a rate"):
        rate_limits.parse_rate(text)


def test_a_malformed_limit_in_the_settings_fails_the_system_check(settings):
    settings.MESHE_RATE_LIMITS = {**LIMITS, "verify": "lots"}
    assert [error.id for error in rate_limits.check_rate_limits(None)] == ["meshe.E001"]


@pytest.mark.date_sensitive
def test_the_counter_allows_the_limit_then_refuses_until_the_window_ends(tight, frozen):
    frozen.shift(15)
    decisions = [rate_limits.hit("verify", "client") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[-1].retry_after == 45
    assert rate_limits.hit("verify", "someone else").allowed
    frozen.shift(45)
    assert rate_limits.hit("verify", "client").allowed


def test_a_limit_switched_off_counts_nothing(settings):
    settings.MESHE_RATE_LIMITS = {**LIMITS, "verify": "off"}
    assert all(rate_limits.hit("verify", "client").allowed for _ in range(50))


def test_an_unknown_scope_is_a_configuration_error(tight):
    with pytest.raises(Exception, match="no limit named 'login'"):
        rate_limits.hit("login", "client")


def test_x_forwarded_for_is_ignored_unless_proxies_are_trusted(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="6.6.6.6")
    settings.MESHE_TRUSTED_PROXY_COUNT = 0
    assert rate_limits.client_ip(request) == "10.0.0.9"


def test_with_one_trusted_proxy_the_address_it_saw_counts_not_what_the_client_claims(settings):
    settings.MESHE_TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7"
    )
    assert rate_limits.client_ip(request) == "203.0.113.7"


def test_ipv6_clients_count_by_their_slash_64():
    first = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2::1")
    second = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2:ffff::9")
    assert rate_limits.client_ip(first) == rate_limits.client_ip(second) == "2001:db8:1:2::"
    assert rate_limits.client_address(first) == "2001:db8:1:2::1"


# ---------------------------------------------------------------- the limited doors


@pytest.mark.django_db
def test_the_verify_api_answers_429_in_json_and_resets_after_the_window(client, tight, frozen):
    path = reverse("credentials:verify_api")
    answers = [client.post(path, b"{}", content_type="application/json") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert refused(answers[-1], seconds=60)
    assert answers[-1].json()["error"]["code"] == "rate_limited"
    frozen.shift(60)
    assert client.post(path, b"{}", content_type="application/json").status_code == 200


@pytest.mark.django_db
def test_the_verify_page_limits_checks_but_not_reading_the_page(client, tight, frozen):
    path = reverse("credentials:verify")
    for _ in range(3):
        assert client.post(path, {"document": "{}"}).status_code == 200
    page = client.post(path, {"document": "{}"})
    assert refused(page)
    assert "Too many requests" in page.text
    assert page["Content-Type"].startswith("text/html")
    assert client.get(path).status_code == 200


@pytest.mark.django_db
def test_the_vc_api_verifiers_share_the_verify_budget(client, tight, frozen):
    body = json.dumps({"verifiableCredential": {}})
    paths = ["/vc-api/credentials/verify", "/vc-api/presentations/verify", "/api/v1/verify"]
    codes = [client.post(p, body, content_type="application/json").status_code for p in paths]
    assert 429 not in codes
    answer = client.post(paths[0], body, content_type="application/json")
    assert refused(answer)
    assert answer.json()["error"]["code"] == "rate_limited"


@pytest.mark.django_db
def test_the_issuer_api_limits_each_token_on_its_own(client, tight, frozen):
    micro_credential = MicroCredentialFactory()
    first, second = (
        make_token(micro_credential.institution),
        make_token(micro_credential.institution),
    )

    def list_with(token):
        return client.get("/api/v1/credentials", headers={"Authorization": f"Bearer {token}"})

    assert [list_with(first).status_code for _ in range(2)] == [200, 200]
    answer = list_with(first)
    assert refused(answer, seconds=60)
    assert answer.json()["error"]["code"] == "rate_limited"
    assert list_with(second).status_code == 200
    frozen.shift(60)
    assert list_with(first).status_code == 200


@pytest.mark.django_db
def test_claim_links_are_limited_per_learner(logged_in, tight, frozen):
    _credential, token = issued_with_link()
    client = logged_in(UserFactory())
    path = reverse("learners:claim", kwargs={"token": token})
    assert [client.get(path).status_code for _ in range(2)] == [200, 200]
    page = client.get(path)
    assert refused(page, seconds=60)
    assert "Too many requests" in page.text
    frozen.shift(60)
    assert client.get(path).status_code == 200


@pytest.mark.django_db
@pytest.mark.urls("tests.exchange.inbound_urls")
def test_exchange_requests_are_limited_per_partner_with_a_problem(client, tight, frozen):
    from tests.exchange.partners import partnership, reason, send

    partner, sender = partnership()
    slug = partner.institution.slug
    assert [send(client, sender=sender, slug=slug)[0].status_code for _ in range(2)] == [200, 200]
    answer, _request = send(client, sender=sender, slug=slug)
    assert refused(answer, seconds=60)
    assert reason(answer) == "rate-limited"
    # Another partner of the same institution has its own budget.
    other, other_sender = partnership()
    assert send(client, sender=other_sender, slug=other.institution.slug)[0].status_code == 200
    frozen.shift(60)
    assert send(client, sender=sender, slug=slug)[0].status_code == 200


@pytest.mark.django_db
@pytest.mark.urls("tests.exchange.inbound_urls")
def test_exchange_requests_are_limited_per_address_before_any_signature_is_checked(
    client, settings, frozen
):
    from tests.exchange.partners import partnership, reason

    settings.MESHE_RATE_LIMITS = {**LIMITS, "exchange_ip": "2/m"}
    partner, _sender = partnership()
    path = f"/exchange/v1/{partner.institution.slug}/echo"
    codes = [client.post(path, b"{}", content_type="application/json").status_code for _ in "ab"]
    assert codes == [401, 401]  # unsigned
    answer = client.post(path, b"{}", content_type="application/json")
    assert refused(answer)
    assert reason(answer) == "rate-limited"


# ---------------------------------------------------------------- allauth's own limits


@pytest.mark.django_db
def test_sign_up_answers_429_with_retry_after_over_allauths_limit(client, settings, frozen):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "2/m/ip"}
    path = reverse("account_signup")

    def sign_up(n):
        return client.post(
            path,
            {
                "email": f"new{n}@example.eu",
                "name": "New Learner",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )

    assert [sign_up(n).status_code for n in range(2)] == [302, 302]
    client.logout()
    page = sign_up(3)
    assert refused(page, seconds=60)
    assert "Too many requests" in page.text
    frozen.shift(61)
    assert sign_up(4).status_code == 302


@pytest.mark.django_db
def test_sign_in_answers_429_with_retry_after_over_allauths_limit(client, settings, frozen):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "2/m/ip"}
    user = UserFactory()
    path = reverse("account_login")
    for _ in range(2):
        assert client.post(path, {"login": user.email, "password": "wrong"}).status_code == 200
    page = client.post(path, {"login": user.email, "password": PASSWORD})
    assert refused(page, seconds=300)  # the longest of login's and login_failed's windows
    frozen.shift(61)
    assert client.post(path, {"login": user.email, "password": PASSWORD}).status_code == 302


@pytest.mark.django_db
def test_repeated_wrong_passwords_lock_the_account_for_a_while(client, settings, frozen):
    user = UserFactory()
    path = reverse("account_login")
    for _ in range(5):
        assert client.post(path, {"login": user.email, "password": "wrong"}).status_code == 200
    page = client.post(path, {"login": user.email, "password": PASSWORD})
    assert refused(page, seconds=300)  # login_failed's "5/300s/key": every attempt has expired
    assert page["Cache-Control"] == "no-store"
    assert "Too many failed sign-in attempts. Please try again later." in page.text
    frozen.shift(299)
    assert refused(client.post(path, {"login": user.email, "password": PASSWORD}))
    frozen.shift(2)
    assert client.post(path, {"login": user.email, "password": PASSWORD}).status_code == 302


def test_allauths_limits_are_configured_explicitly(settings):
    for action in ("login", "login_failed", "signup", "reset_password"):
        assert settings.ACCOUNT_RATE_LIMITS[action]


def test_limits_are_overridden_from_the_environment_and_typos_are_refused(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from meshe.environment import env_overrides

    monkeypatch.setenv("SOME_LIMITS", '{"verify": "5/m"}')
    assert env_overrides("SOME_LIMITS", {"verify": "60/m", "claim": "1/m"}) == {
        "verify": "5/m",
        "claim": "1/m",
    }
    monkeypatch.setenv("SOME_LIMITS", '{"verfy": "5/m"}')
    with pytest.raises(ImproperlyConfigured, match="unknown verfy"):
        env_overrides("SOME_LIMITS", {"verify": "60/m"})


@pytest.mark.django_db  # the model checks ask the database which JSON features it has
def test_the_check_command_accepts_the_default_limits():
    call_command("check")
