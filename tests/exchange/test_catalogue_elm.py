"""The catalogue sync of a partner that publishes ELM learning opportunities instead of running
MESHE: this node's own ELM feed, served by the live test server, imported by a second
institution gives the same offers as MESHE's signed feed does."""

import io
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from credentials import documents
from credentials.models import MicroCredential
from exchange import catalogue_elm, catalogue_feed, catalogue_sync, partner_catalogue, transport
from exchange.models import Notice, Partner, PartnerOffer, PartnerStatus
from institutions.models import AuditEvent
from tests.exchange.catalogues import publish
from tests.exchange.partners import staff_client
from tests.exchange.test_catalogue_exchange import partner_row
from tests.factories import InstitutionFactory, UserFactory

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
PRACTICAL = {
    "enrolment_url": "https://uni-a.example/enrol",
    "enrolment_contact": "Lifelong learning office",
    "start_dates": ["2027-03-01"],
    "duration_amount": 6,
    "duration_unit": "weeks",
    "schedule": "Tuesday evenings",
    "cost": "fee",
    "price": Decimal("450.00"),
    "currency": "EUR",
    "cost_note": "Reduced for alumni.",
    "instruction_languages": ["en", "nl"],
    "place": "City campus",
    "isced_field": "http://data.europa.eu/snb/isced-f/0413",
    "learning_setting": "http://data.europa.eu/snb/learning-setting/e207a81fc7",
    "supervision_verification": "http://data.europa.eu/snb/supervision-verification/70be69aaf9",
    "quality_assurance_note": "Reviewed by the faculty board.",
}


@pytest.fixture
def node(live_server, settings):
    settings.MESHE_BASE_URL = live_server.url
    settings.MESHE_OUTBOUND_ALLOW_LOOPBACK = True
    return live_server.url


def elm_partner(institution, feed_url: str, *, name="University A (ELM)") -> Partner:
    """A university known only by its ELM catalogue: no keys, no MESHE endpoints."""
    return Partner.objects.create(
        institution=institution,
        base_url=feed_url.split("/catalogue/")[0],
        did=feed_url,
        name=name,
        country="PT",
        endpoints={catalogue_sync.ELM_CATALOGUE: feed_url},
        status=PartnerStatus.CONFIRMED,
    )


def what_staff_see(offer: PartnerOffer) -> dict:
    """Everything the catalogue shows of an imported offer: its row and its page."""
    snapshot = partner_catalogue.partner_offer_snapshot(offer.document)
    return {
        "row": (
            offer.title,
            offer.language,
            offer.ects,
            offer.eqf_level,
            offer.isced_field,
            offer.participation,
        ),
        "practical": catalogue_feed.practical_fields(offer.document["summary"]),
        "skills": sorted(
            a["targetUrl"]
            for a in offer.document["achievement"]["alignment"]
            if a["targetType"] == "ceasn:Competency"
        ),
        "snapshot": {
            key: snapshot[key]
            for key in (
                "language",
                "ects",
                "eqf_level",
                "isced_field",
                "assessment_type",
                "form_of_participation",
                "quality_assurance",
                "quality_assurance_note",
                "supervision_verification",
                "learning_outcomes",
            )
        },
        "title": snapshot["title"][snapshot["language"]],
        "description": snapshot["description"][snapshot["language"]],
    }


