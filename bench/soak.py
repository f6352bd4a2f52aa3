"""A soak under mixed load (issue 18): legitimate traffic of every kind for the first half,
the same traffic with a hostile corpus mixed in at a low rate for the second half, on a node run
as in production (gunicorn -c gunicorn.conf.py, a Celery worker, PostgreSQL + Redis when
DATABASE_URL and REDIS_URL are set).

    python bench/soak.py [--quick] [--minutes 10]

Legitimate kinds, each its own bench/loadgen.py process on loopback: public verification of a
credential this node issued (many visitors), a learner's wallet page (signed in), catalogue
searches, issuing through the issuer API (paced under its per-token limit), and a bulk job of
500 learners started every minute on the worker. Each is paced at a steady rate that leaves the
node headroom, as a node in service runs: a closed loop would hold every core at 100 % in both
halves, and the p99 ratio would then only say how the cores were shared out. The report gives
the node's CPU share in each half. Hostile kinds (second half only, paced, from a
few addresses so that they cost CPU instead of tripping the rate limit): a credential whose blank
nodes are all alike to /api/v1/verify, a presentation of 16 such credentials, and a poison sent
to the VC-API to sign.

It reports, per legitimate kind, throughput and p99 latency without and with the hostile
traffic (goal: p99 with it within 2x of without), every answer that is neither a success nor an
intended refusal (goal: none), and the memory of every server process at the start and the end
(goal: flat). Figures go in docs/performance.md.
"""

import argparse
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[1]
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

from bench import harness  # noqa: E402
from bench.report import Better, Row  # noqa: E402

GOAL_P99_RATIO = 2.0
MEMORY_GROWTH_LIMIT = 1.10
BULK_ROWS = 500


@dataclass(frozen=True, slots=True)
class Kind:
    """One stream of requests: a loadgen process with these arguments."""

    name: str
    method: str
    path: str
    headers: tuple[str, ...] = ()
    body: Path | None = None
    connections: int = 1
    interval: float = 0.0
    clients: int = 65_000
    # Statuses that are the intended answer; anything else counts as an error.
    expected: frozenset[int] = frozenset({200})


