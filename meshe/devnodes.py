"""One MESHE node run as real processes on this machine: gunicorn, a Celery worker with beat,
its own database and broker. Two of them make the exchange demo (bin/exchange-demo) and the
two-node tests (tests/twonode), which talk to each other over HTTPS.

Each node gets a clean, explicit environment (nothing of the calling process's own settings
leaks in), its own var dir (SQLite file, filesystem broker, cache, mail, logs), and with
DATABASE_URL/REDIS_URL its own PostgreSQL database and Redis db number.

Nodes serve HTTPS with a certificate from a throw-away CA that the nodes trust through
SSL_CERT_FILE: did:web always resolves to https:// (credentials.standards.did_resolution.did_web_to_url),
so two plain-http nodes cannot resolve each other's DIDs, and so cannot become partners.
`certificates=None` still gives a plain-http node for what does not need that.

This module is development tooling: no part of the portal imports it.
"""

import contextlib
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.client import HTTPConnection, HTTPSConnection
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MANIFEST_PATH = "/.well-known/meshe-node.json"


class NodeError(RuntimeError):
    """A node process failed to start, died, or a snippet run on it raised."""


# ---------------------------------------------------------------- loopback TLS


@dataclass(frozen=True)
class Certificates:
    """A throw-away CA and one server certificate for 127.0.0.1, ::1 and localhost."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def make_certificates(
    directory: Path, *, days: int = 1, ca_common_name: str = "MESHE two-node test CA"
) -> Certificates:
    """Writes a CA and a loopback server certificate (valid `days`) into directory."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ca_common_name)])
    no_usage = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(**{**no_usage, "key_cert_sign": True, "crl_sign": True}), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
        x509.DNSName("localhost"),
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(**{**no_usage, "digital_signature": True}), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    certificates = Certificates(
        ca_file=directory / "ca.pem",
        cert_file=directory / "server.pem",
        key_file=directory / "server-key.pem",
    )
    certificates.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    certificates.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    certificates.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificates


# ---------------------------------------------------------------- HTTP from this process


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http_request(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    certificates: Certificates | None = None,
    timeout: float = 30.0,
) -> Response:
    """One request, no redirects followed; https is checked against the nodes' CA."""
    parts = urllib.parse.urlsplit(url)
    connection: HTTPConnection
    if parts.scheme == "https":
        context = certificates.client_context() if certificates else ssl.create_default_context()
        connection = HTTPSConnection(parts.netloc, timeout=timeout, context=context)
    else:
        connection = HTTPConnection(parts.netloc, timeout=timeout)
    target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    try:
        connection.request(method, target, body=body, headers=dict(headers or {}))
        answer = connection.getresponse()
        return Response(
            status=answer.status,
            headers={name.lower(): value for name, value in answer.getheaders()},
            body=answer.read(),
        )
    finally:
        connection.close()


