"""Endorsements of offers: given under an institution's DID with a revocation entry, recorded
from outside after verification, carried by the credentials issued afterwards, listed with
their own verdict by the verifier, and revoked for every verifier to see."""

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from jsonschema import Draft202012Validator

from credentials import documents
from credentials.api import openapi
from credentials.exceptions import CredentialError
from credentials.issuing import (
    badge_artwork,
    certificate,
    certificate_services,
    services,
    verifier,
)
from credentials.models import Endorsement
from credentials.standards import badge_images, didkey, ob3, signing, verification
from institutions.models import AuditEvent, Role
from tests.credentials.validation import ENDORSEMENT_SCHEMA, schema_errors
from tests.factories import (
    InstitutionFactory,
    MembershipFactory,
    MicroCredentialFactory,
    UserFactory,
    issue,
)

pytestmark = pytest.mark.django_db

COMMENT = "Recognised at Baltic Technical University for 5 ECTS toward the MSc Data Science"


@pytest.fixture
def offer():
    return MicroCredentialFactory(title="Data Literacy for Public Administration")


@pytest.fixture
def endorser():
    return InstitutionFactory(name="Baltic Technical University")


def endorse(endorser, offer, comment: str = COMMENT) -> Endorsement:
    return services.endorsement_issue(
        actor=None,
        institution=endorser,
        subject_id=documents.offer_url(offer),
        subject_name=offer.title,
        comment=comment,
    )


def record(offer, document: str, *, actor=None) -> Endorsement:
    return services.endorsement_receive(
        actor=actor,
        micro_credential=offer,
        document=document,
        source=Endorsement.Source.RECORDED,
    )


def carried(credential) -> list[dict]:
    return ob3.embedded_endorsements(json.loads(credential.document))


def qa_agency_endorsement(offer, comment: str = "Reviewed by the Quality Agency") -> str:
    """An endorsement signed by a did:key no portal knows, as a QA agency outside MESHE."""
    key = Ed25519PrivateKey.generate()
    did = didkey.did_key_for(key.public_key())
    issuer = documents.issuer(offer.institution)
    unsigned = ob3.build_endorsement_credential(
        endorser=type(issuer)(
            did=did,
            name="Quality Agency",
            url="https://qa.example.eu",
            country_code="EE",
            legal_identifier="EE-80000000",
        ),
        endorsement=ob3.Endorsement(
            credential_id="urn:uuid:5b2f8c1e-0a4d-4e7b-9c3a-1d2e3f4a5b6c",
            subject_id=documents.offer_url(offer),
            subject_name=offer.title,
            comment=comment,
            issued_at=datetime(2026, 1, 5, tzinfo=UTC),
        ),
    )
    signed = signing.sign_document(
        unsigned,
        private_key=key,
        verification_method=didkey.verification_method_id_for(key.public_key()),
        created="2026-01-05T00:00:00Z",
    )
    return json.dumps(signed)


def test_an_institution_signs_an_endorsement_of_an_offer_with_a_revocation_entry(endorser, offer):
    endorsement = endorse(endorser, offer)
    document = json.loads(endorsement.document)
    assert schema_errors(document, ENDORSEMENT_SCHEMA) == []
    assert document["issuer"]["id"] == endorser.did
    assert document["credentialSubject"]["id"] == documents.offer_url(offer)
    assert document["credentialSubject"]["endorsementComment"] == COMMENT
    assert endorsement.revocation_list is not None
    assert document["credentialStatus"]["statusListCredential"] == endorsement.revocation_list.url
    assert verifier.verify(endorsement.document)["verified"] is True
    assert AuditEvent.objects.filter(institution=endorser, action="endorsement.issued").exists()


def test_endorsing_again_with_the_same_words_gives_the_same_endorsement(endorser, offer):
    assert endorse(endorser, offer) == endorse(endorser, offer)
    assert endorse(endorser, offer, "Recognised for 6 ECTS") != endorse(endorser, offer)


@pytest.mark.parametrize("comment", ["  ", "x" * 1001, "a\x00b"])
def test_a_blank_long_or_control_character_comment_is_refused(endorser, offer, comment):
    with pytest.raises(CredentialError):
        endorse(endorser, offer, comment)
    assert not Endorsement.objects.exists()


