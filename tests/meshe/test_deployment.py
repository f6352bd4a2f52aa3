"""docker-compose.yml cannot run here (no Docker engine), so it is checked by reading."""

import re

import yaml

from tests.conftest import ROOT
from tests.meshe.processes import run_django

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SAMPLE_VALUES = {
    "SECRET_KEY": "Zq8-compose-sample-secret-key-9fL2mN7xR4tV1bW6yH3jK0pD5sG8aE2uC",
    "MESHE_KEY_ENCRYPTION_SECRET": "compose-sample-encryption-secret-7Hq2xYz9",
    "MESHE_BASE_URL": "https://meshe.uni-a.eu",
    "ALLOWED_HOSTS": "meshe.uni-a.eu",
    "POSTGRES_PASSWORD": "sample",
}


def interpolate(value: str) -> str:
    """Compose's ${NAME:?message} and ${NAME:-default}, filled from SAMPLE_VALUES."""

    def replace(match: re.Match[str]) -> str:
        name, operator, rest = match.group(1), match.group(2), match.group(3)
        if name in SAMPLE_VALUES:
            return SAMPLE_VALUES[name]
        assert operator == ":-", f"{name} is required but has no sample value"
        return rest

    return re.sub(r"\$\{(\w+)(:[?-])?([^}]*)\}", replace, str(value))


def test_compose_describes_web_worker_beat_postgres_and_redis():
    assert set(COMPOSE["services"]) == {
        "web",
        "worker",
        "pdf-worker",
        "mail-worker",
        "exchange-worker",
        "beat",
        "postgres",
        "redis",
    }
    for name in ("web", "worker", "pdf-worker", "mail-worker", "exchange-worker", "beat"):
        service = COMPOSE["services"][name]
        assert service["build"] == "."
        assert {"postgres", "redis"} <= set(service["depends_on"])
    assert "gunicorn meshe.wsgi:application" in COMPOSE["services"]["web"]["command"]
    assert COMPOSE["services"]["worker"]["command"].startswith("celery -A meshe worker")
    assert COMPOSE["services"]["beat"]["command"].startswith("celery -A meshe beat")
    pdf = COMPOSE["services"]["pdf-worker"]["command"]
    assert "-Q pdf" in pdf
    assert "--max-tasks-per-child=" in pdf
    assert COMPOSE["services"]["web"]["environment"]["MESHE_PDF_QUEUE"] == "pdf"


def test_compose_runs_every_queue_it_routes_to_and_e_mail_apart_from_jobs():
    services = COMPOSE["services"]
    assert services["web"]["environment"]["MESHE_MAIL_QUEUE"] == "mail"
    assert "-Q celery" in services["worker"]["command"]
    assert "-Q mail" in services["mail-worker"]["command"]
    assert "-Q pdf" in services["pdf-worker"]["command"]
    assert services["web"]["environment"]["MESHE_EXCHANGE_QUEUE"] == "exchange"
    assert "-Q exchange" in services["exchange-worker"]["command"]
    assert "--pool=threads" in services["exchange-worker"]["command"]


def test_compose_environment_passes_the_production_checks():
    env = {
        name: interpolate(value)
        for name, value in COMPOSE["services"]["web"]["environment"].items()
    }
    assert env["DATABASE_URL"].startswith("postgres://meshe:sample@postgres:5432/")
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    result = run_django(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_holds_every_app_the_portal_needs():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for folder in (
        "meshe",
        "credentials",
        "institutions",
        "learners",
        "exchange",
        "templates",
        "static",
    ):
        assert f"COPY {folder}/ {folder}/" in dockerfile
    assert "requirements.lock" in dockerfile
