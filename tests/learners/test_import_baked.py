import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from credentials.standards import badge_images
from learners.models import ImportedCredential, LearnerEvent
from tests.factories import UserFactory, issue

pytestmark = pytest.mark.django_db

IMPORT = reverse("learners:import")
MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


def downloaded_badge(client, credential, extension: str) -> bytes:
    response = client.get(f"/credentials/{credential.public_id}/badge.{extension}")
    assert response.status_code == 200
    return response.content


@pytest.mark.parametrize("extension", ["png", "svg"])
def test_a_portal_badge_image_imports_into_another_wallet_and_verifies(
    client, logged_in, extension
):
    # Ana signed in before it was issued: her wallet does not hold it yet.
    learner = UserFactory(email="ana@example.eu")
    web = logged_in(learner)
    credential = issue()
    image = downloaded_badge(web, credential, extension)
    upload = SimpleUploadedFile(f"badge.{extension}", image, MEDIA_TYPES[extension])
    response = web.post(IMPORT, {"upload": upload}, follow=True)
    imported = ImportedCredential.objects.get(owner=learner)
    assert imported.document == credential.document
    assert imported.format == "vc"
    assert imported.verified is True
    assert imported.verification is not None
    assert imported.verification["verified"] is True
    assert imported.verification["errors"] == []
    assert imported.title == credential.version.title
    assert "is in your wallet, and verified." in response.text
    assert LearnerEvent.objects.filter(user=learner, action="imported").count() == 1


def test_the_same_credential_as_json_and_as_a_badge_is_kept_once(client, logged_in):
    web = logged_in(UserFactory(email="ana@example.eu"))
    credential = issue()
    web.post(IMPORT, {"document": credential.document})
    image = downloaded_badge(web, credential, "png")
    response = web.post(IMPORT, {"upload": SimpleUploadedFile("badge.png", image, "image/png")})
    assert response.status_code == 400
    assert "already in your wallet" in response.text
    assert ImportedCredential.objects.count() == 1


def test_a_badge_image_larger_than_a_json_credential_may_be_is_still_accepted(client, logged_in):
    learner = UserFactory(email="ana@example.eu")
    web = logged_in(learner)
    credential = issue()
    image = downloaded_badge(web, credential, "png")
    # Artwork of 600 KiB in a private ancillary chunk: the image is large, its credential is not.
    filler = b"\x00" * (600 * 1024)
    chunk = badge_images.png_chunk(b"prVt", filler)
    large = image[:-12] + chunk + image[-12:]
    web.post(IMPORT, {"upload": SimpleUploadedFile("b.png", large, "image/png")})
    assert ImportedCredential.objects.get(owner=learner).verified


def test_an_image_without_a_credential_is_a_form_error_and_nothing_is_written(client, logged_in):
    credential = issue()
    image = downloaded_badge(client, credential, "png")
    plain = image[: image.index(b"iTXt") - 4] + image[-12:]
    response = logged_in(UserFactory()).post(
        IMPORT, {"upload": SimpleUploadedFile("plain.png", plain, "image/png")}
    )
    assert response.status_code == 400
    assert "This image does not carry a credential we can read" in response.text
    assert "carries no Open Badges 3.0 credential" in response.text
    assert not ImportedCredential.objects.exists()
    assert not LearnerEvent.objects.exclude(action="signed_in").exists()


def test_a_damaged_badge_image_is_refused_with_the_reason(client, logged_in):
    credential = issue()
    damaged = bytearray(downloaded_badge(client, credential, "png"))
    damaged[-13] ^= 0xFF
    response = logged_in(UserFactory()).post(
        IMPORT, {"upload": SimpleUploadedFile("badge.png", bytes(damaged), "image/png")}
    )
    assert response.status_code == 400
    assert "the PNG image is damaged" in response.text
    assert not ImportedCredential.objects.exists()


def test_a_tampered_credential_inside_a_well_formed_badge_is_kept_but_not_verified(
    client, logged_in
):
    learner = UserFactory(email="ana@example.eu")
    web = logged_in(learner)
    credential = issue()
    tampered = credential.document.replace(credential.holder_name, "Someone Else")
    assert tampered != credential.document
    svg = downloaded_badge(web, credential, "svg")
    rebaked = svg.replace(credential.document.encode(), tampered.encode())
    web.post(IMPORT, {"upload": SimpleUploadedFile("badge.svg", rebaked, "image/svg+xml")})
    imported = ImportedCredential.objects.get(owner=learner)
    assert imported.document == tampered
    assert imported.verified is False


def test_another_persons_badge_image_is_refused(client, logged_in):
    credential = issue()
    image = downloaded_badge(client, credential, "png")
    response = logged_in(UserFactory(email="lea@example.eu")).post(
        IMPORT, {"upload": SimpleUploadedFile("badge.png", image, "image/png")}
    )
    assert response.status_code == 400
    assert "This credential was issued to another person" in response.text
    assert not ImportedCredential.objects.exists()
