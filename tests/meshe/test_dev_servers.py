"""`make run PORT=…` and `make exchange-demo` as a newcomer starts them: real processes with a
clean environment (nothing of the test run's settings, DATABASE_URL or REDIS_URL leaks in),
stopped with SIGINT as Ctrl-C stops them, leaving no process behind."""

import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from meshe.devnodes import ROOT, Certificates, Response, free_port, http_request

STARTUP_SECONDS = 300.0  # migrations and demo data on a loaded CI machine


def clean_environment(var_dir: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(var_dir)),
        "LANG": "C.UTF-8",
        "MESHE_VAR_DIR": str(var_dir),
    }


def processes_using(var_dir: Path) -> list[str]:
    """Command lines of the processes whose MESHE_VAR_DIR is var_dir or a folder inside it."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile, or not ours
            continue
        if any(line.startswith(f"MESHE_VAR_DIR={var_dir}".encode()) for line in environ):
            found.append(f"{proc.name}: {command}")
    return found


def get_until_answered(url: str, process: subprocess.Popen[bytes], **options) -> Response:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        assert process.poll() is None, f"exited with {process.returncode} before {url} answered"
        try:
            return http_request(url, timeout=10, **options)
        except OSError:
            assert time.monotonic() < deadline, f"{url} did not answer"
            time.sleep(0.5)


def interrupt(process: subprocess.Popen[bytes], var_dir: Path) -> int:
    """Ctrl-C: SIGINT to the foreground process group; returns the exit status, after checking
    that every process of the run has gone."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        status = process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise
    deadline = time.monotonic() + 30
    while processes_using(var_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_using(var_dir) == []
    return status


def test_make_run_with_a_port_gives_links_dids_and_metadata_on_that_port(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    did = f"did:web:127.0.0.1%3A{port}:institutions:uni-a"
    with (tmp_path / "make.log").open("wb") as log:
        # `-o install`: the test run's environment is installed already; rebuilding it is not
        # what this test is about.
        make = subprocess.Popen(
            ["make", "--no-print-directory", "-o", "install", "run", f"PORT={port}"],
            cwd=ROOT,
            env=clean_environment(tmp_path),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        document = get_until_answered(f"{base}/institutions/uni-a/did.json", make)
        assert document.status == 200
        assert document.json()["id"] == did
        page = http_request(f"{base}/institutions/uni-a/")
        manifest = http_request(f"{base}/.well-known/meshe-node.json")
        issuer = http_request(f"{base}/.well-known/openid-credential-issuer/institutions/uni-a")
        catalogue = http_request(f"{base}/catalogue/").body.decode()
        offer_path = re.search(r'href="(/catalogue/[0-9a-f-]{36}/)"', catalogue)
        assert offer_path, catalogue
        offer = http_request(base + offer_path[1])
    finally:
        status = interrupt(make, tmp_path)
    text = page.body.decode()
    assert did in text
    # The offer page's schema.org markup names the offer by its absolute address.
    assert f'"{base}{offer_path[1]}"' in offer.body.decode()
    assert manifest.json()["node"] == base
    assert {i["did"] for i in manifest.json()["institutions"]} == {
        did,
        f"did:web:127.0.0.1%3A{port}:institutions:uni-b",
    }
    assert issuer.json()["credential_issuer"] == f"{base}/institutions/uni-a"
    for body in (page.body, manifest.body, issuer.body, document.body, offer.body):
        assert b"127.0.0.1:8000" not in body
        assert b"127.0.0.1%3A8000" not in body
    log_text = (tmp_path / "make.log").read_text(errors="replace")
    assert status in (0, 2, -signal.SIGINT), log_text  # make reports the interrupt its way


def test_exchange_demo_runs_two_nodes_each_hosting_only_its_own_university(tmp_path):
    port_a, port_b = free_port(), free_port()
    demo = subprocess.Popen(
        [
            sys.executable,
            "bin/exchange-demo",
            "--ports",
            str(port_a),
            str(port_b),
            "--var-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        env=clean_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assert demo.stdout is not None
    output = b""
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while b"Ctrl-C stops both nodes." not in output:
            assert demo.poll() is None, output.decode(errors="replace")
            assert time.monotonic() < deadline, output.decode(errors="replace")
            ready, _, _ = select.select([demo.stdout], [], [], 1.0)
            if ready:
                output += os.read(demo.stdout.fileno(), 65536)
        certificates = Certificates(
            ca_file=tmp_path / "tls" / "ca.pem",
            cert_file=tmp_path / "tls" / "server.pem",
            key_file=tmp_path / "tls" / "server-key.pem",
        )
        answers = {}
        for name, port in (("a", port_a), ("b", port_b)):
            base = f"https://127.0.0.1:{port}"
            answers[name] = (
                http_request(f"{base}/.well-known/meshe-node.json", certificates=certificates),
                http_request(f"{base}/catalogue/", certificates=certificates),
            )
    finally:
        status = interrupt(demo, tmp_path)
    text = output.decode()
    assert f"https://127.0.0.1:{port_a}/" in text and f"https://127.0.0.1:{port_b}/" in text
    assert "admin@uni-a.example" in text and "admin@uni-b.example" in text
    assert str(tmp_path / "tls" / "ca.pem") in text
    manifest_a, catalogue_a = answers["a"]
    manifest_b, catalogue_b = answers["b"]
    assert [i["slug"] for i in manifest_a.json()["institutions"]] == ["uni-a"]
    assert [i["slug"] for i in manifest_b.json()["institutions"]] == ["uni-b"]
    assert manifest_b.json()["institutions"][0]["did"] == (
        f"did:web:127.0.0.1%3A{port_b}:institutions:uni-b"
    )
    assert catalogue_b.status == 200 and b"Baltic Technical University" in catalogue_b.body
    assert b"University of Aldermoor" not in catalogue_b.body
    assert b"Baltic Technical University" not in catalogue_a.body
    assert status == 0
