"""Strict VC-API issue requests (options, issuer, @context) and, issue 16: every credential
signed through the VC-API under an institution's DID is kept, listed for its staff, carries
status entries unless the caller asks otherwise, and its id is unique on the node."""

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from credentials.issuing import selectors as credential_selectors
from credentials.issuing import services
from credentials.models import ApiCredential, CredentialStatus
from credentials.standards import didkey, status_list
from institutions.models import AuditEvent, Role
from tests.credentials.proofs import make_proof
from tests.factories import (
    InstitutionFactory,
    MembershipFactory,
    MicroCredentialFactory,
    issue,
    make_token,
)

pytestmark = pytest.mark.django_db

V1 = "https://www.w3.org/2018/credentials/v1"
V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"


def unsigned(issuer: Any, **extra: Any) -> dict[str, Any]:
    return {
        "@context": [V2, EXAMPLES],
        "id": "urn:uuid:0f9a1c7e-3b2d-4e8f-9a6b-5c4d3e2f1a0b",
        "type": ["VerifiableCredential", "ExampleAchievement"],
        "issuer": issuer,
        "credentialSubject": {"id": "did:example:ana", "achievement": "Data Literacy"},
        **extra,
    }


def vc_issue(client: Client, token: str, credential: Any, **body: Any) -> Any:
    return client.post(
        "/vc-api/credentials/issue",
        {"credential": credential, **body},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def verify(client: Client, credential: Any) -> Any:
    return client.post(
        "/vc-api/credentials/verify",
        {"verifiableCredential": credential},
        content_type="application/json",
    )


@pytest.fixture
def institution():
    return InstitutionFactory()


@pytest.fixture
def token(institution) -> str:
    return make_token(institution)


# ---------------------------------------------------------------- strict requests


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"credentialId": 5}, "invalid_option"),
        ({"credentialId": "not a url"}, "invalid_option"),
        ({"credentialId": "urn:uuid:11111111-2222-4333-8444-555555555555"}, "invalid_option"),
        ({"credentialStatus": "yes"}, "invalid_option"),
        ({"mandatoryPointers": ["/issuer"]}, "unsupported_option"),
    ],
)
def test_an_unreadable_or_unknown_option_is_refused_with_a_clear_message(
    client, institution, token, options, code
):
    response = vc_issue(client, token, unsigned(institution.did), options=options)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    assert "options." in error["message"] or "option" in error["message"]
    assert not ApiCredential.objects.exists()


def test_an_issuer_name_that_is_not_text_is_refused(client, institution, token):
    response = vc_issue(client, token, unsigned({"id": institution.did, "name": 5}))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "issuer_name_invalid"
    assert "issuer.name must be a string or a language value object" in error["message"]
    response = vc_issue(client, token, unsigned({"id": institution.did, "name": "Uni"}))
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("context", "code"),
    [
        ([V2, {"@vocab": None}], "invalid_context"),
        ([V2, {"@version": 2.0}], "invalid_context"),
        ([V2, 5], "invalid_context"),
        ([V2, "https://example.org/unknown-context"], "unknown_context"),
    ],
)
def test_a_context_the_node_cannot_process_is_answered_in_plain_words(
    client, institution, token, context, code
):
    response = vc_issue(client, token, unsigned(institution.did, **{"@context": context}))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"].startswith("The credential's @context cannot be processed: ")
    for library_text in ("KeyError", "TypeError", "Traceback", "'@vocab'", "jsonld."):
        assert library_text not in error["message"]


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        (
            {"credentialStatus": {"id": "https://example.org/status/1"}},
            "credential_status_type_missing",
        ),
        ({"termsOfUse": {"id": "https://example.org/tou"}}, "terms_of_use_type_missing"),
        (
            {"relatedResource": ["https://www.w3.org/ns/credentials/v2"]},
            "related_resource_not_object",
        ),
    ],
)
def test_a_credential_against_the_data_model_is_refused_and_nothing_is_kept(
    client, institution, token, extra, code
):
    response = vc_issue(client, token, unsigned(institution.did, **extra))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert "VC Data Model 2.0 §" in response.json()["error"]["message"]
    assert not ApiCredential.objects.exists()


