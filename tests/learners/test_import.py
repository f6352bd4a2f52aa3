import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from credentials.standards import credential_summary
from credentials.standards.verification import DEFAULT_MAX_BYTES
from learners import services as learner_services
from learners.exceptions import WalletError
from learners.models import ImportedCredential, LearnerEvent
from tests.factories import UserFactory
from tests.learners.elsewhere import EDC_DOCUMENT, known_partner, signed_elsewhere, tampered

pytestmark = pytest.mark.django_db

IMPORT = reverse("learners:import")


def test_an_uploaded_ob3_credential_is_verified_and_kept_verbatim(logged_in):
    learner = UserFactory()
    key = Ed25519PrivateKey.generate()
    known_partner(key)
    document = signed_elsewhere(key=key, holder_email=learner.email)
    upload = SimpleUploadedFile("badge.json", document.encode(), "application/json")
    response = logged_in(learner).post(IMPORT, {"upload": upload}, follow=True)
    imported = ImportedCredential.objects.get(owner=learner)
    assert imported.document == document
    assert imported.format == "vc"
    assert imported.verified is True
    assert imported.verified_at is not None
    assert imported.verification is not None
    assert [c["check"] for c in imported.verification["checks"]][:4] == [
        "json",
        "data_model",
        "contexts",
        "proof",
    ]
    assert (imported.title, imported.issuer_name) == (
        "Marine Biology Field Methods",
        "Université d'Exemple",
    )
    assert imported.ects == 3
    assert imported.eqf_level == "http://data.europa.eu/snb/eqf/7"
    assert "is in your wallet, and verified." in response.text
    assert "Imported" in response.text
    # Its did:key issuer is a partner here: its name is the portal's, not only its own claim.
    assert "Issued by Université d&#x27;Exemple, an institution this portal knows." in (
        response.text
    )
    assert "Signature valid, issuer not confirmed" not in response.text
    assert LearnerEvent.objects.filter(user=learner, action="imported").count() == 1


def test_a_pasted_credential_is_imported_too(logged_in):
    learner = UserFactory()
    logged_in(learner).post(IMPORT, {"document": signed_elsewhere()})
    assert ImportedCredential.objects.get(owner=learner).verified


def test_a_tampered_credential_is_kept_but_marked_not_verified(logged_in):
    learner = UserFactory()
    response = logged_in(learner).post(
        IMPORT, {"document": tampered(signed_elsewhere())}, follow=True
    )
    imported = ImportedCredential.objects.get(owner=learner)
    assert imported.verified is False
    assert "did not pass verification" in response.text
    wallet = logged_in(learner).get(reverse("learners:wallet")).text
    assert "Not verified" in wallet


def test_an_edc_is_kept_and_marked_unverified_because_its_seal_cannot_be_checked(logged_in):
    learner = UserFactory()
    response = logged_in(learner).post(IMPORT, {"document": json.dumps(EDC_DOCUMENT)}, follow=True)
    imported = ImportedCredential.objects.get(owner=learner)
    assert imported.format == "edc"
    assert imported.verification is None
    assert (imported.title, imported.issuer_name, imported.ects) == (
        "Applied Spanish B2",
        "Universidad de Ejemplo",
        4,
    )
    assert "Unverified: its seal cannot be checked here" in response.text
    assert "Check again now" not in response.text


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "This is not a credential we can read (not JSON)."),
        ("[1, 2]", "This is not a credential we can read (not a JSON object)."),
        ('{"type": "Invoice"}', "its type is not VerifiableCredential"),
        (
            '{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]}',
            "This is not a credential we can read:",
        ),
    ],
)
def test_malformed_input_is_a_form_error_and_nothing_is_written(logged_in, document, message):
    learner = UserFactory()
    response = logged_in(learner).post(IMPORT, {"document": document})
    assert response.status_code == 400
    assert message in response.text.replace("&#x27;", "'")
    assert not ImportedCredential.objects.exists()
    assert not LearnerEvent.objects.exclude(action="signed_in").exists()


def test_a_file_over_the_size_cap_is_refused(logged_in):
    learner = UserFactory()
    big = SimpleUploadedFile("big.json", b" " * (DEFAULT_MAX_BYTES + 1), "application/json")
    response = logged_in(learner).post(IMPORT, {"upload": big})
    assert response.status_code == 400
    assert "larger than 512 KiB" in response.text
    with pytest.raises(WalletError, match="larger than"):
        learner_services.credential_import(user=learner, raw="x" * (DEFAULT_MAX_BYTES + 1))
    assert not ImportedCredential.objects.exists()


