import pytest
from django.urls import reverse

from credentials.catalogue import esco
from credentials.exceptions import CredentialError
from credentials.issuing import services
from credentials.models import MicroCredential
from institutions.models import AuditEvent, Role
from tests.credentials.editor import SKILL, editor_post
from tests.factories import (
    MembershipFactory,
    MicroCredentialFactory,
    issue,
)

pytestmark = pytest.mark.django_db


def indexed_label(uri: str) -> str:
    skill = esco.skill(uri)
    assert skill is not None, "the bundled ESCO index lacks a well-known skill"
    return skill.label


def test_an_issuer_describes_a_draft_with_outcomes_and_skills(logged_in):
    membership = MembershipFactory(role=Role.ISSUER)
    url = reverse("credentials:micro_credential_new", kwargs={"slug": membership.institution.slug})
    response = logged_in(membership.user).post(url, editor_post(), follow=True)
    assert "Saved Circular Economy Basics." in response.text
    micro_credential = MicroCredential.objects.get()
    assert micro_credential.status == MicroCredential.Status.DRAFT
    assert micro_credential.learning_outcomes == [
        {
            "text": "Explain the material loops of a circular product.",
            "esco": [{"uri": SKILL, "label": indexed_label(SKILL)}],
        }
    ]
    assert AuditEvent.objects.filter(action="micro_credential.created").count() == 1


def test_title_and_description_can_be_given_in_other_languages(logged_in):
    membership = MembershipFactory(role=Role.ISSUER)
    url = reverse("credentials:micro_credential_new", kwargs={"slug": membership.institution.slug})
    client = logged_in(membership.user)
    client.post(
        url,
        editor_post(
            **{
                "translations-0-language": "nl",
                "translations-0-title": "Basis circulaire economie",
                "translations-0-description": "Materialen, kringlopen en verdienmodellen.",
            }
        ),
    )
    micro_credential = MicroCredential.objects.get()
    assert micro_credential.title_translations == {"nl": "Basis circulaire economie"}
    assert micro_credential.description_translations == {
        "nl": "Materialen, kringlopen en verdienmodellen."
    }
    edit = reverse(
        "credentials:micro_credential_edit",
        kwargs={"slug": membership.institution.slug, "public_id": micro_credential.public_id},
    )
    assert "Basis circulaire economie" in client.get(edit).text


def test_a_language_given_twice_is_refused(logged_in):
    membership = MembershipFactory(role=Role.ISSUER)
    url = reverse("credentials:micro_credential_new", kwargs={"slug": membership.institution.slug})
    response = logged_in(membership.user).post(
        url,
        editor_post(
            **{
                "translations-TOTAL_FORMS": "2",
                "translations-0-language": "nl",
                "translations-0-title": "Een",
                "translations-0-description": "Een.",
                "translations-1-language": "nl",
                "translations-1-title": "Twee",
                "translations-1-description": "Twee.",
            }
        ),
    )
    assert "Give each language once." in response.text
    assert MicroCredential.objects.count() == 0


def test_the_editor_requires_the_mandatory_elements_and_shows_what_is_missing(logged_in):
    membership = MembershipFactory(role=Role.ISSUER)
    url = reverse("credentials:micro_credential_new", kwargs={"slug": membership.institution.slug})
    response = logged_in(membership.user).post(
        url,
        editor_post(title="", eqf_level="http://example.com/level-9", **{"outcomes-0-text": ""}),
    )
    assert response.status_code == 200
    assert "Give the micro-credential a title." in response.text
    assert "Select a valid choice." in response.text
    assert "Write the learning outcome, or remove it." in response.text
    assert MicroCredential.objects.count() == 0


def test_a_pasted_link_that_is_not_an_esco_skill_is_refused(logged_in):
    membership = MembershipFactory(role=Role.ISSUER)
    url = reverse("credentials:micro_credential_new", kwargs={"slug": membership.institution.slug})
    response = logged_in(membership.user).post(
        url, editor_post(**{"outcomes-0-skills": "https://example.com/skill/1"})
    )
    assert "is not an ESCO skill link" in response.text
    assert MicroCredential.objects.count() == 0


