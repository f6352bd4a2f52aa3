"""Work budgets of baked badge images (issue 18): hostile PNG and SVG images, each under the
4 MiB size cap, are refused with the budget they exceed, or read correctly where they are
legitimate but large, within a CPU and a memory budget; and the learner's import page shows the
refusal in the project's own words.

The images are written here. CPU is process time (stable on a loaded machine; within 1 s, measured
by tests/security/poisons.py), memory the tracemalloc peak of the read, measured in a second run
since tracemalloc slows the first.
Before the budgets, the 350,000-chunk PNG cost 0.7 s and 33 MB, a million-element SVG 0.5 s, a
500,000-deep SVG 62 MB and a 360,000-attribute tag 0.4 s and 91 MB; each is now refused in
hundredths of a second and a few MB."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from credentials.standards import badge_images
from credentials.standards.badge_images import (
    MAX_IMAGE_BYTES,
    MAX_PNG_CHUNKS,
    MAX_SVG_DEPTH,
    MAX_SVG_NODES,
    PNG_KEYWORD,
    PNG_SIGNATURE,
    BadgeImageError,
    itxt_data,
    png_chunk,
)
from learners.models import ImportedCredential
from tests.factories import UserFactory
from tests.security.poisons import pure_read_within_budget, within_cpu_budget

MEMORY_BUDGET = 50 * 1024 * 1024  # bytes, peak of the read

CREDENTIAL = json.dumps(
    {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "A badge",
    }
)
IHDR = png_chunk(b"IHDR", b"\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00")
IEND = png_chunk(b"IEND", b"")
TINY = png_chunk(b"tEXt", b"")  # 12 bytes: the smallest chunk there is
CREDENTIAL_CHUNK = png_chunk(b"iTXt", itxt_data(PNG_KEYWORD, CREDENTIAL))
SVG_ROOT = (
    b'<svg xmlns="http://www.w3.org/2000/svg" '
    b'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">'
)
SVG_CREDENTIAL = f"<openbadges:credential><![CDATA[{CREDENTIAL}]]></openbadges:credential>".encode()


def png(*chunks: bytes) -> bytes:
    image = PNG_SIGNATURE + IHDR + b"".join(chunks) + IEND
    assert len(image) <= MAX_IMAGE_BYTES
    return image


def svg(body: bytes) -> bytes:
    image = SVG_ROOT + body + b"</svg>"
    assert len(image) <= MAX_IMAGE_BYTES
    return image


def measured(image: bytes) -> str | BadgeImageError:
    """What unbaking the image returns or raises, failing the test past the CPU or memory budget."""

    def unbake() -> str | BadgeImageError:
        try:
            return badge_images.unbake(image)
        except BadgeImageError as exc:
            return exc

    outcome, peak = pure_read_within_budget(unbake)
    assert peak < MEMORY_BUDGET, peak
    return outcome


def refused(image: bytes, words: str) -> None:
    outcome = measured(image)
    assert isinstance(outcome, BadgeImageError), outcome
    assert words in str(outcome), str(outcome)


def read(image: bytes, credential: str) -> None:
    outcome = measured(image)
    assert outcome == credential


# PNG -------------------------------------------------------------------------------------------


def test_a_png_of_350000_tiny_chunks_is_refused_by_its_chunk_count():
    image = png(TINY * 349_000)
    assert len(image) > MAX_IMAGE_BYTES - 12_000
    refused(image, f"more than {MAX_PNG_CHUNKS:,} chunks")


def test_a_png_whose_credential_follows_300000_chunks_is_refused_by_its_chunk_count():
    refused(png(TINY * 300_000, CREDENTIAL_CHUNK), f"more than {MAX_PNG_CHUNKS:,} chunks")


def test_a_png_whose_credential_follows_the_most_chunks_a_badge_may_have_is_read():
    # Legitimate, if unusual: the chunks allowed, the credential the last but IEND.
    read(png(TINY * (MAX_PNG_CHUNKS - 3), CREDENTIAL_CHUNK), CREDENTIAL)
    refused(png(TINY * (MAX_PNG_CHUNKS - 2), CREDENTIAL_CHUNK), "chunks; no badge has that many")


def test_a_png_of_nearly_4_mib_of_artwork_is_read_without_copying_it_chunk_by_chunk():
    artwork = png_chunk(b"IDAT", b"\x00" * (MAX_IMAGE_BYTES - 10_000))
    read(png(artwork, CREDENTIAL_CHUNK), CREDENTIAL)


def test_a_png_of_4_mib_of_iTXt_chunks_is_refused_within_the_budget():
    other = png_chunk(b"iTXt", itxt_data(b"comment", "x"))
    refused(png(other * 9_000), "carries no Open Badges 3.0 credential")


# SVG -------------------------------------------------------------------------------------------


def test_an_svg_of_a_million_empty_elements_is_refused_by_its_node_count():
    refused(svg(b"<g/>" * 1_000_000), f"more than {MAX_SVG_NODES:,} elements")


def test_a_deeply_nested_svg_is_refused_by_its_depth():
    refused(svg(b"<g>" * 500_000 + b"</g>" * 500_000), f"more than {MAX_SVG_DEPTH} deep")


def test_an_svg_whose_credential_ends_a_huge_document_is_refused_by_its_node_count():
    refused(svg(b"<g/>" * 1_000_000 + SVG_CREDENTIAL), f"more than {MAX_SVG_NODES:,} elements")


def test_an_svg_whose_credential_opens_a_huge_document_is_refused_too():
    # The whole document is read (a second credential, or broken XML, after the first is still
    # refused), so the budget counts every element, not only those before the credential.
    refused(svg(SVG_CREDENTIAL + b"<g/>" * 1_000_000), f"more than {MAX_SVG_NODES:,} elements")


def test_an_svg_whose_credential_follows_150000_elements_is_read():
    # Legitimate but large: under the node budget, wherever the credential is.
    read(svg(b"<g/>" * 150_000 + SVG_CREDENTIAL), CREDENTIAL)


def test_an_svg_with_360000_attributes_in_one_tag_is_refused_before_parsing():
    attributes = b"".join(b' a%d=""' % index for index in range(360_000))
    refused(svg(b"<g" + attributes + b"/>"), "an element with more than 1,000 attributes")


def test_an_svg_with_attributes_spread_over_many_elements_is_refused_by_its_node_count():
    element = b"<g" + b"".join(b' a%d=""' % index for index in range(900)) + b"/>"
    refused(svg(element * 550), "elements, attributes and CDATA sections")


def test_an_svg_of_empty_cdata_sections_is_refused_by_its_node_count():
    refused(svg(b"<![CDATA[]]>" * 330_000), "elements, attributes and CDATA sections")


def test_an_svg_of_4_mib_of_line_breaks_costs_no_callback_per_line():
    refused(svg(b"\n" * (MAX_IMAGE_BYTES - 200)), "carries no Open Badges 3.0 credential")


def test_a_credential_of_many_lines_with_carriage_returns_is_read_exactly():
    # The baker writes each carriage return as a character reference between CDATA sections.
    credential = "{\r\n" + '"a": 1,\r\n' * 40_000 + '"b": 2\r\n}'
    read(badge_images.bake_svg(svg(b""), credential), credential)


# The learner's door ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_import_page_refuses_a_hostile_badge_image_in_its_own_words(logged_in):
    client = logged_in(UserFactory())
    import_url = reverse("learners:import")
    assert client.get(import_url).status_code == 200
    image = png(TINY * 349_000)
    response = within_cpu_budget(
        lambda: client.post(
            import_url, {"upload": SimpleUploadedFile("badge.png", image, "image/png")}
        )
    )
    assert response.status_code == 400
    assert "This image does not carry a credential we can read" in response.text
    assert f"the PNG image has more than {MAX_PNG_CHUNKS:,} chunks" in response.text
    assert not ImportedCredential.objects.exists()