@pytest.mark.django_db(transaction=True)
def test_this_nodes_elm_feed_imported_by_another_institution_gives_the_same_offers(node, client):
    uni_a = InstitutionFactory(slug="uni-a", name="University A", country="PT")
    uni_b = InstitutionFactory(slug="uni-b", name="University B", country="DE")
    publish(uni_a, title="Data Literacy", **PRACTICAL)
    publish(uni_a, title="Bare offer")
    publish(uni_a, title="Free offer", cost="free", cost_note="For everyone.")
    publish(uni_a, title="Draft", status=MicroCredential.Status.DRAFT)
    # B reads A both ways: MESHE's signed feed, and the public ELM feed the manifest lists.
    partner_row(uni_a, uni_b, node)
    meshe = partner_row(uni_b, uni_a, node)
    manifest = client.get("/.well-known/meshe-node.json").json()
    feed_url = next(i for i in manifest["institutions"] if i["slug"] == "uni-a")["elmCatalogue"]
    elm = elm_partner(uni_b, feed_url)

    catalogue_sync.partner_catalogue_sync(partner_id=meshe.pk)
    catalogue_sync.partner_catalogue_sync(partner_id=elm.pk)

    elm.refresh_from_db()
    assert elm.sync_error == ""
    assert (elm.sync_pages, elm.sync_offers) == (1, 3)
    by_meshe = {o.remote_id: what_staff_see(o) for o in PartnerOffer.objects.filter(partner=meshe)}
    by_elm = {o.remote_id: what_staff_see(o) for o in PartnerOffer.objects.filter(partner=elm)}
    assert len(by_elm) == 3
    assert by_elm == by_meshe
    data_literacy = next(o for o in by_elm.values() if o["title"] == "Data Literacy")
    assert data_literacy["practical"]["price"] == "450.00"
    assert data_literacy["practical"]["duration"] == "P6W"
    assert data_literacy["snapshot"]["supervision_verification"].endswith("70be69aaf9")
    assert AuditEvent.objects.filter(action="partner.catalogue_synced").count() == 2


@pytest.mark.django_db(transaction=True)
def test_an_elm_sync_follows_next_and_withdraws_what_the_feed_no_longer_lists(node, monkeypatch):
    from credentials.catalogue import elm_feed

    monkeypatch.setattr(elm_feed, "PAGE_SIZE", 2)
    uni_a = InstitutionFactory(slug="uni-a")
    uni_b = InstitutionFactory(slug="uni-b")
    offers = [publish(uni_a, title=f"Course {n}") for n in range(5)]
    partner = elm_partner(uni_b, node + "/catalogue/elm/?institution=uni-a")
    catalogue_sync.partner_catalogue_sync(partner_id=partner.pk)
    partner.refresh_from_db()
    assert (partner.sync_pages, partner.sync_offers, partner.sync_error) == (3, 5, "")

    offers[0].status = MicroCredential.Status.RETIRED
    offers[0].save()
    catalogue_sync.partner_catalogue_sync(partner_id=partner.pk)

    gone = PartnerOffer.objects.get(partner=partner, remote_id=documents.offer_url(offers[0]))
    assert gone.withdrawn_at is not None
    assert PartnerOffer.objects.filter(partner=partner, withdrawn_at__isnull=True).count() == 4
    last = AuditEvent.objects.filter(action="partner.catalogue_synced").latest("pk")
    assert last.detail["withdrawn"] == 1


@pytest.mark.django_db(transaction=True)
def test_a_feed_that_is_not_elm_stops_the_sync_with_a_clear_error_and_stores_nothing(node):
    uni_b = InstitutionFactory(slug="uni-b")
    # The node manifest is JSON, but holds no LearningOpportunity and no page of them.
    partner = elm_partner(uni_b, node + "/.well-known/meshe-node.json")
    catalogue_sync.partner_catalogue_sync(partner_id=partner.pk)
    partner.refresh_from_db()
    assert partner.sync_error == ""  # an empty catalogue is a catalogue
    missing = elm_partner(uni_b, node + "/catalogue/elm/?institution=nobody", name="Nobody")
    catalogue_sync.partner_catalogue_sync(partner_id=missing.pk)
    missing.refresh_from_db()
    assert missing.sync_error.startswith("http-404")
    assert not PartnerOffer.objects.exists()


# ---------------------------------------------------------------- reading pages (pure)


