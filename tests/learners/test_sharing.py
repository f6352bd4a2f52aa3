import html
import json
import re
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from credentials.issuing import services
from credentials.models import IssuedCredential
from learners import linkedin
from learners import services as learner_services
from learners.models import LearnerEvent, ShareLink
from tests.factories import MicroCredentialFactory, UserFactory
from tests.learners.holding import held_credential

pytestmark = pytest.mark.django_db


def page_of(credential) -> str:
    return reverse("learners:credential", kwargs={"public_id": credential.public_id})


def shared_link(**overrides) -> ShareLink:
    learner = overrides.pop("owner", None) or UserFactory()
    credential = overrides.pop("credential", None) or held_credential(learner)
    return learner_services.share_link_create(user=learner, credential=credential, **overrides)


@pytest.mark.date_sensitive
def test_a_learner_creates_any_number_of_links_and_sees_each_ones_views(logged_in, client):
    learner = UserFactory()
    credential = held_credential(learner)
    owner = logged_in(learner)
    response = owner.post(page_of(credential), {"label": "Employer A"})
    assert response.status_code == 302
    owner.post(page_of(credential), {"label": "Employer B", "expires_on": "2999-01-01"})
    first, second = ShareLink.objects.order_by("pk")
    assert (first.label, second.label) == ("Employer A", "Employer B")
    assert first.slug != second.slug and len(first.slug) >= 22
    assert second.expires_at is not None and second.expires_at.year == 2999
    shared = LearnerEvent.objects.exclude(action="signed_in").values_list("action", flat=True)
    assert list(shared) == ["share_created"] * 2

    owner.logout()
    for _ in range(3):
        assert client.get(first.get_absolute_url()).status_code == 200
    owner.force_login(learner)
    page = owner.get(page_of(credential))
    rows = page.text.split('<li class="card share-link')[1:]
    assert "Employer B" in rows[0] and "0 views" in rows[0]
    assert "Employer A" in rows[1] and "3 views" in rows[1]


@pytest.mark.date_sensitive
def test_an_expiry_in_the_past_is_a_form_error(logged_in):
    learner = UserFactory()
    credential = held_credential(learner)
    response = logged_in(learner).post(page_of(credential), {"expires_on": "2001-01-01"})
    assert response.status_code == 400
    assert "Choose today or a later date." in response.text
    assert not ShareLink.objects.exists()


@pytest.mark.date_sensitive
def test_today_means_today_in_brussels_and_a_link_works_to_the_end_of_the_chosen_day(
    logged_in, client, time_machine
):
    # 22:30 UTC on 31 March 2027 is 00:30 on 1 April in Brussels (summer time, UTC+2).
    time_machine.move_to(datetime(2027, 3, 31, 22, 30, tzinfo=UTC), tick=False)
    learner = UserFactory()
    credential = held_credential(learner)
    owner = logged_in(learner)
    yesterday = owner.post(page_of(credential), {"expires_on": "2027-03-31"})
    assert yesterday.status_code == 400
    assert "Choose today or a later date." in yesterday.text
    assert owner.post(page_of(credential), {"expires_on": "2027-04-01"}).status_code == 302
    link = ShareLink.objects.get()
    assert link.expires_at == datetime(2027, 4, 1, 21, 59, 59, 999999, tzinfo=UTC)
    owner.logout()
    time_machine.move_to(datetime(2027, 4, 1, 21, 59, 59, tzinfo=UTC))
    assert client.get(link.get_absolute_url()).status_code == 200
    time_machine.move_to(datetime(2027, 4, 1, 22, 0, tzinfo=UTC))
    assert client.get(link.get_absolute_url()).status_code == 404


def test_the_shared_page_shows_the_credential_verified_live(client):
    link = shared_link()
    page = client.get(link.get_absolute_url())
    assert page.status_code == 200
    assert "Verified: issued by" in page.text
    assert link.credential.version.title in page.text
    link.refresh_from_db()
    assert link.view_count == 1
    assert page["Cache-Control"] == "private, no-store"