def test_a_file_that_is_not_text_is_refused(logged_in):
    response = logged_in(UserFactory()).post(
        IMPORT, {"upload": SimpleUploadedFile("x.json", b"\xff\xfe\x00", "application/json")}
    )
    assert "This file is not text" in response.text


def test_a_byte_order_mark_does_not_stop_an_import():
    learner = UserFactory()
    imported = learner_services.credential_import(
        user=learner, raw=b"\xef\xbb\xbf" + signed_elsewhere().encode()
    )
    assert imported.verified


def test_giving_both_a_file_and_a_paste_or_neither_asks_for_one(logged_in):
    client = logged_in(UserFactory())
    assert "one of them" in client.post(IMPORT, {}).text
    both = client.post(
        IMPORT,
        {
            "document": signed_elsewhere(),
            "upload": SimpleUploadedFile("a.json", b"{}", "application/json"),
        },
    )
    assert "one of them" in both.text


def test_the_same_credential_twice_is_refused(logged_in):
    learner = UserFactory()
    document = signed_elsewhere()
    learner_services.credential_import(user=learner, raw=document)
    response = logged_in(learner).post(IMPORT, {"document": document})
    assert "already in your wallet" in response.text
    assert ImportedCredential.objects.count() == 1
    # Another learner may keep their own copy.
    learner_services.credential_import(user=UserFactory(), raw=document)
    assert ImportedCredential.objects.count() == 2


def test_reverifying_records_the_new_verdict_and_time(logged_in):
    learner = UserFactory()
    imported = learner_services.credential_import(user=learner, raw=signed_elsewhere())
    ImportedCredential.objects.filter(pk=imported.pk).update(
        verification={"verified": False, "checks": [], "errors": [], "warnings": []},
        verified_at=None,
    )
    response = logged_in(learner).post(
        reverse("learners:imported_reverify", kwargs={"public_id": imported.public_id}),
        follow=True,
    )
    assert "Checked again just now: verified." in response.text
    imported.refresh_from_db()
    assert imported.verified and imported.verified_at is not None
    assert LearnerEvent.objects.filter(action="reverified").count() == 1


def test_an_edc_cannot_be_reverified(logged_in):
    learner = UserFactory()
    imported = learner_services.credential_import(user=learner, raw=json.dumps(EDC_DOCUMENT))
    response = logged_in(learner).post(
        reverse("learners:imported_reverify", kwargs={"public_id": imported.public_id}),
        follow=True,
    )
    assert "cannot be checked here" in response.text
    assert not LearnerEvent.objects.filter(action="reverified").exists()


def test_the_learner_downloads_an_import_as_it_was_given_and_can_remove_it(logged_in):
    learner = UserFactory()
    document = signed_elsewhere()
    imported = learner_services.credential_import(user=learner, raw=document)
    client = logged_in(learner)
    download = client.get(
        reverse("learners:imported_document", kwargs={"public_id": imported.public_id})
    )
    assert download.content.decode() == document
    client.post(reverse("learners:imported_remove", kwargs={"public_id": imported.public_id}))
    assert not ImportedCredential.objects.exists()
    assert LearnerEvent.objects.filter(action="import_removed").count() == 1


def test_another_learners_import_is_404_for_every_view(logged_in):
    imported = learner_services.credential_import(user=UserFactory(), raw=signed_elsewhere())
    intruder = logged_in(UserFactory())
    kwargs = {"public_id": imported.public_id}
    assert intruder.get(reverse("learners:imported", kwargs=kwargs)).status_code == 404
    assert intruder.get(reverse("learners:imported_document", kwargs=kwargs)).status_code == 404
    assert intruder.post(reverse("learners:imported_reverify", kwargs=kwargs)).status_code == 404
    assert intruder.post(reverse("learners:imported_remove", kwargs=kwargs)).status_code == 404
    assert ImportedCredential.objects.filter(pk=imported.pk).exists()


def test_the_summary_of_a_portal_credential_reads_its_card_fields():
    golden = Path(__file__).resolve().parents[1] / "credentials/golden/ob3-data-literacy.json"
    summary = credential_summary.summarise(json.loads(golden.read_text()))
    assert summary.title == "Data Literacy for Public Administration"
    assert summary.issuer_name == "University of Amstelland"
    assert summary.ects == 5
    assert summary.eqf_level == "http://data.europa.eu/snb/eqf/6"
    assert summary.valid_until is not None and summary.valid_until.year == 2030
