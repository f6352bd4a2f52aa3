"""How far a learner is along a pathway, from plain values.

Pure: no queries. A component and a holding meet on a key: for a specification on this node
the key names the micro-credential (any of its versions), for a partner's specification it
is the specification's URL, which an imported credential carries as its achievement id.
Only valid holdings count: not revoked, suspended, expired or unverified.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Rule = Literal["all_of", "any_n", "min_ects"]
RULES: tuple[Rule, ...] = ("all_of", "any_n", "min_ects")


def local_key(micro_credential_id: int) -> str:
    """The key of a specification on this node; URLs never look like it."""
    return f"local:{micro_credential_id}"


@dataclass(frozen=True, slots=True)
class Component:
    key: str
    title: str
    ects: Decimal | None
    link: str = ""  # where a learner finds it


@dataclass(frozen=True, slots=True)
class Holding:
    key: str
    ects: Decimal | None
    valid: bool


@dataclass(frozen=True, slots=True)
class Progress:
    rule: Rule
    satisfied: tuple[Component, ...]
    missing: tuple[Component, ...]
    ects: Decimal  # counted from the satisfied components
    complete: bool
    required_count: int | None = None
    required_ects: Decimal | None = None

    @property
    def have(self) -> int:
        return len(self.satisfied)

    @property
    def needed(self) -> int:
        """How many components the rule asks for (all, or N); 0 for an ECTS rule."""
        if self.rule == "all_of":
            return len(self.satisfied) + len(self.missing)
        if self.rule == "any_n":
            return self.required_count or 0
        return 0

    @property
    def percent(self) -> int:
        """Progress as a whole percentage, at most 100."""
        if self.complete:
            return 100
        if self.rule == "min_ects":
            target = self.required_ects or Decimal(0)
            return min(100, int(100 * self.ects / target)) if target else 0
        return min(100, 100 * self.have // self.needed) if self.needed else 0


def touches(components: Iterable[Component], holdings: Iterable[Holding]) -> bool:
    """Whether any holding, valid or not, is one of the components."""
    keys = {holding.key for holding in holdings}
    return any(component.key in keys for component in components)


def evaluate(
    *,
    rule: Rule,
    components: Sequence[Component],
    holdings: Iterable[Holding],
    required_count: int | None = None,
    required_ects: Decimal | None = None,
) -> Progress:
    """What is satisfied and missing, the ECTS counted and whether the rule is met.

    Each component counts once however often it is held. A holding's own ECTS count when it
    states them (the largest, if held twice), else the component's. A pathway without
    components is never complete. Raises ValueError for an unknown rule or a missing number.
    """
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}")
    if rule == "any_n" and (required_count is None or required_count < 1):
        raise ValueError("any_n needs a required_count of at least 1")
    if rule == "min_ects" and (required_ects is None or required_ects <= 0):
        raise ValueError("min_ects needs a positive required_ects")
    valid: dict[str, Decimal | None] = {}
    for holding in holdings:
        if not holding.valid:
            continue
        known = valid.get(holding.key)
        if holding.key not in valid or (
            holding.ects is not None and (known is None or holding.ects > known)
        ):
            valid[holding.key] = holding.ects
    satisfied: list[Component] = []
    missing: list[Component] = []
    ects = Decimal(0)
    seen: set[str] = set()
    for component in components:
        if component.key in seen:
            continue
        seen.add(component.key)
        if component.key in valid:
            satisfied.append(component)
            counted = valid[component.key]
            ects += counted if counted is not None else (component.ects or Decimal(0))
        else:
            missing.append(component)
    if not seen:
        complete = False
    elif rule == "all_of":
        complete = not missing
    elif rule == "any_n":
        complete = len(satisfied) >= (required_count or 0)
    else:
        complete = ects >= (required_ects or Decimal(0))
    return Progress(
        rule=rule,
        satisfied=tuple(satisfied),
        missing=tuple(missing),
        ects=ects,
        complete=complete,
        required_count=required_count if rule == "any_n" else None,
        required_ects=required_ects if rule == "min_ects" else None,
    )
