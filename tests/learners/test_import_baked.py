import html

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from credentials.standards import badge_images
from learners.models import ImportedCredential, LearnerEvent
from tests.factories import UserFactory, issue
from tests.learners.elsewhere import known_partner, signed_elsewhere, tampered

pytestmark = pytest.mark.django_db

IMPORT = reverse("learners:import")
MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


def downloaded_badge(client, credential, extension: str) -> bytes:
    response = client.get(f"/credentials/{credential.public_id}/badge.{extension}")
    assert response.status_code == 200
    return response.content


def badge_from_elsewhere(client, extension: str, text: str) -> bytes:
    """The portal's badge artwork carrying `text`, a credential this portal did not issue (one
    it did enters a wallet by its claim link, not as an import)."""
    credential = issue()
    image = downloaded_badge(client, credential, extension)
    if extension == "svg":
        return image.replace(credential.document.encode(), text.encode())
    plain = image[: image.index(b"iTXt") - 4] + image[-12:]
    return badge_images.bake_png(plain, text)


@pytest.mark.parametrize("extension", ["png", "svg"])
def test_a_badge_image_from_elsewhere_imports_and_verifies(client, logged_in, extension):
    learner = UserFactory(email="ana@example.eu")
    web = logged_in(learner)
    key = Ed25519PrivateKey.generate()
    known_partner(key)
    text = signed_elsewhere(key=key, holder_email="ana@example.eu")
    image = badge_from_elsewhere(web, extension, text)
    upload = SimpleUploadedFile(f"badge.{extension}", image, MEDIA_TYPES[extension])
    response = web.post(IMPORT, {"upload": upload}, follow=True)
    imported = ImportedCredential.objects.get(owner=learner)
    assert imported.document == text
    assert imported.format == "vc"
    assert imported.verified is True
    assert imported.verification is not None
    assert imported.verification["verified"] is True
    assert imported.verification["errors"] == []
    assert imported.title == "Marine Biology Field Methods"
    assert "is in your wallet, and verified." in response.text
    assert LearnerEvent.objects.filter(user=learner, action="imported").count() == 1


@pytest.mark.parametrize("extension", ["png", "svg"])
def test_a_portal_badge_image_is_read_and_sent_to_its_claim_link(client, logged_in, extension):
    # Ana signed in with another address: the credential is not attached to her wallet.
    web = logged_in(UserFactory(email="ana.k@example.org"))
    credential = issue()
    image = downloaded_badge(web, credential, extension)
    upload = SimpleUploadedFile(f"badge.{extension}", image, MEDIA_TYPES[extension])
    response = web.post(IMPORT, {"upload": upload})
    assert response.status_code == 400
    assert "This credential was issued on this portal" in html.unescape(response.text)
    assert not ImportedCredential.objects.exists()


def test_the_same_credential_as_json_and_as_a_badge_is_kept_once(client, logged_in):
    web = logged_in(UserFactory(email="ana@example.eu"))
    text = signed_elsewhere(holder_email="ana@example.eu")
    web.post(IMPORT, {"document": text})
    image = badge_from_elsewhere(web, "png", text)
    response = web.post(IMPORT, {"upload": SimpleUploadedFile("badge.png", image, "image/png")})
    assert response.status_code == 400
    assert "already in your wallet" in response.text
    assert ImportedCredential.objects.count() == 1


def test_a_badge_image_larger_than_a_json_credential_may_be_is_still_accepted(client, logged_in):
    learner = UserFactory(email="ana@example.eu")
    web = logged_in(learner)
    image = badge_from_elsewhere(web, "png", signed_elsewhere(holder_email="ana@example.eu"))
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
    changed = tampered(signed_elsewhere(holder_email="ana@example.eu"))
    rebaked = badge_from_elsewhere(web, "svg", changed)
    web.post(IMPORT, {"upload": SimpleUploadedFile("badge.svg", rebaked, "image/svg+xml")})
    imported = ImportedCredential.objects.get(owner=learner)
    assert imported.document == changed
    assert imported.verified is False


def test_another_persons_badge_image_is_refused(client, logged_in):
    image = badge_from_elsewhere(client, "png", signed_elsewhere(holder_email="ana@example.eu"))
    response = logged_in(UserFactory(email="lea@example.eu")).post(
        IMPORT, {"upload": SimpleUploadedFile("badge.png", image, "image/png")}
    )
    assert response.status_code == 400
    assert "This credential was issued to another person" in response.text
    assert not ImportedCredential.objects.exists()
