from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from credentials.catalogue import explanations
from credentials.documents import specification_snapshot
from credentials.issuing import services
from exchange.models import Partner, PartnerStatus
from tests.factories import MicroCredentialFactory, UserFactory
from tests.learners.holding import held_credential

pytestmark = pytest.mark.django_db


def page_of(credential) -> str:
    return reverse("learners:credential", kwargs={"public_id": credential.public_id})


def test_the_page_states_all_eleven_eu_elements_each_with_what_it_means(logged_in):
    learner = UserFactory(name="Ana Kowalska")
    credential = held_credential(
        learner,
        MicroCredentialFactory(title="Data Literacy", institution__name="University of Aldermoor"),
        holder_name="Ana Kowalska",
    )
    page = logged_in(learner).get(page_of(credential))
    assert page.status_code == 200
    text = page.text
    for name in (
        "Learner",
        "Title",
        "Country of the issuer",
        "Awarding body",
        "Date of issuing",
        "Learning outcomes",
        "Workload",
        "Level",
        "Type of assessment",
        "Form of participation",
        "Quality assurance",
    ):
        assert f"<h3>{name}</h3>" in text, name
    assert text.count('<li class="element">') == 11
    assert "Belgium" in text
    assert "Interpret descriptive statistics in policy reports." in text
    assert "5 ECTS · 140 hours" in text
    assert (
        "About 125\N{EN DASH}150 hours of study, the unit European universities use to recognise learning"
        in text
    )
    assert "Level 6 is the level of a bachelor&#x27;s degree." in text
    assert "written examination" in text
    assert "Blended" in text
    assert "Institutional evaluation" in text


def test_the_page_shows_the_live_verification_in_plain_words(logged_in):
    learner = UserFactory()
    credential = held_credential(learner)
    page = logged_in(learner).get(page_of(credential))
    assert f"Verified: issued by {credential.institution.name}" in page.text
    for label in ("Signature", "Issuer&#x27;s key", "Revocation and suspension", "Known issuer"):
        assert f"<strong>{label}</strong>" in page.text


def test_a_revoked_credential_shows_the_institutions_reason(logged_in):
    learner = UserFactory()
    credential = held_credential(learner)
    services.credential_revoke(
        credential=credential,
        actor=None,
        reason_code="academic_misconduct",
        reason="Plagiarism found in the final project",
    )
    page = logged_in(learner).get(page_of(credential))
    assert "Not valid" in page.text
    assert (
        "Reason given by the institution:</strong> Academic misconduct: "
        "Plagiarism found in the final project" in page.text
    )
    assert 'wallet-status-revoked">Revoked<' in page.text


def test_the_page_links_the_three_downloads(logged_in):
    learner = UserFactory()
    credential = held_credential(learner)
    page = logged_in(learner).get(page_of(credential))
    for name in ("credentials:document", "credentials:edc", "credentials:certificate"):
        assert reverse(name, kwargs={"public_id": credential.public_id}) in page.text


def test_another_learners_credential_is_404_for_get_and_post(logged_in):
    credential = held_credential(UserFactory())
    client = logged_in(UserFactory())
    assert client.get(page_of(credential)).status_code == 404
    assert client.post(page_of(credential), {"label": "steal"}).status_code == 404
    assert not credential.share_links.exists()


@pytest.mark.parametrize(
    ("ects", "expected"),
    [
        ("5", "About 125\N{EN DASH}150 hours"),
        ("2.5", "About 62.5\N{EN DASH}75 hours"),
        ("1", "About 25\N{EN DASH}30 hours"),
    ],
)
def test_workload_is_explained_in_hours(ects, expected):
    assert explanations.workload_explanation(ects).startswith(expected)


def test_every_eqf_level_has_a_meaning_and_an_unknown_one_falls_back_to_the_general_text():
    for level in range(1, 9):
        assert f"Level {level} is" in explanations.eqf_explanation(
            f"http://data.europa.eu/snb/eqf/{level}"
        )
    assert "Level" not in explanations.eqf_explanation("http://example.org/level/x").split(".")[1]


def test_an_unbundled_vocabulary_uri_is_shown_as_itself():
    assert explanations.concept_label("http://example.org/x") == "http://example.org/x"
    assert explanations.concept_label("http://data.europa.eu/snb/eqf/6") == "Level 6"


