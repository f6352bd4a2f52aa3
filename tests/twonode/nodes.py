"""The two-node tests' MESHE node: meshe.devnodes.Node (real processes, own database, broker
and HTTPS) plus what the tests do on it: run Python snippets in its Django environment, seed
institutions and specifications, issue, partner and deliver.

The process, CA and HTTP tools live in meshe/devnodes.py (the exchange demo uses them too);
they are re-exported here under their old names.
"""

import contextlib
import json
import select
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Mapping
from typing import Any

from meshe import devnodes
from meshe.devnodes import (
    BIN,
    MANIFEST_PATH,
    ROOT,
    Certificates,
    NodeError,
    Response,
    _signal_group,
    free_port,
    http_request,
    make_certificates,
)

__all__ = [
    "BIN",
    "MANIFEST_PATH",
    "ROOT",
    "SPECIFICATION",
    "Certificates",
    "Node",
    "NodeError",
    "Response",
    "free_port",
    "http_request",
    "make_certificates",
]

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
from accounts.models import User

admin = User.objects.create_user(email, password=None, name=name + " administrator")
EmailAddress.objects.create(user=admin, email=email, verified=True, primary=True)
institution = services.institution_create(actor=admin, slug=slug, name=name, country=country)
result = institution.did
"""

_PUBLISH_SPECIFICATION = """
from decimal import Decimal
from credentials.issuing import services
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
from credentials.issuing import services
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
from credentials.issuing import services
from credentials.models import IssuedCredential

credential = IssuedCredential.objects.get(public_id=public_id)
result = services.credential_revoke(credential=credential, actor=None, reason=reason).status
"""

_ISSUE_MANY = """
from datetime import date
from credentials.issuing import services
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


class Node(devnodes.Node):
    """A node (see meshe.devnodes.Node) the tests can run code on and seed."""

    def __init__(self, name: str, **options: Any) -> None:
        super().__init__(name, **options)
        self._runs = 0
        self._runner: subprocess.Popen[bytes] | None = None
        self._runner_env: dict[str, str] = {}
        self._runner_lock = threading.Lock()

    def prepare(self) -> None:
        """A fresh var dir, database and broker, then migrations."""
        self._stop_runner()
        super().prepare()

    def stop(self) -> None:
        """Stops every process of the node and drops its PostgreSQL database."""
        self._stop_runner()
        super().stop()

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
