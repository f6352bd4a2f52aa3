import os
import shutil
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from time_machine import TimeMachineFixture

from meshe.celery import app as celery_app
from tests.factories import MembershipFactory, UserFactory
from tests.interop import Interop

ROOT = Path(__file__).resolve().parent.parent

# Helpers moved out of test modules keep pytest's detailed assertion messages.
pytest.register_assert_rewrite("tests.exchange.partners", "tests.mail")


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


# The log of the worker the fixture below started this session, if it did.
_worker_log: list[Path] = []


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup: None) -> Iterator[None]:
    """A real Celery worker consuming the broker the tests write to.

    CI starts one beside the suite (MESHE_TEST_CELERY_WORKER=running) and prints its log when
    the suite fails; elsewhere the fixture starts one itself, pointed at the test database, and
    pytest_terminal_summary does the same with its log.
    """
    if os.environ.get("MESHE_TEST_CELERY_WORKER") == "running":
        yield
        return
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3":
        pytest.fail("Start a worker on the test database and set MESHE_TEST_CELERY_WORKER=running.")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database['NAME']}"}
    log = Path(settings.VAR_DIR) / "test-celery-worker.log"
    _worker_log.append(log)
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "meshe", "worker", "--pool=solo",
             "--loglevel=INFO"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    yield
    worker.terminate()
    worker.wait(timeout=30)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int) -> None:
    """After a failed run, the end of the log of the worker the suite started, as CI prints
    its own worker's: a task that failed or never ran shows there."""
    if exitstatus != 0 and _worker_log and _worker_log[0].exists():
        terminalreporter.section("Celery worker log (the last 100 lines)")
        lines = _worker_log[0].read_text("utf-8", errors="replace").splitlines()
        terminalreporter.write_line("\n".join(lines[-100:]))


def wait_for(condition, *, timeout: float = 60.0, interval: float = 0.2) -> bool:
    """Polls until `condition()` is true; for effects produced by another process."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


# `make test-fast` runs the suite without the tests that start browsers, nodes, servers or a
# real worker (`-m "not slow"`). They are marked here, by folder and by fixture, so a new file
# in these folders or a new test using the worker is left out of the fast lane too.
SLOW_FOLDERS = tuple(ROOT / "tests" / name for name in ("browser", "twonode", "faults"))
SLOW_FILES = frozenset({ROOT / "tests" / "meshe" / "test_dev_servers.py"})
SLOW_FIXTURES = frozenset({"celery_worker_process"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path
        if (
            path in SLOW_FILES
            or any(path.is_relative_to(folder) for folder in SLOW_FOLDERS)
            or SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))
        ):
            item.add_marker(pytest.mark.slow)


# Without npm there is no Node harness, and every test that checks against vc-js (or the Node
# wallet) skips for the same reason: say it once, at this file, rather than once per test.
NO_NODE_HARNESS = ("MESHE_INTEROP_DIR is not set", "MESHE_WALLET_DIR is not set")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Folds the skips of a missing Node harness into one line of the summary."""
    report: pytest.TestReport = yield
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = report.longrepr[2]
        if reason.removeprefix("Skipped: ").startswith(NO_NODE_HARNESS):
            report.longrepr = (__file__, pytest_runtest_makereport.__code__.co_firstlineno, reason)
    return report


@pytest.fixture(scope="session")
def interop() -> Interop:
    """The vc-js install MESHE_INTEROP_DIR names; skipped without one, except under CI."""
    directory = os.environ.get("MESHE_INTEROP_DIR")
    if not directory:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must check against vc-js: set MESHE_INTEROP_DIR (make test does)")
        pytest.skip(
            "MESHE_INTEROP_DIR is not set (no npm for `make interop`): vc-js checks skipped"
        )
    path = Path(directory)
    if not (path / "verify.mjs").is_file() or not (path / "node_modules").is_dir():
        pytest.fail(
            f"MESHE_INTEROP_DIR={directory} is not tests/vcjs with `npm ci` run in it (make interop)"
        )
    node = shutil.which("node")
    if node is None:
        pytest.fail("MESHE_INTEROP_DIR is set but `node` is not on PATH")
    return Interop(directory=path, node=node)


# A time bomb is a test that passes today and fails on a later day. To catch one at once, run
# the tests marked `date_sensitive` with the clock moved ahead (CI does):
#     MESHE_TEST_CLOCK_AHEAD_DAYS=365 .venv/bin/pytest -m date_sensitive
# or from a chosen instant, e.g. the last minute of a year in Brussels:
#     MESHE_TEST_CLOCK_AT=2027-12-31T23:59:30+01:00 .venv/bin/pytest -m date_sensitive
# Either moves the whole session (so module fixtures and the live server share the moved date),
# marked tests or not. time-machine moves this process's clock only: tests whose other processes
# (a Celery worker, Node) read the clock run on the real one.
CLOCK_AHEAD_DAYS = "MESHE_TEST_CLOCK_AHEAD_DAYS"
CLOCK_AT = "MESHE_TEST_CLOCK_AT"
REAL_CLOCK_FIXTURES = frozenset({"celery_worker_process", "interop", "wallet_node"})


def moved_clock() -> datetime | None:
    """The instant MESHE_TEST_CLOCK_AT or MESHE_TEST_CLOCK_AHEAD_DAYS asks the run to start at."""
    if at := os.environ.get(CLOCK_AT):
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise pytest.UsageError(f"{CLOCK_AT} needs a UTC offset, as in {at}+01:00")
        return moment
    if days := os.environ.get(CLOCK_AHEAD_DAYS):
        return datetime.now(UTC) + timedelta(days=int(days))
    return None


@pytest.fixture(scope="session", autouse=True)
def clock_moved() -> Iterator[None]:
    """Runs the session with the clock moved (and ticking) when the environment asks for it."""
    destination = moved_clock()
    if destination is None:
        yield
        return
    with time_machine.travel(destination, tick=True):
        yield


@pytest.fixture(autouse=True)
def real_clock_beside_other_processes(request: pytest.FixtureRequest) -> Iterator[None]:
    """Back on the real clock for a test whose other processes read it."""
    if moved_clock() is None or not REAL_CLOCK_FIXTURES & set(request.fixturenames):
        yield
        return
    real_now = time_machine.escape_hatch.time.time()
    with time_machine.travel(real_now, tick=True):
        yield


@pytest.fixture
def frozen_clock(time_machine: TimeMachineFixture) -> TimeMachineFixture:
    """Stops the clock at the current whole second (moved ahead, if the run moves it), so a test
    can compare times exactly however slowly a loaded machine runs it; `shift` moves it on."""
    time_machine.move_to(datetime.now(UTC).replace(microsecond=0), tick=False)
    return time_machine
