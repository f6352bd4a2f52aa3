"""Real processes for the fault tests: Celery workers the tests start and kill, and the
PostgreSQL and Redis servers they restart.

No tests here. Workers consume a queue of their own, so a worker CI runs beside the suite
never takes the work these tests need to interrupt.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

from django.conf import settings

from meshe.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent.parent


def database_url() -> str:
    """The test database, as a URL a worker process can be given."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{database['NAME']}"
    user = quote(database.get("USER") or "")
    password = quote(database.get("PASSWORD") or "")
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    host, port = database.get("HOST") or "127.0.0.1", database.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{database['NAME']}"


def uses_postgresql() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


@dataclass
class Workers:
    """Workers on one private queue; the credentials tasks are routed there meanwhile."""

    queue: str
    running: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, *, log: Path | None = None) -> subprocess.Popen[bytes]:
        """A worker; with `log`, at INFO into that file (retries are logged at INFO)."""
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            # A connection per task, checked before use: a restarted database is reconnected to.
            "DATABASE_CONN_MAX_AGE": "0",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
        worker = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "meshe", "worker", "--pool=solo",
                "-Q", self.queue, "-n", f"{self.queue}-{len(self.running)}@%h",
                f"--loglevel={'INFO' if log else 'WARNING'}",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=log.open("ab") if log else None,
            stderr=subprocess.STDOUT if log else None,
            start_new_session=True,
        )  # fmt: skip
        self.running.append(worker)
        return worker

    def kill(self, worker: subprocess.Popen[bytes]) -> None:
        """SIGKILL: no chance to finish the chunk, acknowledge or clean up."""
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)

    def stop_all(self) -> None:
        for worker in self.running:
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait(timeout=10)


@contextmanager
def private_workers() -> Iterator[Workers]:
    """Routes the credentials tasks to a fresh queue and stops its workers at the end."""
    workers = Workers(queue=f"faults-{uuid.uuid4().hex[:8]}")
    before_routes, before_eager = celery_app.conf.task_routes, celery_app.conf.task_always_eager
    _route({"credentials.issuing.tasks.*": {"queue": workers.queue}})
    celery_app.conf.task_always_eager = False
    try:
        yield workers
    finally:
        workers.stop_all()
        _route(before_routes)
        celery_app.conf.task_always_eager = before_eager


def _route(routes: object) -> None:
    # Celery builds its router once per process; make it read the new routes.
    celery_app.conf.task_routes = routes
    celery_app.amqp.flush_routes()
    celery_app.amqp.__dict__.pop("router", None)


# PostgreSQL -----------------------------------------------------------------------------------


def postgresql_cluster() -> tuple[str, str]:
    """(version, name) of the local cluster serving the test database's port."""
    port = str(settings.DATABASES["default"].get("PORT") or 5432)
    listing = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True
    ).stdout
    for line in listing.splitlines():
        version, name, cluster_port, *_rest = line.split()
        if cluster_port == port:
            return version, name
    raise LookupError(f"no local PostgreSQL cluster listens on port {port}")


def postgresql_restart() -> float:
    """Restarts the cluster as .ci/run starts it; returns how long it was unavailable."""
    version, name = postgresql_cluster()
    started = time.monotonic()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart"],
        check=True,
        capture_output=True,
    )
    host = settings.DATABASES["default"].get("HOST") or "127.0.0.1"
    port = str(settings.DATABASES["default"].get("PORT") or 5432)
    for _ in range(60):
        if subprocess.run(["pg_isready", "-q", "-h", host, "-p", port]).returncode == 0:
            break
        time.sleep(0.5)
    return time.monotonic() - started


# Redis ----------------------------------------------------------------------------------------


def _redis_cli(*args: str) -> subprocess.CompletedProcess[str]:
    url = urlsplit(settings.REDIS_URL)
    return subprocess.run(
        ["redis-cli", "-h", url.hostname or "127.0.0.1", "-p", str(url.port or 6379), *args],
        capture_output=True,
        text=True,
        timeout=10,
    )


def redis_alive() -> bool:
    return _redis_cli("ping").stdout.strip() == "PONG"


def redis_restart_command() -> list[str]:
    """How the running Redis was configured, so it starts again the same way (.ci/run's)."""
    config = {}
    for name in ("port", "bind", "dir", "logfile", "save", "appendonly"):
        lines = _redis_cli("config", "get", name).stdout.splitlines()
        config[name] = lines[1] if len(lines) > 1 else ""
    command = ["redis-server", "--daemonize", "yes", "--port", config["port"]]
    command += ["--bind", *config["bind"].split()] if config["bind"] else []
    command += ["--save", config["save"], "--appendonly", config["appendonly"] or "no"]
    command += ["--dir", config["dir"]] if config["dir"] else []
    command += ["--logfile", config["logfile"]] if config["logfile"] else []
    return command


@contextmanager
def redis_stopped() -> Iterator[None]:
    """Redis is down inside the block and back, configured as before, after it."""
    command = redis_restart_command()
    _redis_cli("shutdown", "nosave")
    for _ in range(50):
        if not redis_alive():
            break
        time.sleep(0.1)
    try:
        yield
    finally:
        subprocess.run(command, check=True, capture_output=True)
        for _ in range(50):
            if redis_alive():
                break
            time.sleep(0.1)
