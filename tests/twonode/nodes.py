"""One MESHE node run as real processes: gunicorn, a Celery worker, its own database and broker.

The two-node tests start two of these on loopback ports and let them talk over HTTPS. Each node
gets a clean, explicit environment (nothing of the test process's own settings leaks in), its
own var dir (SQLite file, filesystem broker, cache, mail, logs), and with DATABASE_URL/REDIS_URL
its own PostgreSQL database and Redis db number.

Nodes serve HTTPS with a certificate from a throw-away CA that the nodes trust through
SSL_CERT_FILE: did:web always resolves to https:// (credentials.did_resolution.did_web_to_url),
so two plain-http nodes cannot resolve each other's DIDs. `tls=False` still gives a plain-http
node for what does not need that.
"""

import contextlib
import ipaddress
import json
import os
import secrets
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
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

ROOT = Path(__file__).resolve().parents[2]
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


def make_certificates(directory: Path) -> Certificates:
    """Writes a CA and a loopback server certificate (valid one day) into directory."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "MESHE two-node test CA")])
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
        .not_valid_after(now + timedelta(days=1))
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
        .not_valid_after(now + timedelta(days=1))
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


# ---------------------------------------------------------------- HTTP from the test process


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
    """One request, no redirects followed; https is checked against the test CA."""
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


# ---------------------------------------------------------------- running code on a node

# Runs in the node's environment: a snippet from stdin, with its parameters as variables; the
# snippet's `result` is written as JSON to the file named by argv[1].
_RUNNER = """
import json, sys
import django
django.setup()
request = json.load(sys.stdin)
namespace = {"__name__": "__node_run__", "result": None, **request["params"]}
exec(compile(request["code"], "<node.run>", "exec"), namespace)
with open(sys.argv[1], "w", encoding="utf-8") as out:
    json.dump(namespace["result"], out, default=str)
"""

# The same, kept running: one JSON request a line on stdin, one JSON answer a line on the
# descriptor that was stdout (print() and logging go to stderr, the node's run.log). Database
# connections are closed after each snippet, so none holds a lock or a transaction between runs.
_RUN_SERVER = """
import json, os, sys, traceback
import django
django.setup()
from django.db import connections
answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(2, 1)
sys.stdout = sys.stderr
for line in sys.stdin.buffer:
    request = json.loads(line)
    namespace = {"__name__": "__node_run__", "result": None, **request["params"]}
    try:
        exec(compile(request["code"], "<node.run>", "exec"), namespace)
        answer = json.dumps({"result": namespace["result"]}, default=str)
    except BaseException:
        answer = json.dumps({"error": traceback.format_exc()})
    finally:
        connections.close_all()
    answers.write(answer + "\\n")
    answers.flush()
"""

_SEED_INSTITUTION = """
from allauth.account.models import EmailAddress
from institutions import services
from learners.models import User

admin = User.objects.create_user(email, password=None, name=name + " administrator")
EmailAddress.objects.create(user=admin, email=email, verified=True, primary=True)
institution = services.institution_create(actor=admin, slug=slug, name=name, country=country)
result = institution.did
"""

_PUBLISH_SPECIFICATION = """
from decimal import Decimal
from credentials import services
from credentials.models import MicroCredential
from institutions.models import Institution

institution = Institution.objects.get(slug=slug)
admin = institution.memberships.order_by("pk").first().user
fields["ects"] = Decimal(str(fields["ects"]))
draft = services.micro_credential_save(actor=admin, institution=institution, **fields)
published = services.micro_credential_set_status(
    actor=admin, micro_credential=draft, status=MicroCredential.Status.PUBLISHED
)
result = str(published.public_id)
"""

_ISSUE_CREDENTIAL = """
import json
from datetime import date
from django.utils import timezone
from credentials import services
from credentials.models import MicroCredential