def start_load(kind: Kind, *, port: int, seconds: float) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        str(REPOSITORY / "bench" / "loadgen.py"),
        "--port",
        str(port),
        "--method",
        kind.method,
        "--path",
        kind.path,
        "--header",
        f"Host: {harness.HOST}",
        "--header",
        "X-Forwarded-Proto: https",
        "--connections",
        str(kind.connections),
        "--seconds",
        str(seconds),
        "--clients",
        str(kind.clients),
        "--interval",
        str(kind.interval),
    ]
    for header in kind.headers:
        command += ["--header", header]
    if kind.body is not None:
        command += ["--body", str(kind.body)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_phase(kinds: list[Kind], *, port: int, seconds: float) -> dict[str, dict[str, Any]]:
    processes = {kind.name: start_load(kind, port=port, seconds=seconds) for kind in kinds}
    results = {}
    for name, process in processes.items():
        out, err = process.communicate(timeout=seconds + 120)
        if process.returncode:
            raise RuntimeError(f"loadgen for {name} failed: {err.strip()[-300:]}")
        results[name] = json.loads(out)
    return results


def unexpected(kind: Kind, result: dict[str, Any]) -> dict[str, int]:
    """Answers that are neither the kind's success nor its intended refusal, and transport errors."""
    found = {
        f"HTTP {status}": count
        for status, count in result["statuses"].items()
        if int(status) not in kind.expected
    }
    found.update(result["errors"])
    return found


def descendants(pid: int) -> list[int]:
    """The pid and every process below it: gunicorn's workers and their canonicalising processes."""
    found = [pid]
    for child in harness.children(pid):
        found.extend(descendants(child))
    return found


def memory(*pids: int) -> dict[str, float]:
    """RSS in MB of each process of the node: each given process and all below it."""
    return {f"{pid}/{each}": harness.rss_mb(each) for pid in pids for each in descendants(pid)}


def cpu_seconds(*pids: int) -> float:
    """CPU time used so far by each given process and all below it."""
    return sum(harness.cpu_seconds(each) for pid in pids for each in descendants(pid))


def seed(workdir: Path) -> dict[str, Any]:
    """The credential, tokens, session and bodies the load needs, made in this process."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils.module_loading import import_string

    from accounts.models import User
    from credentials.issuing import services
    from credentials.models import MicroCredential
    from institutions import services as institution_services
    from institutions.models import ApiScope
    from tests.security.poisons import POISONS, poisoned

    specification = MicroCredential.objects.get(title="Data Literacy for Public Administration")
    institution = specification.institution
    admin = institution.memberships.first().user  # type: ignore[union-attr]
    credential = services.credential_issue(
        actor=None,
        institution=institution,
        micro_credential=specification,
        holder_name="Zoë Ødegård",
        holder_email="zoe@example.eu",
        awarded_date=date(2026, 6, 30),
        grade="8.5",
    )
    _token, secret = institution_services.api_token_create(
        actor=admin,
        institution=institution,
        name="soak",
        scopes=list(ApiScope),
    )
    learner = User.objects.get(email="learner@example.org")
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")()
    store[SESSION_KEY] = str(learner.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = learner.get_session_auth_hash()
    store.create()

    signed = json.loads(credential.document)
    first_proof = signed["proof"][0] if isinstance(signed["proof"], list) else signed["proof"]
    unsecured = {name: value for name, value in signed.items() if name != "proof"}
    bodies = {
        "credential": json.dumps(signed),
        "issue": json.dumps(
            {
                "micro_credential": str(specification.public_id),
                "holder_name": "Soak Learner",
                "holder_email": "soak@example.eu",
                "awarded_date": "2026-06-30",
            }
        ),
        "poison": json.dumps(poisoned(signed, POISONS["alike-ring-300"][0])),
        "poison-presentation": json.dumps(
            {
                "verifiablePresentation": {
                    "@context": ["https://www.w3.org/ns/credentials/v2"],
                    "type": ["VerifiablePresentation"],
                    "verifiableCredential": [
                        poisoned(signed, POISONS["dense-clique-25"][0]) for _ in range(16)
                    ],
                    "proof": {**first_proof, "proofPurpose": "authentication"},
                },
                "options": {"challenge": "soak"},
            }
        ),
        "poison-issue": json.dumps(
            {
                # No id: the node refuses an id already used before it does any work.
                "credential": {
                    **{
                        name: value
                        for name, value in POISONS["dense-clique-25"][0](unsecured).items()
                        if name != "id"
                    },
                    "issuer": {"id": institution.did, "name": institution.name},
                }
            }
        ),
    }
    paths = {}
    for name, text in bodies.items():
        paths[name] = workdir / f"{name}.json"
        paths[name].write_text(text, "utf-8")
    return {
        "bodies": paths,
        "token": secret,
        "cookie": f"{settings.SESSION_COOKIE_NAME}={store.session_key}",
        "specification": specification,
        "admin": admin,
    }


def kinds(seeded: dict[str, Any]) -> tuple[list[Kind], list[Kind]]:
    bodies, json_body = seeded["bodies"], "Content-Type: application/json"
    bearer = f"Authorization: Bearer {seeded['token']}"
    # Up to 80 verifications, 20 wallet pages and 20 searches a second: about half the cores of
    # the 2-core machine the figures in docs/performance.md come from.
    legitimate = [
        Kind(
            "public verification",
            "POST",
            "/api/v1/verify",
            (json_body,),
            bodies["credential"],
            connections=4,
            interval=0.05,
        ),
        Kind(
            "wallet page",
            "GET",
            "/wallet/",
            (f"Cookie: {seeded['cookie']}",),
            connections=2,
            interval=0.1,
        ),
        Kind("catalogue search", "GET", "/catalogue/?q=data", connections=2, interval=0.1),
        Kind(
            "issue via the API",
            "POST",
            "/api/v1/credentials",
            (json_body, bearer),
            bodies["issue"],
            interval=0.5,  # about 2 a second: under the token's 600 a minute
            expected=frozenset({201}),
        ),
    ]
    # A verdict of "not verified", a refusal by name, the rate limit, or "busy, try again" when
    # the host's heavy-work slots are taken (meshe/heavy_work.py).
    refused = frozenset({200, 400, 422, 429, 503})
    hostile = [
        Kind(
            "hostile: poison to verify",
            "POST",
            "/api/v1/verify",
            (json_body,),
            bodies["poison"],
            interval=1.0,
            clients=10,
            expected=refused,
        ),
        Kind(
            "hostile: 16 poisons in a presentation",
            "POST",
            "/vc-api/presentations/verify",
            (json_body,),
            bodies["poison-presentation"],
            interval=2.0,
            clients=10,
            expected=refused,
        ),
        Kind(
            "hostile: poison to sign",
            "POST",
            "/vc-api/credentials/issue",
            (json_body, bearer),
            bodies["poison-issue"],
            interval=2.0,
            expected=refused,
        ),
    ]
    return legitimate, hostile


class BulkJobs(threading.Thread):
    """Starts a bulk job of BULK_ROWS learners every `every` seconds until stopped, and records
    how long each took to be DONE on the worker."""

    def __init__(self, seeded: dict[str, Any], *, every: float) -> None:
        super().__init__(daemon=True)
        self.seeded, self.every = seeded, every
        self.stopping = threading.Event()
        self.durations: list[tuple[float, float]] = []  # (started, seconds)
        self.failures: list[str] = []

    def run(self) -> None:
        from django.db import close_old_connections

        from credentials.issuing import services
        from credentials.models import BulkIssueJob

        number = 0
        while not self.stopping.is_set():
            number += 1
            content = (
                "name,email,awarded_date,grade,evidence_url,evidence_narrative\n"
                + "\n".join(
                    f"Learner {n},soak{number}-{n}@example.eu,2026-06-30,7.5,,"
                    for n in range(BULK_ROWS)
                )
            ).encode()
            started = time.perf_counter()
            specification = self.seeded["specification"]
            job = services.bulk_job_create(
                actor=self.seeded["admin"],
                institution=specification.institution,
                micro_credential=specification,
                filename="soak.csv",
                content=content,
            )
            services.bulk_job_start(actor=self.seeded["admin"], job=job)
            while not BulkIssueJob.objects.filter(
                pk=job.pk, status__in=["done", "failed"]
            ).exists():
                time.sleep(0.2)
            job.refresh_from_db()
            if job.status != BulkIssueJob.Status.DONE or job.issued_count != BULK_ROWS:
                self.failures.append(f"job {number}: {job.status} {job.error}")
            self.durations.append((started, time.perf_counter() - started))
            close_old_connections()
            self.stopping.wait(max(0.0, self.every - (time.perf_counter() - started)))


def measure(*, quick: bool, minutes: float | None = None) -> list[Row]:
    total = (minutes if minutes is not None else 1.0 if quick else 10.0) * 60
    half = total / 2
    variant = harness.services()[-1]
    workdir = harness.scratch()
    environment = harness.production_environment(variant, workdir=workdir)
    environment["MESHE_TRUSTED_PROXY_COUNT"] = "1"
    harness.reset_services(variant)
    harness.setup_django(environment)
    harness.migrate_and_seed()
    seeded = seed(workdir)
    legitimate, hostile = kinds(seeded)

    port = harness.free_port()
    web = harness.start(
        [
            str(harness.BIN / "gunicorn"),
            "meshe.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "-c",
            "gunicorn.conf.py",
        ],
        environment=environment,
        log=workdir / "gunicorn.log",
    )
    worker = harness.celery_worker(environment, log=workdir / "celery.log", name="soak")
    bulk = BulkJobs(seeded, every=15.0 if quick else 60.0)
    try:
        harness.wait_until(lambda: _answers(port), timeout=60, every=0.2)
        # Warm every process: its caches, and the compiled shapes of the legitimate documents.
        run_phase(legitimate, port=port, seconds=5 if quick else 30)
        memory_start = memory(web.pid, worker.pid)
        bulk.start()
        harness.progress(f"soak: {half:.0f} s of legitimate load")
        cpu = [cpu_seconds(web.pid, worker.pid)]
        calm = run_phase(legitimate, port=port, seconds=half)
        cpu.append(cpu_seconds(web.pid, worker.pid))
        harness.progress(f"soak: {half:.0f} s of legitimate load with the hostile corpus")
        stormy_started = time.perf_counter()
        stormy = run_phase(legitimate + hostile, port=port, seconds=half)
        cpu.append(cpu_seconds(web.pid, worker.pid))
        bulk.stopping.set()
        bulk.join(timeout=600)
        time.sleep(1)
        memory_end = memory(web.pid, worker.pid)
    finally:
        bulk.stopping.set()
        harness.stop(web)
        harness.stop(worker)

    rows = []
    errors: dict[str, dict[str, int]] = {}
    for kind in legitimate:
        before, during = calm[kind.name], stormy[kind.name]
        for phase, result in (("without", before), ("with", during)):
            found = unexpected(kind, result)
            if found:
                errors[f"{kind.name} ({phase} hostile)"] = found
        rows.append(
            Row(
                f"{kind.name}: p99 with hostile traffic",
                during["p99_ms"],
                "ms",
                reference_name="p99 without",
                reference=before["p99_ms"],
                better=Better.LOWER,
                goal_ratio=GOAL_P99_RATIO,
                note=f"{before['requests_per_s']:.1f} → {during['requests_per_s']:.1f} req/s;"
                f" p50 {before['p50_ms']:.0f} → {during['p50_ms']:.0f} ms",
            )
        )
    for kind in hostile:
        result = stormy[kind.name]
        found = unexpected(kind, result)
        if found:
            errors[kind.name] = found
        rows.append(
            Row(
                kind.name,
                result["requests"],
                "requests",
                note=f"statuses {result['statuses']}, p99 {result['p99_ms']:.0f} ms",
            )
        )
    calm_jobs = [s for started, s in bulk.durations if started < stormy_started]
    stormy_jobs = [s for started, s in bulk.durations if started >= stormy_started]
    if calm_jobs and stormy_jobs:
        rows.append(
            Row(
                f"bulk job of {BULK_ROWS} learners, slowest with hostile traffic",
                max(stormy_jobs),
                "s",
                reference_name="slowest without",
                reference=max(calm_jobs),
                better=Better.LOWER,
                goal_ratio=GOAL_P99_RATIO,
                note="jobs: "
                + ", ".join(f"{s:.1f}" for s in calm_jobs)
                + " | "
                + ", ".join(f"{s:.1f}" for s in stormy_jobs)
                + " s"
                + (f"; failed: {bulk.failures}" if bulk.failures else ""),
            )
        )
    cores = os.cpu_count() or 1
    calm_share, stormy_share = ((b - a) / (half * cores) for a, b in itertools.pairwise(cpu))
    rows.append(
        Row(
            "node CPU share with hostile traffic",
            100 * stormy_share,
            "% of all cores",
            reference_name="without",
            reference=100 * calm_share,
            better=Better.LOWER,
            note=f"gunicorn and Celery processes over each half, {cores} cores",
        )
    )
    unexplained = sum(sum(found.values()) for found in errors.values()) + len(bulk.failures)
    rows.append(
        Row(
            "answers neither a success nor an intended refusal",
            unexplained,
            "answers",
            better=Better.LOWER,
            goal=0,
            note=json.dumps(errors) if errors else "none",
        )
    )
    start_total, end_total = sum(memory_start.values()), sum(memory_end.values())
    rows.append(
        Row(
            f"RSS of every node process after {total / 60:.0f} min",
            end_total,
            "MB",
            reference_name="at the start",
            reference=start_total,
            better=Better.LOWER,
            goal_ratio=MEMORY_GROWTH_LIMIT,
            note=f"{len(memory_end)} processes (gunicorn and Celery, with children); largest"
            f" {max(memory_start.values()):.0f} → {max(memory_end.values()):.0f} MB",
        )
    )
    return rows


def _answers(port: int) -> bool:
    import http.client

    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/", headers={"Host": harness.HOST, "X-Forwarded-Proto": "https"})
        return connection.getresponse().status == 200
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--minutes", type=float)
    args = parser.parse_args()
    from bench import report

    print(
        report.text_table(
            [("soak under mixed load", measure(quick=args.quick, minutes=args.minutes))]
        )
    )


if __name__ == "__main__":
    main()
