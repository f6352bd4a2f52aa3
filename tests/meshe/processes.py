"""Running manage.py in a process of its own, with the environment production would give it
rather than the test suite's settings."""

import os
import subprocess
import sys

from tests.conftest import ROOT

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "0x9Qm-production-like-secret-kT4vLr8wYz2nB6cJ1hF5dG3sA7pE0uI9oK",
    "MESHE_KEY_ENCRYPTION_SECRET": "Wm3q-production-like-encryption-secret-Z8xN2v",
    "MESHE_BASE_URL": "https://meshe.uni-a.example",
    "ALLOWED_HOSTS": "meshe.uni-a.example",
    "DATABASE_URL": "postgres://meshe@db.internal:5432/meshe",
    "REDIS_URL": "redis://cache.internal:6379/0",
}


TEST_SETTINGS = {
    "MESHE_VAR_DIR",
    "MESHE_STATIC_MANIFEST",
    "MESHE_SECURE_COOKIES",
    "SECURE_SSL_REDIRECT",
    "EMAIL_BACKEND",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def run_django(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    # Start from the machine's environment without the test suite's settings.
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k not in TEST_SETTINGS}
    clean["MESHE_VAR_DIR"] = "var/test"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