specification = MicroCredential.objects.select_related("institution").get(public_id=specification)
admin = specification.institution.memberships.order_by("pk").first().user
credential = services.credential_issue(
    actor=admin,
    institution=specification.institution,
    micro_credential=specification,
    holder_name=holder_name,
    holder_email=holder_email,
    awarded_date=date.fromisoformat(awarded_date) if awarded_date else timezone.localdate(),
)
result = {"public_id": str(credential.public_id), "document": json.loads(credential.document)}
"""

_REVOKE_CREDENTIAL = """
from credentials import services
from credentials.models import IssuedCredential

credential = IssuedCredential.objects.get(public_id=public_id)
result = services.credential_revoke(credential=credential, actor=None, reason=reason).status
"""

_ISSUE_MANY = """
from datetime import date
from credentials import services
from credentials.models import MicroCredential

specification = MicroCredential.objects.select_related("institution").get(public_id=specification)
admin = specification.institution.memberships.order_by("pk").first().user
issued = services.credential_issue_many(
    actor=admin,
    institution=specification.institution,
    micro_credential=specification,
    recipients=[
        services.Recipient(
            holder_name=f"{holder_name} {number}",
            holder_email=f"learner-{number}@example.org",
            awarded_date=date.today(),
        )
        for number in range(count)
    ],
)
result = [
    {"public_id": str(c.public_id), "credential_id": c.credential_id} for c in issued
]
"""

# Asks `remote_did` on the node at `node_url` to be a partner, as the discovery page does:
# the manifest and the DID keys are read over the network, then the service is called.
_PARTNERSHIP_REQUEST = """
from exchange import discovery, services
from exchange.models import Partner, PartnerStatus
from institutions.models import Institution

institution = Institution.objects.get(slug=slug)
admin = institution.memberships.order_by("pk").first().user
partner = Partner.objects.filter(institution=institution, did=remote_did).first()
if partner is None or partner.status not in (PartnerStatus.CONFIRMED, PartnerStatus.SUSPENDED):
    node = discovery.node_discover(node_url=node_url)
    remote = node.institution(remote_did)
    keys = discovery.did_keys(did=remote.did)
    partner = services.partnership_request(
        institution=institution, actor=admin, remote=remote, keys=keys, note=note
    )
result = str(partner.status)
"""

_PARTNERSHIP_CHANGE = """
from exchange import services
from exchange.models import Partner

partner = Partner.objects.select_related("institution").get(
    institution__slug=slug, did=remote_did
)
admin = partner.institution.memberships.order_by("pk").first().user
result = str(services.partnership_change(partner=partner, actor=admin, action=action).status)
"""

_PARTNER_STATUS = """
from exchange.models import Partner

partner = Partner.objects.filter(institution__slug=slug, did=remote_did).first()
result = partner.status if partner else None
done = result in wanted
"""

_DELIVER = """
from credentials.models import IssuedCredential
from exchange import deliveries
from exchange.models import Partner

partner = Partner.objects.select_related("institution").get(
    institution__slug=slug, did=remote_did
)
admin = partner.institution.memberships.order_by("pk").first().user
by_id = {
    str(c.public_id): c for c in IssuedCredential.objects.filter(public_id__in=credentials)
}
batch = deliveries.deliveries_create_batch(
    credentials=[by_id[public_id] for public_id in credentials],
    partner=partner,
    actor=admin,
    note=note,
)
result = [str(delivery.public_id) for delivery in batch]
"""

# The headers and body of a signed POST from institution `slug` to `url`, as the outbox
# would send it, signed at `created` (default now) by the institution's active key, or by a
# key made up on the spot (`fresh_key_id`: a keyid under the institution's DID that no DID
# document lists).
_SIGNED_REQUEST = """
import json, secrets, time
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from exchange import http_signatures
from institutions.models import Institution
from institutions.selectors import active_signing_key

institution = Institution.objects.get(slug=slug)
if fresh_key_id:
    private_key, key_id = Ed25519PrivateKey.generate(), institution.did + "#" + fresh_key_id
