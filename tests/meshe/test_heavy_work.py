"""The host's gate on costly canonicalisation (meshe/heavy_work.py): at most MESHE_HEAVY_WORK_SLOTS
general-path canonicalisations at once over every web process; a request that finds none free is
answered "busy, try again" (503 + Retry-After), never a verdict, and pages that need no such work
are served as usual."""

import fcntl
import json
import multiprocessing
import os
import signal
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from credentials.standards import canonical_templates, signing
from meshe import heavy_work
from tests.factories import MicroCredentialFactory, issue
from tests.security import poisons

pytestmark = pytest.mark.django_db


def _hold(
    path: str,
    held: "multiprocessing.synchronize.Event",
    release: "multiprocessing.synchronize.Event",
) -> None:
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    held.set()
    release.wait(30)


class OtherProcess:
    """Another process that takes every slot of a gate, until released."""

    def __init__(self) -> None:
        self.context = multiprocessing.get_context("fork")
        self.children: list[multiprocessing.process.BaseProcess] = []
        self.release_event = self.context.Event()

    def __call__(self, gate: heavy_work.HostGate) -> None:
        for path in gate.paths:
            held = self.context.Event()
            child = self.context.Process(target=_hold, args=(str(path), held, self.release_event))
            child.start()
            assert held.wait(30)
            self.children.append(child)

    def release(self) -> None:
        self.release_event.set()
        for child in self.children:
            child.join(30)
        self.children.clear()


@pytest.fixture
def other_process_holding() -> Iterator[OtherProcess]:
    holder = OtherProcess()
    yield holder
    holder.release()


def test_a_gate_admits_as_many_holders_as_it_has_slots(tmp_path: Path):
    gate = heavy_work.HostGate(tmp_path, slots=2, wait_seconds=0)
    with gate.slot():
        # Another thread's request: its own open file, its own lock.
        second = heavy_work.HostGate(tmp_path, slots=2, wait_seconds=0)
        with second.slot():
            third = heavy_work.HostGate(tmp_path, slots=2, wait_seconds=0)
            with pytest.raises(signing.NodeBusy), third.slot():
                pass
        with third.slot():  # a slot freed is a slot taken
            pass


def test_a_thread_holding_a_slot_enters_again(tmp_path: Path):
    gate = heavy_work.HostGate(tmp_path, slots=1, wait_seconds=0)
    with (
        gate.slot(),
        gate.slot(),
        pytest.raises(signing.NodeBusy),
        heavy_work.HostGate(tmp_path, slots=1, wait_seconds=0).slot(),
    ):
        pass


def test_the_slots_are_shared_with_other_processes(tmp_path: Path, other_process_holding):
    gate = heavy_work.HostGate(tmp_path, slots=1, wait_seconds=0.05)
    other_process_holding(gate)
    with pytest.raises(signing.NodeBusy), gate.slot():
        pass


def test_canonicalisation_inside_a_closed_gate_is_busy_not_a_failure_of_the_document():
    document = json.loads(issue().document)
    document.pop("proof")

    def closed() -> AbstractContextManager[object]:
        raise signing.NodeBusy("no slot")

    with signing.request_work_budget(signing.MAX_DOCUMENT_WORK):
        with signing.general_path_gate(closed), pytest.raises(signing.NodeBusy):
            signing.canonicalize(document)
        # Nothing of the request's budget was spent: a whole document still fits in it.
        assert signing.canonicalize(document).startswith(("<", "_:"))


@pytest.fixture
def node_gate(settings, tmp_path: Path) -> Iterator[heavy_work.HostGate]:
    """The node's own gate, one slot, no waiting, in a folder of this test."""
    settings.VAR_DIR = tmp_path
    settings.MESHE_HEAVY_WORK_SLOTS = 1
    settings.MESHE_HEAVY_WORK_WAIT_MS = 0
    heavy_work.host_gate.cache_clear()
    canonical_templates.SHAPES.clear()
    yield heavy_work.host_gate()
    heavy_work.host_gate.cache_clear()
    canonical_templates.SHAPES.clear()


def test_verification_on_a_busy_node_answers_try_again(node_gate, other_process_holding):
    credential = json.loads(issue().document)
    other_process_holding(node_gate)

    response = Client().post("/api/v1/verify", credential, content_type="application/json")

    assert response.status_code == 503
    assert response["Retry-After"] == str(heavy_work.RETRY_AFTER_SECONDS)
    assert response.json()["error"]["code"] == "busy"
    assert "verified" not in response.json()


def test_the_busy_page_is_in_the_visitors_language(node_gate, other_process_holding):
    credential = issue().document
    other_process_holding(node_gate)

    response = Client(headers={"accept-language": "de"}).post("/verify", {"document": credential})

    assert response.status_code == 503
    assert response["Retry-After"] == str(heavy_work.RETRY_AFTER_SECONDS)
    text = response.content.decode()
    assert 'lang="de"' in text
    assert "versuchen Sie es" in text.lower() or "erneut" in text