def test_dates_are_those_of_the_portals_time_zone_not_utc():
    elements = explanations.standard_elements(
        snapshot=specification_snapshot(MicroCredentialFactory.build()),
        holder_name="Ana",
        awarding_body="Aldermoor",
        country_code="BE",
        issued_at=datetime(2026, 11, 28, 23, 30, tzinfo=UTC),  # 00:30 on the 29th in Brussels
    )
    assert {e.name: e.value for e in elements}["Date of issuing"] == "29 November 2026"


def test_the_page_leads_with_the_badge_the_title_the_institution_and_the_status(logged_in):
    learner = UserFactory()
    credential = held_credential(
        learner,
        MicroCredentialFactory(title="Data Literacy", institution__name="University of Aldermoor"),
    )
    text = logged_in(learner).get(page_of(credential)).text
    badge = reverse(
        "credentials:specification_badge",
        kwargs={"public_id": credential.version.micro_credential.public_id, "number": 1},
    )
    start = text.index('<header class="credential-head">')
    head = text[start : text.index("</header>", start)]
    assert f'src="{badge}"' in head and 'alt="Badge of Data Literacy"' in head
    assert '<h1 id="credential-title">Data Literacy</h1>' in head
    assert "University of Aldermoor" in head
    assert 'wallet-status-valid">Valid<' in head
    # The actions come before the description, the sharing section, the checks and elements.
    order = [
        text.index('id="actions-heading"'),
        text.index('id="sharing-heading"'),
        text.index('id="verification-heading"'),
        text.index('id="elements-heading"'),
    ]
    assert order == sorted(order)


def test_send_for_recognition_is_offered_when_the_institution_has_a_partner(logged_in):
    learner = UserFactory()
    credential = held_credential(learner)
    Partner.objects.create(
        institution=credential.institution,
        base_url="https://uni-x.example",
        did="did:web:uni-x.example",
        name="Universidad de Ejemplo",
        status=PartnerStatus.CONFIRMED,
    )
    text = logged_in(learner).get(page_of(credential)).text
    recognition = reverse("exchange:recognition", kwargs={"public_id": credential.public_id})
    assert f'href="{recognition}">Send for recognition</a>' in text
    assert "has no partner university to send it to yet" not in text


@pytest.mark.parametrize("status", [PartnerStatus.REQUESTED, PartnerStatus.ENDED, None])
def test_without_a_confirmed_partner_the_page_says_where_recognition_is_possible(logged_in, status):
    learner = UserFactory()
    credential = held_credential(
        learner, MicroCredentialFactory(institution__name="University of Aldermoor")
    )
    if status is not None:
        Partner.objects.create(
            institution=credential.institution,
            base_url="https://uni-x.example",
            did="did:web:uni-x.example",
            name="Universidad de Ejemplo",
            status=status,
        )
    text = logged_in(learner).get(page_of(credential)).text
    assert "Send for recognition" not in text
    assert "University of Aldermoor has no partner university to send it to yet." in text
    guide = reverse("guide", kwargs={"slug": "recognition"})
    assert f'<a href="{guide}">Where recognition is possible</a>' in text


def test_the_switch_shows_whether_anyone_with_the_address_can_see_it(logged_in):
    learner = UserFactory()
    credential = held_credential(learner)
    client = logged_in(learner)
    assert 'name="public" value="yes" checked' in client.get(page_of(credential)).text
    client.post(
        reverse("learners:credential_visibility", kwargs={"public_id": credential.public_id})
    )
    credential.refresh_from_db()
    assert credential.public_page is False
    text = client.get(page_of(credential)).text
    assert 'name="public" value="yes" aria-describedby' in text
    assert "Off: its own address and the QR code on your PDF show nothing." in text


def head_of(text: str) -> str:
    start = text.index('<header class="credential-head">')
    return text[start : text.index("</header>", start)]


def test_the_status_line_says_revoked_from_the_verdict(logged_in):
    learner = UserFactory()
    credential = held_credential(learner)
    services.credential_revoke(credential=credential, actor=None, reason="x")
    head = head_of(logged_in(learner).get(page_of(credential)).text)
    assert 'wallet-status-revoked">Revoked<' in head
    assert 'href="#verification-heading">Not valid' in head


def test_the_status_line_says_until_when_an_expired_credential_was_vouched_for(logged_in):
    learner = UserFactory()
    credential = held_credential(
        learner,
        MicroCredentialFactory(validity_months=1),
        valid_from=timezone.now() - timedelta(days=90),
    )
    assert credential.valid_until is not None
    until = date_format(timezone.localtime(credential.valid_until), "DATE_FORMAT")
    head = head_of(logged_in(learner).get(page_of(credential)).text)
    assert 'wallet-status-expired">Expired<' in head
    assert f"The institution vouched for it until {until}." in head
