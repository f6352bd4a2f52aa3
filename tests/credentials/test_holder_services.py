"""The credentials services through which the learners app changes an issued credential:
attaching it to its learner, spending a claim link, showing its page, detaching it."""

import pytest
from django.utils import timezone

from credentials.issuing import services
from credentials.models import CredentialEvent, IssuedCredential
from tests.factories import MicroCredentialFactory, UserFactory, issue

pytestmark = pytest.mark.django_db


def test_attaching_gives_the_holder_credentials_issued_to_their_addresses_once():
    micro_credential = MicroCredentialFactory()
    mine = issue(micro_credential, holder_email="Ana@Example.eu")
    other = issue(micro_credential, holder_email="bo@example.eu")
    ana = UserFactory()
    assert services.credentials_holder_attach(holder=ana, addresses=["ana@example.eu"]) == 1
    assert services.credentials_holder_attach(holder=ana, addresses=["ana@example.eu"]) == 0
    mine.refresh_from_db()
    other.refresh_from_db()
    assert (mine.holder, other.holder) == (ana, None)
    assert mine.claimed_at is not None
    assert list(
        CredentialEvent.objects.filter(action=CredentialEvent.Action.CLAIMED).values_list(
            "credential", "actor"
        )
    ) == [(mine.pk, ana.pk)]
    assert services.credentials_holder_attach(holder=ana, addresses=[]) == 0


def test_spending_a_claim_link_ends_it_keeps_its_hash_and_refreshes_the_credential():
    credential = issue(MicroCredentialFactory())
    IssuedCredential.objects.filter(pk=credential.pk).update(
        claim_token_hash="x", claim_expires_at=timezone.now()
    )
    services.credential_claim_link_spend(credential=credential)
    # The hash stays so that the spent link can say it was used.
    assert (credential.claim_token_hash, credential.claim_expires_at) == ("x", None)


def test_showing_a_page_changes_it_once_and_only_for_its_holder():
    ana, bo = UserFactory(), UserFactory()
    credential = issue(MicroCredentialFactory())
    IssuedCredential.objects.filter(pk=credential.pk).update(holder=ana, public_page=False)
    assert services.credential_page_set_public(holder=bo, credential=credential, public=True) is (
        False
    )
    assert services.credential_page_set_public(holder=ana, credential=credential, public=True)
    assert not services.credential_page_set_public(holder=ana, credential=credential, public=True)
    assert IssuedCredential.objects.get(pk=credential.pk).public_page is True


def test_detaching_leaves_the_credentials_but_not_the_holder():
    ana = UserFactory()
    credential = issue(MicroCredentialFactory())
    IssuedCredential.objects.filter(pk=credential.pk).update(holder=ana)
    assert services.credentials_holder_detach(holder=ana) == 1
    assert IssuedCredential.objects.get(pk=credential.pk).holder is None
