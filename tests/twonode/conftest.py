"""Two MESHE nodes, A and B, each its own processes, database and broker (see nodes.py).

The nodes live for a test module: starting one costs seconds (migrations, gunicorn, a Celery
worker), so tests in a module share them and seed what they need under their own names. A
test that stops or kills part of a node gets it back afterwards (nodes_restored).

Node B stands behind a FaultProxy (proxy_b) on its public address, so fault tests can make
"B" fail, drop or stall whatever A sends it; the proxy passes everything through by default.
"""

import os
from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.twonode.faults import FaultProxy
from tests.twonode.nodes import Certificates, Node, make_certificates


@pytest.fixture(scope="session")
def loopback_certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("twonode-tls"))


def new_node(name: str, *, redis_db: int, certificates: Certificates, **options: Any) -> Node:
    """A node on the test run's services: PostgreSQL when DATABASE_URL is postgres://, Redis
    when REDIS_URL is set; otherwise SQLite and the filesystem broker under var/<run>/<name>."""
    database_url = os.environ.get("DATABASE_URL", "")
    return Node(
        name,
        var_dir=Path(settings.VAR_DIR) / name,
        certificates=certificates,
        database_url=database_url if database_url.startswith("postgres") else "",
        redis_url=os.environ.get("REDIS_URL", ""),
        redis_db=redis_db,
        **options,
    )


def launch(node: Node, institution: tuple[str, str, str]) -> Node:
    """Migrates the node, starts its web server and its worker with beat (as `make run` does)
    and seeds `institution` (slug, name, country); stops whatever started when something
    fails."""
    try:
        node.prepare()
        node.start_web()
        node.start_worker(beat=True)
        node.seed_institution(*institution)
    except BaseException:
        node.stop()
        raise
    return node


@pytest.fixture(scope="module")
def node_env() -> dict[str, str]:
    """Extra environment for both nodes of a test module, e.g. short retry and beat intervals
    (MESHE_DELIVERY_RETRY_BASE_SECONDS, MESHE_OUTBOX_SWEEP_SECONDS): a module overrides this
    fixture to set them."""
    return {}


@pytest.fixture(scope="module")
def node_pair(
    loopback_certificates: Certificates, node_env: dict[str, str]
) -> Iterator[tuple[Node, Node, FaultProxy]]:
    """Node A (uni-a, BE) and node B (uni-b, FR) behind a FaultProxy, started side by side."""
    certificates = loopback_certificates
    node_a = new_node("node-a", redis_db=13, certificates=certificates, env=node_env)
    node_b = new_node(
        "node-b", redis_db=14, certificates=certificates, env=node_env, behind_proxy=True
    )
    proxy = FaultProxy(node_b.web_url, certificates=loopback_certificates, port=node_b.port)
    proxy.start()
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(launch, node_a, ("uni-a", "Universiteit A", "BE")),
            pool.submit(launch, node_b, ("uni-b", "Université B", "FR")),
        ]
    try:
        for future in futures:
            future.result()
        yield node_a, node_b, proxy
    finally:
        proxy.close()
        node_a.stop()
        node_b.stop()


@pytest.fixture(scope="module")
def node_a(node_pair: tuple[Node, Node, FaultProxy]) -> Node:
    """Node A, hosting uni-a (Universiteit A, BE)."""
    return node_pair[0]


@pytest.fixture(scope="module")
def node_b(node_pair: tuple[Node, Node, FaultProxy]) -> Node:
    """Node B, hosting uni-b (Université B, FR), reached through proxy_b at its base_url."""
    return node_pair[1]


@pytest.fixture
def proxy_b(node_pair: tuple[Node, Node, FaultProxy]) -> Iterator[FaultProxy]:
    """The proxy on node B's public address, passing through with an empty record: what it
    saw is what this test sent."""
    proxy = node_pair[2]
    proxy.pass_through()
    proxy.reset()
    yield proxy
    proxy.pass_through()
    proxy.reset()


@pytest.fixture(autouse=True)
def nodes_restored(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test, every node it used serves again and has its worker back."""
    yield
    for value in request.node.funcargs.values():
        if isinstance(value, Node):
            value.restore()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test's report carries the tail of each node's process logs."""
    report: pytest.TestReport = yield
    if report.failed:
        for value in getattr(item, "funcargs", {}).values():
            if isinstance(value, Node):
                report.sections.append((f"{value.name} logs", value.logs()))
    return report