else:
    key = active_signing_key(institution=institution)
    private_key, key_id = key.private_key, key.verification_method
body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
headers = {"Content-Type": "application/json", "Accept": "application/json"}
message = http_signatures.Message(method="POST", target_uri=url, headers=headers, body=body)
headers |= http_signatures.sign_request(
    message,
    private_key=private_key,
    key_id=key_id,
    created=int(time.time()) + created_offset,
    nonce=secrets.token_urlsafe(16),
)
result = {"headers": headers, "body": body.decode()}
"""

# The body the outbox POSTs to a partner's inbox for one of our credentials.
_INBOX_PAYLOAD = """
import json, uuid
from credentials.models import IssuedCredential

credential = IssuedCredential.objects.get(public_id=public_id)
result = {
    "credential": json.loads(credential.document),
    "learner": {"name": credential.holder_name},
    "note": note,
    "delivery": str(uuid.uuid4()),
}
"""

# Runs the snippet again and again in one process until it sets `done`; the result is the last
# run's `result` and `done`. Each run sees the database as it is then (autocommit).
_WAIT_LOOP = """
import time as _time

_deadline = _time.monotonic() + _timeout
_compiled = compile(_snippet, "<node.wait>", "exec")
while True:
    done = False
    exec(_compiled, globals())
    if done or _time.monotonic() >= _deadline:
        break
    _time.sleep(_interval)
