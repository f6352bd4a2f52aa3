"""What the bench modules share: a fresh project (its own var/ folder and database), production
settings by environment variables alone, and a look at processes' memory.

The embedded default is SQLite and the filesystem broker in a scratch folder. When
DATABASE_URL and REDIS_URL are set (say postgres://postgres@127.0.0.1:5432/meshe_bench and
redis://127.0.0.1:6379/12), `services()` also offers that variant; the bench then drops and
re-creates that database, so its name must contain "bench", and empties that Redis database,
which must not be number 0.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPOSITORY = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# The public address of the bench node. Requests come as through a TLS-terminating proxy.
HOST = "meshe.bench.example"
BASE_URL = f"https://{HOST}"


@dataclass(frozen=True, slots=True)
class Services:
    """Where a bench project keeps its rows and queues."""

    label: str
    database_url: str | None  # None: SQLite in the scratch folder
    redis_url: str | None  # None: the filesystem broker and file cache


EMBEDDED = Services("embedded (SQLite, filesystem broker)", None, None)


def services() -> list[Services]:
    """The embedded default, and PostgreSQL + Redis when DATABASE_URL and REDIS_URL are set."""
    found = [EMBEDDED]
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if database_url and redis_url:
        found.append(Services("PostgreSQL + Redis", database_url, redis_url))
    return found


def production_environment(variant: Services, *, workdir: Path) -> dict[str, str]:
    """The environment of a production node of `variant` in `workdir`: DEBUG off, HTTPS
    behind a proxy, SMTP replaced by a file backend so no mail leaves the machine."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "meshe.settings",
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-secret-key-that-is-long-enough-for-django-0123456789",
            "MESHE_KEY_ENCRYPTION_SECRET": "bench-only-key-encryption-secret-0123456789",
            "MESHE_BASE_URL": BASE_URL,
            "MESHE_BEHIND_PROXY": "true",
            # Templates use {% static %}; the manifest needs collectstatic, which a bench skips.
            "MESHE_STATIC_MANIFEST": "false",
            "MESHE_VAR_DIR": str(workdir),
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(workdir / "mail"),
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(REPOSITORY),
        }
    )
    environment["DATABASE_URL"] = variant.database_url or f"sqlite:///{workdir}/bench.sqlite3"
    if variant.redis_url:
        environment["REDIS_URL"] = variant.redis_url
    return environment


def scratch() -> Path:
    return Path(tempfile.mkdtemp(prefix="meshe-bench-"))


def reset_services(variant: Services) -> None:
    """Give a PostgreSQL + Redis variant an empty database and an empty Redis database."""
    if variant.database_url:
        url = urlsplit(variant.database_url)
        name = url.path.lstrip("/")
        if "bench" not in name:
            raise SystemExit(f"refusing to drop database {name!r}: its name must contain 'bench'")
        import psycopg

        admin = url._replace(path="/postgres").geturl()
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
    if variant.redis_url:
        import redis

        client = redis.Redis.from_url(variant.redis_url)
        if client.connection_pool.connection_kwargs.get("db", 0) == 0:
            raise SystemExit("refusing to empty Redis database 0: point REDIS_URL at another one")
        client.flushdb()


def setup_django(environment: dict[str, str]) -> None:
    """Configure Django in this process for the bench project, quietly."""
    import warnings

    os.environ.clear()
    os.environ.update(environment)
    if str(REPOSITORY) not in sys.path:
        sys.path.insert(0, str(REPOSITORY))
    warnings.simplefilter("ignore")
    import django

    django.setup()


def migrate_and_seed() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)


def start(command: list[str], *, environment: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a server process of the bench in its own process group, logging to `log`."""
    with log.open("ab") as output:
        return subprocess.Popen(
            command,
            cwd=REPOSITORY,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def celery_worker(environment: dict[str, str], *, log: Path, name: str) -> subprocess.Popen[bytes]:
    """Start `celery worker --concurrency=2` as production runs it and wait until it is ready."""
    worker = start(
        [
            str(BIN / "celery"),
            "-A",
            "meshe",
            "worker",
            "--concurrency=2",
            "--loglevel=INFO",
            "-n",
            f"{name}@%h",
        ],
        environment=environment,
        log=log,
    )
    wait_until(lambda: b"ready." in log.read_bytes(), timeout=60)
    return worker


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process started by `start`, with its children (its own process group only)."""
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def children(pid: int) -> list[int]:
    """The direct children of pid, from /proc: those of each of its threads."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend(int(part) for part in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def rss_mb(pid: int) -> float:
    """The resident set size of pid in MB (VmRSS), 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) pid has used so far, 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # Fields 14 and 15 of proc(5), utime and stime, counted from the state (field 3).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until(predicate: object, *, timeout: float, every: float = 0.05) -> float:
    """Poll predicate() until it is true; return the seconds waited, raise on timeout."""
    started = time.perf_counter()
    while not predicate():  # type: ignore[operator]
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"not done after {timeout:.0f} s")
        time.sleep(every)
    return time.perf_counter() - started


def progress(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


def run_each_variant(script: Path, arguments: list[str], *, title: str) -> list[Any]:
    """Run `script --variant N --json ARGUMENTS` in a process of its own for each variant (Django
    is configured once per process) and gather the report rows it prints; a variant that fails
    gives one row saying so, titled `title, <variant>`."""
    from bench.report import Row

    rows: list[Any] = []
    for number, variant in enumerate(services()):
        finished = subprocess.run(
            [sys.executable, str(script), "--variant", str(number), "--json", *arguments],
            cwd=REPOSITORY,
            capture_output=True,
            text=True,
            check=False,
        )
        sys.stderr.write(finished.stderr)
        if finished.returncode != 0:
            tail = (finished.stderr.strip().splitlines() or ["no output"])[-1]
            rows.append(Row(f"{title}, {variant.label}", None, "s", note=f"failed: {tail}"))
            continue
        rows += [Row.from_json(item) for item in json.loads(finished.stdout.splitlines()[-1])]
    return rows
