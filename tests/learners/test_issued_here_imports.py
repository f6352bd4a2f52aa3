"""A credential this portal issued enters the wallet by its claim, never as an import: once,
with its live status."""

import html

import pytest
from django.urls import reverse

from credentials.standards import credential_summary
from learners import selectors
from learners import services as learner_services
from learners.exceptions import WalletError
from learners.models import ImportedCredential
from tests.factories import UserFactory
from tests.learners.holding import ImportedCredentialFactory, issued_with_link

pytestmark = pytest.mark.django_db


def test_importing_a_credential_issued_here_before_claiming_it_is_refused_and_it_counts_once():
    credential, token = issued_with_link()
    ana = UserFactory(email="ana@example.eu")
    with pytest.raises(WalletError, match="issued on this portal"):
        learner_services.credential_import(user=ana, raw=credential.document)
    assert not ImportedCredential.objects.exists()
    learner_services.credential_claim(token=token, user=ana)
    wallet = selectors.wallet(user=ana)
    assert len(wallet.cards) == 1
    assert wallet.view().valid_ects == 5


def test_the_import_page_says_to_use_the_claim_link(logged_in):
    credential, _token = issued_with_link()
    # Signed in with another address: had it been Ana's verified one, signing in attached it.
    response = logged_in(UserFactory(email="ana.k@example.org")).post(
        reverse("learners:import"), {"document": credential.document}
    )
    assert response.status_code == 400
    assert "add it with the link in its e-mail" in html.unescape(response.text)


def test_an_import_made_before_the_claim_is_neither_shown_nor_counted_once_claimed():
    credential, token = issued_with_link()
    ana = UserFactory(email="ana@example.eu")
    # As such imports were kept before they were refused.
    ImportedCredentialFactory(
        owner=ana,
        credential_id=f"urn:uuid:{credential.public_id}",
        document=credential.document,
        ects=5,
    )
    learner_services.credential_claim(token=token, user=ana)
    wallet = selectors.wallet(user=ana)
    assert [card.imported for card in wallet.cards] == [False]
    assert wallet.view().valid_ects == 5
    assert selectors.imported_holdings(user_id=ana.pk, now=credential.issued_at) == []
    mentioning = [credential_summary.achievement_id(credential_summary.parse(credential.document))]
    assert selectors.imported_holdings(mentioning=mentioning, now=credential.issued_at) == []


def test_another_learners_import_of_it_is_still_theirs():
    credential, token = issued_with_link()
    learner_services.credential_claim(token=token, user=UserFactory(email="ana@example.eu"))
    other = UserFactory(email="bo@example.eu")
    ImportedCredentialFactory(owner=other, credential_id=f"urn:uuid:{credential.public_id}")
    assert len(selectors.wallet(user=other).cards) == 1