def opportunity(**changes) -> dict:
    document = {
        "@context": ["http://data.europa.eu/snb/model/context/edc-ap"],
        "id": "https://elm.example/courses/42",
        "type": "LearningOpportunity",
        "title": {"pt": "Literacia de dados", "en": "Data literacy"},
        "elm:defaultLanguage": {
            "id": "http://publications.europa.eu/resource/authority/language/POR",
            "type": "Concept",
        },
        "learningAchievementSpecification": {
            "id": "https://elm.example/specs/42",
            "type": "Qualification",
            "title": {"pt": "Literacia de dados"},
            "eqfLevel": {"id": "http://data.europa.eu/snb/eqf/5", "type": "Concept"},
            "creditPoint": [
                {
                    "type": "CreditPoint",
                    "framework": {"id": "http://data.europa.eu/snb/education-credit/6fcec5c5af"},
                    "point": "3",
                }
            ],
        },
    }
    document.update(changes)
    return document


def with_credits(point) -> dict:
    document = opportunity()
    document["learningAchievementSpecification"]["creditPoint"][0]["point"] = point
    return document


def with_price(value) -> dict:
    amount = {"type": "Amount", "unit": {"id": "http://x/currency/EUR"}, "rdf:value": value}
    return opportunity(priceDetail=[{"type": "PriceDetail", "amount": amount}])


def page(*items, next_url=None) -> bytes:
    return json.dumps({"items": list(items), "next": next_url}).encode()


def test_a_qualification_from_another_publisher_is_read_with_its_eqf_level_and_credits():
    item = catalogue_elm.parse_page(page(opportunity()), fetched_at=NOW).items[0]
    assert item.remote_id == "https://elm.example/courses/42"
    assert (item.title, item.language, item.ects, item.eqf_level) == (
        "Literacia de dados",
        "pt",
        Decimal("3.0"),
        5,
    )
    assert item.modified == NOW  # it says nothing of its last change
    assert item.document["elm"]["id"] == "https://elm.example/courses/42"


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"@graph": [opportunity()]}).encode(),
        json.dumps([opportunity()]).encode(),
        json.dumps(opportunity()).encode(),
    ],
    ids=["graph", "list", "one"],
)
def test_a_graph_a_list_or_a_single_opportunity_is_read_as_a_page(body):
    assert len(catalogue_elm.parse_page(body, fetched_at=NOW).items) == 1


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"<html>", "not JSON"),
        (page(opportunity(title=None, learningAchievementSpecification={})), "title"),
        (page(opportunity(id="urn:uuid:1234")), "id or homepage"),
        (page(opportunity(), opportunity()), "twice"),
        (page(opportunity(), next_url="ftp://elm.example/2"), "next"),
        (page(with_credits("Infinity")), "out of range"),
        (page(with_credits("1E+999999")), "out of range"),
        (page(with_credits(["5"])), "not a number"),
        (page(with_price("1E+999999")), "out of range"),
        (page(with_price("-3")), "out of range"),
    ],
    ids=[
        "html",
        "untitled",
        "no-address",
        "twice",
        "bad-next",
        "infinite-credits",
        "huge-credits",
        "credits-list",
        "huge-price",
        "negative-price",
    ],
)
def test_what_cannot_be_read_is_a_feed_error_that_names_it(body, error):
    with pytest.raises(catalogue_feed.FeedError, match=error):
        catalogue_elm.parse_page(body, fetched_at=NOW)


def test_an_elm_page_has_the_caps_of_meshes_feed(monkeypatch):
    monkeypatch.setattr(catalogue_feed, "MAX_ITEMS", 2)
    many = [opportunity(id=f"https://elm.example/courses/{n}") for n in range(3)]
    with pytest.raises(catalogue_feed.FeedError, match="at most 2"):
        catalogue_elm.parse_page(page(*many), fetched_at=NOW)
    monkeypatch.setattr(catalogue_feed, "MAX_PAGE_BYTES", 100)
    with pytest.raises(catalogue_feed.FeedError, match="too large"):
        catalogue_elm.parse_page(page(opportunity()), fetched_at=NOW)
    huge = opportunity(description={"en": "x" * catalogue_feed.MAX_ITEM_BYTES})
    monkeypatch.setattr(catalogue_feed, "MAX_PAGE_BYTES", 5_000_000)
    with pytest.raises(catalogue_feed.FeedError, match="too large"):
        catalogue_elm.parse_page(page(huge), fetched_at=NOW)