def test_an_endorsement_recorded_for_the_offer_is_kept_as_verified_with_the_endorser_named(
    endorser, offer
):
    admin = UserFactory()
    kept = record(offer, endorse(endorser, offer).document, actor=admin)
    assert (kept.state, kept.source, kept.endorser_did, kept.endorser_name, kept.comment) == (
        Endorsement.State.VERIFIED,
        Endorsement.Source.RECORDED,
        endorser.did,
        "Baltic Technical University",
        COMMENT,
    )
    assert kept.created_by == admin
    assert AuditEvent.objects.filter(
        institution=offer.institution, action="endorsement.received"
    ).exists()


def test_recording_the_same_endorsement_twice_keeps_one(endorser, offer):
    document = endorse(endorser, offer).document
    assert record(offer, document) == record(offer, document)
    assert offer.endorsements.count() == 1


def test_an_endorsement_from_an_issuer_no_portal_knows_is_kept_as_endorser_unknown(offer):
    kept = record(offer, qa_agency_endorsement(offer))
    assert (kept.state, kept.endorser_name) == (
        Endorsement.State.ENDORSER_UNKNOWN,
        "Quality Agency",
    )


def test_a_tampered_endorsement_is_refused_and_nothing_is_kept(endorser, offer):
    document = json.loads(endorse(endorser, offer).document)
    document["credentialSubject"]["endorsementComment"] = "Recognised for 50 ECTS"
    with pytest.raises(CredentialError, match="does not verify"):
        record(offer, json.dumps(document))
    assert not offer.endorsements.exists()


def test_an_endorsement_of_another_offer_or_no_endorsement_at_all_is_refused(endorser, offer):
    other = MicroCredentialFactory(institution=offer.institution)
    with pytest.raises(CredentialError, match="something else"):
        record(offer, endorse(endorser, other).document)
    with pytest.raises(CredentialError, match=r"not an Open Badges 3\.0 endorsement"):
        record(offer, issue(offer).document)
    with pytest.raises(CredentialError, match=r"not an Open Badges 3\.0 endorsement"):
        record(offer, "{not json")


def test_credentials_issued_after_an_endorsement_carry_it_and_earlier_ones_do_not(endorser, offer):
    before = issue(offer)
    endorsement = record(offer, endorse(endorser, offer).document)
    after = issue(offer)
    assert carried(before) == []
    assert carried(after) == [json.loads(endorsement.document)]
    assert verifier.verify(after.document)["verified"] is True


def test_the_verifier_lists_each_carried_endorsement_with_its_own_verdict(endorser, offer):
    record(offer, endorse(endorser, offer).document)
    record(offer, qa_agency_endorsement(offer))
    result = verifier.verify(issue(offer).document)
    assert result["verified"] is True
    assert result["endorsements"]["not_checked"] == 0
    assert [
        (each["endorser"]["name"], each["endorser"]["known"], each["state"], each["comment"])
        for each in result["endorsements"]["checked"]
    ] == [
        ("Quality Agency", False, "endorser_unknown", "Reviewed by the Quality Agency"),
        ("Baltic Technical University", True, "verified", COMMENT),
    ]


def test_a_credential_baked_in_its_badge_lists_its_endorsements_as_its_json_does(endorser, offer):
    record(offer, endorse(endorser, offer).document)
    credential = issue(offer)
    artwork = badge_artwork.Badge(
        institution_name="University", title="Offer", eqf_level="", ects=Decimal("5")
    )
    baked = badge_images.bake_png(badge_artwork.png(artwork), credential.document)
    from_image, from_json = verifier.verify(baked), verifier.verify(credential.document)
    assert from_image["source"] == "png" and from_image["verified"] is True
    assert from_image["endorsements"] == from_json["endorsements"]
    assert [each["state"] for each in from_image["endorsements"]["checked"]] == ["verified"]


def test_a_credential_without_endorsements_gets_no_endorsement_list(offer):
    assert "endorsements" not in verifier.verify(issue(offer).document)


def test_a_revoked_endorsement_shows_revoked_on_the_credential_and_is_no_longer_carried(
    endorser, offer
):
    given = endorse(endorser, offer)
    kept = record(offer, given.document)
    credential = issue(offer)
    revoked = services.endorsement_revoke(actor=None, endorsement=given, reason="Programme closed")
    assert (revoked.state, revoked.revocation_reason) == (
        Endorsement.State.REVOKED,
        "Programme closed",
    )
    # The credential stays valid; its endorsement is listed as revoked.
    result = verifier.verify(credential.document)
    assert result["verified"] is True
    assert [each["state"] for each in result["endorsements"]["checked"]] == ["revoked"]
    assert services.endorsement_recheck(endorsement=kept).state == Endorsement.State.REVOKED
    assert carried(issue(offer)) == []
    assert AuditEvent.objects.filter(institution=endorser, action="endorsement.revoked").exists()