def test_publishing_makes_version_one_and_editing_after_issuing_makes_version_two():
    draft = MicroCredentialFactory(status=MicroCredential.Status.DRAFT)
    actor = MembershipFactory(institution=draft.institution).user
    micro_credential = services.micro_credential_set_status(
        actor=actor, micro_credential=draft, status=MicroCredential.Status.PUBLISHED
    )
    assert list(micro_credential.versions.values_list("number", flat=True)) == [1]
    first = issue(micro_credential)
    micro_credential.refresh_from_db()
    services.micro_credential_save(
        actor=actor,
        institution=micro_credential.institution,
        micro_credential=micro_credential,
        title="Data Literacy, second edition",
    )
    assert list(micro_credential.versions.values_list("number", flat=True)) == [1, 2]
    first.refresh_from_db()
    assert first.version.number == 1
    assert first.version.title != "Data Literacy, second edition"
    assert issue(micro_credential, holder_email="b@example.eu").version.number == 2


def test_editing_before_anyone_was_issued_keeps_one_version():
    draft = MicroCredentialFactory(status=MicroCredential.Status.DRAFT)
    actor = MembershipFactory(institution=draft.institution).user
    micro_credential = services.micro_credential_set_status(
        actor=actor, micro_credential=draft, status=MicroCredential.Status.PUBLISHED
    )
    services.micro_credential_save(
        actor=actor,
        institution=micro_credential.institution,
        micro_credential=micro_credential,
        title="Renamed before issuing",
    )
    assert micro_credential.versions.count() == 1
    assert micro_credential.versions.get().title == "Renamed before issuing"


def test_an_incomplete_draft_cannot_be_published():
    micro_credential = MicroCredentialFactory(
        status=MicroCredential.Status.DRAFT, learning_outcomes=[]
    )
    with pytest.raises(CredentialError, match="EU standard requires"):
        services.micro_credential_set_status(
            actor=None, micro_credential=micro_credential, status=MicroCredential.Status.PUBLISHED
        )
    micro_credential.refresh_from_db()
    assert micro_credential.status == MicroCredential.Status.DRAFT


def test_a_retired_micro_credential_cannot_be_issued_and_a_draft_cannot_be_retired():
    micro_credential = services.micro_credential_set_status(
        actor=None,
        micro_credential=MicroCredentialFactory(),
        status=MicroCredential.Status.RETIRED,
    )
    with pytest.raises(CredentialError, match="Only published"):
        issue(micro_credential)
    draft = MicroCredentialFactory(status=MicroCredential.Status.DRAFT)
    with pytest.raises(CredentialError, match="not possible"):
        services.micro_credential_set_status(
            actor=None, micro_credential=draft, status=MicroCredential.Status.RETIRED
        )


def test_publishing_from_the_page_goes_through_the_preview(logged_in):
    membership = MembershipFactory(role=Role.ISSUER)
    micro_credential = MicroCredentialFactory(
        institution=membership.institution, status=MicroCredential.Status.DRAFT
    )
    url = reverse(
        "credentials:micro_credential_status",
        kwargs={
            "slug": membership.institution.slug,
            "public_id": micro_credential.public_id,
            "status": "published",
        },
    )
    response = logged_in(membership.user).post(url)
    assert response.status_code == 302
    assert response.url == reverse(
        "credentials:micro_credential_publish",
        kwargs={"slug": membership.institution.slug, "public_id": micro_credential.public_id},
    )
    micro_credential.refresh_from_db()
    assert micro_credential.status == MicroCredential.Status.DRAFT


@pytest.mark.parametrize(
    ("role", "expected"),
    [(Role.ADMIN, 200), (Role.ISSUER, 200), (Role.VIEWER, 403), (None, 404)],
    ids=["admin", "issuer", "viewer", "other-institution"],
)
def test_who_may_edit_a_specification(logged_in, role, expected):
    micro_credential = MicroCredentialFactory()
    if role is None:
        member = MembershipFactory()  # staff of another institution
        slug = member.institution.slug
    else:
        member = MembershipFactory(institution=micro_credential.institution, role=role)
        slug = micro_credential.institution.slug
    url = reverse(
        "credentials:micro_credential_edit",
        kwargs={"slug": slug, "public_id": micro_credential.public_id},
    )
    assert logged_in(member.user).get(url).status_code == expected


def test_anonymous_visitors_are_sent_to_sign_in_from_the_editor(client):
    micro_credential = MicroCredentialFactory()
    url = reverse(
        "credentials:micro_credential_new", kwargs={"slug": micro_credential.institution.slug}
    )
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
