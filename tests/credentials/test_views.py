import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from credentials.issuing import services, verifier
from credentials.models import CredentialStatus, IssuedCredential
from institutions.models import Role
from tests.credentials.validation import shacl_report
from tests.factories import MembershipFactory, MicroCredentialFactory, issue

pytestmark = pytest.mark.django_db


def test_the_status_list_is_served_signed_with_an_etag_and_a_short_cache(client):
    credential = issue()
    url = credential.revocation_list.url.removeprefix("http://127.0.0.1:8000")
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/ld+json"
    assert response["Cache-Control"] == "public, max-age=60"
    document = json.loads(response.content)
    assert document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert document["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    again = client.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    services.credential_revoke(credential=credential, actor=None)
    assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 200


def test_an_unknown_status_list_is_404(client):
    assert client.get("/status/nowhere/revocation/1").status_code == 404


def test_the_signed_credential_downloads_verbatim(client):
    credential = issue()
    response = client.get(f"/credentials/{credential.public_id}.json")
    assert response.content.decode() == credential.document
    assert "attachment" in response["Content-Disposition"]
    negotiated = client.get(credential.get_absolute_url(), HTTP_ACCEPT="application/ld+json")
    assert negotiated.content.decode() == credential.document


def test_the_public_page_says_the_credential_is_valid_then_revoked(client):
    credential = issue()
    page = client.get(credential.get_absolute_url())
    assert f"Verified: issued by {credential.institution.name}" in page.text
    assert credential.holder_name in page.text
    services.credential_revoke(credential=credential, actor=None)
    page = client.get(credential.get_absolute_url())
    assert "Not valid" in page.text
    assert "Revoked by the issuer" in page.text


def test_the_edc_rendering_downloads_and_passes_the_edc_shapes(client):
    credential = issue()
    response = client.get(f"/credentials/{credential.public_id}/edc.json")
    assert response.status_code == 200
    edc = json.loads(response.content)
    assert "EuropeanDigitalCredential" in edc["type"]
    conforms, report = shacl_report(edc)
    assert conforms, report


def test_the_api_verifies_a_credential_and_names_every_check(client):
    credential = issue()
    response = client.post("/api/v1/verify", credential.document, content_type="application/json")
    body = response.json()
    assert body["verified"] is True
    assert [check["check"] for check in body["checks"]] == [
        "json",
        "data_model",
        "contexts",
        "proof",
        "issuer_key",
        "validity",
        "status",
        "issuer_known",
    ]
    assert body["errors"] == []


@pytest.mark.parametrize(
    ("body", "failed_check"),
    [
        ("{not json", "json"),
        ("[1, 2, 3]", "json"),
        ("[" * 5000 + "]" * 5000, "json"),
        (json.dumps({"padding": "x" * (600 * 1024)}), "json"),
        (
            json.dumps(
                {
                    "@context": ["https://www.w3.org/ns/credentials/v2"],
                    "type": ["VerifiableCredential"],
                }
            ),
            "data_model",
        ),
    ],
    ids=["malformed", "not-an-object", "deeply-nested", "huge", "no-proof"],
)
def test_the_api_answers_bad_input_with_a_named_failed_check_not_a_500(client, body, failed_check):
    response = client.post("/api/v1/verify", body, content_type="application/json")
    assert response.status_code == 200
    result = response.json()
    assert result["verified"] is False
    check = next(c for c in result["checks"] if c["check"] == failed_check)
    assert check["ok"] is False


def test_the_api_names_a_tampered_credential_and_an_unknown_context(client):
    credential = issue()
    document = json.loads(credential.document)
    document["credentialSubject"]["achievement"]["name"] = "Something grander"
    result = client.post("/api/v1/verify", document, content_type="application/json").json()
    assert next(c for c in result["checks"] if c["check"] == "proof")["ok"] is False
    document["@context"].append("https://evil.example/context.json")
    result = client.post("/api/v1/verify", document, content_type="application/json").json()
    contexts = next(c for c in result["checks"] if c["check"] == "contexts")
    assert contexts["ok"] is False
    assert "https://evil.example/context.json" in contexts["detail"]


def test_the_verify_page_shows_each_check_in_plain_words(client):
    credential = issue()
    response = client.post("/verify", {"document": credential.document})
    assert f"Verified: issued by {credential.institution.name}" in response.text
    assert "Signature" in response.text
    assert "Revocation and suspension" in response.text
    services.credential_revoke(credential=credential, actor=None)
    response = client.post(
        "/verify", {"url": "http://127.0.0.1:8000" + credential.get_absolute_url()}
    )
    assert "Not valid" in response.text
    assert "Revoked by the issuer" in response.text


def test_the_verify_page_accepts_an_upload(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    credential = issue()
    upload = SimpleUploadedFile("credential.json", credential.document.encode())
    response = client.post("/verify", {"upload": upload})
    assert "Verified" in response.text


def test_the_verify_page_asks_for_exactly_one_input(client):
    response = client.post("/verify", {})
    assert "exactly one of them" in response.text


def test_the_command_prints_the_api_json_and_exits_by_the_verdict(tmp_path, client):
    credential = issue()
    good = tmp_path / "good.json"
    good.write_text(credential.document)
    with pytest.raises(CommandError, match="No such file"):
        call_command("verify_credential", str(tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    with pytest.raises(SystemExit) as exited:
        call_command("verify_credential", str(bad))
    assert exited.value.code == 1


def test_an_issuer_previews_what_will_be_signed_then_issues(logged_in, eager_celery):
    membership = MembershipFactory(role=Role.ISSUER)
    micro_credential = MicroCredentialFactory(institution=membership.institution)
    client = logged_in(membership.user)
    url = reverse("credentials:issue", kwargs={"slug": membership.institution.slug})
    fields = {
        "micro_credential": micro_credential.pk,
        "holder_name": "Ana Kowalska",
        "holder_email": "ana@example.eu",
        "awarded_date": "2026-11-20",
    }
    preview = client.post(url, fields)
    assert preview.status_code == 200
    assert "Check before signing" in preview.text
    assert "AchievementCredential" in preview.text or "OpenBadgeCredential" in preview.text
    assert IssuedCredential.objects.count() == 0

    response = client.post(url, {**fields, "confirm": "1"}, follow=True)
    assert "Credential issued to Ana Kowalska." in response.text
    assert "Revoke" in response.text
    assert IssuedCredential.objects.count() == 1


def test_a_viewer_cannot_issue_or_revoke(logged_in):
    viewer = MembershipFactory(role=Role.VIEWER)
    credential = issue(MicroCredentialFactory(institution=viewer.institution))
    client = logged_in(viewer.user)
    slug = viewer.institution.slug
    assert client.get(reverse("credentials:issue", kwargs={"slug": slug})).status_code == 403
    url = reverse(
        "credentials:status_change",
        kwargs={"slug": slug, "public_id": credential.public_id, "action": "revoke"},
    )
    assert client.post(url).status_code == 403
    credential.refresh_from_db()
    assert credential.status == CredentialStatus.ISSUED


def test_staff_of_another_institution_cannot_see_or_revoke_a_credential(logged_in):
    credential = issue()
    outsider = MembershipFactory(role=Role.ADMIN)
    client = logged_in(outsider.user)
    slug = outsider.institution.slug
    url = reverse(
        "credentials:staff_detail", kwargs={"slug": slug, "public_id": credential.public_id}
    )
    assert client.get(url).status_code == 404
    url = reverse(
        "credentials:status_change",
        kwargs={"slug": slug, "public_id": credential.public_id, "action": "revoke"},
    )
    assert client.post(url).status_code == 404
    credential.refresh_from_db()
    assert credential.status == CredentialStatus.ISSUED


def test_an_issuer_revokes_with_a_reason(logged_in):
    membership = MembershipFactory(role=Role.ISSUER)
    credential = issue(MicroCredentialFactory(institution=membership.institution))
    url = reverse(
        "credentials:status_change",
        kwargs={
            "slug": membership.institution.slug,
            "public_id": credential.public_id,
            "action": "revoke",
        },
    )
    response = logged_in(membership.user).post(
        url,
        {"reason_code": "issued_in_error", "reason": "Wrong cohort", "confirm": "on"},
        follow=True,
    )
    assert "The credential is revoked." in response.text
    assert "Issued in error — Wrong cohort" in response.text


def test_the_staff_list_loads_in_a_fixed_number_of_queries(
    logged_in, django_assert_max_num_queries
):
    membership = MembershipFactory(role=Role.VIEWER)
    micro_credential = MicroCredentialFactory(institution=membership.institution)
    for n in range(5):
        issue(micro_credential, holder_email=f"l{n}@example.eu")
    client = logged_in(membership.user)
    url = reverse("credentials:staff_list", kwargs={"slug": membership.institution.slug})
    with django_assert_max_num_queries(8):
        response = client.get(url)
    assert response.text.count("l0@example.eu") == 1


def test_the_command_prints_verified_json_for_a_good_credential(tmp_path):
    credential = issue()
    good = tmp_path / "good.json"
    good.write_text(credential.document)
    output = io.StringIO()
    call_command("verify_credential", str(good), stdout=output)
    result = json.loads(output.getvalue())
    assert result["verified"] is True
    assert result == json.loads(json.dumps(verifier.verify(credential.document)))


@pytest.mark.parametrize(
    "url",
    ["http://10.0.0.7/credential.json", "https://192.168.1.10/c", "https://169.254.169.254/latest"],
)
def test_the_verify_page_never_fetches_from_a_private_network(client, url, settings):
    settings.MESHE_OUTBOUND_ALLOW_LOOPBACK = False
    response = client.post("/verify", {"url": url})
    assert response.status_code == 200
    assert "Not valid" in response.text
    assert "The link could not be read:" in response.text


def test_staff_resend_a_claim_link(logged_in, eager_celery, django_capture_on_commit_callbacks):
    membership = MembershipFactory(role=Role.ISSUER)
    credential = issue(MicroCredentialFactory(institution=membership.institution))
    url = reverse(
        "credentials:resend_claim",
        kwargs={"slug": membership.institution.slug, "public_id": credential.public_id},
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in(membership.user).post(url, follow=True)
    assert "A new claim link is on its way to ana@example.eu" in response.text
    credential.refresh_from_db()
    assert credential.claim_token_hash
    assert credential.events.filter(action="notified").exists()


def test_staff_find_credentials_by_learner_and_status(logged_in):
    viewer = MembershipFactory(role=Role.VIEWER)
    micro_credential = MicroCredentialFactory(institution=viewer.institution)
    issue(micro_credential, holder_name="Ana Kowalska", holder_email="ana@example.eu")
    revoked = issue(micro_credential, holder_name="Ben Müller", holder_email="ben@example.eu")
    services.credential_revoke(credential=revoked, actor=None)
    client = logged_in(viewer.user)
    url = reverse("credentials:staff_list", kwargs={"slug": viewer.institution.slug})
    assert "Ben Müller" not in client.get(url, {"q": "kowal"}).text
    only_revoked = client.get(url, {"status": "revoked"}).text
    assert "Ben Müller" in only_revoked
    assert "Ana Kowalska" not in only_revoked


def test_the_staff_list_totals_match_its_rows_with_and_without_a_search(logged_in):
    viewer = MembershipFactory(role=Role.VIEWER)
    data = MicroCredentialFactory(institution=viewer.institution, title="Data Literacy")
    cloud = MicroCredentialFactory(institution=viewer.institution, title="Cloud Basics")
    for number in range(3):
        issue(data, holder_email=f"d{number}@example.eu")
    services.credential_revoke(credential=issue(cloud, holder_email="c@example.eu"), actor=None)
    issue(MicroCredentialFactory(title="Data Literacy"), holder_email="other@example.eu")
    client = logged_in(viewer.user)
    url = reverse("credentials:staff_list", kwargs={"slug": viewer.institution.slug})

    assert "4 credentials, most recent first" in client.get(url).text
    assert "1 credential, most recent first" in client.get(url, {"status": "revoked"}).text
    by_title = client.get(url, {"q": "literacy"}).text
    assert "3 credentials, most recent first" in by_title
    assert "other@example.eu" not in by_title  # another institution's
    assert "c@example.eu" not in by_title


def test_an_issuer_suspends_several_credentials_with_one_reason(logged_in):
    membership = MembershipFactory(role=Role.ISSUER)
    micro_credential = MicroCredentialFactory(institution=membership.institution)
    credentials = [issue(micro_credential, holder_email=f"l{n}@example.eu") for n in range(3)]
    elsewhere = issue()  # another institution's: named, but never touched
    url = reverse("credentials:status_bulk", kwargs={"slug": membership.institution.slug})
    response = logged_in(membership.user).post(
        url,
        {
            "credentials": [str(c.public_id) for c in credentials[:2]] + [str(elsewhere.public_id)],
            "action": "suspend",
            "confirm_step": "1",
            "reason_code": "other",
            "reason": "Exam board review",
            "confirm": "on",
        },
        follow=True,
    )
    assert "2 credentials changed." in response.text
    statuses = {c.pk: c.status for c in IssuedCredential.objects.all()}
    assert statuses[credentials[0].pk] == statuses[credentials[1].pk] == CredentialStatus.SUSPENDED
    assert statuses[credentials[2].pk] == statuses[elsewhere.pk] == CredentialStatus.ISSUED
    event = credentials[0].events.get(action="suspended")
    assert (event.reason_code, event.reason) == ("other", "Exam board review")


def test_a_bulk_change_that_cannot_apply_to_one_changes_none(logged_in):
    membership = MembershipFactory(role=Role.ISSUER)
    micro_credential = MicroCredentialFactory(institution=membership.institution)
    revoked = issue(micro_credential, holder_name="Revoked One", holder_email="r@example.eu")
    services.credential_revoke(credential=revoked, actor=None)
    fine = issue(micro_credential, holder_email="f@example.eu")
    url = reverse("credentials:status_bulk", kwargs={"slug": membership.institution.slug})
    response = logged_in(membership.user).post(
        url,
        {
            "credentials": [str(revoked.public_id), str(fine.public_id)],
            "action": "suspend",
            "confirm_step": "1",
            "reason_code": "issued_in_error",
            "confirm": "on",
        },
    )
    assert response.status_code == 400
    assert "Nothing was changed: Revoked One" in response.text
    fine.refresh_from_db()
    assert fine.status == CredentialStatus.ISSUED


def test_an_issuer_sets_the_date_a_credential_becomes_valid(logged_in, eager_celery):
    membership = MembershipFactory(role=Role.ISSUER)
    micro_credential = MicroCredentialFactory(institution=membership.institution)
    url = reverse("credentials:issue", kwargs={"slug": membership.institution.slug})
    fields = {
        "micro_credential": micro_credential.pk,
        "holder_name": "Ana Kowalska",
        "holder_email": "ana@example.eu",
        "awarded_date": "2026-11-20",
        "valid_from": "2026-12-01",
        "confirm": "1",
    }
    logged_in(membership.user).post(url, fields)
    credential = IssuedCredential.objects.get()
    assert json.loads(credential.document)["validFrom"] == "2026-12-01T00:00:00Z"
