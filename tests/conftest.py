import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from meshe.celery import app as celery_app
from tests.factories import MembershipFactory, UserFactory
from tests.interop import Interop

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """Real hashing costs a second per user; the suite tests accounts, not PBKDF2."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    """Each test starts with an empty cache: rate limits and replay guards live there."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def user():
    return UserFactory()


@pytest.fixture
def admin_membership():
    return MembershipFactory()


@pytest.fixture
def logged_in(client: Client):
    """Logs a user in through the session, as allauth would after a password check."""

    def log_in(user) -> Client:
        client.force_login(user)
        return client

    return log_in


@pytest.fixture(autouse=True)
def tasks_run_inline(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tasks run in the test's own process unless the test asks for the real worker, so a
    worker never writes to the database while a transactional test is tearing it down."""
    if "celery_worker_process" in request.fixturenames:
        yield
        return
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Runs enqueued tasks in-process, for tests of what a task does rather than how it travels."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_eager_propagates = False


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup: None) -> Iterator[None]:
    """A real Celery worker consuming the broker the tests write to.

    CI starts one beside the suite (MESHE_TEST_CELERY_WORKER=running); elsewhere the
    fixture starts one itself, pointed at the test database.
    """
    if os.environ.get("MESHE_TEST_CELERY_WORKER") == "running":
        yield
        return
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3":
        pytest.fail("Start a worker on the test database and set MESHE_TEST_CELERY_WORKER=running.")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database['NAME']}"}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "meshe",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
    )
    yield
    worker.terminate()
    worker.wait(timeout=30)


def wait_for(condition, *, timeout: float = 60.0, interval: float = 0.2) -> bool:
    """Polls until `condition()` is true; for effects produced by another process."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


@pytest.fixture(scope="session")
def interop() -> Interop:
    """The vc-js install MESHE_INTEROP_DIR names; skipped without one, except under CI."""
    directory = os.environ.get("MESHE_INTEROP_DIR")
    if not directory:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must check against vc-js: set MESHE_INTEROP_DIR (make test does)")
        pytest.skip("MESHE_INTEROP_DIR is not set: no vc-js interop install to check against")
    path = Path(directory)
    if not (path / "verify.mjs").is_file() or not (path / "node_modules").is_dir():
        pytest.fail(
            f"MESHE_INTEROP_DIR={directory} is not a copy of shared/interop with `npm ci` run in it"
        )
    node = shutil.which("node")
    if node is None:
        pytest.fail("MESHE_INTEROP_DIR is set but `node` is not on PATH")
    return Interop(directory=path, node=node)