def test_revoking_needs_a_reason_is_idempotent_and_is_for_the_endorser_only(endorser, offer):
    given = endorse(endorser, offer)
    with pytest.raises(CredentialError):
        services.endorsement_revoke(actor=None, endorsement=given, reason=" ")
    services.endorsement_revoke(actor=None, endorsement=given, reason="Closed")
    again = services.endorsement_revoke(actor=None, endorsement=given, reason="Closed again")
    assert again.revocation_reason == "Closed"
    with pytest.raises(CredentialError, match="Only the endorser"):
        services.endorsement_revoke(
            actor=None, endorsement=record(offer, qa_agency_endorsement(offer)), reason="No"
        )


def test_a_changed_carried_endorsement_is_listed_as_invalid_and_the_credential_fails(
    endorser, offer
):
    record(offer, endorse(endorser, offer).document)
    document = json.loads(issue(offer).document)
    tampered = copy.deepcopy(document)
    ob3.embedded_endorsements(tampered)[0]["credentialSubject"]["endorsementComment"] = "50 ECTS"
    result = verifier.verify(tampered)
    assert result["verified"] is False  # the credential's own signature covers what it carries
    assert [each["state"] for each in result["endorsements"]["checked"]] == ["invalid"]


def test_only_the_first_ten_carried_endorsements_are_checked_and_the_rest_counted(offer):
    endorsement = json.loads(qa_agency_endorsement(offer))
    document = json.loads(issue(offer).document)
    document["credentialSubject"]["achievement"]["endorsement"] = [endorsement] * 12
    result = verifier.verify(document)
    assert len(result["endorsements"]["checked"]) == verifier.MAX_ENDORSEMENTS_CHECKED == 10
    assert result["endorsements"]["not_checked"] == 2


# Pages ----------------------------------------------------------------------------------------


def offer_page(client, offer) -> str:
    response = client.get(reverse("credentials:offer", kwargs={"public_id": offer.public_id}))
    assert response.status_code == 200
    return response.content.decode()


def test_the_offer_page_lists_each_endorsement_with_what_its_last_check_found(
    client, endorser, offer
):
    given = endorse(endorser, offer)
    kept = record(offer, given.document)
    page = offer_page(client, offer)
    assert "Endorsed by Baltic Technical University — verified" in page
    assert COMMENT in page
    services.endorsement_revoke(actor=None, endorsement=given, reason="Programme closed")
    services.endorsement_recheck(endorsement=kept)
    assert "Endorsed by Baltic Technical University — revoked" in offer_page(client, offer)


def test_an_offer_without_endorsements_has_no_endorsement_section(client, offer):
    assert 'id="endorsements"' not in offer_page(client, offer)


def test_the_credential_page_and_the_verify_page_list_the_carried_endorsements(
    client, endorser, offer
):
    record(offer, endorse(endorser, offer).document)
    record(offer, qa_agency_endorsement(offer))
    credential = issue(offer)
    public = client.get(credential.get_absolute_url()).content.decode()
    checked = client.post(reverse("credentials:verify"), {"document": credential.document})
    for page in (public, checked.content.decode()):
        assert "Endorsed by Baltic Technical University — verified" in page
        assert "Endorsed by Quality Agency — endorser unknown" in page


def test_the_certificate_lists_the_carried_endorsements_and_a_revocation_makes_a_new_one(
    endorser, offer
):
    given = endorse(endorser, offer)
    kept = record(offer, given.document)
    credential = issue(offer)
    values = certificate_services.certificate_values(credential)
    assert [(each.endorser_name, each.state) for each in values.endorsements] == [
        ("Baltic Technical University", "verified")
    ]
    page = certificate.html(values)
    assert "Endorsed by Baltic Technical University — verified" in page
    assert COMMENT in page
    before = certificate_services.certificate_name(credential)
    services.endorsement_revoke(actor=None, endorsement=given, reason="Programme closed")
    services.endorsement_recheck(endorsement=kept)
    assert certificate_services.certificate_name(credential) != before
    revoked = certificate.html(certificate_services.certificate_values(credential))
    assert "Endorsed by Baltic Technical University — revoked" in revoked


# Recording one from outside MESHE -----------------------------------------------------------


@pytest.fixture
def admin_client(client, offer):
    admin = MembershipFactory(institution=offer.institution, role=Role.ADMIN)
    client.force_login(admin.user)
    return client


