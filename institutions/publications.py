"""The version of what this node publishes about its institutions: DID documents, status lists
and names. It lives in Django's cache (Redis in production), which every web and worker
process shares, so a process may keep what it read and checked of them (credentials.issuing.verifier)
for as long as the version it read them under is still the current one.

Writers call `changed()` in the transaction that changes a DID document, a status list or an
institution's name. The version moves at once, so the writer's own process (and a test's
transaction) sees the change, and again when the transaction commits, so a reader that read the
old rows while it was open cannot keep them under the version it saw.
"""

import secrets
import threading
from typing import Final

from django.core.cache import cache
from django.db import connection, transaction

CACHE_KEY: Final = "meshe:publications:version"
# Per thread, as Django's connections are: whether the open transaction changed something.
_open_changes = threading.local()


def version() -> str | None:
    """Return the current version, starting one when the cache holds none; None when the
    cache cannot keep it (a dummy cache), in which case nothing may be remembered."""
    current = cache.get(CACHE_KEY)
    if current is None:
        cache.add(CACHE_KEY, secrets.token_hex(8), timeout=None)
        current = cache.get(CACHE_KEY)
    return current if isinstance(current, str) else None


def changed() -> None:
    """Moves the version now and once more when the caller's transaction commits, so every
    process reads the new DID documents, status lists and names. Raises if the cache is down,
    so no change commits that other processes might not see."""
    _move()
    if connection.in_atomic_block:
        _open_changes.pending = True
    # After the commit the change is made either way: a failure is logged, not raised.
    transaction.on_commit(_settle, robust=True)


def unsettled() -> bool:
    """Whether this thread's open transaction changed what is published: what it reads now may
    still be rolled back, so it must not be remembered under any version."""
    if not connection.in_atomic_block:
        _open_changes.pending = False
    return bool(getattr(_open_changes, "pending", False))


def _settle() -> None:
    _open_changes.pending = False
    _move()


def _move() -> None:
    cache.set(CACHE_KEY, secrets.token_hex(8), timeout=None)