def free_port() -> int:
    """A loopback port free right now (the OS picks it; a race is possible but rare)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---------------------------------------------------------------- the node


class Node:
    """One MESHE node on 127.0.0.1:<port>, run as separate processes.

    `behind_proxy` makes gunicorn listen on a port of its own (`web_url`) so that a FaultProxy
    can take the node's public address (`base_url`, from which its DIDs derive): signed exchange
    requests cover `@target-uri`, and the receiver checks it against its MESHE_BASE_URL, so a
    proxy on any other address would break every signature.

    `port` is the public port (default: one free now). `database_url`/`redis_url` are the
    caller's own (from its environment); the node derives its database name (`<db>_<name>`)
    and Redis db number from them, or uses SQLite and the filesystem broker under `var_dir`
    when they are absent. `env` overrides or adds variables
    for every process of the node (e.g. beat intervals), and may be changed between starts.
    """

    def __init__(
        self,
        name: str,
        *,
        var_dir: Path,
        certificates: Certificates | None,
        database_url: str = "",
        redis_url: str = "",
        redis_db: int = 13,
        env: Mapping[str, str] | None = None,
        behind_proxy: bool = False,
        port: int | None = None,
    ) -> None:
        self.name = name
        self.var_dir = var_dir.resolve()
        self.certificates = certificates
        self.port = port or free_port()
        self.web_port = free_port() if behind_proxy else self.port
        scheme = "https" if certificates else "http"
        self.base_url = f"{scheme}://127.0.0.1:{self.port}"
        self.web_url = f"{scheme}://127.0.0.1:{self.web_port}"
        self.institutions: dict[str, str] = {}  # slug → DID, of those seeded by the caller
        self.database_url = _node_database_url(database_url, name) if database_url else ""
        self.redis_url = _with_redis_db(redis_url, redis_db) if redis_url else ""
        self.env: dict[str, str] = dict(env or {})
        self.web: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.exchange_worker: subprocess.Popen[bytes] | None = None
        self._worker_options: dict[str, Any] | None = None
        # Per node, so a key sealed on one node cannot be opened on the other.
        self._secret_key = secrets.token_urlsafe(48)
        self._key_encryption_secret = secrets.token_urlsafe(32)

    def __repr__(self) -> str:
        return f"<Node {self.name} {self.base_url}>"

    # -- environment

    def environment(self) -> dict[str, str]:
        """The whole environment of the node's processes: nothing is inherited but PATH/HOME."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", str(self.var_dir)),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "meshe.settings",
            "DEBUG": "false",
            "SECRET_KEY": self._secret_key,
            "MESHE_KEY_ENCRYPTION_SECRET": self._key_encryption_secret,
            "MESHE_VAR_DIR": str(self.var_dir),
            "MESHE_BASE_URL": self.base_url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # did:web, status lists and partner nodes live on 127.0.0.1 here.
            "MESHE_OUTBOUND_ALLOW_LOOPBACK": "true",
            # Nobody ran collectstatic (STATIC_ROOT is shared by the whole tree); the nodes
            # serve JSON, and templates still find their files through the finders.
            "MESHE_STATIC_MANIFEST": "false",
            # There is no SMTP server: mail lands in <var_dir>/mail, where tests and people read it.
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "DATABASE_URL": self.database_url or f"sqlite:///{self.var_dir / 'meshe.sqlite3'}",
            "LOG_LEVEL": "INFO",
        }
        if self.certificates:
            # The node's outbound HTTPS (did:web, partners) trusts the nodes' CA, and only it.
            env["SSL_CERT_FILE"] = str(self.certificates.ca_file)
        else:
            env["SECURE_SSL_REDIRECT"] = "false"
            env["MESHE_SECURE_COOKIES"] = "false"
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        env.update(self.env)
        return env

    # -- lifecycle

    def prepare(self) -> None:
        """A fresh var dir, database and broker, then migrations."""
        if self.var_dir.exists():
            shutil.rmtree(self.var_dir)
        (self.var_dir / "logs").mkdir(parents=True)
        if self.database_url:
            _recreate_database(self.database_url)
        if self.redis_url:
            _flush_redis(self.redis_url)
        self.migrate()

    def migrate(self) -> None:
        self.manage("migrate", "--no-input")

    def start_web(self, *, workers: int = 2, threads: int = 4, timeout: float = 30.0) -> None:
        """Starts gunicorn and waits until the node manifest answers. A no-op when running."""
        if self.web is not None and self.web.poll() is None:
            return
        command = [
            str(BIN / "gunicorn"),
            "meshe.wsgi",
            "--bind",
            f"127.0.0.1:{self.web_port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--preload",
            "--graceful-timeout",
            "5",
            "--access-logfile",
            "-",
            # One control socket per user's HOME by default: nodes would take each other's.
            "--no-control-socket",
        ]
        if self.certificates:
            command += [
                "--certfile",
                str(self.certificates.cert_file),
                "--keyfile",
                str(self.certificates.key_file),
            ]
        self.web = self._spawn(command, "web")
        self._wait_until(self._manifest_answers, self.web, "web", timeout=timeout)

    def stop_web(self, sig: int = signal.SIGTERM) -> None:
        """Stops gunicorn (sig: SIGTERM is graceful, SIGQUIT at once; SIGKILL after 15 s);
        the node is unreachable until start_web."""
        self._stop(self.web, sig)
        self.web = None

    def start_worker(
        self,
        *,
        beat: bool = False,
        pool: str = "solo",
        concurrency: int = 1,
        exchange_threads: int = 0,
        timeout: float = 30.0,
    ) -> None:
        """Starts a Celery worker (with beat in the same process if asked) and waits until it
        is ready. A no-op when one is running. With `exchange_threads`, the exchange queue
        goes to a worker of that many threads beside it, as docker-compose.yml runs them."""
        if self.worker is not None and self.worker.poll() is None:
            return
        self._worker_options = {
            "beat": beat,
            "pool": pool,
            "concurrency": concurrency,
            "exchange_threads": exchange_threads,
        }
        options = [f"--pool={pool}", f"--concurrency={concurrency}"]
        if exchange_threads:
            options.append("--queues=celery,mail")
        if beat:
            options += ["--beat", f"--schedule={self.var_dir / 'celerybeat-schedule'}"]
        self.worker = self._start_celery("worker", self.name, options, timeout=timeout)
        if exchange_threads:
            self.exchange_worker = self._start_celery(
                "exchange-worker",
                f"exchange-{self.name}",
                ["--queues=exchange", "--pool=threads", f"--concurrency={exchange_threads}"],
                timeout=timeout,
            )

    def _start_celery(
        self, what: str, name: str, options: list[str], *, timeout: float
    ) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "celery", "-A", "meshe", "worker", *options]
        command += [f"--hostname={name}@%h", "--loglevel=INFO"]
        log = self.var_dir / "logs" / f"{what}.log"
        start = log.stat().st_size if log.exists() else 0
        process = self._spawn(command, what)

        def ready() -> bool:
            with log.open("rb") as file:
                file.seek(start)
                return b" ready." in file.read()

        self._wait_until(ready, process, what, timeout=timeout)
        return process

    def kill_worker(self, sig: int = signal.SIGKILL, *, timeout: float = 30.0) -> int | None:
        """Sends sig to the worker's process group (prefork children too) and waits for it to
        end; returns its exit status. restore() starts it again with the same options."""
        if self.exchange_worker is not None:
            self._stop(self.exchange_worker, sig)
            self.exchange_worker = None
        if self.worker is None:
            return None
        worker, self.worker = self.worker, None
        _signal_group(worker, sig)
        try:
            return worker.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(worker, signal.SIGKILL)
            return worker.wait(timeout=10)

    def stop_worker(self) -> None:
        """Stops the worker gracefully (warm shutdown) and forgets it."""
        self._stop(self.exchange_worker)
        self._stop(self.worker)
        self.worker = self.exchange_worker = None
        self._worker_options = None

    def restore(self) -> None:
        """Starts again what a test stopped or killed: the web server, and the worker if one
        was started and not stopped on purpose."""
        self.start_web()
        if self._worker_options is not None:
            self.start_worker(**self._worker_options)

    def stop(self) -> None:
        """Stops every process of the node and drops its PostgreSQL database."""
        # Killed, not shut down: even a quick shutdown takes seconds, and whatever the
        # processes leave behind goes with the database and Redis db here, or with the var dir
        # at the next prepare().
        self.stop_web(signal.SIGKILL)
        self.kill_worker(signal.SIGKILL)
        if self.database_url:
            _drop_database(self.database_url)
        if self.redis_url:
            _flush_redis(self.redis_url)

    # -- talking to the node

    def url(self, path: str) -> str:
        return self.base_url + path

    def request(
        self,
        path: str,
        *,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """An HTTP request to the node from this process."""
        return http_request(
            self.url(path),
            method=method,
            body=body,
            headers=headers,
            certificates=self.certificates,
        )

    def manifest(self) -> dict[str, Any]:
        response = self.request(MANIFEST_PATH)
        assert response.status == 200, response
        return dict(response.json())

    # -- logs

    def logs(self, *, tail: int = 60) -> str:
        """The last lines of each process log of the node, for a failure report."""
        parts = []
        for what in ("web", "worker", "exchange-worker", "run"):
            log = self.var_dir / "logs" / f"{what}.log"
            if not log.exists():
                continue
            # The outbox sweep runs every second or two in these tests: its lines would
            # crowd out everything else.
            lines = [
                line
                for line in log.read_text(errors="replace").splitlines()
                if "outbox_sweep" not in line and "exchange-outbox-sweep" not in line
            ][-tail:]
            parts.append(f"--- {self.name} {log.name} (last {len(lines)} lines) ---")
            parts.extend(lines)
        return "\n".join(parts)

    def manage(self, *args: str) -> str:
        """Runs manage.py with the node's environment; returns its output (also in the logs)."""
        completed = subprocess.run(  # noqa: S603  # this Python, this project's manage.py
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.environment(),
            capture_output=True,
            check=False,
        )
        with (self.var_dir / "logs" / "manage.log").open("ab") as log:
            log.write(completed.stdout + completed.stderr)
        if completed.returncode != 0:
            raise NodeError(
                f"{self.name}: manage.py {' '.join(args)} failed\n"
                f"{completed.stderr.decode(errors='replace')}"
            )
        return completed.stdout.decode(errors="replace")

    def _spawn(self, command: list[str], what: str) -> subprocess.Popen[bytes]:
        with (self.var_dir / "logs" / f"{what}.log").open("ab") as log:
            # A session of its own: signals reach the process group, never the caller.
            return subprocess.Popen(  # noqa: S603  # commands built here, never from input
                command,
                cwd=ROOT,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait_until(
        self,
        condition: Callable[[], bool],
        process: subprocess.Popen[bytes],
        what: str,
        *,
        timeout: float,
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise NodeError(
                    f"{self.name}: {what} exited with {process.returncode}\n{self.logs()}"
                )
            if condition():
                return
            time.sleep(0.1)
        raise NodeError(f"{self.name}: {what} not ready after {timeout}s\n{self.logs()}")

    def _manifest_answers(self) -> bool:
        # Asked of gunicorn itself: a proxy in front may not be started, or be failing on purpose.
        try:
            response = http_request(
                self.web_url + MANIFEST_PATH, certificates=self.certificates, timeout=5
            )
        except (OSError, ssl.SSLError):
            return False
        return response.status == 200

    @staticmethod
    def _stop(process: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM) -> None:
        if process is None:
            return
        _signal_group(process, sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=10)


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    """Signals the process's group (its own session: gunicorn or prefork children too)."""
    with contextlib.suppress(ProcessLookupError):  # the whole group has already gone
        os.killpg(process.pid, sig)


# ---------------------------------------------------------------- PostgreSQL and Redis


def _node_database_url(database_url: str, name: str) -> str:
    """The test run's PostgreSQL URL with the database renamed `<db>_<node name>`."""
    parts = urllib.parse.urlsplit(database_url)
    database = parts.path.lstrip("/") or "meshe"
    suffix = name.replace("-", "_")
    return urllib.parse.urlunsplit(parts._replace(path=f"/{database}_{suffix}"))


def _maintenance(database_url: str) -> tuple[str, str]:
    """(conninfo of the server's `postgres` database, the node database's name)."""
    parts = urllib.parse.urlsplit(database_url)
    database = parts.path.lstrip("/")
    return urllib.parse.urlunsplit(parts._replace(scheme="postgresql", path="/postgres")), database


def _recreate_database(database_url: str) -> None:
    import psycopg
    from psycopg import sql

    conninfo, database = _maintenance(database_url)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        name = sql.Identifier(database)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))


def _drop_database(database_url: str) -> None:
    import psycopg
    from psycopg import sql

    conninfo, database = _maintenance(database_url)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )


def _with_redis_db(redis_url: str, db: int) -> str:
    parts = urllib.parse.urlsplit(redis_url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{db}"))


def _flush_redis(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        client.flushdb()
    finally:
        client.close()