def test_a_practical_field_the_meshe_feed_would_refuse_is_refused_here_too():
    bad = opportunity(
        supplementaryDocument=[
            {
                "type": "WebResource",
                "contentURL": "javascript:alert(1)",
                "title": {"en": "Enrolment"},
            }
        ]
    )
    with pytest.raises(catalogue_feed.FeedError, match="enrolmentUrl"):
        catalogue_elm.parse_page(page(bad), fetched_at=NOW)


# ---------------------------------------------------------------- adding such a partner


@pytest.mark.django_db
def test_the_command_makes_an_elm_publisher_an_agreed_catalogue_partner_once():
    institution = InstitutionFactory(slug="uni-a")
    arguments = [
        "add_elm_partner",
        "--institution=uni-a",
        "--name=Universidade Exemplo",
        "--country=pt",
        "--feed=https://elm.example/feed.jsonld",
    ]
    call_command(*arguments, stdout=io.StringIO())
    call_command(*arguments, stdout=io.StringIO())
    partner = Partner.objects.get(institution=institution)
    assert partner.status == PartnerStatus.CONFIRMED
    assert (partner.name, partner.country) == ("Universidade Exemplo", "PT")
    assert catalogue_sync.catalogue_format(partner) == "elm"
    assert partner.pinned_keys == []
    assert AuditEvent.objects.filter(action="partner.elm_catalogue_added").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("option", "message"),
    [("--feed=ftp://elm.example/feed", "http"), ("--institution=nobody", "nobody")],
)
def test_the_command_refuses_what_it_cannot_use(option, message):
    InstitutionFactory(slug="uni-a")
    arguments = {
        "--institution": "uni-a",
        "--name": "Universidade Exemplo",
        "--country": "PT",
        "--feed": "https://elm.example/feed.jsonld",
    }
    key, value = option.split("=", 1)
    arguments[key] = value
    with pytest.raises(CommandError, match=message):
        call_command("add_elm_partner", *[f"{k}={v}" for k, v in arguments.items()])
    assert not Partner.objects.exists()


def added_elm_partner_with_offer(institution) -> tuple[Partner, PartnerOffer]:
    """A partner added as staff add an ELM-only university, with one offer read from its feed."""
    partner = catalogue_sync.elm_partner_add(
        actor=None,
        institution=institution,
        name="Universidade Exemplo",
        country="PT",
        feed_url="https://elm.example/feed.jsonld",
    )
    item = catalogue_elm.parse_page(page(opportunity()), fetched_at=NOW).items[0]
    offer = PartnerOffer.objects.create(
        partner=partner,
        remote_id=item.remote_id,
        document=item.document,
        title=item.title,
        language=item.language,
        ects=item.ects,
        eqf_level=item.eqf_level,
        modified_at=item.modified,
    )
    return partner, offer


@pytest.mark.django_db
def test_adopting_an_elm_partners_offer_tells_no_one(django_capture_on_commit_callbacks):
    _partner, offer = added_elm_partner_with_offer(InstitutionFactory())
    with django_capture_on_commit_callbacks(execute=False):
        catalogue_sync.partner_offer_adopt(
            actor=UserFactory(), offer=offer, recognised_ects=Decimal(3), note=""
        )
    offer.refresh_from_db()
    assert offer.adopted_at is not None
    assert not Notice.objects.exists()


