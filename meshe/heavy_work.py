"""A node-wide bound on costly canonicalisation: the pages stay fast while documents are checked.

A credential of a shape this node has not compiled takes the general path (pyld), which may
spend up to its work budget, about 0.3 s of CPU, even when it is finally refused. Each web
process already runs one such canonicalisation at a time (pyld's caches are not thread-safe);
this gate bounds them across the processes of a host to MESHE_HEAVY_WORK_SLOTS at once (half the
cores by default), so that a burst of costly documents leaves the other cores to the catalogue,
the wallet and the staff pages. A request that finds every slot taken waits up to
MESHE_HEAVY_WORK_WAIT_MS, then is answered 503 with Retry-After: "busy, try again", never
a verdict about the document. Celery workers and commands are not gated; their concurrency is
their own setting.

The slots are lock files (flock) in MESHE_VAR_DIR/run: the kernel frees a slot whose process
dies, and every process of the host that shares the folder shares the bound.

The work itself runs in canonicalising processes of each web process (CanonicalizingProcesses,
MESHE_HEAVY_WORK_IN_SUBPROCESSES), at a lower CPU priority: a page thread then never waits for
the GIL behind a costly document, and when the cores are short the kernel serves pages first.
The work is a pure function of the document (signing.canonicalize_counted), so the answer and
the work budgets are exactly those of the web process.
"""

import fcntl
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, Final

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext

from credentials.standards import signing

logger = logging.getLogger(__name__)

# How long a refused caller is told to wait before trying again.
RETRY_AFTER_SECONDS: Final = 5
# How often a waiting request looks for a free slot.
_POLL_SECONDS: Final = 0.01
# How much lower than the web process a canonicalising process runs (nice(2) increment): at 10
# the kernel gives a busy web process about nine tenths of a contended core.
CANONICALIZING_NICENESS: Final = 10


class HostGate:
    """`slots` lock files in `directory`: at most that many holders at once over every process
    and thread that uses the same folder. A thread already holding a slot enters again freely."""

    def __init__(self, directory: Path, *, slots: int, wait_seconds: float) -> None:
        if slots < 1:
            raise ValueError("a gate needs at least one slot")
        directory.mkdir(parents=True, exist_ok=True)
        self.paths = [directory / f"heavy-work-{number}.lock" for number in range(slots)]
        self.wait_seconds = wait_seconds
        self._held = threading.local()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for the block; raises signing.NodeBusy when none frees up in time."""
        if getattr(self._held, "depth", 0):
            self._held.depth += 1
            try:
                yield
            finally:
                self._held.depth -= 1
            return
        descriptor = self._acquire()
        self._held.depth = 1
        try:
            yield
        finally:
            self._held.depth = 0
            os.close(descriptor)  # closing the file releases its lock

    def _acquire(self) -> int:
        deadline = time.monotonic() + self.wait_seconds
        while True:
            for path in self.paths:
                descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(descriptor)
                    continue
                return descriptor
            if time.monotonic() >= deadline:
                raise signing.NodeBusy(f"all {len(self.paths)} slots are taken")
            time.sleep(_POLL_SECONDS)


class CanonicalizingProcesses:
    """Up to `workers` processes, started on first use and kept, that run
    signing.canonicalize_counted at a lower priority; call it with a document. Started with
    "spawn", never forked from a threaded web process, and again in a process forked after."""

    def __init__(self, *, workers: int, niceness: int = CANONICALIZING_NICENESS) -> None:
        self.workers = workers
        self.niceness = niceness
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._pid = 0

    def __call__(self, document: Mapping[str, Any]) -> tuple[str, int]:
        plain = _plain(document)
        for attempt in (1, 2):
            executor = self._current()
            try:
                return executor.submit(signing.canonicalize_counted, plain).result()
            except BrokenProcessPool as exc:
                # A process died (killed, out of memory), under this document or another: start
                # afresh and try once more; a document that kills its process twice is refused.
                self._discard(executor)
                if attempt == 2:
                    raise signing.CanonicalizationError(
                        signing.Failure.TOO_COMPLEX,
                        "checking it stopped the process that checked it",
                    ) from exc
        raise AssertionError("unreachable")

    def warm(self) -> None:
        """Start every process now and let each load the JSON-LD machinery, so that neither the
        first costly document nor its work budget pays for it."""
        executor = self._current()
        futures = [
            executor.submit(signing.canonicalize_counted, _WARM) for _ in range(self.workers)
        ]
        for future in futures:
            future.result()

    def process_ids(self) -> list[int]:
        """The canonicalising processes running now (for tests and the bench)."""
        executor = self._executor
        processes = getattr(executor, "_processes", None) or {}
        return [process.pid for process in processes.values() if process.is_alive()]

    def shutdown(self) -> None:
        with self._lock:
            if self._executor is not None and self._pid == os.getpid():
                self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def _current(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None or self._pid != os.getpid():
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=os.nice,
                    initargs=(self.niceness,),
                )
                self._pid = os.getpid()
            return self._executor

    def _discard(self, executor: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is executor:
                self._executor = None
        executor.shutdown(wait=False, cancel_futures=True)


def _plain(value: Any) -> Any:
    """The document with Python's own types only: a value of a model's choices (a str subclass)
    would make the canonicalising process import the app that defines it."""
    if isinstance(value, Mapping):
        return {_plain(key): _plain(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    for kind in (bool, str, int, float):
        if isinstance(value, kind):
            return kind(value)
    return value


# A document that loads the contexts nearly every credential names.
_WARM: Final = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "id": "urn:meshe:warm",
    "type": ["VerifiableCredential"],
}


@cache
def canonicalizing_processes() -> CanonicalizingProcesses:
    return CanonicalizingProcesses(workers=settings.MESHE_HEAVY_WORK_SLOTS)


def _elsewhere() -> signing.Elsewhere | None:
    return canonicalizing_processes() if settings.MESHE_HEAVY_WORK_IN_SUBPROCESSES else None


@cache
def host_gate() -> HostGate:
    return HostGate(
        Path(settings.VAR_DIR) / "run",
        slots=settings.MESHE_HEAVY_WORK_SLOTS,
        wait_seconds=settings.MESHE_HEAVY_WORK_WAIT_MS / 1000,
    )


def _wants_json(request: HttpRequest) -> bool:
    if request.path.startswith(("/api/", "/vc-api/", "/.well-known/", "/exchange/")):
        return True
    return request.content_type == "application/json" or "json" in request.headers.get("Accept", "")


def busy_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After, as JSON for the APIs and a page for people."""
    response: HttpResponse
    if _wants_json(request):
        message = gettext(
            "This portal is busy checking other documents. Try again in a few seconds."
        )
        response = JsonResponse({"error": {"code": "busy", "message": message}}, status=503)
    else:
        response = render(request, "503.html", status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    # A full gate is load, not a fault: a warning here instead of Django's error for a 5xx.
    logger.warning(
        "busy: every heavy-work slot is taken; %s %s answered 503", request.method, request.path
    )
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


class HeavyWorkGateMiddleware:
    """Every request's general-path canonicalisations go through the host's gate; a request the
    gate turns away is answered busy_response()."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with signing.general_path_gate(host_gate().slot, elsewhere=_elsewhere()):
            return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, signing.NodeBusy):
            return busy_response(request)
        return None