@pytest.mark.parametrize("version", ["2.0", "1.1"])
def test_the_verifier_refuses_what_the_issuer_refuses_with_the_same_words(client, version):
    """Signed outside MESHE (by a test-only signer), so only the verifier can object."""
    key = Ed25519PrivateKey.generate()
    did = didkey.did_key_for(key.public_key())
    method = didkey.verification_method_id_for(key.public_key())
    document = unsigned(did, termsOfUse={"id": "https://example.org/tou"})
    if version == "1.1":
        document["@context"] = [V1, "https://w3id.org/security/data-integrity/v2"]
        document["type"] = ["VerifiableCredential"]
        document["credentialSubject"] = {"id": "did:example:ana"}
        document["issuanceDate"] = "2026-01-01T00:00:00Z"
    document["proof"] = make_proof(document, key=key, method=method)
    response = verify(client, document)
    assert response.status_code == 400
    data_model = next(c for c in response.json()["checks"] if c["check"] == "data_model")
    assert not data_model["ok"]
    assert "termsOfUse needs a type (VC Data Model 2.0 §5.5)" in data_model["detail"]


# ---------------------------------------------------------------- accountable (issue 16)


def test_a_vc_api_credential_is_kept_with_status_entries_and_verifies(client, institution, token):
    response = vc_issue(client, token, unsigned(institution.did))
    assert response.status_code == 201
    signed = response.json()["verifiableCredential"]
    kept = ApiCredential.objects.get()
    assert kept.institution == institution
    assert kept.credential_id == signed["id"]
    assert json.loads(kept.document) == signed
    assert kept.with_status and kept.status == CredentialStatus.ISSUED
    purposes = [entry["statusPurpose"] for entry in signed["credentialStatus"]]
    assert purposes == ["revocation", "suspension"]
    assert kept.revocation_list is not None
    assert signed["credentialStatus"][0]["statusListCredential"] == kept.revocation_list.url
    assert AuditEvent.objects.filter(
        action="vc_api.credential_signed", detail__api_credential=str(kept.public_id)
    ).exists()
    assert verify(client, signed).json()["verified"] is True


def test_a_vc_api_credential_revoked_by_staff_no_longer_verifies(client, institution, token):
    signed = vc_issue(client, token, unsigned(institution.did)).json()["verifiableCredential"]
    kept = ApiCredential.objects.get()
    services.credential_revoke(credential=kept, actor=None, reason="Issued by mistake")
    result = verify(client, signed)
    assert result.status_code == 400
    status = next(c for c in result.json()["checks"] if c["check"] == "status")
    assert "Revoked" in status["detail"]
    # Idempotent, and final.
    services.credential_revoke(credential=kept, actor=None)
    with pytest.raises(services.CredentialError):
        services.credential_reinstate(credential=kept, actor=None)


def test_a_vc_api_credential_is_suspended_and_reinstated_through_the_vc_api(
    client, institution, token
):
    signed = vc_issue(client, token, unsigned(institution.did)).json()["verifiableCredential"]

    def set_suspended(value: bool) -> Any:
        return client.post(
            "/vc-api/credentials/status",
            {
                "credentialId": signed["id"],
                "credentialStatus": [{"statusPurpose": "suspension", "status": value}],
            },
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )

    assert set_suspended(True).status_code == 200
    assert ApiCredential.objects.get().status == CredentialStatus.SUSPENDED
    assert verify(client, signed).status_code == 400
    assert set_suspended(False).status_code == 200
    assert verify(client, signed).json()["verified"] is True


def test_a_vc_1_1_credential_gets_status_entries_with_their_terms_inline(
    client, institution, token
):
    credential = {
        "@context": [V1],
        "type": ["VerifiableCredential"],
        "issuer": institution.did,
        "credentialSubject": {"id": "did:example:ana"},
    }
    response = vc_issue(client, token, credential)
    assert response.status_code == 201
    signed = response.json()["verifiableCredential"]
    assert signed["@context"][1] == status_list.STATUS_ENTRY_TERMS
    assert len(signed["credentialStatus"]) == 2
    assert verify(client, signed).json()["verified"] is True


def test_asked_without_status_it_is_kept_as_such_and_cannot_be_revoked(client, institution, token):
    response = vc_issue(
        client, token, unsigned(institution.did), options={"credentialStatus": False}
    )
    assert response.status_code == 201
    assert "credentialStatus" not in response.json()["verifiableCredential"]
    kept = ApiCredential.objects.get()
    assert not kept.with_status
    with pytest.raises(services.CredentialError):
        services.credential_revoke(credential=kept, actor=None)


def test_an_id_another_institution_already_issued_under_is_refused(client, institution, token):
    elsewhere = issue(MicroCredentialFactory())  # another institution's credential
    response = vc_issue(client, token, unsigned(institution.did, id=elsewhere.credential_id))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "credential_id_taken"
    assert elsewhere.credential_id in response.json()["error"]["message"]
    assert not ApiCredential.objects.exists()


