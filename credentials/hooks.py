"""What credentials asks of, and tells, the apps above it, which it must not import.

Exchange answers the questions and receives the signal in its AppConfig.ready().
"""

from collections.abc import Iterable
from typing import Any

from django.dispatch import Signal

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

# Sent inside the transaction that changed an issued credential's status (revoked, suspended,
# reinstated), with `credential=`: partners that received it are told.
credential_status_changed = Signal()
