import warnings

import pytest
from django.core.exceptions import ImproperlyConfigured

from meshe import environment
from tests.meshe.processes import PRODUCTION, run_django


@pytest.mark.parametrize("value", ["yes", "2", "True!", "enabled"])
def test_env_bool_refuses_yes_ish_values(monkeypatch, value):
    monkeypatch.setenv("SOME_FLAG", value)
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG must be true or false"):
        environment.env_bool("SOME_FLAG", False)


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("ON", True), ("0", False)])
def test_env_bool_reads_plain_words(monkeypatch, value, expected):
    monkeypatch.setenv("SOME_FLAG", value)
    assert environment.env_bool("SOME_FLAG", not expected) is expected


def test_env_int_refuses_words_and_values_below_the_minimum(monkeypatch):
    monkeypatch.setenv("PORT_NUMBER", "eighty")
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        environment.env_int("PORT_NUMBER", 1)
    monkeypatch.setenv("PORT_NUMBER", "-3")
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        environment.env_int("PORT_NUMBER", 1, minimum=0)


def test_env_list_refuses_an_empty_item(monkeypatch):
    monkeypatch.setenv("HOSTS", "a.example,,b.example")
    with pytest.raises(ImproperlyConfigured, match="empty item"):
        environment.env_list("HOSTS", [])


@pytest.mark.parametrize(
    "value", ["meshe.example", "ftp://meshe.example", "https://x.example/?a=1"]
)
def test_env_url_refuses_what_is_not_a_plain_absolute_url(monkeypatch, value):
    monkeypatch.setenv("BASE", value)
    with pytest.raises(ImproperlyConfigured, match="BASE must"):
        environment.env_url("BASE", "http://localhost")


def test_env_json_list_refuses_malformed_json(monkeypatch):
    monkeypatch.setenv("PROVIDERS", "[{oops}]")
    with pytest.raises(ImproperlyConfigured, match="PROVIDERS is not valid JSON"):
        environment.env_json_list("PROVIDERS")


def test_a_missing_secret_is_refused_in_production(monkeypatch, tmp_path):
    monkeypatch.delenv("SOME_SECRET", raising=False)
    with pytest.raises(ImproperlyConfigured, match="SOME_SECRET must be set in production"):
        environment.env_secret("SOME_SECRET", debug=False, store=tmp_path / "s.json")


def test_a_short_secret_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("SOME_SECRET", "short")
    with pytest.raises(ImproperlyConfigured, match="at least 32 characters"):
        environment.env_secret("SOME_SECRET", debug=True, store=tmp_path / "s.json")


def test_debug_generates_a_secret_once_and_keeps_it(monkeypatch, tmp_path):
    monkeypatch.delenv("SOME_SECRET", raising=False)
    store = tmp_path / "s.json"
    with pytest.warns(UserWarning, match="generated a development value"):
        first = environment.env_secret("SOME_SECRET", debug=True, store=store)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the kept value is used quietly
        second = environment.env_secret("SOME_SECRET", debug=True, store=store)
    assert first == second
    assert len(first) >= 32
    assert store.stat().st_mode & 0o077 == 0


def test_the_portal_refuses_to_start_in_production_without_a_secret_key():
    env = {**PRODUCTION, "SECRET_KEY": ""}
    result = run_django(env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set in production" in result.stderr


def test_the_portal_refuses_a_malformed_debug_flag():
    result = run_django({**PRODUCTION, "DEBUG": "yes"}, "check")
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_check_deploy_is_clean_with_production_variables():
    result = run_django(PRODUCTION, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_settings_use_postgresql_and_redis():
    result = run_django(
        PRODUCTION,
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.CACHES['default']['BACKEND'], s.SECURE_SSL_REDIRECT)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "redis://cache.internal:6379/0",
        "meshe.cache.FailSoftRedisCache",
        "True",
    ]