def test_pages_that_need_no_costly_work_are_served_while_the_gate_is_full(
    node_gate, other_process_holding
):
    offer = MicroCredentialFactory()
    other_process_holding(node_gate)

    assert Client().get("/catalogue/").status_code == 200
    offer_page = reverse("credentials:offer", kwargs={"public_id": offer.public_id})
    assert Client().get(offer_page).status_code == 200


def test_verification_goes_on_once_a_slot_frees(node_gate, other_process_holding):
    credential = json.loads(issue().document)
    other_process_holding(node_gate)
    busy = Client().post("/api/v1/verify", credential, content_type="application/json")
    other_process_holding.release()
    response = Client().post("/api/v1/verify", credential, content_type="application/json")

    assert busy.status_code == 503
    assert response.status_code == 200
    assert response.json()["verified"] is True


@pytest.fixture
def processes() -> Iterator[heavy_work.CanonicalizingProcesses]:
    """One canonicalising process of this test's own, stopped after it."""
    own = heavy_work.CanonicalizingProcesses(workers=1)
    own.warm()
    yield own
    own.shutdown()


def _canonicalized_elsewhere(
    document: dict[str, object], elsewhere: heavy_work.CanonicalizingProcesses
) -> tuple[str, int]:
    with signing.general_path_gate(nullcontext, elsewhere=elsewhere):
        return signing.canonicalize(document), signing.last_canonicalization_work()


def test_a_canonicalising_process_gives_the_answer_and_the_work_of_this_one(processes):
    document = json.loads(issue().document)
    document.pop("proof")

    here = signing.canonicalize(document), signing.last_canonicalization_work()
    first = _canonicalized_elsewhere(document, processes)

    # Term definitions count as work only until pyld caches them, so the work compares once both
    # processes have seen the contexts.
    assert first[0] == here[0]
    assert _canonicalized_elsewhere(document, processes) == here
    assert here[1] > 0


@pytest.mark.parametrize("name", ["dense-clique-25", "alike-ring-300", "chain-500"])
def test_a_canonicalising_process_refuses_a_poison_as_this_one_does(processes, name):
    poison, _words = poisons.POISONS[name]
    document = json.loads(issue().document)
    document.pop("proof")
    document = poison(document)
    with pytest.raises(signing.CanonicalizationError) as here:
        signing.canonicalize(document)

    with signing.request_work_budget(signing.MAX_REQUEST_WORK):
        with pytest.raises(signing.CanonicalizationError) as elsewhere:
            _canonicalized_elsewhere(document, processes)
        # The refusal is charged to the request as it is here: one more poison spends it all.
        with pytest.raises(signing.CanonicalizationError) as spent:
            _canonicalized_elsewhere(document, processes)
        with pytest.raises(signing.CanonicalizationError) as refused_before_work:
            _canonicalized_elsewhere(document, processes)

    assert (elsewhere.value.failure, elsewhere.value.detail) == (
        here.value.failure,
        here.value.detail,
    )
    assert spent.value.failure is here.value.failure
    assert refused_before_work.value.failure is signing.Failure.TOO_COMPLEX
    assert "the request as a whole" in refused_before_work.value.detail


def test_canonicalising_processes_run_below_the_web_process(processes):
    (pid,) = processes.process_ids()

    assert pid != os.getpid()
    assert os.getpriority(os.PRIO_PROCESS, pid) == min(
        19, os.getpriority(os.PRIO_PROCESS, 0) + heavy_work.CANONICALIZING_NICENESS
    )


def test_a_canonicalising_process_that_died_is_replaced(processes):
    document = json.loads(issue().document)
    document.pop("proof")
    (pid,) = processes.process_ids()
    os.kill(pid, signal.SIGKILL)

    canonical, _work = _canonicalized_elsewhere(document, processes)

    assert canonical == signing.canonicalize(document)
    assert processes.process_ids() and pid not in processes.process_ids()


class _NotHere(signing._SafeProcessor):
    def __init__(self) -> None:
        raise AssertionError("the general path ran in the web process")


@pytest.mark.parametrize("in_subprocesses", [True, False])
def test_the_web_sends_the_general_path_to_a_canonicalising_process(
    settings, node_gate, monkeypatch, in_subprocesses
):
    settings.MESHE_HEAVY_WORK_IN_SUBPROCESSES = in_subprocesses
    credential = json.loads(issue().document)
    # This process's pyld is broken; the canonicalising processes import their own.
    monkeypatch.setattr(signing, "_SafeProcessor", _NotHere)

    response = Client().post("/api/v1/verify", credential, content_type="application/json")

    assert response.status_code == 200
    assert response.json()["verified"] is in_subprocesses


def test_a_document_the_size_checks_refuse_is_never_sent_to_a_canonicalising_process():
    poison, _words = poisons.POISONS["wide-list-10000"]
    document = json.loads(issue().document)
    document.pop("proof")
    sent = []

    def elsewhere(document: object) -> tuple[str, int]:
        sent.append(document)
        raise AssertionError("sent")

    with (
        signing.general_path_gate(nullcontext, elsewhere=elsewhere),
        pytest.raises(signing.CanonicalizationError) as refused,
    ):
        signing.canonicalize(poison(document))

    assert sent == []
    assert "list of more than 512 items" in refused.value.detail