def test_the_shared_page_has_open_graph_and_twitter_tags(client, settings):
    settings.MESHE_BASE_URL = "https://meshe.example"
    link = shared_link()
    page = client.get(link.get_absolute_url()).text
    title = link.credential.version.title
    assert f'<meta property="og:title" content="{title} — University' in page
    assert f'<meta property="og:url" content="https://meshe.example/s/{link.slug}">' in page
    assert (
        '<meta property="og:image" content="https://meshe.example/static/img/share-card.png">'
        in page
    )
    assert '<meta name="twitter:card" content="summary_large_image">' in page
    assert '<meta property="og:description" content="A micro-credential awarded to' in page


def test_asking_for_json_ld_gives_the_signed_document_verbatim(client):
    link = shared_link()
    response = client.get(link.get_absolute_url(), HTTP_ACCEPT="application/ld+json")
    assert response["Content-Type"] == "application/ld+json"
    assert response.content.decode() == link.credential.document
    assert json.loads(response.content)["proof"]


def test_a_revoked_link_is_404_and_revoking_twice_changes_nothing(logged_in, client):
    link = shared_link()
    owner = logged_in(link.owner)
    revoke = reverse("learners:share_link_revoke", kwargs={"public_id": link.public_id})
    assert owner.post(revoke).status_code == 302
    assert owner.post(revoke).status_code == 302
    link.refresh_from_db()
    assert link.revoked_at is not None
    assert LearnerEvent.objects.filter(action="share_revoked").count() == 1
    owner.logout()
    assert client.get(link.get_absolute_url()).status_code == 404
    assert client.get(link.get_absolute_url(), HTTP_ACCEPT="application/ld+json").status_code == 404


@pytest.mark.date_sensitive
def test_an_expired_link_is_404(client):
    link = shared_link()
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(link.get_absolute_url()).status_code == 404


def test_a_link_dies_with_its_owners_account(client):
    link = shared_link()
    link.owner.delete()
    assert client.get(link.get_absolute_url()).status_code == 404


def test_a_link_of_a_deactivated_account_or_a_detached_credential_is_404(client):
    link = shared_link()
    link.owner.is_active = False
    link.owner.save()
    assert client.get(link.get_absolute_url()).status_code == 404
    other = shared_link()
    IssuedCredential.objects.filter(pk=other.credential_id).update(holder=None)
    assert client.get(other.get_absolute_url()).status_code == 404


def test_a_revoked_credential_behind_a_live_link_says_revoked_but_not_why(client):
    link = shared_link()
    services.credential_revoke(credential=link.credential, actor=None, reason="Withdrawn")
    page = client.get(link.get_absolute_url())
    assert "Not valid" in page.text
    assert "REVOKED" in page.text
    assert "Withdrawn" not in page.text  # the reason is the learner's, not the link's


def test_an_unknown_slug_is_404(client):
    assert client.get("/s/not-a-real-link-slug-at-all").status_code == 404


def test_another_learner_cannot_revoke_or_share_what_is_not_theirs(logged_in):
    link = shared_link()
    intruder = logged_in(UserFactory())
    revoke = reverse("learners:share_link_revoke", kwargs={"public_id": link.public_id})
    assert intruder.post(revoke).status_code == 404
    assert intruder.post(page_of(link.credential), {"label": "mine now"}).status_code == 404
    link.refresh_from_db()
    assert link.revoked_at is None
    assert ShareLink.objects.count() == 1


def test_opening_the_revoke_address_asks_first_and_revokes_nothing(logged_in):
    link = shared_link(label="Employer A")
    revoke = reverse("learners:share_link_revoke", kwargs={"public_id": link.public_id})
    page = logged_in(link.owner).get(revoke)
    assert page.status_code == 200
    assert "Revoke this share link?" in page.text
    assert "Employer A" in page.text and link.url in page.text
    assert "This cannot be undone" in page.text
    link.refresh_from_db()
    assert link.revoked_at is None
    assert not LearnerEvent.objects.filter(action="share_revoked").exists()


def test_the_revoke_page_of_a_link_that_no_longer_works_goes_back_to_the_credential(logged_in):
    link = shared_link()
    learner_services.share_link_revoke(user=link.owner, link=link)
    revoke = reverse("learners:share_link_revoke", kwargs={"public_id": link.public_id})
    response = logged_in(link.owner).get(revoke)
    assert response.status_code == 302
    assert response["Location"] == page_of(link.credential) + "#sharing"


