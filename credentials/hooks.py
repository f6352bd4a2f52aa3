"""What credentials asks of, and tells, the apps above it, which it must not import.

Exchange and learners answer the questions in their AppConfig.ready(); the exchange and the
wallet (credentials.apps) receive the signal.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.dispatch import Signal

from credentials.standards import pathways
from meshe.hooks import Hook


def _no_partner(*, did: str) -> str | None:
    return None


def _not_sent(*, credential: Any) -> Iterable[Any]:
    return ()


# The name of a partner institution on another node whose DID is `did`, or None: the
# verifier's "issuer known" check for issuers that are not on this node.
partner_issuer_name: Hook[..., str | None] = Hook("partner_issuer_name", default=_no_partner)

# Where an issued credential was sent for recognition, newest first: for its holder's page.
deliveries_of_credential: Hook[..., Iterable[Any]] = Hook(
    "deliveries_of_credential", default=_not_sent
)


def _nothing_imported(
    *, user_id: int | None = None, mentioning: Sequence[str] = (), now: datetime
) -> list[tuple[int, pathways.Holding]]:
    return []


# What learners imported into their wallets, as (owner id, holding) toward pathways: one
# user's (`user_id`), or everyone's that mention one of the URLs in `mentioning`.
imported_holdings: Hook[..., list[tuple[int, pathways.Holding]]] = Hook(
    "imported_holdings", default=_nothing_imported
)


@dataclass(frozen=True)
class DeliveryCounts:
    """Credentials an institution sent to partners for recognition, and what became of them."""

    sent: int = 0
    delivered: int = 0
    recognised: int = 0
    declined: int = 0
    failed: int = 0


def _nothing_sent(*, institution_id: int) -> DeliveryCounts:
    return DeliveryCounts()


# For the dashboard: what the institution sent to partners (one query).
delivery_counts: Hook[..., DeliveryCounts] = Hook("delivery_counts", default=_nothing_sent)

# Sent inside the transaction that changed an issued credential's status (revoked, suspended,
# reinstated), with `credential=`: partners that received it are told.
credential_status_changed = Signal()
