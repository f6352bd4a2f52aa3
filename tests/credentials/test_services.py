import json
import threading

import pytest
from django.core import mail
from django.db import connection

from credentials.exceptions import CredentialError
from credentials.issuing import services, verifier
from credentials.models import (
    CredentialEvent,
    CredentialStatus,
    IssuedCredential,
    MicroCredential,
    StatusList,
)
from credentials.standards import status_list
from credentials.standards.multiformats import decode_ed25519_public_key
from credentials.standards.signing import verify_proof
from institutions import selectors as institution_selectors
from institutions import services as institution_services
from tests.credentials.validation import schema_errors
from tests.factories import MicroCredentialFactory, UserFactory, issue

pytestmark = pytest.mark.django_db


def test_issuing_signs_with_the_active_key_and_stores_the_document_verbatim():
    credential = issue(grade="8.5")
    document = json.loads(credential.document)
    key = institution_selectors.active_signing_key(institution=credential.institution)
    assert document["issuer"]["id"] == credential.institution.did
    assert document["proof"][0]["verificationMethod"] == key.verification_method
    assert verify_proof(
        document, public_key=decode_ed25519_public_key(key.public_key_multibase)
    ).verified
    assert document["credentialSubject"]["achievement"]["achievementType"] == "MicroCredential"
    assert document["credentialSubject"]["result"][0]["value"] == "8.5"
    assert "ana@example.eu" not in credential.document


def test_issuing_writes_an_event_and_mails_the_learner_on_commit(
    eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        credential = issue()
    assert list(credential.events.values_list("action", flat=True)) == ["issued", "notified"]
    assert mail.outbox[0].to == ["ana@example.eu"]
    assert str(credential.public_id) in mail.outbox[0].body
    credential.refresh_from_db()
    assert credential.notified_at is not None


def test_issuing_snapshots_the_specification_and_reuses_an_unchanged_version():
    micro_credential = MicroCredentialFactory()
    first = issue(micro_credential)
    second = issue(micro_credential, holder_email="other@example.eu")
    assert first.version == second.version
    micro_credential.title = "Data Literacy, revised"
    micro_credential.save()
    third = issue(micro_credential, holder_email="third@example.eu")
    assert third.version.number == 2
    first.refresh_from_db()
    assert first.version.title != "Data Literacy, revised"


@pytest.mark.parametrize("status", [MicroCredential.Status.DRAFT, MicroCredential.Status.RETIRED])
def test_only_published_micro_credentials_can_be_issued(status):
    with pytest.raises(CredentialError, match="Only published"):
        issue(MicroCredentialFactory(status=status))
    assert IssuedCredential.objects.count() == 0


def test_a_micro_credential_of_another_institution_is_refused():
    micro_credential = MicroCredentialFactory()
    other = MicroCredentialFactory()
    with pytest.raises(CredentialError, match="another institution"):
        issue(micro_credential, institution=other.institution)


def test_a_missing_mandatory_element_is_refused_and_nothing_is_written():
    micro_credential = MicroCredentialFactory(learning_outcomes=[])
    with pytest.raises(CredentialError, match="EU standard requires"):
        issue(micro_credential)
    assert IssuedCredential.objects.count() == 0
    assert CredentialEvent.objects.count() == 0


def test_every_credential_gets_distinct_indexes_in_both_lists():
    micro_credential = MicroCredentialFactory()
    credentials = [issue(micro_credential, holder_email=f"l{n}@example.eu") for n in range(20)]
    assert len({c.revocation_index for c in credentials}) == 20
    assert len({c.suspension_index for c in credentials}) == 20
    lists = StatusList.objects.filter(institution=micro_credential.institution)
    assert {(row.purpose, row.allocated_count) for row in lists} == {
        ("revocation", 20),
        ("suspension", 20),
    }


def test_revoking_sets_the_bit_re_signs_the_list_and_is_final():
    credential = issue()
    before = StatusList.objects.get(pk=credential.revocation_list_id).etag
    actor = UserFactory()
    services.credential_revoke(credential=credential, actor=actor, reason="Plagiarism")
    services.credential_revoke(credential=credential, actor=actor)  # idempotent
    row = StatusList.objects.get(pk=credential.revocation_list_id)
    assert row.etag != before
    document = json.loads(row.document)
    assert status_list.read_status(
        document, purpose="revocation", index=credential.revocation_index
    )
    credential.refresh_from_db()
    assert credential.status == CredentialStatus.REVOKED
    assert list(credential.events.values_list("action", "reason")) == [
        ("issued", ""),
        ("revoked", "Plagiarism"),
    ]
    with pytest.raises(CredentialError, match="cannot be changed"):
        services.credential_reinstate(credential=credential, actor=actor)


def test_suspending_and_reinstating_flip_the_suspension_bit():
    credential = issue()

    def suspended() -> bool:
        row = StatusList.objects.get(pk=credential.suspension_list_id)
        return status_list.read_status(
            json.loads(row.document), purpose="suspension", index=credential.suspension_index
        )

    services.credential_suspend(credential=credential, actor=None)
    assert suspended()
    services.credential_reinstate(credential=credential, actor=None)
    assert not suspended()
    assert list(credential.events.values_list("action", flat=True)) == [
        "issued",
        "suspended",
        "reinstated",
    ]


def test_the_verifier_follows_the_status_changes():
    credential = issue()
    assert verifier.verify(credential.document)["verified"]
    services.credential_suspend(credential=credential, actor=None)
    result = verifier.verify(credential.document)
    assert not result["verified"]
    assert "Suspended by the issuer" in result["errors"]
    services.credential_revoke(credential=credential, actor=None)
    assert "Revoked by the issuer" in verifier.verify(credential.document)["errors"]


def test_credentials_signed_before_a_key_rotation_still_verify():
    credential = issue()
    institution_services.signing_key_rotate(actor=None, institution=credential.institution)
    newer = issue(
        MicroCredentialFactory(institution=credential.institution), holder_email="b@example.eu"
    )
    assert json.loads(newer.document)["proof"][0]["verificationMethod"].endswith("#key-2")
    assert verifier.verify(credential.document)["verified"]
    assert verifier.verify(newer.document)["verified"]


def test_an_issued_credential_meets_the_ob3_schema_but_for_its_two_status_entries():
    # OB 3.0 allows one credentialStatus; VC 2.0 allows several and we publish revocation
    # and suspension separately (1EdTech/openbadges-specification#623).
    document = json.loads(issue().document)
    errors = schema_errors(document)
    assert len(errors) == 1
    assert errors[0].startswith("$.credentialStatus: ")
    document["credentialStatus"] = document["credentialStatus"][0]
    assert schema_errors(document) == []


def test_a_vocabulary_uri_from_the_wrong_list_is_refused_before_anything_is_signed():
    micro_credential = MicroCredentialFactory(eqf_level="http://data.europa.eu/snb/isced-f/0413")
    with pytest.raises(CredentialError, match="EU standard requires"):
        issue(micro_credential)
    assert IssuedCredential.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_issuing_never_hands_out_an_index_twice():
    micro_credential = MicroCredentialFactory()
    errors: list[BaseException] = []

    def issue_some(worker: int) -> None:
        try:
            for n in range(5):
                issue(micro_credential, holder_email=f"w{worker}-{n}@example.eu")
        except BaseException as exc:  # reported below, with the worker's traceback lost
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue_some, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    credentials = IssuedCredential.objects.all()
    assert credentials.count() == 20
    assert len({c.revocation_index for c in credentials}) == 20
    assert len({c.suspension_index for c in credentials}) == 20
    assert StatusList.objects.get(purpose="revocation").allocated_count == 20