result = {"done": bool(done), "result": result}
"""

# A specification every mandatory EU element is filled in for (as tests/factories.py has it).
SPECIFICATION: dict[str, Any] = {
    "title": "Data Literacy",
    "description": "Reading, questioning and communicating data in public policy work.",
    "learning_outcomes": [
        {
            "text": "Interpret descriptive statistics in policy reports.",
            "esco": [
                {
                    "uri": "http://data.europa.eu/esco/skill/7dd94ad3-13d6-43fe-8b94-51fcbf67ced9",
                    "label": "think critically",
                }
            ],
        }
    ],
    "ects": "5",
    "workload_hours": 140,
    "eqf_level": "http://data.europa.eu/snb/eqf/6",
    "assessment_type": "http://data.europa.eu/snb/assessment/6e6cb2cc78",
    "form_of_participation": "http://data.europa.eu/snb/learning-assessment/e92d221e4d",
    "quality_assurance": "http://data.europa.eu/snb/accreditation/003293d2ce",
}


# ---------------------------------------------------------------- the node


class Node:
    """One MESHE node on 127.0.0.1:<port>, run as separate processes.

    `behind_proxy` makes gunicorn listen on a port of its own (`web_url`) so that a FaultProxy
    can take the node's public address (`base_url`, from which its DIDs derive): signed exchange
    requests cover `@target-uri`, and the receiver checks it against its MESHE_BASE_URL, so a
    proxy on any other address would break every signature.

    `database_url`/`redis_url` are the test run's own (from its environment); the node derives
    its database name (`<db>_<name>`) and Redis db number from them, or uses SQLite and the
    filesystem broker under `var_dir` when they are absent. `env` overrides or adds variables
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
    ) -> None:
        self.name = name
        self.var_dir = var_dir.resolve()
        self.certificates = certificates
        self.port = free_port()
        self.web_port = free_port() if behind_proxy else self.port
        scheme = "https" if certificates else "http"
        self.base_url = f"{scheme}://127.0.0.1:{self.port}"
        self.web_url = f"{scheme}://127.0.0.1:{self.web_port}"
        self.institutions: dict[str, str] = {}  # slug → DID, of those seeded by this harness
        self.database_url = _node_database_url(database_url, name) if database_url else ""
        self.redis_url = _with_redis_db(redis_url, redis_db) if redis_url else ""
        self.env: dict[str, str] = dict(env or {})
        self.web: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.exchange_worker: subprocess.Popen[bytes] | None = None
        self._worker_options: dict[str, Any] | None = None
        self._runs = 0
        self._runner: subprocess.Popen[bytes] | None = None
        self._runner_env: dict[str, str] = {}
        self._runner_lock = threading.Lock()
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
            # There is no SMTP server: mail lands in <var_dir>/mail, where tests can read it.
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "DATABASE_URL": self.database_url or f"sqlite:///{self.var_dir / 'meshe.sqlite3'}",
            "LOG_LEVEL": "INFO",
        }
        if self.certificates:
            # The node's outbound HTTPS (did:web, partners) trusts the test CA, and only it.
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
        self._stop_runner()
        if self.var_dir.exists():
            shutil.rmtree(self.var_dir)
        (self.var_dir / "logs").mkdir(parents=True)
        if self.database_url:
            _recreate_database(self.database_url)
        if self.redis_url:
            _flush_redis(self.redis_url)
        self.migrate()

    def migrate(self) -> None:
        self._manage("migrate", "--no-input")

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
        self._stop_runner()
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
        """An HTTP request to the node from the test process."""
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

    def run(self, code: str, *, timeout: float = 120.0, fresh: bool = False, **params: Any) -> Any:
        """Runs Python in the node's Django environment and returns its `result`, JSON-decoded.

        `params` (JSON values) are variables of the snippet. A snippet that raises fails the
        call with NodeError, showing the snippet and its traceback.

        Snippets run one after another in one long-lived process of the node (started on first
        use, and again when the node's environment changed), which saves a Python and Django
        start per call; `fresh` runs one in a process of its own instead.
        """
        __tracebackhide__ = True
        if not fresh:
            return self._run_kept(code, timeout=timeout, params=params)
        self._runs += 1
        result_file = self.var_dir / f"run-{self._runs}.json"
        request = json.dumps({"code": textwrap.dedent(code), "params": params})
        completed = subprocess.run(
            [sys.executable, "-c", _RUNNER, str(result_file)],
            input=request.encode(),
            cwd=ROOT,
            env=self.environment(),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        with (self.var_dir / "logs" / "run.log").open("ab") as log:
            log.write(f"--- run {self._runs} (exit {completed.returncode})\n".encode())
            log.write(completed.stdout + completed.stderr)
        if completed.returncode != 0:
            raise NodeError(
                f"{self.name}: node.run failed (exit {completed.returncode})\n"
                f"--- snippet ---\n{textwrap.dedent(code).strip()}\n"
                f"--- stderr ---\n{completed.stderr.decode(errors='replace').strip()}"
            )
        result = json.loads(result_file.read_text(encoding="utf-8"))
        result_file.unlink()
        return result

    def _run_kept(self, code: str, *, timeout: float, params: Mapping[str, Any]) -> Any:
        __tracebackhide__ = True
        request = json.dumps({"code": textwrap.dedent(code), "params": params}) + "\n"
        with self._runner_lock:
            runner = self._kept_runner()
            self._runs += 1
            with (self.var_dir / "logs" / "run.log").open("ab") as log:
                log.write(f"--- run {self._runs}\n".encode())
            assert runner.stdin is not None and runner.stdout is not None
            try:
                runner.stdin.write(request.encode())
                runner.stdin.flush()
                ready, _, _ = select.select([runner.stdout], [], [], timeout)
                line = runner.stdout.readline() if ready else b""
            except OSError:
                line = b""
            if not line:
                self._stop_runner()
                raise NodeError(
                    f"{self.name}: node.run got no answer (timed out after {timeout}s or the "
                    f"runner died)\n--- snippet ---\n{textwrap.dedent(code).strip()}\n"
                    f"{self.logs(tail=30)}"
                )
        answer = json.loads(line)
        if "error" in answer:
            raise NodeError(
                f"{self.name}: node.run failed\n"
                f"--- snippet ---\n{textwrap.dedent(code).strip()}\n"
                f"--- traceback ---\n{answer['error'].strip()}"
            )
        return answer["result"]

    def _kept_runner(self) -> subprocess.Popen[bytes]:
        """The node's snippet runner, started (again) when there is none, it died, or the
        node's environment changed since it started."""
        environment = self.environment()
        runner = self._runner
        if runner is not None and runner.poll() is None and self._runner_env == environment:
            return runner
        self._stop_runner()
        with (self.var_dir / "logs" / "run.log").open("ab") as log:
            self._runner = subprocess.Popen(
                [sys.executable, "-c", _RUN_SERVER],
                cwd=ROOT,
                env=environment,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
            )
        self._runner_env = environment
        return self._runner

    def _stop_runner(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        with contextlib.suppress(OSError):
            assert runner.stdin is not None
            runner.stdin.close()
        try:
            runner.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _signal_group(runner, signal.SIGKILL)
            runner.wait(timeout=10)
        if runner.stdout is not None:
            runner.stdout.close()

    # -- seed data

    def seed_institution(self, slug: str, name: str, country: str = "BE") -> str:
        """Creates an institution (with a signing key) and its admin admin@<slug>.example;
        returns its DID."""
        did = self.run(
            _SEED_INSTITUTION, slug=slug, name=name, country=country, email=f"admin@{slug}.example"
        )
        self.institutions[slug] = did
        return str(did)

    def publish_specification(self, institution: str, **fields: Any) -> str:
        """Creates a complete specification for the institution (by slug) and publishes it;
        fields override SPECIFICATION. Returns its public_id."""
        return str(
            self.run(_PUBLISH_SPECIFICATION, slug=institution, fields={**SPECIFICATION, **fields})
        )

    def issue_credential(
        self,
        specification: str,
        *,
        holder_name: str = "Ada Lovelace",
        holder_email: str = "ada@example.org",
        awarded_date: str | None = None,
    ) -> dict[str, Any]:
        """Issues one credential under a published specification (public_id), awarded on
        awarded_date (ISO) or today; returns {"public_id", "document"}, the signed document
        as a JSON object. The learner's e-mail goes out through the node's worker."""
        return dict(
            self.run(
                _ISSUE_CREDENTIAL,
                specification=specification,
                holder_name=holder_name,
                holder_email=holder_email,
                awarded_date=awarded_date,
            )
        )

    def revoke_credential(self, public_id: str, *, reason: str = "") -> str:
        """Revokes a credential issued here (idempotent); returns its status."""
        return str(self.run(_REVOKE_CREDENTIAL, public_id=public_id, reason=reason))

    def issue_credentials(
        self, specification: str, count: int, *, holder_name: str = "Learner"
    ) -> list[dict[str, str]]:
        """Issues `count` credentials under a published specification in one batch (one
        e-mail task); returns each one's {"public_id", "credential_id"}."""
        return list(
            self.run(
                _ISSUE_MANY,
                specification=specification,
                count=count,
                holder_name=holder_name,
                timeout=600,
            )
        )

    # -- exchange

    def wait(
        self, code: str, *, timeout: float = 60.0, interval: float = 0.25, **params: Any
    ) -> Any:
        """Runs the snippet on the node until it sets `done` (a true value), in one process;
        returns its last `result`. Raises NodeError, with that result, after `timeout`.

        For effects the node's own processes bring about (its worker, its web server), polled
        where they happen rather than through a process start per look.
        """
        __tracebackhide__ = True
        answer = self.run(
            _WAIT_LOOP,
            timeout=timeout + 120,
            _snippet=textwrap.dedent(code),
            _timeout=timeout,
            _interval=interval,
            **params,
        )
        if not answer["done"]:
            raise NodeError(
                f"{self.name}: not done after {timeout}s; last result: {answer['result']!r}\n"
                f"--- snippet ---\n{textwrap.dedent(code).strip()}\n{self.logs(tail=30)}"
            )
        return answer["result"]

    def institution(self, slug: str | None = None) -> tuple[str, str]:
        """(slug, DID) of one institution this harness seeded here: `slug`, or the only one."""
        if slug is None:
            if len(self.institutions) != 1:
                raise ValueError(f"{self.name} hosts {sorted(self.institutions)}: name one")
            slug = next(iter(self.institutions))
        return slug, self.institutions[slug]

    def partner_status(self, other: "Node", *, slug: str | None = None) -> str | None:
        """The status of this node's partnership with `other`'s institution, or None."""
        slug, _did = self.institution(slug)
        _other_slug, other_did = other.institution()
        return self.run(_PARTNER_STATUS, slug=slug, remote_did=other_did, wanted=[])

    def wait_partner_status(
        self, other: "Node", *wanted: str, slug: str | None = None, timeout: float = 60.0
    ) -> str:
        """Waits until this node's partnership with `other` is in one of `wanted` states."""
        slug, _did = self.institution(slug)
        _other_slug, other_did = other.institution()
        return str(
            self.wait(
                _PARTNER_STATUS,
                slug=slug,
                remote_did=other_did,
                wanted=list(wanted),
                timeout=timeout,
            )
        )

    def partner_with(self, other: "Node", *, note: str = "", timeout: float = 60.0) -> None:
        """Makes this node's institution and `other`'s partners for real: a request through
        discovery and the service here, carried by this node's worker; acceptance there,
        carried back by the other's worker. A no-op for partners already agreed."""
        slug, did = self.institution()
        other_slug, other_did = other.institution()
        status = self.run(
            _PARTNERSHIP_REQUEST,
            slug=slug,
            remote_did=other_did,
            node_url=other.base_url,
            note=note,
        )
        if status == "confirmed":
            return
        other.wait_partner_status(self, "received", "confirmed", timeout=timeout)
        other.run(_PARTNERSHIP_CHANGE, slug=other_slug, remote_did=did, action="accept")
        self.wait_partner_status(other, "confirmed", timeout=timeout)

    def deliver(self, other: "Node", credentials: list[str], *, note: str = "") -> list[str]:
        """Queues our credentials (public ids) for `other`'s institution in one batch, as the
        batch send form does; returns the deliveries' public ids. The worker sends them."""
        slug, _did = self.institution()
        _other_slug, other_did = other.institution()
        return list(
            self.run(
                _DELIVER,
                slug=slug,
                remote_did=other_did,
                credentials=credentials,
                note=note,
                timeout=600,
            )
        )

    def inbox_payload(self, credential: str, *, note: str = "") -> dict[str, Any]:
        """The body our outbox would POST to a partner's inbox for the credential (public id)."""
        return dict(self.run(_INBOX_PAYLOAD, public_id=credential, note=note))

    def sign_request(
        self,
        url: str,
        payload: dict[str, Any],
        *,
        slug: str | None = None,
        created_offset: int = 0,
        fresh_key_id: str = "",
    ) -> tuple[dict[str, str], bytes]:
        """(headers, body) of a POST of `payload` to `url` signed here as the outbox signs:
        by our institution's active key at now + created_offset seconds, or by a new key with
        keyid `<our DID>#<fresh_key_id>` that no DID document lists."""
        slug, _did = self.institution(slug)
        signed = self.run(
            _SIGNED_REQUEST,
            slug=slug,
            url=url,
            payload=payload,
            created_offset=created_offset,
            fresh_key_id=fresh_key_id,
        )
        return dict(signed["headers"]), signed["body"].encode()

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

    # -- internals

    def _manage(self, *args: str) -> None:
        completed = subprocess.run(
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

    def _spawn(self, command: list[str], what: str) -> subprocess.Popen[bytes]:
        with (self.var_dir / "logs" / f"{what}.log").open("ab") as log:
            # A session of its own: signals reach the process group, never the test run.
            return subprocess.Popen(
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
