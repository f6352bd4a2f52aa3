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
"""

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Final

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
        with signing.general_path_gate(host_gate().slot):
            return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, signing.NodeBusy):
            return busy_response(request)
        return None
