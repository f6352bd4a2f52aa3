import pytest
from django.urls import reverse

from credentials.issuing import services
from tests.factories import PARTNER, UserFactory, a_pathway, imported_document
from tests.learners.holding import ImportedCredentialFactory, held_credential, uni_x_is_a_partner

pytestmark = pytest.mark.django_db

WALLET = reverse("learners:wallet")


def test_the_wallet_shows_progress_and_where_to_find_the_missing_parts(logged_in):
    _pathway, (own, other) = a_pathway()
    held_credential(UserFactory(), other)  # issuing makes the version the link points at
    learner = UserFactory()
    held_credential(learner, own)
    page = logged_in(learner).get(WALLET)
    assert "Data pathway" in page.text
    assert "have 1 of 3" in page.text
    link = reverse("credentials:offer", kwargs={"public_id": other.public_id})
    assert f'<a href="{link}">Ethics of AI</a>' in page.text
    assert f'<a href="{PARTNER}">Partner ethics</a>' in page.text


def test_a_revoked_credential_shows_the_pathway_but_counts_nothing(logged_in):
    _pathway, (own, _other) = a_pathway()
    learner = UserFactory()
    services.credential_revoke(credential=held_credential(learner, own), actor=None, reason="x")
    page = logged_in(learner).get(WALLET)
    assert "have 0 of 3" in page.text


def test_a_completed_pathway_says_so(logged_in):
    _pathway, parts = a_pathway()
    learner = UserFactory()
    for part in parts:
        held_credential(learner, part)
    uni_x_is_a_partner()
    ImportedCredentialFactory(owner=learner, document=imported_document(PARTNER))
    page = logged_in(learner).get(WALLET)
    assert "Completed" in page.text
    assert "have 3 of 3" in page.text


def test_drafts_and_untouched_pathways_are_not_shown(logged_in):
    pathway, (own, _other) = a_pathway()
    a_pathway()  # touches nothing the learner holds
    learner = UserFactory()
    held_credential(learner, own)
    pathway.status = "draft"
    pathway.save()
    page = logged_in(learner).get(WALLET)
    assert "Pathways" not in page.text


def test_a_learner_never_sees_another_learners_progress(logged_in):
    _pathway, parts = a_pathway()
    other_learner = UserFactory()
    for part in parts:
        held_credential(other_learner, part)
    ImportedCredentialFactory(owner=other_learner, document=imported_document(PARTNER))
    learner = UserFactory()
    held_credential(learner, parts[0])
    page = logged_in(learner).get(WALLET)
    assert "have 1 of 3" in page.text
    assert "Completed" not in page.text
    nobody = UserFactory()
    ImportedCredentialFactory(owner=nobody)
    assert "Data pathway" not in logged_in(nobody).get(WALLET).text
