"""What an institution's public page asks of the apps above institutions, which it must not
import: credentials answers with its published offers, exchange with its partners (each in
its AppConfig.ready()). Unanswered, the page shows neither.
"""

from collections.abc import Iterable
from typing import Any

from institutions.models import Institution
from meshe.hooks import Hook


def _none(*, institution: Institution) -> Iterable[Any]:
    return ()


# The institution's published offers, as the catalogue lists them.
public_offers: Hook[..., Iterable[Any]] = Hook("public_offers", default=_none)
# The partner institutions both sides confirmed, for its public page.
public_partners: Hook[..., Iterable[Any]] = Hook("public_partners", default=_none)
