"""Staff pages for partners' offers: the list, "Sync now" and its progress, adopting."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from exchange import catalogue_sync
from exchange.models import PartnerOffer, PartnerStatus
from institutions.models import AuditEvent, Role
from tests.exchange.catalogues import offer_of, partner_of
from tests.factories import InstitutionFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def home():
    return InstitutionFactory(name="Aldermoor", slug="aldermoor")


@pytest.fixture
def porto(home):
    return partner_of(home)


def staff_of(institution, role=Role.ISSUER) -> Client:
    client = Client()
    client.force_login(MembershipFactory(institution=institution, role=role).user)
    return client


def test_the_list_shows_every_partners_offers_with_origin_and_withdrawn_marks(home, porto):
    offer_of(porto, title="Machine Learning")
    offer_of(porto, title="Old Course", withdrawn=True)
    offer_of(partner_of(home, name="Baltic Tech", did="did:web:b.example"), title="Welding")
    response = staff_of(home, Role.VIEWER).get(
        reverse("exchange:partner_offers", args=["aldermoor"])
    )
    assert response.status_code == 200
    for text in ("Machine Learning", "Old Course", "Welding", "Polytechnic of Porto", "Withdrawn"):
        assert text in response.text
    assert "/adopt/" not in response.text  # a viewer may not


def test_the_list_filters_by_partner(home, porto):
    offer_of(porto, title="Machine Learning")
    offer_of(partner_of(home, name="Baltic Tech", did="did:web:b.example"), title="Welding")
    response = staff_of(home).get(
        reverse("exchange:partner_offers", args=["aldermoor"]), {"partner": str(porto.public_id)}
    )
    assert "Machine Learning" in response.text
    assert "Welding" not in response.text


def test_another_institutions_staff_get_404_for_the_list(home, porto):
    outsider = staff_of(InstitutionFactory(), Role.ADMIN)
    assert outsider.get(reverse("exchange:partner_offers", args=["aldermoor"])).status_code == 404


def test_the_list_answers_in_a_fixed_number_of_queries(home, porto, django_assert_max_num_queries):
    client = staff_of(home)
    for n in range(10):
        offer_of(porto, title=f"Course {n}")
    with django_assert_max_num_queries(8):
        client.get(reverse("exchange:partner_offers", args=["aldermoor"]))


def test_sync_now_enqueues_the_sync_and_shows_its_progress(
    home, porto, monkeypatch, django_capture_on_commit_callbacks
):
    synced = []
    monkeypatch.setattr(
        catalogue_sync, "partner_catalogue_sync", lambda *, partner_id: synced.append(partner_id)
    )
    url = reverse("exchange:partner_sync", args=["aldermoor", porto.public_id])
    client = staff_of(home)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)

    assert response.status_code == 302
    assert response["Location"] == url
    assert synced == [porto.pk]
    assert AuditEvent.objects.filter(action="partner.catalogue_sync_requested").count() == 1
    page = client.get(url)
    assert '<meta http-equiv="refresh"' in page.text  # queued: not started by a worker yet


def test_a_viewer_may_not_start_a_sync(home, porto):
    url = reverse("exchange:partner_sync", args=["aldermoor", porto.public_id])
    assert staff_of(home, Role.VIEWER).post(url).status_code == 403


def test_the_progress_page_refreshes_while_running_and_shows_pages_offers_and_errors(home, porto):
    url = reverse("exchange:partner_sync", args=["aldermoor", porto.public_id])
    client = staff_of(home, Role.VIEWER)
    porto.sync_started_at = timezone.now()
    porto.sync_pages, porto.sync_offers = 2, 150
    porto.save()
    running = client.get(url).text
    assert '<meta http-equiv="refresh"' in running
    assert "<dd>150</dd>" in running

    porto.sync_finished_at = timezone.now()
    porto.sync_error = "http-503: try later"
    porto.save()
    finished = client.get(url).text
    assert '<meta http-equiv="refresh"' not in finished
    assert "http-503: try later" in finished


def test_a_partnership_not_agreed_cannot_be_synced(home, porto):
    porto.status = PartnerStatus.SUSPENDED
    porto.save()
    url = reverse("exchange:partner_sync", args=["aldermoor", porto.public_id])
    response = staff_of(home).post(url, follow=True)
    assert "Only an agreed partner" in response.text


def test_adopting_records_the_recognised_ects_with_an_audit_event(home, porto):
    offer = offer_of(porto, title="Machine Learning")
    client = staff_of(home)
    url = reverse("exchange:partner_offer_adopt", args=["aldermoor", offer.public_id])

    response = client.post(url, {"recognised_ects": "2.5", "note": "Data science minor"})

    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.adopted_at is not None
    assert offer.recognised_ects == Decimal("2.5")
    assert offer.adoption_note == "Data science minor"
    assert AuditEvent.objects.get(action="partner_offer.adopted").detail["recognised_ects"] == "2.5"
    client.post(url, {"recognised_ects": "2.5", "note": "Data science minor"})
    assert AuditEvent.objects.filter(action="partner_offer.adopted").count() == 1


def test_negative_ects_are_refused_inline(home, porto):
    offer = offer_of(porto)
    url = reverse("exchange:partner_offer_adopt", args=["aldermoor", offer.public_id])
    response = staff_of(home).post(url, {"recognised_ects": "-1"})
    assert response.status_code == 200
    assert "greater than or equal to 0" in response.text
    offer.refresh_from_db()
    assert offer.adopted_at is None


def test_a_withdrawn_offer_cannot_be_adopted(home, porto):
    offer = offer_of(porto, withdrawn=True)
    url = reverse("exchange:partner_offer_adopt", args=["aldermoor", offer.public_id])
    response = staff_of(home).post(url, {"recognised_ects": "3"})
    assert "withdrawn" in response.text
    offer.refresh_from_db()
    assert offer.adopted_at is None


def test_a_viewer_may_not_adopt(home, porto):
    offer = offer_of(porto)
    url = reverse("exchange:partner_offer_adopt", args=["aldermoor", offer.public_id])
    assert staff_of(home, Role.VIEWER).post(url, {"recognised_ects": "3"}).status_code == 403


def test_another_institution_cannot_adopt_our_partners_offer(home, porto):
    offer = offer_of(porto)
    other = InstitutionFactory(slug="other")
    url = reverse("exchange:partner_offer_adopt", args=["other", offer.public_id])
    assert staff_of(other, Role.ADMIN).post(url, {"recognised_ects": "3"}).status_code == 404


def test_stop_adopting_clears_the_adoption(home, porto):
    offer = offer_of(porto)
    PartnerOffer.objects.filter(pk=offer.pk).update(
        adopted_at=timezone.now(), recognised_ects=Decimal(3), adoption_note="x"
    )
    url = reverse("exchange:partner_offer_unadopt", args=["aldermoor", offer.public_id])
    assert staff_of(home).post(url).status_code == 302
    offer.refresh_from_db()
    assert (offer.adopted_at, offer.recognised_ects, offer.adoption_note) == (None, None, "")
    assert AuditEvent.objects.filter(action="partner_offer.unadopted").count() == 1