def record_url(offer) -> str:
    return reverse(
        "credentials:micro_credential_endorsement_record",
        kwargs={"slug": offer.institution.slug, "public_id": offer.public_id},
    )


def test_an_admin_records_a_pasted_endorsement_and_the_staff_page_lists_it(admin_client, offer):
    response = admin_client.post(record_url(offer), {"document": qa_agency_endorsement(offer)})
    assert response.status_code == 302
    kept = offer.endorsements.get()
    assert (kept.source, kept.state) == (
        Endorsement.Source.RECORDED,
        Endorsement.State.ENDORSER_UNKNOWN,
    )
    page = admin_client.get(response["Location"]).content.decode()
    assert "Endorsed by Quality Agency — endorser unknown" in page


def test_an_uploaded_endorsement_file_is_recorded(admin_client, endorser, offer):
    upload = SimpleUploadedFile(
        "endorsement.json", endorse(endorser, offer).document.encode(), "application/json"
    )
    assert admin_client.post(record_url(offer), {"upload": upload}).status_code == 302
    assert offer.endorsements.get().state == Endorsement.State.VERIFIED


def test_a_refused_endorsement_is_explained_on_the_form_and_nothing_is_kept(admin_client, offer):
    response = admin_client.post(record_url(offer), {"document": issue(offer).document})
    assert response.status_code == 200
    assert "This is not an Open Badges 3.0 endorsement." in response.content.decode()
    assert not offer.endorsements.exists()


def test_an_endorsement_file_over_the_size_cap_is_refused_unread(admin_client, offer):
    upload = SimpleUploadedFile("big.json", b" " * (verification.DEFAULT_MAX_BYTES + 1))
    response = admin_client.post(record_url(offer), {"upload": upload})
    assert response.status_code == 200
    assert "larger than 512 KiB" in response.content.decode()
    assert not offer.endorsements.exists()


def test_the_daily_recheck_finds_a_revocation_nobody_announced(endorser, offer):
    given = endorse(endorser, offer)
    kept = record(offer, given.document)
    untouched = record(offer, qa_agency_endorsement(offer))
    services.endorsement_revoke(actor=None, endorsement=given, reason="Programme closed")
    assert services.endorsements_recheck() == 1
    kept.refresh_from_db()
    untouched.refresh_from_db()
    assert (kept.state, untouched.state) == (
        Endorsement.State.REVOKED,
        Endorsement.State.ENDORSER_UNKNOWN,
    )


def test_the_recheck_runs_daily_as_a_registered_task(settings):
    from meshe.celery import app

    job = settings.CELERY_BEAT_SCHEDULE["credentials-endorsements-recheck"]
    assert job["schedule"] == 86400.0
    assert job["task"] in app.tasks


def test_the_verify_answer_with_endorsements_matches_the_published_api_schema(endorser, offer):
    record(offer, endorse(endorser, offer).document)
    answer = verifier.verify(issue(offer).document)
    schema = {
        "$ref": "#/components/schemas/VerificationResult",
        "components": openapi.document(base_url="https://meshe.example")["components"],
    }
    Draft202012Validator(schema).validate(answer)


def test_the_offer_page_lists_endorsements_in_the_same_number_of_queries_however_many(
    client, offer
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            offer_page(client, offer)
        return len(captured)

    record(offer, endorse(InstitutionFactory(), offer).document)
    one = queries()
    for _ in range(3):
        record(offer, endorse(InstitutionFactory(), offer).document)
    assert queries() == one


@pytest.mark.parametrize(
    ("answer", "state"),
    [
        ({"verified": True, "trust": "known_issuer"}, "verified"),
        ({"verified": True, "trust": "unknown_issuer"}, "endorser_unknown"),
        ({"verified": False, "error_code": "status.revoked"}, "revoked"),
        ({"verified": False, "error_code": "status.suspended"}, "revoked"),
        ({"verified": False, "error_code": "status.unreadable"}, "unchecked"),
        ({"verified": False, "error_code": "proof.key_not_resolved"}, "unchecked"),
        ({"verified": False, "error_code": "proof.too_complex"}, "unchecked"),
        ({"verified": False, "error_code": "proof.bad_signature"}, "invalid"),
        ({"verified": False, "error_code": "issuer_key.failed"}, "invalid"),
        ({"verified": False, "error_code": "validity.expired"}, "invalid"),
    ],
)
def test_what_a_verification_says_of_an_endorsement_claims_no_more_than_was_checked(answer, state):
    assert verifier.endorsement_state(answer) == state