def test_the_revoke_page_of_another_learners_link_is_404(logged_in):
    link = shared_link()
    revoke = reverse("learners:share_link_revoke", kwargs={"public_id": link.public_id})
    assert logged_in(UserFactory()).get(revoke).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_concurrent_views_are_all_counted():
    link = shared_link()

    def view() -> None:
        for _ in range(5):
            learner_services.share_link_record_view(link=link)
        close_old_connections()

    threads = [threading.Thread(target=view) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    link.refresh_from_db()
    assert link.view_count == 20


@pytest.mark.date_sensitive
def test_the_linkedin_link_is_filled_in_from_the_credential(logged_in, settings):
    settings.MESHE_BASE_URL = "https://meshe.example"
    learner = UserFactory()
    credential = held_credential(
        learner,
        MicroCredentialFactory(title="Data Literacy", institution__name="University of Aldermoor"),
    )
    link = learner_services.share_link_create(user=learner, credential=credential)
    page = logged_in(learner).get(page_of(credential)).text
    issued = timezone.localdate(credential.issued_at)
    filled = {
        "startTask": ["CERTIFICATION_NAME"],
        "name": ["Data Literacy"],
        "organizationName": ["University of Aldermoor"],
        "issueYear": [str(issued.year)],
        "issueMonth": [str(issued.month)],
        "certId": [f"urn:uuid:{credential.public_id}"],
    }
    # At the top, the credential's own address; beside the link, the link.
    top, beside_link = linkedin_links(page)
    own = f"https://meshe.example/credentials/{credential.public_id}"
    assert top == {**filled, "certUrl": [own]}
    assert beside_link == {**filled, "certUrl": [f"https://meshe.example/s/{link.slug}"]}


def linkedin_links(page: str) -> list[dict[str, list[str]]]:
    """The query of every "Add to LinkedIn" link on the page, in order."""
    hrefs = re.findall(r'href="(https://www\.linkedin\.com/profile/add\?[^"]*)"', page)
    return [parse_qs(urlsplit(html.unescape(href)).query) for href in hrefs]


def test_a_hidden_credential_offers_its_newest_working_share_link_to_share(logged_in, settings):
    settings.MESHE_BASE_URL = "https://meshe.example"
    learner = UserFactory()
    credential = held_credential(learner)
    learner_services.credential_page_set_public(user=learner, credential=credential, public=False)
    older = learner_services.share_link_create(user=learner, credential=credential)
    newer = learner_services.share_link_create(user=learner, credential=credential)
    learner_services.share_link_revoke(user=learner, link=newer)
    page = logged_in(learner).get(page_of(credential)).text
    assert f'id="share-address" value="{older.url}"' in page
    assert linkedin_links(page)[0]["certUrl"] == [older.url]


def test_a_hidden_credential_without_a_working_link_offers_to_create_one(logged_in):
    learner = UserFactory()
    credential = held_credential(learner)
    learner_services.credential_page_set_public(user=learner, credential=credential, public=False)
    page = logged_in(learner).get(page_of(credential)).text
    assert 'id="share-address"' not in page
    assert not linkedin_links(page)
    assert "It is hidden at its own address and has no working share link." in page
    assert 'href="#new-link"' in page


def test_the_linkedin_url_encodes_every_field():
    from datetime import date

    url = linkedin.add_to_profile_url(
        name="R&D: Ethics?",
        organisation="Université Libre",
        issued=date(2026, 3, 9),
        cert_url="https://meshe.example/s/abc",
        cert_id="urn:uuid:1",
    )
    assert url.startswith("https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME&")
    assert "name=R%26D%3A+Ethics%3F" in url
    assert "issueYear=2026&issueMonth=3" in url


def test_the_holder_hides_the_credentials_own_address_and_share_links_still_work(logged_in, client):
    learner = UserFactory()
    credential = held_credential(learner)
    link = learner_services.share_link_create(user=learner, credential=credential)
    own = reverse("credentials:public", kwargs={"public_id": credential.public_id})
    assert client.get(own).status_code == 200

    response = logged_in(learner).post(
        reverse("learners:credential_visibility", kwargs={"public_id": credential.public_id}),
        {"public": "no"},
    )
    assert response.status_code == 302
    client.logout()
    hidden = client.get(own)
    assert hidden.status_code == 404
    assert "This credential is not shown here" in hidden.text
    assert credential.holder_name not in hidden.text
    for name in ("document", "edc", "certificate", "badge_png", "badge_svg"):
        url = reverse(f"credentials:{name}", kwargs={"public_id": credential.public_id})
        assert client.get(url).status_code == 404, name
    assert client.get(own, HTTP_ACCEPT="application/ld+json").status_code == 404
    assert client.get(link.get_absolute_url()).status_code == 200
    assert LearnerEvent.objects.filter(
        user=learner, action=LearnerEvent.Action.PAGE_HIDDEN, subject=str(credential.public_id)
    ).exists()

    logged_in(learner).post(
        reverse("learners:credential_visibility", kwargs={"public_id": credential.public_id}),
        {"public": "yes"},
    )
    client.logout()
    assert client.get(own).status_code == 200


def test_the_holder_still_downloads_the_files_of_a_credential_hidden_at_its_own_address():
    learner = UserFactory()
    credential = held_credential(learner)
    learner_services.credential_page_set_public(user=learner, credential=credential, public=False)
    holder, stranger = Client(), Client()
    holder.force_login(learner)
    stranger.force_login(UserFactory())
    for name in ("document", "edc", "badge_png", "badge_svg"):
        url = reverse(f"credentials:{name}", kwargs={"public_id": credential.public_id})
        assert holder.get(url).status_code == 200, name
        assert stranger.get(url).status_code == 404, name
    certificate = reverse("credentials:certificate", kwargs={"public_id": credential.public_id})
    assert holder.get(certificate).status_code in {200, 202}
    assert stranger.get(certificate).status_code == 404
    own = reverse("credentials:public", kwargs={"public_id": credential.public_id})
    assert holder.get(own).status_code == 404


def test_only_the_holder_may_hide_a_credential(logged_in):
    credential = held_credential(UserFactory())
    response = logged_in(UserFactory()).post(
        reverse("learners:credential_visibility", kwargs={"public_id": credential.public_id}),
        {"public": "no"},
    )
    assert response.status_code == 404
    credential.refresh_from_db()
    assert credential.public_page is True


def test_hiding_twice_records_one_event():
    learner = UserFactory()
    credential = held_credential(learner)
    for _ in range(2):
        learner_services.credential_page_set_public(
            user=learner, credential=credential, public=False
        )
    assert LearnerEvent.objects.filter(action=LearnerEvent.Action.PAGE_HIDDEN).count() == 1


def preview(client, link: ShareLink) -> tuple[str, str, str]:
    """(og:title, og:description, twitter:description) of the shared page, unescaped."""
    page = client.get(link.get_absolute_url()).text

    def meta(attribute: str, name: str) -> str:
        found = re.search(rf'<meta {attribute}="{name}" content="([^"]*)">', page)
        assert found is not None, name
        return html.unescape(found.group(1))

    return (
        meta("property", "og:title"),
        meta("property", "og:description"),
        meta("name", "twitter:description"),
    )


@pytest.mark.parametrize("status", ["revoked", "suspended"])
def test_the_link_preview_of_a_revoked_or_suspended_credential_says_so_first(client, status):
    link = shared_link()
    credential = link.credential
    change = services.credential_revoke if status == "revoked" else services.credential_suspend
    change(credential=credential, actor=None, reason="x")
    title, description, twitter = preview(client, link)
    word, sentence = {
        "revoked": ("REVOKED", "Revoked by the issuer on "),
        "suspended": ("SUSPENDED", "Suspended by the issuer on "),
    }[status]
    assert title.startswith(f"{word} — ")
    assert description.startswith(sentence)
    assert twitter == description


def test_the_link_preview_of_a_valid_credential_says_nothing_of_a_status(client):
    _title, description, _twitter = preview(client, shared_link())
    assert description.startswith("A micro-credential awarded to")
