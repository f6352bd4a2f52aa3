from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from credentials.issuing import services
from credentials.models import IssuedCredential
from learners import selectors
from tests.factories import InstitutionFactory, MicroCredentialFactory, UserFactory
from tests.learners.holding import ImportedCredentialFactory, held_credential, uni_x_is_a_partner
from tests.learners.pages import card_titles

pytestmark = pytest.mark.django_db

WALLET = reverse("learners:wallet")


@pytest.mark.date_sensitive
def test_each_credential_is_a_card_with_institution_date_ects_level_and_status(logged_in):
    learner = UserFactory()
    micro_credential = MicroCredentialFactory(
        title="Data Literacy", institution__name="University of Aldermoor"
    )
    credential = held_credential(learner, micro_credential)
    page = logged_in(learner).get(WALLET)
    assert page.status_code == 200
    assert card_titles(page.text) == ["Data Literacy"]
    assert "University of Aldermoor" in page.text
    issued = date_format(timezone.localtime(credential.issued_at), "DATE_FORMAT")
    assert f"<dd>{issued}</dd>" in page.text
    assert "5 ECTS" in page.text
    assert "EQF Level 6" in page.text
    assert 'class="status-badge wallet-status-valid">Valid<' in page.text


@pytest.mark.date_sensitive
def test_revoked_suspended_and_expired_credentials_say_so(logged_in):
    learner = UserFactory()
    revoked = held_credential(learner, MicroCredentialFactory(title="Revoked one"))
    suspended = held_credential(learner, MicroCredentialFactory(title="Suspended one"))
    held_credential(
        learner,
        MicroCredentialFactory(title="Expired one", validity_months=1),
        valid_from=timezone.now() - timedelta(days=90),
    )
    services.credential_revoke(credential=revoked, actor=None, reason="Plagiarism")
    services.credential_suspend(credential=suspended, actor=None)
    cards = {card.title: card.status for card in selectors.wallet(user=learner).cards}
    assert cards == {
        "Revoked one": "revoked",
        "Suspended one": "suspended",
        "Expired one": "expired",
    }
    page = logged_in(learner).get(WALLET)
    for label in ("Revoked", "Suspended", "Expired"):
        assert f">{label}</span>" in page.text


def test_filtering_by_institution_and_status_is_a_plain_get_form(logged_in):
    learner = UserFactory()
    aldermoor = InstitutionFactory(name="Aldermoor")
    brightwater = InstitutionFactory(name="Brightwater")
    held_credential(learner, MicroCredentialFactory(institution=aldermoor, title="A valid"))
    revoked = held_credential(
        learner, MicroCredentialFactory(institution=aldermoor, title="A revoked")
    )
    held_credential(learner, MicroCredentialFactory(institution=brightwater, title="B valid"))
    services.credential_revoke(credential=revoked, actor=None)
    client = logged_in(learner)

    page = client.get(WALLET)
    assert '<form method="get"' in page.text
    assert f'<option value="{aldermoor.did}">Aldermoor</option>' in page.text

    by_institution = client.get(WALLET, {"institution": aldermoor.did})
    assert sorted(card_titles(by_institution.text)) == ["A revoked", "A valid"]
    assert "2 credentials shown of 3" in by_institution.text

    both = client.get(WALLET, {"institution": aldermoor.did, "status": "valid"})
    assert card_titles(both.text) == ["A valid"]


def test_an_unknown_filter_value_shows_everything_rather_than_an_error(logged_in):
    learner = UserFactory()
    held_credential(learner)
    page = logged_in(learner).get(WALLET, {"institution": "did:web:nowhere", "status": "lost"})
    assert page.status_code == 200
    assert len(card_titles(page.text)) == 1


def test_the_wallet_sorts_by_date_newest_first_unless_asked_for_oldest(logged_in):
    learner = UserFactory()
    first = held_credential(learner, MicroCredentialFactory(title="First"))
    second = held_credential(learner, MicroCredentialFactory(title="Second"))
    IssuedCredential.objects.filter(pk=first.pk).update(
        issued_at=second.issued_at - timedelta(days=30)
    )
    ImportedCredentialFactory(owner=learner, title="Undated import", issued_at=None)
    client = logged_in(learner)
    assert card_titles(client.get(WALLET).text) == ["Second", "First", "Undated import"]
    oldest = client.get(WALLET, {"sort": "oldest"})
    assert card_titles(oldest.text) == ["First", "Second", "Undated import"]


def test_totals_count_every_credential_and_the_ects_of_valid_ones_only(logged_in):
    learner = UserFactory()
    held_credential(learner, MicroCredentialFactory(ects=Decimal("5")))
    held_credential(learner, MicroCredentialFactory(ects=Decimal("2.5")))
    revoked = held_credential(learner, MicroCredentialFactory(ects=Decimal("10")))
    services.credential_revoke(credential=revoked, actor=None)
    uni_x_is_a_partner()
    ImportedCredentialFactory(owner=learner, ects=Decimal("3"))  # verified, known: counts
    ImportedCredentialFactory(owner=learner, ects=Decimal("4"), verification=None)  # does not
    page = logged_in(learner).get(WALLET)
    assert "5 credentials" in page.text
    assert (
        "<strong>10.5 ECTS</strong> in valid credentials from institutions this portal knows"
        in (page.text)
    )


def test_imported_credentials_appear_clearly_marked(logged_in):
    learner = UserFactory()
    held_credential(learner, MicroCredentialFactory(title="Issued here"))
    ImportedCredentialFactory(owner=learner, title="From elsewhere")
    ImportedCredentialFactory(
        owner=learner, title="An EDC", format="edc", verification=None, verified_at=None
    )
    page = logged_in(learner).get(WALLET)
    cards = page.text.split('<li class="card wallet-card')[1:]
    marked = {card_titles(card)[0]: "Imported" in card for card in cards}
    assert marked == {"Issued here": False, "From elsewhere": True, "An EDC": True}
    assert "unverified: its seal cannot be checked here" in page.text
    assert "Universidad de Ejemplo" in page.text


def test_a_learner_sees_only_their_own_credentials_and_imports(logged_in):
    held_credential(UserFactory(), MicroCredentialFactory(title="Not yours"))
    ImportedCredentialFactory(title="Not yours either")
    learner = UserFactory()
    held_credential(learner, MicroCredentialFactory(title="Yours"))
    page = logged_in(learner).get(WALLET)
    assert card_titles(page.text) == ["Yours"]


def _wallet_queries(client, learner, count: int) -> int:
    micro_credential = MicroCredentialFactory()
    for _ in range(count - learner.credentials.count()):
        held_credential(learner, micro_credential)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(WALLET)
    # All of them, and the two imports, up to a page.
    assert len(card_titles(page.text)) == min(count + 2, selectors.WALLET_PAGE_SIZE)
    assert page.context["wallet"].total == count + 2
    return len(queries)


def test_the_wallet_loads_in_a_constant_number_of_queries(logged_in, django_assert_max_num_queries):
    learner = UserFactory()
    ImportedCredentialFactory.create_batch(2, owner=learner)
    client = logged_in(learner)
    with_five = _wallet_queries(client, learner, 5)
    with_fifty = _wallet_queries(client, learner, 50)
    assert with_five == with_fifty
    # 5 for the cards and 1 for their issuers (is did:web:uni-x.example a partner?), 4 for the
    # pathways section (holdings issued, imported and their issuers; components).
    with django_assert_max_num_queries(10):
        client.get(WALLET, {"status": "valid", "sort": "oldest"})


def test_anonymous_visitors_are_asked_to_sign_in(client):
    response = client.get(WALLET)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