def test_an_id_already_signed_through_the_vc_api_is_refused_the_second_time(
    client, institution, token
):
    other = InstitutionFactory()
    assert vc_issue(client, make_token(other), unsigned(other.did)).status_code == 201
    response = vc_issue(client, token, unsigned(institution.did))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "credential_id_taken"
    response = vc_issue(
        client,
        token,
        unsigned(institution.did, id="https://example.org/c/2"),
        options={"credentialId": "https://example.org/c/2"},
    )
    assert response.status_code == 201


def test_status_entries_pointing_at_this_nodes_lists_are_refused(client, institution, token):
    issued = issue(MicroCredentialFactory(institution=institution))
    borrowed = json.loads(issued.document)["credentialStatus"][0]
    response = vc_issue(
        client,
        token,
        unsigned(institution.did, credentialStatus=borrowed),
        options={"credentialStatus": False},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_credential"
    assert not ApiCredential.objects.exists()


# ---------------------------------------------------------------- the staff's pages


def test_the_staff_list_shows_vc_api_credentials_marked_as_such(
    client, logged_in, institution, token
):
    vc_issue(client, token, unsigned(institution.did))
    vc_issue(
        client,
        token,
        unsigned(institution.did, id="https://example.org/c/plain"),
        options={"credentialStatus": False},
    )
    staff = MembershipFactory(institution=institution, role=Role.VIEWER)
    page = logged_in(staff.user).get(f"/staff/{institution.slug}/credentials/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Issued via the API" in text
    assert "urn:uuid:0f9a1c7e-3b2d-4e8f-9a6b-5c4d3e2f1a0b" in text
    assert "https://example.org/c/plain" in text
    assert "Without status" in text


def test_staff_of_another_institution_do_not_see_them(client, logged_in, institution, token):
    vc_issue(client, token, unsigned(institution.did))
    kept = ApiCredential.objects.get()
    outsider = MembershipFactory()
    browser = logged_in(outsider.user)
    page = browser.get(f"/staff/{outsider.institution.slug}/credentials/")
    assert kept.credential_id not in page.content.decode()
    detail = browser.get(f"/staff/{institution.slug}/credentials/api/{kept.public_id}/")
    assert detail.status_code in (403, 404)


REASON = "Signed twice by the nightly registry job"


def staff_url(institution: Any, kept: ApiCredential, action: str = "") -> str:
    url = f"/staff/{institution.slug}/credentials/api/{kept.public_id}/"
    return url + f"{action}/" if action else url


def test_the_detail_page_links_to_the_confirmation_page_instead_of_changing_at_once(
    client, logged_in, institution, token
):
    vc_issue(client, token, unsigned(institution.did))
    kept = ApiCredential.objects.get()
    admin = MembershipFactory(institution=institution, role=Role.ADMIN)
    page = logged_in(admin.user).get(staff_url(institution, kept)).content.decode()
    assert f'href="{staff_url(institution, kept, "revoke")}"' in page
    assert f'href="{staff_url(institution, kept, "suspend")}"' in page
    # No form on the page changes the status: only the confirmation page does.
    assert f'action="{staff_url(institution, kept, "revoke")}"' not in page
    assert f'action="{staff_url(institution, kept, "suspend")}"' not in page


def test_staff_revoke_a_vc_api_credential_only_through_a_confirmed_reason(
    client, logged_in, institution, token
):
    vc_issue(client, token, unsigned(institution.did))
    kept = ApiCredential.objects.get()
    admin = MembershipFactory(institution=institution, role=Role.ADMIN)
    browser = logged_in(admin.user)
    url = staff_url(institution, kept, "revoke")
    page = browser.get(url)
    text = page.content.decode()
    assert page.status_code == 200
    # The page names the credential, its subject and where it came from.
    assert kept.credential_id in text
    assert "did:example:ana" in text
    assert "signed through the VC-API" in text
    assert f"Yes, revoke {kept.credential_id}, signed through the VC-API, for good." in text
    assert "Academic misconduct" in text  # the same list of reasons as issued credentials

    for refused in (
        {},
        {"reason_code": "issued_in_error", "reason": REASON},  # no tick
        {"reason_code": "other", "confirm": "on"},  # "Other" needs words
        {"reason_code": "not-a-reason", "reason": REASON, "confirm": "on"},
        {"reason": REASON, "confirm": "on"},  # no listed reason
    ):
        response = browser.post(url, refused)
        assert response.status_code == 400, refused
        kept.refresh_from_db()
        assert kept.status == CredentialStatus.ISSUED
    assert not AuditEvent.objects.filter(action="vc_api.credential_revoked").exists()

    response = browser.post(
        url, {"reason_code": "issued_in_error", "reason": REASON, "confirm": "on"}
    )
    assert response.status_code == 302
    assert response["Location"] == staff_url(institution, kept)
    kept.refresh_from_db()
    assert kept.status == CredentialStatus.REVOKED
    assert (kept.status_reason_code, kept.status_reason) == ("issued_in_error", REASON)
    audit = AuditEvent.objects.get(action="vc_api.credential_revoked")
    assert audit.actor == admin.user
    assert audit.detail["api_credential"] == str(kept.public_id)
    assert (audit.detail["reason_code"], audit.detail["reason"]) == ("issued_in_error", REASON)
    detail = browser.get(staff_url(institution, kept)).content.decode()
    assert "Issued in error" in detail and REASON in detail
    # Revoked is final: the page is no longer offered.
    again = browser.get(staff_url(institution, kept, "reinstate"))
    assert again.status_code == 302


def test_staff_suspend_and_reinstate_a_vc_api_credential_with_reasons(
    client, logged_in, institution, token
):
    vc_issue(client, token, unsigned(institution.did))
    kept = ApiCredential.objects.get()
    browser = logged_in(MembershipFactory(institution=institution, role=Role.ISSUER).user)
    browser.post(
        staff_url(institution, kept, "suspend"),
        {"reason_code": "academic_misconduct", "reason": REASON, "confirm": "on"},
    )
    kept.refresh_from_db()
    assert kept.status == CredentialStatus.SUSPENDED
    page = browser.get(staff_url(institution, kept, "reinstate")).content.decode()
    assert "The open question is resolved" in page
    browser.post(
        staff_url(institution, kept, "reinstate"),
        {"reason_code": "question_resolved", "confirm": "on"},
    )
    kept.refresh_from_db()
    assert (kept.status, kept.status_reason_code) == (CredentialStatus.ISSUED, "question_resolved")
    assert list(
        AuditEvent.objects.filter(action__startswith="vc_api.credential_")
        .exclude(action="vc_api.credential_signed")
        .order_by("pk")
        .values_list("action", "detail__reason_code")
    ) == [
        ("vc_api.credential_suspended", "academic_misconduct"),
        ("vc_api.credential_reinstated", "question_resolved"),
    ]


def test_a_viewer_cannot_revoke_a_vc_api_credential(client, logged_in, institution, token):
    vc_issue(client, token, unsigned(institution.did))
    kept = ApiCredential.objects.get()
    viewer = MembershipFactory(institution=institution, role=Role.VIEWER)
    browser = logged_in(viewer.user)
    url = staff_url(institution, kept, "revoke")
    assert browser.get(url).status_code == 403
    response = browser.post(url, {"reason_code": "other", "reason": "x", "confirm": "on"})
    assert response.status_code == 403
    kept.refresh_from_db()
    assert kept.status == CredentialStatus.ISSUED
    assert "Revoke…" not in browser.get(staff_url(institution, kept)).content.decode()


def test_without_status_no_change_is_offered_and_the_page_says_why(
    client, logged_in, institution, token
):
    vc_issue(client, token, unsigned(institution.did), options={"credentialStatus": False})
    kept = ApiCredential.objects.get()
    browser = logged_in(MembershipFactory(institution=institution, role=Role.ADMIN).user)
    detail = browser.get(staff_url(institution, kept)).content.decode()
    assert "it cannot be revoked or suspended" in detail
    assert "Revoke…" not in detail
    refused = browser.get(staff_url(institution, kept, "revoke"), follow=True)
    assert "signed without status entries: its status cannot change" in refused.content.decode()
    response = browser.post(
        staff_url(institution, kept, "revoke"),
        {"reason_code": "other", "reason": REASON, "confirm": "on"},
    )
    assert response.status_code == 400
    assert "signed without status entries" in response.content.decode()
    kept.refresh_from_db()
    assert kept.status == CredentialStatus.ISSUED


def test_under_ob3_strict_output_staff_are_offered_revocation_only_and_told_why(client, logged_in):
    strict = InstitutionFactory(ob3_strict=True)
    vc_issue(client, make_token(strict), unsigned(strict.did))
    kept = ApiCredential.objects.get()
    browser = logged_in(MembershipFactory(institution=strict, role=Role.ADMIN).user)
    detail = browser.get(staff_url(strict, kept)).content.decode()
    assert "Open Badges 3.0-strict format" in detail
    assert "Suspend…" not in detail
    assert "Revoke…" in detail
    refused = browser.get(staff_url(strict, kept, "suspend"), follow=True)
    assert "This credential cannot be suspended" in refused.content.decode()


def test_the_reason_never_reaches_a_public_answer(client, logged_in, institution, token):
    signed = vc_issue(client, token, unsigned(institution.did)).json()["verifiableCredential"]
    kept = ApiCredential.objects.get()
    logged_in(MembershipFactory(institution=institution, role=Role.ADMIN).user).post(
        staff_url(institution, kept, "suspend"),
        {"reason_code": "academic_misconduct", "reason": REASON, "confirm": "on"},
    )
    client.logout()
    kept.refresh_from_db()
    assert kept.status == CredentialStatus.SUSPENDED
    answers = [
        verify(client, signed),
        client.get(signed["credentialStatus"][1]["statusListCredential"]),
        client.post(
            "/vc-api/credentials/status",
            {"credentialId": signed["id"], "credentialStatus": []},
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        ),
    ]
    for answer in answers:
        assert answer.status_code in (200, 400)
        body = answer.content.decode()
        assert REASON not in body and "misconduct" not in body.lower()


def test_a_vc_api_status_change_records_other_and_where_it_came_from(client, institution, token):
    signed = vc_issue(client, token, unsigned(institution.did)).json()["verifiableCredential"]
    issued = issue(MicroCredentialFactory(institution=institution))
    for credential_id in (signed["id"], issued.credential_id):
        response = client.post(
            "/vc-api/credentials/status",
            {
                "credentialId": credential_id,
                "credentialStatus": [{"statusPurpose": "suspension", "status": True}],
            },
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200
    kept = ApiCredential.objects.get()
    assert (kept.status_reason_code, kept.status_reason) == (
        "other",
        "Changed through the VC-API.",
    )
    event = issued.events.get(action="suspended")
    assert (event.reason_code, event.reason) == ("other", "Changed through the VC-API.")
    assert {
        (audit.action, audit.detail["reason_code"], audit.detail["reason"])
        for audit in AuditEvent.objects.filter(action__endswith="suspended")
    } == {
        ("vc_api.credential_suspended", "other", "Changed through the VC-API."),
        ("credential.suspended", "other", "Changed through the VC-API."),
    }


def test_the_staff_list_reads_vc_api_credentials_in_a_fixed_number_of_queries(
    client, logged_in, institution, token
):
    staff = MembershipFactory(institution=institution, role=Role.VIEWER)
    browser = logged_in(staff.user)
    url = f"/staff/{institution.slug}/credentials/"
    vc_issue(client, token, unsigned(institution.did, id="https://example.org/c/0"))
    with CaptureQueriesContext(connection) as one:
        assert browser.get(url).status_code == 200
    for number in range(1, 6):
        vc_issue(client, token, unsigned(institution.did, id=f"https://example.org/c/{number}"))
    with CaptureQueriesContext(connection) as six:
        assert browser.get(url).status_code == 200
    assert len(six) == len(one)


def test_under_ob3_strict_output_a_vc_api_credential_has_the_revocation_entry_only(client):
    strict = InstitutionFactory(ob3_strict=True)
    response = vc_issue(client, make_token(strict), unsigned(strict.did))
    assert response.status_code == 201
    entries = response.json()["verifiableCredential"]["credentialStatus"]
    assert [entry["statusPurpose"] for entry in entries] == ["revocation"]
    kept = ApiCredential.objects.get()
    assert not kept.offers_suspension
    with pytest.raises(services.CredentialError):
        services.credential_suspend(credential=kept, actor=None)
    services.credential_revoke(credential=kept, actor=None)
    assert verify(client, response.json()["verifiableCredential"]).status_code == 400


def test_a_vc_api_status_reason_is_stored_in_english_and_shown_in_the_readers_language(
    client, institution, token
):
    issued = issue(MicroCredentialFactory(institution=institution))
    response = client.post(
        "/vc-api/credentials/status",
        {
            "credentialId": issued.credential_id,
            "credentialStatus": [{"statusPurpose": "suspension", "status": True}],
        },
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "fr"},
    )
    assert response.status_code == 200
    issued.refresh_from_db()
    event = issued.events.get(action="suspended")
    assert event.reason == "Changed through the VC-API."
    with translation.override("de"):
        assert event.reason_shown == "Über die VC-API geändert."
        notice = credential_selectors.status_notice(credential=issued)
        assert notice is not None
        assert notice.reason_text.endswith(": Über die VC-API geändert.")
    with translation.override("fr"):
        assert event.reason_shown == "Modifié via la VC-API."
    # The staff's own words are never looked up in the catalogue.
    event.reason = "Other"
    with translation.override("de"):
        assert event.reason_shown == "Other"
