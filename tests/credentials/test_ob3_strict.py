"""The Open Badges 3.0-strict output setting: one credentialStatus entry (revocation), so that
consumers validating against 1EdTech's JSON Schema accept the credential; its credentials are
then never offered for suspension. The default keeps revocation and suspension."""

import json
from datetime import date

import pytest
from django.urls import reverse

from credentials import documents
from credentials.issuing import services, verifier
from credentials.models import CredentialStatus
from institutions import services as institution_services
from institutions.models import AuditEvent, Role
from meshe.errors import UserFacingError
from tests.credentials.validation import schema_errors
from tests.factories import MembershipFactory, MicroCredentialFactory, issue

pytestmark = pytest.mark.django_db


def strict_micro_credential(institution=None):
    micro_credential = MicroCredentialFactory(
        **({"institution": institution} if institution else {})
    )
    institution_services.institution_output_set(
        actor=None, institution=micro_credential.institution, ob3_strict=True
    )
    micro_credential.institution.refresh_from_db()
    return micro_credential


def purposes(document: str) -> list[str]:
    entries = json.loads(document)["credentialStatus"]
    entries = entries if isinstance(entries, list) else [entries]
    return [entry["statusPurpose"] for entry in entries]


def test_a_strict_credential_validates_against_the_ob3_schema_and_verifies():
    credential = issue(strict_micro_credential())
    assert purposes(credential.document) == ["revocation"]
    assert schema_errors(json.loads(credential.document)) == []
    result = verifier.verify(credential.document)
    assert result["verified"], result
    status = next(check for check in result["checks"] if check["check"] == "status")
    assert status["detail"] == "Not revoked"


def test_the_default_output_keeps_revocation_and_suspension_which_the_schema_refuses():
    credential = issue()
    assert credential.offers_suspension
    assert purposes(credential.document) == ["revocation", "suspension"]
    errors = schema_errors(json.loads(credential.document))
    assert len(errors) == 1
    assert errors[0].startswith("$.credentialStatus: ")


def test_a_strict_credential_cannot_be_suspended_and_can_be_revoked():
    credential = issue(strict_micro_credential())
    with pytest.raises(UserFacingError, match="cannot be suspended"):
        services.credential_suspend(credential=credential, actor=None, reason="review")
    credential.refresh_from_db()
    assert credential.status == CredentialStatus.ISSUED
    services.credential_revoke(credential=credential, actor=None, reason="fraud")
    result = verifier.verify(credential.document)
    assert result["verified"] is False
    assert "Revoked by the issuer" in result["errors"]


def test_credentials_issued_before_the_switch_keep_their_suspension_entry():
    micro_credential = MicroCredentialFactory()
    before = issue(micro_credential)
    institution_services.institution_output_set(
        actor=None, institution=micro_credential.institution, ob3_strict=True
    )
    after = issue(micro_credential, holder_email="other@example.eu")
    assert purposes(before.document) == ["revocation", "suspension"]
    assert purposes(after.document) == ["revocation"]
    suspended = services.credential_suspend(credential=before, actor=None, reason="review")
    assert suspended.status == CredentialStatus.SUSPENDED
    assert "Suspended by the issuer" in verifier.verify(before.document)["errors"]
    # Back to the default: new credentials offer suspension again, the strict one still does not.
    institution_services.institution_output_set(
        actor=None, institution=micro_credential.institution, ob3_strict=False
    )
    again = issue(micro_credential, holder_email="third@example.eu")
    assert purposes(again.document) == ["revocation", "suspension"]
    after.refresh_from_db()
    assert not after.offers_suspension


def test_the_preview_shows_the_format_that_will_be_signed():
    micro_credential = strict_micro_credential()
    preview = documents.preview(
        institution=micro_credential.institution,
        micro_credential=micro_credential,
        holder_name="Ana Kowalska",
        holder_email="ana@example.eu",
        awarded_date=date(2026, 6, 30),
    )
    assert purposes(json.dumps(preview)) == ["revocation"]


def test_an_admin_switches_to_strict_output_on_the_institution_page(logged_in):
    admin = MembershipFactory(role=Role.ADMIN)
    institution = admin.institution
    client = logged_in(admin.user)
    page = client.get(institution.get_absolute_url())
    assert "Open Badges 3.0-strict credentials" in page.text
    url = reverse("institutions:output_set", kwargs={"slug": institution.slug})
    response = client.post(url, {"ob3_strict": "on"}, follow=True)
    assert (
        "New credentials will carry a revocation entry only (Open Badges 3.0-strict)."
        in response.text
    )
    assert "New credentials are Open Badges 3.0-strict" in response.text
    institution.refresh_from_db()
    assert institution.ob3_strict
    event = AuditEvent.objects.get(institution=institution, action="institution.output_set")
    assert event.detail == {"ob3_strict": True}
    client.post(url, {}, follow=True)
    institution.refresh_from_db()
    assert not institution.ob3_strict


def test_only_an_admin_may_change_the_output(logged_in):
    issuer = MembershipFactory(role=Role.ISSUER)
    url = reverse("institutions:output_set", kwargs={"slug": issuer.institution.slug})
    response = logged_in(issuer.user).post(url, {"ob3_strict": "on"})
    assert response.status_code == 403
    issuer.institution.refresh_from_db()
    assert not issuer.institution.ob3_strict
    page = logged_in(issuer.user).get(issuer.institution.get_absolute_url())
    assert 'name="ob3_strict"' not in page.text


def test_the_staff_page_offers_no_suspend_for_a_strict_credential_and_says_why(logged_in):
    membership = MembershipFactory(role=Role.ISSUER)
    micro_credential = MicroCredentialFactory(institution=membership.institution)
    earlier = issue(micro_credential)
    institution_services.institution_output_set(
        actor=None, institution=membership.institution, ob3_strict=True
    )
    strict = issue(micro_credential, holder_email="other@example.eu")
    client = logged_in(membership.user)

    def detail(credential):
        return client.get(
            reverse(
                "credentials:staff_detail",
                kwargs={"slug": membership.institution.slug, "public_id": credential.public_id},
            )
        ).text

    page = detail(strict)
    assert "This credential cannot be suspended" in page
    assert "action='suspend'" not in page and "/suspend/" not in page
    assert "Revoke" in page
    # Issued before the switch: still offered.
    assert "/suspend/" in detail(earlier)
    listing = client.get(
        reverse("credentials:staff_list", kwargs={"slug": membership.institution.slug})
    ).text
    assert "cannot be suspended, only revoked" in listing


def test_a_bulk_suspend_that_includes_a_strict_credential_changes_nothing_and_says_why(
    logged_in,
):
    membership = MembershipFactory(role=Role.ISSUER)
    micro_credential = MicroCredentialFactory(institution=membership.institution)
    earlier = issue(micro_credential)
    institution_services.institution_output_set(
        actor=None, institution=membership.institution, ob3_strict=True
    )
    strict = issue(micro_credential, holder_email="other@example.eu")
    response = logged_in(membership.user).post(
        reverse("credentials:status_bulk", kwargs={"slug": membership.institution.slug}),
        {
            "credentials": [str(earlier.public_id), str(strict.public_id)],
            "action": "suspend",
            "confirm_step": "1",
            "reason_code": "other",
            "reason": "Exam board review",
            "confirm": "on",
        },
        follow=True,
    )
    assert "Nothing was changed" in response.text
    assert "cannot be suspended" in response.text
    earlier.refresh_from_db()
    assert earlier.status == CredentialStatus.ISSUED
