"""Hooks: a lower app's question that a higher app answers, with a default when none does."""

import pytest

from credentials import hooks as credential_hooks
from credentials.catalogue import offers as catalogue
from institutions import hooks as institution_hooks
from meshe.hooks import Hook


def zero(*, n: int) -> int:
    return 0


def double(*, n: int) -> int:
    return n * 2


def same(*, n: int) -> int:
    return n


def test_an_unanswered_hook_gives_its_default():
    hook: Hook[..., int] = Hook("answer", default=zero)
    assert not hook.answered
    assert hook(n=7) == 0


def test_an_answered_hook_gives_the_answer():
    hook: Hook[..., int] = Hook("answer", default=zero)
    hook.answer_with(double)
    assert hook.answered
    assert hook(n=7) == 14


def test_a_second_answerer_is_refused_and_the_same_one_again_changes_nothing():
    hook: Hook[..., int] = Hook("answer", default=zero)
    hook.answer_with(double)
    hook.answer_with(double)
    with pytest.raises(RuntimeError, match="answer already has an answer"):
        hook.answer_with(same)
    assert hook(n=2) == 4


@pytest.mark.parametrize(
    "hook",
    [
        credential_hooks.partner_issuer_name,
        credential_hooks.deliveries_of_credential,
        credential_hooks.delivery_counts,
        credential_hooks.imported_holdings,
        catalogue.partner_offers_matching,
        catalogue.partner_listings,
        catalogue.offer_recognitions,
        institution_hooks.public_offers,
        institution_hooks.public_partners,
    ],
    ids=lambda hook: hook.name,
)
def test_every_hook_of_the_lower_apps_is_answered_once_the_apps_are_ready(hook):
    assert hook.answered
