"""The catalogue feed and its sync between two institutions hosted by the live test server:
every page travels over HTTP, signed both ways, exactly as between two nodes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from credentials.models import MicroCredential
from exchange import catalogue_feed, catalogue_sync, tasks, transport
from exchange.models import Partner, PartnerOffer, PartnerStatus
from institutions.models import AuditEvent
from tests.exchange.catalogues import publish
from tests.exchange.partners import keys_of
from tests.factories import InstitutionFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def node(live_server, settings):
    settings.MESHE_BASE_URL = live_server.url
    settings.MESHE_OUTBOUND_ALLOW_LOOPBACK = True
    return live_server.url


@pytest.fixture
def uni_a(node):
    return InstitutionFactory(slug="uni-a", name="University A", country="PT")


@pytest.fixture
def uni_b(node):
    return InstitutionFactory(slug="uni-b", name="University B", country="DE")


def partner_row(institution, other, node, status=PartnerStatus.CONFIRMED) -> Partner:
    return Partner.objects.create(
        institution=institution,
        base_url=node,
        did=other.did,
        name=other.name,
        country=other.country,
        endpoints={"catalogue": f"{node}/exchange/v1/{other.slug}/catalogue"},
        pinned_keys=keys_of(other),
        status=status,
    )


@pytest.fixture
def partners(node, uni_a, uni_b):
    """A and B partnered both ways; returns A's row for B (the one that syncs B's catalogue)."""
    partner_row(uni_b, uni_a, node)
    return partner_row(uni_a, uni_b, node)


def touch(spec: MicroCredential, *, status: str | None = None) -> None:
    """Saves the specification as the services do, so its update time moves."""
    if status:
        spec.status = status
    spec.save()


def get_feed(asker, owner, node, query: str = "", **headers) -> transport.Reply:
    return transport.signed_request(
        institution=asker,
        method="GET",
        url=f"{node}/exchange/v1/{owner.slug}/catalogue{query}",
        extra_headers=headers or None,
        peer_keys=keys_of(owner),
    )


# The feed ------------------------------------------------------------------------------------


def test_the_feed_lists_published_and_retired_specifications_but_never_drafts(
    partners, uni_a, uni_b, node
):
    published = publish(uni_b, title="Data Literacy", ects=5)
    retired = publish(uni_b, title="Old Course")
    touch(retired, status=MicroCredential.Status.RETIRED)
    publish(uni_b, title="Draft Course", status=MicroCredential.Status.DRAFT)
    publish(uni_a, title="Not B's")

    page = get_feed(uni_a, uni_b, node).json()

    assert [(item["summary"]["title"], item["status"]) for item in page["items"]] == [
        ("Data Literacy", "published"),
        ("Old Course", "withdrawn"),
    ]
    item = page["items"][0]
    assert item["id"] == f"{node}/catalogue/{published.public_id}/"
    assert item["achievement"]["type"] == ["Achievement"]
    assert item["achievement"]["creditsAvailable"] == 5
    assert item["summary"] == {
        "title": "Data Literacy",
        "language": "en",
        "ects": 5,
        "eqfLevel": 6,
        "iscedField": "",
        "participation": "e92d221e4d",
    }
    assert page["next"] is None
    assert page["watermark"] == page["items"][-1]["modified"]
    assert catalogue_feed.parse_page(get_feed(uni_a, uni_b, node).body).items


def test_the_feed_pages_with_a_cursor_in_modified_order(partners, uni_a, uni_b, node):
    specs = [publish(uni_b, title=f"Course {n}") for n in range(5)]
    touch(specs[0])  # now the most recently modified

    titles, query, pages = [], "?limit=2", 0
    while query is not None:
        page = get_feed(uni_a, uni_b, node, query).json()
        titles += [item["summary"]["title"] for item in page["items"]]
        pages += 1
        query = page["next"] and "?" + page["next"].split("?", 1)[1]
    assert pages == 3
    assert titles == ["Course 1", "Course 2", "Course 3", "Course 4", "Course 0"]


@pytest.mark.date_sensitive
def test_modified_since_leaves_out_what_did_not_change_since(partners, uni_a, uni_b, node):
    old = publish(uni_b, title="Old")
    MicroCredential.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=2))
    publish(uni_b, title="New")
    since = catalogue_feed.format_time(timezone.now() - timedelta(days=1))

    page = get_feed(uni_a, uni_b, node, f"?modified_since={since}").json()

    assert [item["summary"]["title"] for item in page["items"]] == ["New"]


@pytest.mark.parametrize(
    "query", ["?modified_since=yesterday", "?cursor=%21%21", "?limit=501", "?limit=0"]
)
def test_a_malformed_query_is_refused_as_an_invalid_message(partners, uni_a, uni_b, node, query):
    with pytest.raises(transport.TransportError) as refused:
        get_feed(uni_a, uni_b, node, query)
    assert refused.value.status == 400
    assert refused.value.reason == "invalid-message"


def test_an_unchanged_page_answers_304_to_its_etag(partners, uni_a, uni_b, node):
    publish(uni_b)
    first = get_feed(uni_a, uni_b, node)
    etag = first.headers["etag"]
    assert etag == catalogue_feed.etag(first.body)

    again = get_feed(uni_a, uni_b, node, **{"If-None-Match": etag})

    assert again.status == 304
    assert again.body == b""
    publish(uni_b)
    assert get_feed(uni_a, uni_b, node, **{"If-None-Match": etag}).status == 200


def test_an_institution_that_is_not_a_partner_is_refused(node, uni_a, uni_b):
    publish(uni_b)
    stranger = InstitutionFactory(slug="uni-c")
    with pytest.raises(transport.TransportError) as refused:
        get_feed(stranger, uni_b, node)
    assert refused.value.status in (401, 403)
    assert refused.value.reason in ("unknown-key", "not-a-partner")


def test_a_suspended_partner_is_refused(node, uni_a, uni_b):
    partner_row(uni_b, uni_a, node, status=PartnerStatus.SUSPENDED)
    with pytest.raises(transport.TransportError) as refused:
        get_feed(uni_a, uni_b, node)
    assert refused.value.status == 403


def test_an_unsigned_request_is_refused(client, node, uni_b):
    response = client.get(f"/exchange/v1/{uni_b.slug}/catalogue")
    assert response.status_code == 401
    assert response.json()["reason"] == "missing-signature"


# The sync ------------------------------------------------------------------------------------


def test_a_sync_imports_the_partners_offers_with_progress_and_one_audit_event(
    partners, uni_a, uni_b
):
    spec = publish(uni_b, title="Data Literacy")
    publish(uni_b, title="Draft", status=MicroCredential.Status.DRAFT)

    catalogue_sync.partner_catalogue_sync(partner_id=partners.pk)

    offer = PartnerOffer.objects.get(partner=partners)
    assert offer.title == "Data Literacy"
    assert offer.remote_id.endswith(f"/catalogue/{spec.public_id}/")
    assert offer.document["achievement"]["name"] == "Data Literacy"
    assert (offer.ects, offer.eqf_level, offer.language) == (5, 6, "en")
    assert offer.withdrawn_at is None
    partners.refresh_from_db()
    assert partners.sync_error == ""
    assert (partners.sync_pages, partners.sync_offers) == (1, 1)
    assert partners.sync_started_at <= partners.sync_finished_at
    assert partners.catalogue_watermark == offer.document["modified"]
    assert partners.catalogue_etag
    event = AuditEvent.objects.get(action="partner.catalogue_synced")
    assert event.institution == uni_a
    assert event.detail["offers"] == 1
    assert event.detail["error"] == ""


def test_a_second_sync_without_changes_is_answered_304_and_stores_nothing(partners, uni_b):
    publish(uni_b)
    catalogue_sync.partner_catalogue_sync(partner_id=partners.pk)

    catalogue_sync.partner_catalogue_sync(partner_id=partners.pk)

    partners.refresh_from_db()
    assert (partners.sync_pages, partners.sync_offers, partners.sync_error) == (0, 0, "")
    last = AuditEvent.objects.filter(action="partner.catalogue_synced").latest("pk")
    assert last.detail["not_modified"] is True


def test_a_withdrawn_offer_is_marked_not_deleted_and_comes_back_when_republished(partners, uni_b):
    spec = publish(uni_b, title="Data Literacy")
    catalogue_sync.partner_catalogue_sync(partner_id=partners.pk)

    touch(spec, status=MicroCredential.Status.RETIRED)
    catalogue_sync.partner_catalogue_sync(partner_id=partners.pk)
    offer = PartnerOffer.objects.get(partner=partners)
    assert offer.withdrawn_at is not None
    assert offer.document["status"] == "withdrawn"

    touch(spec, status=MicroCredential.Status.PUBLISHED)
    catalogue_sync.partner_catalogue_sync(partner_id=partners.pk)
    offer.refresh_from_db()
    assert offer.withdrawn_at is None


def test_a_sync_follows_next_page_by_page(partners, uni_b, monkeypatch):
    monkeypatch.setattr(catalogue_feed, "DEFAULT_LIMIT", 2)
    for n in range(5):
        publish(uni_b, title=f"Course {n}")

    catalogue_sync.partner_catalogue_sync(partner_id=partners.pk)

    partners.refresh_from_db()
    assert (partners.sync_pages, partners.sync_offers) == (3, 5)
    assert PartnerOffer.objects.filter(partner=partners).count() == 5


def test_a_malformed_page_stops_the_sync_and_stores_nothing_of_it(partners, uni_b, monkeypatch):
    publish(uni_b)
    good = catalogue_sync.catalogue_feed_page

    def with_a_bad_item(**kwargs):
        page = good(**kwargs)
        body = page.body.replace(b'"eqfLevel":6', b'"eqfLevel":"six"', 1)
        return catalogue_sync.FeedPage(body=body, etag=catalogue_feed.etag(body))

    monkeypatch.setattr(catalogue_sync, "catalogue_feed_page", with_a_bad_item)
    publish(uni_b)

    catalogue_sync.partner_catalogue_sync(partner_id=partners.pk)

    partners.refresh_from_db()
    assert partners.sync_error.startswith("malformed-page")
    assert partners.sync_finished_at is not None
    assert (partners.sync_pages, partners.catalogue_watermark) == (0, "")
    assert not PartnerOffer.objects.exists()


def test_a_transport_failure_is_recorded_with_its_reason(partners, uni_a, node):
    # B's node answers, but A is no partner of B's there any more.
    Partner.objects.filter(institution__slug="uni-b").update(status=PartnerStatus.ENDED)

    catalogue_sync.partner_catalogue_sync(partner_id=partners.pk)

    partners.refresh_from_db()
    assert partners.sync_error.startswith("not-a-partner")
    assert AuditEvent.objects.get(action="partner.catalogue_synced").detail["error"]


def test_a_partner_that_is_not_confirmed_is_not_synced(node, uni_a, uni_b):
    partner = partner_row(uni_a, uni_b, node, status=PartnerStatus.SUSPENDED)
    catalogue_sync.partner_catalogue_sync(partner_id=partner.pk)
    partner.refresh_from_db()
    assert partner.sync_started_at is None
    assert not AuditEvent.objects.filter(action="partner.catalogue_synced").exists()


def test_the_beat_job_syncs_every_confirmed_partner(partners, node, uni_a, uni_b, eager_celery):
    publish(uni_b)
    publish(uni_a)

    tasks.catalogues_sync.delay()

    assert PartnerOffer.objects.filter(partner__institution=uni_a).count() == 1
    assert PartnerOffer.objects.filter(partner__institution=uni_b).count() == 1
