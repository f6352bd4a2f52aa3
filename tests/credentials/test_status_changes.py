"""Revoking, suspending and reinstating: confirmed, with a reason, which the learner and staff
see and the public never does; every public view of the credential says so, with the date."""

import json

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from credentials.api import openapi
from credentials.exceptions import CredentialError
from credentials.issuing import selectors, services
from credentials.models import CredentialStatus, IssuedCredential, StatusReason
from institutions.models import AuditEvent, Role
from learners import services as learner_services
from tests.factories import (
    MembershipFactory,
    MicroCredentialFactory,
    UserFactory,
    issue,
    make_token,
)

pytestmark = pytest.mark.django_db

REASON = "Plagiarism found in the final project"


def status_url(credential: IssuedCredential, action: str) -> str:
    return reverse(
        "credentials:status_change",
        kwargs={
            "slug": credential.institution.slug,
            "public_id": credential.public_id,
            "action": action,
        },
    )


@pytest.fixture
def issuer():
    return MembershipFactory(role=Role.ISSUER)


@pytest.fixture
def credential(issuer):
    return issue(
        MicroCredentialFactory(institution=issuer.institution, title="Urban Mobility Planning"),
        holder_name="Nora Nieuw",
        holder_email="nora@example.eu",
    )


def revoked_on(credential: IssuedCredential, action: str = "revoked") -> str:
    event = credential.events.get(action=action)
    return date_format(timezone.localdate(event.created_at), "DATE_FORMAT")


# Confirmation and reason -------------------------------------------------------------------


def test_the_revoke_page_names_the_learner_and_the_credential_and_asks_for_a_reason(
    logged_in, issuer, credential
):
    page = logged_in(issuer.user).get(status_url(credential, "revoke"))
    assert page.status_code == 200
    assert "Nora Nieuw" in page.text
    assert "Urban Mobility Planning" in page.text
    assert "Yes, revoke Urban Mobility Planning of Nora Nieuw for good." in page.text
    for reason in (
        "Issued in error",
        "Academic misconduct",
        "Assessment result changed",
        "At the learner&#x27;s request",
        "Other",
    ):
        assert f">{reason}</option>" in page.text
    credential.refresh_from_db()
    assert credential.status == CredentialStatus.ISSUED


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "Choose a reason."),
        ({"reason": REASON, "confirm": "on"}, "Choose a reason."),
        ({"reason_code": "academic_misconduct"}, "Tick the box to confirm the change."),
        ({"reason_code": "other", "confirm": "on"}, "Say in a few words why"),
        ({"reason_code": "other", "reason": "   ", "confirm": "on"}, "Say in a few words why"),
        ({"reason_code": "not-a-reason", "confirm": "on"}, "Select a valid choice."),
    ],
)
def test_a_revocation_without_confirmation_or_reason_is_refused_and_changes_nothing(
    logged_in, issuer, credential, data, error
):
    response = logged_in(issuer.user).post(status_url(credential, "revoke"), data)
    assert response.status_code == 400
    assert error in response.text
    credential.refresh_from_db()
    assert credential.status == CredentialStatus.ISSUED
    assert not credential.events.filter(action="revoked").exists()
    assert not AuditEvent.objects.filter(action="credential.revoked").exists()


def test_a_confirmed_revocation_keeps_the_reason_for_the_history_and_the_audit_log(
    logged_in, issuer, credential
):
    response = logged_in(issuer.user).post(
        status_url(credential, "revoke"),
        {"reason_code": "academic_misconduct", "reason": REASON, "confirm": "on"},
    )
    assert response.status_code == 302
    credential.refresh_from_db()
    assert credential.status == CredentialStatus.REVOKED
    event = credential.events.get(action="revoked")
    assert (event.reason_code, event.reason, event.actor) == (
        "academic_misconduct",
        REASON,
        issuer.user,
    )
    audit = AuditEvent.objects.get(action="credential.revoked")
    assert audit.detail["reason_code"] == "academic_misconduct"
    assert audit.detail["reason"] == REASON
    staff_page = logged_in(issuer.user).get(response["Location"]).text
    assert "The credential is revoked." in staff_page
    assert f"Academic misconduct — {REASON}" in staff_page
    assert f"Revoked on {revoked_on(credential)}." in staff_page