@pytest.mark.django_db
def test_an_elm_feed_whose_next_leads_back_stops_the_run_with_that_error(monkeypatch):
    partner = elm_partner(InstitutionFactory(), "https://elm.example/feed?page=1")
    bodies = {
        "https://elm.example/feed?page=1": page(
            opportunity(), next_url="https://elm.example/feed?page=2"
        ),
        "https://elm.example/feed?page=2": page(
            opportunity(id="https://elm.example/courses/43"),
            next_url="https://elm.example/feed?page=1",
        ),
    }

    def public_get(url, **options):
        return transport.Reply(status=200, headers={}, body=bodies[url], latency_ms=1)

    monkeypatch.setattr(transport, "public_get", public_get)
    catalogue_sync.partner_catalogue_sync(partner_id=partner.pk)
    partner.refresh_from_db()
    assert partner.sync_error == "malformed-page: next leads back to a page already read"
    assert partner.sync_pages == 1  # the page that leads back is not stored


@pytest.mark.django_db
def test_staff_see_an_elm_partner_and_its_offers_like_any_other(settings):
    institution = InstitutionFactory(slug="uni-a")
    client, _ = staff_client(institution)
    partner, offer = added_elm_partner_with_offer(institution)
    for url in (
        f"/staff/uni-a/partners/{partner.public_id}/",
        "/staff/uni-a/partners/",
        "/staff/uni-a/partner-offers/",
        f"/catalogue/partner/{offer.public_id}/",
        "/catalogue/?q=Literacia",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Universidade Exemplo" in response.content.decode(), url


# ---------------------------------------------------------------- the admin's form


@pytest.mark.django_db
def test_an_admin_adds_an_elm_publisher_in_the_browser_and_its_feed_is_read_at_once(
    monkeypatch, django_capture_on_commit_callbacks
):
    institution = InstitutionFactory(slug="uni-a")
    client, admin = staff_client(institution)
    asked = []

    def public_get(url, **options):
        asked.append(url)
        return transport.Reply(status=200, headers={}, body=page(opportunity()), latency_ms=1)

    monkeypatch.setattr(transport, "public_get", public_get)
    form = client.get("/staff/uni-a/partners/elm-feed/")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/staff/uni-a/partners/elm-feed/",
            {"name": "Universidade Exemplo", "country": "pt", "feed": "elm.example/feed.jsonld"},
        )

    partner = Partner.objects.get(institution=institution)
    assert form.status_code == 200
    assert "Address of its ELM feed" in form.content.decode()
    assert response.status_code == 302
    assert response["Location"] == f"/staff/uni-a/partners/{partner.public_id}/"
    assert (partner.name, partner.country) == ("Universidade Exemplo", "PT")
    assert catalogue_sync.catalogue_format(partner) == "elm"
    assert asked == ["https://elm.example/feed.jsonld"]
    assert PartnerOffer.objects.filter(partner=partner).count() == 1
    event = AuditEvent.objects.get(action="partner.elm_catalogue_added")
    assert event.actor == admin
    detail = client.get(response["Location"]).content.decode()
    assert "https://elm.example/feed.jsonld" in detail
    assert "Pinned keys" not in detail
    assert "Credentials sent to them" not in detail


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("country", "XX", "XX is not a country code"),
        ("feed", "ftp://elm.example/feed", "Use an http or https address"),
        ("name", "", "This field is required"),
    ],
)
def test_the_form_names_what_it_cannot_use_and_adds_nothing(field, value, message):
    institution = InstitutionFactory(slug="uni-a")
    client, _ = staff_client(institution)
    data = {"name": "Universidade Exemplo", "country": "PT", "feed": "https://elm.example/f"}

    response = client.post("/staff/uni-a/partners/elm-feed/", {**data, field: value})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Partner.objects.exists()


@pytest.mark.django_db
def test_only_an_admin_of_the_institution_adds_an_elm_publisher():
    institution = InstitutionFactory(slug="uni-a")
    editor, _ = staff_client(institution, role="issuer")
    outsider, _ = staff_client(InstitutionFactory(slug="uni-b"))
    data = {"name": "Universidade Exemplo", "country": "PT", "feed": "https://elm.example/f"}

    assert editor.post("/staff/uni-a/partners/elm-feed/", data).status_code == 403
    assert outsider.post("/staff/uni-a/partners/elm-feed/", data).status_code == 404
    assert not Partner.objects.exists()
