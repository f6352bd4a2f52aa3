"""`POST /api/v1/verify` under load: gunicorn as the Dockerfile runs it (gunicorn.conf.py: 3
threaded workers of 2 threads, keep-alive, access log on) with production settings, driven from a separate process over loopback by
bench/loadgen.py at 32 connections, against the goal of 800 req/s with p99 at most 100 ms (issue 20);
then the web workers' memory across repeated rounds.

    python bench/verify_load.py [--quick]

The credential verified is one this node issued (the realistic shape, its DID document and
status lists read from this node's database, as for any credential of its own). The reference,
measured in the same run, is `verifier.verify` called in this process on one core, times the
machine's cores: what the workers could do with no HTTP, no Django request cycle and no load
generator beside them. PostgreSQL + Redis are used when DATABASE_URL and REDIS_URL are set,
else the embedded default.
"""

import argparse
import http.client
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[1]
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

from bench import harness  # noqa: E402
from bench.report import Better, Row  # noqa: E402

CONNECTIONS = 32
GOAL_RPS = 800.0
GOAL_P99_MS = 100.0
CONFIG = "gunicorn.conf.py"  # the Dockerfile's CMD
GROWTH_LIMIT = 1.05


def load(port: int, body: Path, *, seconds: float, connections: int) -> dict[str, Any]:
    finished = subprocess.run(
        [
            sys.executable,
            str(REPOSITORY / "bench" / "loadgen.py"),
            "--port",
            str(port),
            "--path",
            "/api/v1/verify",
            "--body",
            str(body),
            "--header",
            f"Host: {harness.HOST}",
            "--header",
            "X-Forwarded-Proto: https",
            "--header",
            "Content-Type: application/json",
            "--connections",
            str(connections),
            "--seconds",
            str(seconds),
            # 60 verifications a minute per address is the abuse limit: spread the load over
            # enough visitors that none reaches it, so the limiter is paid for but never trips.
            "--clients",
            "65000",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(finished.stdout)
    return result


def descendants(pid: int) -> list[int]:
    """pid and every process below it."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(harness.children(current))
    return found


def named(command: str) -> list[int]:
    """The processes whose command name is `command` (PostgreSQL's, Redis's)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == command:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def machine_ticks() -> dict[str, int]:
    """The machine's CPU time so far, in clock ticks, from /proc/stat: all, idle, stolen."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return {"all": sum(fields[:8]), "idle": fields[3] + fields[4], "steal": fields[7]}


def cpu_shares(server_pid: int, measure_round: Any) -> tuple[dict[str, Any], dict[str, float]]:
    """Run measure_round() and say where the machine's CPU went meanwhile: the web workers, the
    load generator (this process's child, reaped by the round), Redis, PostgreSQL, whatever
    else ran, idle, and time the hypervisor took (steal), each as a share of all CPU time."""
    web, redis, postgres = descendants(server_pid), named("redis-server"), named("postgres")

    def spent() -> dict[str, float]:
        return {
            "web workers": sum(harness.cpu_seconds(pid) for pid in web),
            "load generator": resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
            + resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime,
            "Redis": sum(harness.cpu_seconds(pid) for pid in redis),
            "PostgreSQL": sum(harness.cpu_seconds(pid) for pid in postgres),
        }

    before, ticks_before = spent(), machine_ticks()
    result = measure_round()
    after, ticks_after = spent(), machine_ticks()
    tick = os.sysconf("SC_CLK_TCK")
    total = (ticks_after["all"] - ticks_before["all"]) / tick
    shares = {name: (after[name] - before[name]) / total for name in after}
    shares["idle"] = (ticks_after["idle"] - ticks_before["idle"]) / tick / total
    shares["steal"] = (ticks_after["steal"] - ticks_before["steal"]) / tick / total
    shares["other"] = max(0.0, 1 - sum(shares.values()))
    shares["web ms per request"] = (
        (after["web workers"] - before["web workers"]) * 1000 / max(1, result["requests"])
    )
    return result, shares


def in_process_rate(document: str, *, seconds: float) -> float:
    """verifier.verify calls per second in this process, pinned to one core."""
    from credentials.issuing import verifier

    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {max(allowed)})
    try:
        for _ in range(20):
            assert verifier.verify(document)["verified"]
        rates = []
        for _ in range(3):
            runs, started = 0, time.perf_counter()
            while time.perf_counter() - started < seconds / 3:
                verifier.verify(document)
                runs += 1
            rates.append(runs / (time.perf_counter() - started))
        return statistics.median(rates)
    finally:
        os.sched_setaffinity(0, allowed)


def measure(*, quick: bool) -> list[Row]:
    variant = harness.services()[-1]
    workdir = harness.scratch()
    environment = harness.production_environment(variant, workdir=workdir)
    # One reverse proxy in front, which appends the visitor's address to X-Forwarded-For.
    environment["MESHE_TRUSTED_PROXY_COUNT"] = "1"
    harness.reset_services(variant)
    harness.setup_django(environment)
    harness.migrate_and_seed()

    from credentials.issuing import services
    from credentials.models import MicroCredential

    specification = MicroCredential.objects.get(title="Data Literacy for Public Administration")
    credential = services.credential_issue(
        actor=None,
        institution=specification.institution,
        micro_credential=specification,
        holder_name="Zoë Ødegård",
        holder_email="zoe@example.eu",
        awarded_date=date(2026, 6, 30),
        grade="8.5",
    )
    body = workdir / "credential.json"
    body.write_text(credential.document, "utf-8")
    cores = len(os.sched_getaffinity(0))
    per_core = in_process_rate(credential.document, seconds=2 if quick else 6)
    harness.progress(f"verify in-process: {per_core:.0f}/s on one core")

    port = harness.free_port()
    server = harness.start(
        [
            str(harness.BIN / "gunicorn"),
            "meshe.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "-c",
            CONFIG,
        ],
        environment=environment,
        log=workdir / "gunicorn.log",
    )
    rounds, rss = [], []
    try:
        harness.wait_until(lambda: _answers(port, body), timeout=60, every=0.2)
        load(port, body, seconds=2, connections=CONNECTIONS)  # warm every worker
        for _ in range(2 if quick else 3):
            result, shares = cpu_shares(
                server.pid,
                lambda: load(port, body, seconds=5 if quick else 10, connections=CONNECTIONS),
            )
            rounds.append(result)
            time.sleep(0.5)
            rss.append(max(harness.rss_mb(pid) for pid in harness.children(server.pid)))
            harness.progress(
                f"verify load: {rounds[-1]['ok_per_s']:.0f} req/s (200s),"
                f" p99 {rounds[-1]['p99_ms']:.0f} ms, statuses {rounds[-1]['statuses']}, workers' max RSS {rss[-1]:.0f} MB;"
                " CPU " + ", ".join(f"{name} {share:.2f}" for name, share in shares.items())
            )
    finally:
        harness.stop(server)

    last = rounds[-1]
    label = "embedded" if variant.database_url is None else "PostgreSQL + Redis"
    bad = {status: n for status, n in last["statuses"].items() if status != "200"}
    problems = f"; non-200 responses {bad}" if bad else ""
    problems += f"; errors {last['errors']}" if last["errors"] else ""
    summary = ", ".join(f"{r['ok_per_s']:.0f} req/s p99 {r['p99_ms']:.0f} ms" for r in rounds)
    where = ", ".join(
        f"{name} {share:.0%}" for name, share in shares.items() if name != "web ms per request"
    )
    cpu = (
        f"; the {cores} cores in the last round: {where};"
        f" web workers' CPU {shares['web ms per request']:.1f} ms a request"
    )
    return [
        Row(
            f"POST /api/v1/verify, {CONNECTIONS} conns, {label}",
            last["ok_per_s"],
            "req/s",
            reference_name=f"in-process verifier.verify x {cores} cores",
            reference=per_core * cores,
            goal=GOAL_RPS,
            note=f"gunicorn -c {CONFIG} (3 workers x 2 threads), loadgen on the same {cores} cores;"
            f" rounds: {summary}{problems}{cpu}",
        ),
        Row(
            "  … p99 latency",
            last["p99_ms"],
            "ms",
            reference_name="p50 latency",
            reference=last["p50_ms"],
            better=Better.LOWER,
            goal=GOAL_P99_MS,
        ),
        Row(
            f"RSS web worker after load round {len(rounds)}",
            rss[-1],
            "MB",
            reference_name="after round 1",
            reference=rss[0],
            better=Better.LOWER,
            goal_ratio=GROWTH_LIMIT,
            note="largest gunicorn worker; after each round: "
            + ", ".join(f"{value:.0f}" for value in rss)
            + " MB",
        ),
    ]


def _answers(port: int, body: Path) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request(
            "POST",
            "/api/v1/verify",
            body=body.read_bytes(),
            headers={"Host": harness.HOST, "X-Forwarded-Proto": "https"},
        )
        response = connection.getresponse()
        answer = json.loads(response.read())
    except (OSError, ValueError):
        return False
    if response.status != 200 or not answer.get("verified"):
        raise RuntimeError(f"the node does not verify its own credential: {answer}")
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    from bench import report

    print(report.text_table([("verify under load", measure(quick=args.quick))]))


if __name__ == "__main__":
    main()