def test_suspending_and_reinstating_are_confirmed_with_a_reason_too(logged_in, issuer, credential):
    client = logged_in(issuer.user)
    assert client.post(status_url(credential, "suspend"), {}).status_code == 400
    page = client.get(status_url(credential, "suspend"))
    assert "Yes, suspend Urban Mobility Planning of Nora Nieuw." in page.text
    client.post(
        status_url(credential, "suspend"),
        {"reason_code": "result_changed", "confirm": "on"},
    )
    credential.refresh_from_db()
    assert credential.status == CredentialStatus.SUSPENDED

    page = client.get(status_url(credential, "reinstate"))
    assert ">The open question is resolved</option>" in page.text
    assert ">Academic misconduct</option>" not in page.text
    assert client.post(status_url(credential, "reinstate"), {"confirm": "on"}).status_code == 400
    credential.refresh_from_db()
    assert credential.status == CredentialStatus.SUSPENDED
    client.post(
        status_url(credential, "reinstate"),
        {"reason_code": "question_resolved", "confirm": "on"},
    )
    credential.refresh_from_db()
    assert credential.status == CredentialStatus.ISSUED
    assert credential.events.get(action="reinstated").reason_code == "question_resolved"


def test_the_page_of_a_change_that_no_longer_applies_sends_staff_back(
    logged_in, issuer, credential
):
    services.credential_revoke(credential=credential, actor=None)
    response = logged_in(issuer.user).get(status_url(credential, "suspend"), follow=True)
    assert "A revoked credential cannot be changed this way." in response.text
    assert response.redirect_chain[-1][0].endswith(f"/credentials/{credential.public_id}/")


def test_the_staff_page_offers_the_changes_as_links_to_their_confirmation(
    logged_in, issuer, credential
):
    page = (
        logged_in(issuer.user)
        .get(
            reverse(
                "credentials:staff_detail",
                kwargs={"slug": issuer.institution.slug, "public_id": credential.public_id},
            )
        )
        .text
    )
    assert f'href="{status_url(credential, "revoke")}"' in page
    assert f'href="{status_url(credential, "suspend")}"' in page
    assert 'method="post" action="' + status_url(credential, "revoke") not in page


# Bulk status changes -----------------------------------------------------------------------


def bulk_url(issuer) -> str:
    return reverse("credentials:status_bulk", kwargs={"slug": issuer.institution.slug})


def test_a_bulk_change_first_lists_the_credentials_and_changes_nothing(logged_in, issuer):
    micro_credential = MicroCredentialFactory(institution=issuer.institution, title="GIS Basics")
    chosen = [
        issue(micro_credential, holder_name=name, holder_email=f"{name[:3]}@example.eu")
        for name in ("Ada Lovelace", "Ben Müller")
    ]
    response = logged_in(issuer.user).post(
        bulk_url(issuer),
        {"credentials": [str(c.public_id) for c in chosen], "action": "revoke"},
    )
    assert response.status_code == 200
    assert "2 credentials selected" in response.text
    assert "Ada Lovelace — GIS Basics" in response.text
    assert "Ben Müller — GIS Basics" in response.text
    assert "Yes, revoke these 2 credentials for good." in response.text
    assert all(
        status == CredentialStatus.ISSUED
        for status in IssuedCredential.objects.values_list("status", flat=True)
    )


def test_a_bulk_confirmation_without_a_reason_or_the_tick_changes_nothing(logged_in, issuer):
    chosen = issue(MicroCredentialFactory(institution=issuer.institution))
    for data, error in (
        ({"confirm": "on"}, "Choose a reason."),
        ({"reason_code": "issued_in_error"}, "Tick the box to confirm the change."),
    ):
        response = logged_in(issuer.user).post(
            bulk_url(issuer),
            {
                "credentials": [str(chosen.public_id)],
                "action": "revoke",
                "confirm_step": "1",
                **data,
            },
        )
        assert response.status_code == 400
        assert error in response.text
    chosen.refresh_from_db()
    assert chosen.status == CredentialStatus.ISSUED


def test_a_bulk_revocation_applies_one_reason_to_every_credential(logged_in, issuer):
    micro_credential = MicroCredentialFactory(institution=issuer.institution)
    chosen = [issue(micro_credential, holder_email=f"l{n}@example.eu") for n in range(2)]
    response = logged_in(issuer.user).post(
        bulk_url(issuer),
        {
            "credentials": [str(c.public_id) for c in chosen],
            "action": "revoke",
            "confirm_step": "1",
            "reason_code": "issued_in_error",
            "reason": "Wrong cohort",
            "confirm": "on",
        },
        follow=True,
    )
    assert "2 credentials changed." in response.text
    for credential in chosen:
        event = credential.events.get(action="revoked")
        assert (event.reason_code, event.reason) == ("issued_in_error", "Wrong cohort")


# Privacy of the reason ---------------------------------------------------------------------


def revoke_for_plagiarism(credential: IssuedCredential) -> None:
    services.credential_revoke(
        credential=credential, actor=None, reason_code="academic_misconduct", reason=REASON
    )


def test_the_public_page_says_revoked_with_the_date_at_the_top_and_never_the_reason(
    client, credential
):
    revoke_for_plagiarism(credential)
    page = client.get(credential.get_absolute_url()).text
    assert REASON not in page
    assert "Academic misconduct" not in page
    assert "REVOKED" in page
    assert f"Revoked by the issuer on {revoked_on(credential)}." in page
    # The banner comes before the title.
    assert page.index("status-banner-word") < page.index('id="credential-title"')


def test_the_public_page_says_suspended_with_the_date(client, credential):
    services.credential_suspend(
        credential=credential, actor=None, reason_code="other", reason="Exam board review"
    )
    page = client.get(credential.get_absolute_url()).text
    assert "Exam board review" not in page
    assert "SUSPENDED" in page
    assert f"Suspended by the issuer on {revoked_on(credential, 'suspended')}." in page


def test_a_valid_credentials_public_page_has_no_status_banner(client, credential):
    assert "status-banner" not in client.get(credential.get_absolute_url()).text


def test_the_share_page_says_revoked_with_the_date_and_never_the_reason(client, credential):
    learner = UserFactory(email="nora@example.eu")
    learner_services.credentials_attach(user=learner)
    credential.refresh_from_db()
    link = learner_services.share_link_create(
        user=learner, credential=credential, label="Employer", expires_at=None
    )
    revoke_for_plagiarism(credential)
    page = client.get(link.get_absolute_url()).text
    assert REASON not in page
    assert "REVOKED" in page
    assert f"Revoked by the issuer on {revoked_on(credential)}." in page


def test_no_public_document_or_verification_answer_carries_the_reason(client, credential):
    revoke_for_plagiarism(credential)
    answers = [
        client.get(credential.get_absolute_url(), HTTP_ACCEPT="application/ld+json"),
        client.get(reverse("credentials:document", kwargs={"public_id": credential.public_id})),
        client.get(reverse("credentials:edc", kwargs={"public_id": credential.public_id})),
        client.post(
            reverse("credentials:verify_api"),
            credential.document,
            content_type="application/json",
        ),
        client.post(reverse("credentials:verify"), {"document": credential.document}),
        client.get(credential.revocation_list.url.removeprefix("http://127.0.0.1:8000")),
    ]
    for answer in answers:
        assert answer.status_code == 200
        assert REASON not in answer.content.decode()
        assert "misconduct" not in answer.content.decode()
    verdict = json.loads(answers[3].content)
    assert verdict["verified"] is False


def test_the_learner_and_staff_see_the_reason(logged_in, issuer, credential):
    revoke_for_plagiarism(credential)
    credential.refresh_from_db()
    assert selectors.status_reason(credential=credential) == f"Academic misconduct: {REASON}"
    staff_page = logged_in(issuer.user).get(
        reverse(
            "credentials:staff_detail",
            kwargs={"slug": issuer.institution.slug, "public_id": credential.public_id},
        )
    )
    assert REASON in staff_page.text


# The badge image cannot change -------------------------------------------------------------


def test_the_badge_downloads_warn_that_the_picture_does_not_show_a_later_revocation(
    client, credential
):
    page = client.get(credential.get_absolute_url()).text
    assert "it will not show a later suspension or revocation" in page


# The services --------------------------------------------------------------------------------


def test_a_status_change_records_its_listed_reason_once_and_refuses_an_unknown_one(credential):
    services.credential_suspend(
        credential=credential, actor=None, reason_code="learner_request", reason="By e-mail"
    )
    services.credential_suspend(
        credential=credential, actor=None, reason_code="learner_request", reason="By e-mail"
    )
    event = credential.events.get(action="suspended")
    assert (event.reason_code, event.reason) == ("learner_request", "By e-mail")
    with pytest.raises(CredentialError):
        services.credential_revoke(credential=credential, actor=None, reason_code="because")
    credential.refresh_from_db()
    assert credential.status == CredentialStatus.SUSPENDED
    notice = selectors.status_notice(credential=credential)
    assert notice is not None
    assert (notice.status, notice.since) == ("suspended", event.created_at)
    assert notice.reason_text == "At the learner's request: By e-mail"


# The issuer API ----------------------------------------------------------------------------


def test_the_api_takes_a_listed_reason_refuses_an_unknown_one_and_never_answers_with_it(
    client, credential
):
    token = make_token(credential.institution)
    url = reverse("api:credential_revoke", kwargs={"public_id": credential.public_id})
    refused = client.post(
        url,
        {"reason_code": "because"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert refused.status_code == 422
    assert "reason_code" in refused.json()["error"]["fields"]
    credential.refresh_from_db()
    assert credential.status == CredentialStatus.ISSUED
    answer = client.post(
        url,
        {"reason_code": "academic_misconduct", "reason": REASON},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert answer.status_code == 200
    assert answer.json()["status"] == "revoked"
    assert REASON not in answer.content.decode()
    assert credential.events.get(action="revoked").reason_code == "academic_misconduct"


def test_the_openapi_document_lists_every_status_reason():
    assert list(openapi.STATUS_REASON_CODES) == list(StatusReason.values)
