import io
import struct
import zlib
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from django.urls import reverse
from PIL import Image

from credentials.issuing import badge_artwork
from credentials.standards import badge_images
from credentials.standards.badge_images import BadgeImageError
from learners import services as learner_services
from tests.factories import UserFactory, issue
from tests.learners.holding import held_credential

SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"
OB3 = "{https://purl.imsglobal.org/ob/v3p0}"
# A credential-shaped text with what could trip a baker: non-ASCII, "]]>", a carriage return.
TRICKY = '{\r\n  "name": "Ökologie ]]> <b>&amp; 日本",\n  "proof": {"proofValue": "z3]]]>"}\n}\n'


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def tiny_png() -> bytes:
    """A 1 by 1 grey PNG, built chunk by chunk so the tests do not trust the module's own writer."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + chunk(b"IEND", b"")
    )


def read_chunks(png: bytes) -> list[tuple[bytes, bytes, int]]:
    """(type, data, stored CRC) of every chunk, read independently of the module."""
    assert png.startswith(SIGNATURE)
    found, offset = [], 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        data = png[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", png[offset + 8 + length : offset + 12 + length])
        found.append((kind, data, crc))
        offset += 12 + length
    return found


def artwork(**changes) -> badge_artwork.Badge:
    values = {
        "institution_name": "Université d'Exemple",
        "title": "Marine Biology Field Methods",
        "eqf_level": "http://data.europa.eu/snb/eqf/7",
        "ects": Decimal("3.0"),
        **changes,
    }
    return badge_artwork.Badge(**values)


# PNG baking ------------------------------------------------------------------------------------


def test_baking_a_png_adds_the_spec_itxt_chunk_just_before_iend_and_keeps_every_other_byte():
    original = tiny_png()
    baked = badge_images.bake_png(original, '{"a":1}')
    # Golden: length 31, "iTXt", keyword, NUL, compression flag 0 and method 0, empty language
    # tag and translated keyword (each NUL-terminated), the text, and its CRC-32.
    golden = bytes.fromhex(
        "0000001f"
        "69545874"
        "6f70656e626164676563726564656e7469616c00" + "00" + "00" + "00" + "00" + "7b2261223a317d"
        "93ef4b99"
    )
    assert baked == original[:-12] + golden + original[-12:]
    assert [kind for kind, _data, _crc in read_chunks(baked)] == [
        b"IHDR",
        b"IDAT",
        b"iTXt",
        b"IEND",
    ]
    for kind, data, crc in read_chunks(baked):
        assert zlib.crc32(kind + data) == crc


def test_a_baked_png_gives_back_the_credential_byte_for_byte():
    baked = badge_images.bake_png(badge_artwork.png(artwork()), TRICKY)
    assert badge_images.unbake_png(baked) == TRICKY
    assert badge_images.unbake(baked) == TRICKY
    itxt = [data for kind, data, _crc in read_chunks(baked) if kind == b"iTXt"]
    assert itxt == [b"openbadgecredential\x00\x00\x00\x00\x00" + TRICKY.encode("utf-8")]


def test_a_png_that_already_carries_a_credential_is_not_baked_again():
    baked = badge_images.bake_png(tiny_png(), '{"a":1}')
    with pytest.raises(BadgeImageError, match="already carries a credential"):
        badge_images.bake_png(baked, '{"b":2}')


def test_a_png_with_two_credentials_is_refused():
    second = chunk(b"iTXt", b"openbadgecredential\x00\x00\x00\x00\x00" + b'{"b":2}')
    baked = badge_images.bake_png(tiny_png(), '{"a":1}')
    doubled = baked[:-12] + second + baked[-12:]
    with pytest.raises(BadgeImageError, match="more than one credential"):
        badge_images.unbake_png(doubled)


def test_a_flipped_crc_byte_is_refused():
    baked = bytearray(badge_images.bake_png(tiny_png(), '{"a":1}'))
    baked[-13] ^= 0x01  # the last byte of the iTXt chunk's CRC
    with pytest.raises(BadgeImageError, match="CRC of its iTXt chunk is wrong"):
        badge_images.unbake_png(bytes(baked))


def test_a_flipped_byte_of_the_credential_is_refused_by_the_crc():
    baked = bytearray(badge_images.bake_png(tiny_png(), '{"a":1}'))
    baked[-20] ^= 0x20  # inside the credential text
    with pytest.raises(BadgeImageError, match="CRC"):
        badge_images.unbake_png(bytes(baked))


@pytest.mark.parametrize("cut", [1, 12, 20, 40])
def test_a_truncated_png_is_refused(cut):
    baked = badge_images.bake_png(tiny_png(), '{"a":1}')
    with pytest.raises(BadgeImageError, match="truncated"):
        badge_images.unbake_png(baked[:-cut])


def test_data_after_iend_is_refused():
    baked = badge_images.bake_png(tiny_png(), '{"a":1}')
    with pytest.raises(BadgeImageError, match="after its IEND"):
        badge_images.unbake_png(baked + b"junk")


def test_a_png_that_does_not_start_with_ihdr_is_refused():
    png = SIGNATURE + chunk(b"tEXt", b"a\x00b") + tiny_png()[8:]
    with pytest.raises(BadgeImageError, match="does not start with IHDR"):
        badge_images.unbake_png(png)


def test_a_png_without_a_credential_says_so():
    with pytest.raises(BadgeImageError, match=r"carries no Open Badges 3.0 credential"):
        badge_images.unbake_png(tiny_png())


def test_an_open_badges_2_png_says_it_is_not_a_3_0_credential():
    png = tiny_png()
    ob2 = png[:-12] + chunk(b"iTXt", b"openbadges\x00\x00\x00\x00\x00{}") + png[-12:]
    with pytest.raises(BadgeImageError, match=r"Open Badges 2.0 assertion"):
        badge_images.unbake_png(ob2)


def test_a_compressed_itxt_credential_is_still_read():
    png = tiny_png()
    data = b"openbadgecredential\x00\x01\x00\x00\x00" + zlib.compress(TRICKY.encode("utf-8"))
    assert badge_images.unbake_png(png[:-12] + chunk(b"iTXt", data) + png[-12:]) == TRICKY


def test_a_compressed_itxt_that_inflates_past_the_cap_is_refused():
    png = tiny_png()
    bomb = zlib.compress(b" " * (badge_images.MAX_CREDENTIAL_BYTES + 10))
    data = b"openbadgecredential\x00\x01\x00\x00\x00" + bomb
    with pytest.raises(BadgeImageError, match="larger than 512 KiB"):
        badge_images.unbake_png(png[:-12] + chunk(b"iTXt", data) + png[-12:])


def test_an_image_over_the_size_cap_is_refused_before_parsing():
    with pytest.raises(BadgeImageError, match="larger than 4 MiB"):
        badge_images.unbake_png(SIGNATURE + b"\x00" * badge_images.MAX_IMAGE_BYTES)


def test_an_empty_or_oversized_credential_is_not_baked():
    with pytest.raises(BadgeImageError, match="no credential"):
        badge_images.bake_png(tiny_png(), "  ")
    with pytest.raises(BadgeImageError, match="larger than"):
        badge_images.bake_png(tiny_png(), "x" * (badge_images.MAX_CREDENTIAL_BYTES + 1))


# SVG baking ------------------------------------------------------------------------------------


def test_baking_an_svg_puts_the_credential_in_cdata_directly_after_the_root_start_tag():
    baked = badge_images.bake_svg(badge_artwork.svg(artwork()), '{"a":1}')
    text = baked.decode("utf-8")
    assert 'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"' in text
    assert (
        'aria-labelledby="badge-title badge-desc" '
        'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">'
        '<openbadges:credential><![CDATA[{"a":1}]]></openbadges:credential>'
    ) in text
    root = ElementTree.fromstring(baked)  # noqa: S314 (the module's own output, not an upload)
    assert root.tag == f"{SVG}svg"
    assert root[0].tag == f"{OB3}credential"
    assert root[0].text == '{"a":1}'
    assert root[1].tag == f"{SVG}title"


def test_a_baked_svg_gives_back_the_credential_byte_for_byte():
    baked = badge_images.bake_svg(badge_artwork.svg(artwork()), TRICKY)
    assert badge_images.unbake_svg(baked) == TRICKY
    assert badge_images.unbake(baked) == TRICKY
    # Any XML reader sees the same text, carriage return included.
    assert ElementTree.fromstring(baked)[0].text == TRICKY  # noqa: S314 (our own output)


def test_the_specifications_example_layout_and_a_vc_jwt_verify_attribute_are_read():
    spaced = b"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"
  viewBox="0 0 512 512">
  <openbadges:credential>
    <![CDATA[
      {"id": "urn:example"}
    ]]>
  </openbadges:credential>
</svg>"""
    assert badge_images.unbake_svg(spaced) == '\n      {"id": "urn:example"}\n    '
    jwt = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">'
        b'<openbadges:credential verify="header.payload.signature"></openbadges:credential></svg>'
    )
    assert badge_images.unbake_svg(jwt) == "header.payload.signature"


def test_an_svg_that_already_carries_a_credential_is_not_baked_again():
    baked = badge_images.bake_svg(badge_artwork.svg(artwork()), '{"a":1}')
    with pytest.raises(BadgeImageError, match="already carries a credential"):
        badge_images.bake_svg(baked, '{"b":2}')


def test_an_svg_with_two_credentials_is_refused():
    doubled = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">'
        b"<openbadges:credential><![CDATA[{}]]></openbadges:credential>"
        b"<openbadges:credential><![CDATA[{}]]></openbadges:credential></svg>"
    )
    with pytest.raises(BadgeImageError, match="more than one credential"):
        badge_images.unbake_svg(doubled)


def test_entity_declarations_are_refused_so_billion_laughs_cannot_start():
    laughs = b"""<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">
<openbadges:credential>&lol2;</openbadges:credential></svg>"""
    with pytest.raises(BadgeImageError, match="not accepted"):
        badge_images.unbake_svg(laughs)


def test_an_external_entity_is_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text('{"stolen": true}')
    external = f"""<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY x SYSTEM "file://{secret}">]>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">
<openbadges:credential>&x;</openbadges:credential></svg>""".encode()
    with pytest.raises(BadgeImageError, match="not accepted"):
        badge_images.unbake_svg(external)


def test_xml_that_is_not_an_svg_or_not_well_formed_is_refused():
    with pytest.raises(BadgeImageError, match="root element is not <svg>"):
        badge_images.unbake_svg(b"<credential/>")
    with pytest.raises(BadgeImageError, match="not well-formed"):
        badge_images.unbake_svg(b'<svg xmlns="http://www.w3.org/2000/svg"><g></svg>')


def test_an_svg_without_a_credential_says_so():
    with pytest.raises(BadgeImageError, match=r"carries no Open Badges 3.0 credential"):
        badge_images.unbake_svg(badge_artwork.svg(artwork()))


def test_a_credential_with_characters_xml_cannot_carry_is_not_baked():
    with pytest.raises(BadgeImageError, match="XML cannot carry"):
        badge_images.bake_svg(badge_artwork.svg(artwork()), '{"a": "\ufffe"}')


def test_anything_else_is_neither_png_nor_svg():
    with pytest.raises(BadgeImageError, match="neither a PNG nor an SVG"):
        badge_images.unbake(b"GIF89a")
    assert not badge_images.is_image(b'{"@context": []}')
    assert badge_images.is_image(b"\xef\xbb\xbf\n<svg/>")


# Artwork ---------------------------------------------------------------------------------------


def test_the_artwork_is_deterministic_and_a_512_pixel_png():
    assert badge_artwork.png(artwork()) == badge_artwork.png(artwork())
    assert badge_artwork.svg(artwork()) == badge_artwork.svg(artwork())
    image = Image.open(io.BytesIO(badge_artwork.png(artwork())))
    assert (image.format, image.size, image.mode) == ("PNG", (512, 512), "RGBA")


def test_the_svg_artwork_names_itself_for_screen_readers_and_escapes_text():
    svg = badge_artwork.svg(artwork(title="<script>alert(1)</script> & more"))
    root = ElementTree.fromstring(svg)  # noqa: S314 (the module's own output, not an upload)
    assert root.get("role") == "img"
    assert root.findtext(f"{SVG}title") == "<script>alert(1)</script> & more"
    assert root.findtext(f"{SVG}desc") == "Université d'Exemple · EQF 7 · 3 ECTS"
    assert root.find(f".//{SVG}script") is None
    assert b"<script>" not in svg


def test_a_long_title_is_wrapped_and_shortened_to_fit_the_badge():
    plan = badge_artwork.layout(artwork(title="Interdisciplinary " * 20))
    title_lines = [line for line in plan.lines if line.bold and line.fill == "#ffffff"]
    assert len(title_lines) == 4
    assert title_lines[-1].text.endswith("…")
    for line in title_lines:
        assert badge_artwork._width(line.text, size=line.size, bold=True) <= 340


def test_the_credits_line_reads_the_eqf_level_from_its_concept_uri():
    assert badge_artwork.credits_line(artwork(ects=Decimal("2.50"))) == "EQF 7 · 2.5 ECTS"
    assert badge_artwork.credits_line(artwork(eqf_level="")) == "3 ECTS"


def _luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


@pytest.mark.parametrize("colour", badge_artwork.PALETTE)
def test_every_palette_colour_has_aa_contrast_with_white(colour):
    assert (1.05) / (_luminance(colour) + 0.05) >= 4.5


# Downloads -------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("extension", ["png", "svg"])
def test_the_badge_downloads_with_the_stored_document_baked_in(client, extension):
    credential = issue()
    response = client.get(f"/credentials/{credential.public_id}/badge.{extension}")
    assert response.status_code == 200
    assert response["Content-Type"] == {"png": "image/png", "svg": "image/svg+xml"}[extension]
    assert response["Content-Disposition"] == (
        f'attachment; filename="credential-{credential.public_id}.{extension}"'
    )
    assert response["Cache-Control"] == "private, no-cache"
    assert badge_images.unbake(response.content) == credential.document


@pytest.mark.django_db
def test_the_svg_download_may_not_run_anything_when_opened_on_its_own(client):
    credential = issue()
    response = client.get(f"/credentials/{credential.public_id}/badge.svg")
    assert response["Content-Security-Policy"].startswith("default-src 'none'")


@pytest.mark.django_db
def test_a_badge_the_client_holds_is_not_sent_again(client):
    credential = issue()
    url = f"/credentials/{credential.public_id}/badge.png"
    etag = client.get(url)["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(f"/credentials/{credential.public_id}/badge.svg")["ETag"] != etag


@pytest.mark.django_db
@pytest.mark.parametrize("extension", ["png", "svg"])
def test_an_unknown_credential_has_no_badge(client, extension):
    url = f"/credentials/00000000-0000-4000-8000-000000000000/badge.{extension}"
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_the_badge_is_only_read(client):
    credential = issue()
    assert client.post(f"/credentials/{credential.public_id}/badge.png").status_code == 405


@pytest.mark.django_db
def test_the_public_page_and_the_learners_page_link_the_badge_images(client, logged_in):
    credential = issue()
    png = f"/credentials/{credential.public_id}/badge.png"
    svg = f"/credentials/{credential.public_id}/badge.svg"
    public = client.get(credential.get_absolute_url()).text
    assert png in public
    assert svg in public
    learner = UserFactory(email="holder@example.eu")
    held = held_credential(learner)
    page = logged_in(learner).get(f"/wallet/credentials/{held.public_id}/").text
    assert f"/credentials/{held.public_id}/badge.png" in page
    assert "a picture that carries the signed credential inside it" in page


def test_an_independent_png_reader_finds_the_credential_under_the_spec_keyword():
    baked = badge_images.bake_png(badge_artwork.png(artwork()), TRICKY)
    image = Image.open(io.BytesIO(baked))
    image.load()
    assert image.text["openbadgecredential"] == TRICKY  # type: ignore[attr-defined]


def badge_of(credential) -> str:
    return reverse(
        "credentials:specification_badge",
        kwargs={
            "public_id": credential.version.micro_credential.public_id,
            "number": credential.version.number,
        },
    )


@pytest.mark.django_db
def test_the_picture_pages_show_is_the_badge_with_nothing_about_the_learner(client):
    credential = issue(holder_name="Ana Kowalska", holder_email="ana@example.eu")
    response = client.get(badge_of(credential))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response.content == badge_artwork.svg(
        badge_artwork.Badge(
            institution_name=credential.institution.name,
            title=credential.version.title,
            eqf_level=credential.version.snapshot.get("eqf_level", ""),
            ects=Decimal(credential.version.snapshot["ects"]),
        )
    )
    for personal in (b"Ana Kowalska", b"ana@example.eu", str(credential.public_id).encode()):
        assert personal not in response.content
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["Cache-Control"].startswith("public")
    assert "Content-Disposition" not in response
    again = client.get(badge_of(credential), HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


@pytest.mark.django_db
def test_the_picture_stays_for_a_credential_hidden_at_its_own_address(client):
    learner = UserFactory()
    credential = held_credential(learner)
    learner_services.credential_page_set_public(user=learner, credential=credential, public=False)
    assert client.get(credential.get_absolute_url()).status_code == 404
    assert client.get(badge_of(credential)).status_code == 200


@pytest.mark.django_db
def test_an_unknown_version_has_no_picture(client):
    credential = issue()
    missing = reverse(
        "credentials:specification_badge",
        kwargs={"public_id": credential.version.micro_credential.public_id, "number": 99},
    )
    assert client.get(missing).status_code == 404


@pytest.mark.django_db
def test_the_wallet_the_public_page_and_the_public_profile_show_the_badge(client, logged_in):
    learner = UserFactory(email="holder@example.eu")
    credential = held_credential(learner)
    picture = f'src="{badge_of(credential)}"'
    wallet = logged_in(learner).get(reverse("learners:wallet")).text
    assert picture in wallet
    public = client.get(credential.get_absolute_url()).text
    assert picture in public
    assert f'alt="Badge of {credential.version.title}"' in public
    learner_services.profile_save(
        user=learner, is_public=True, slug="ana", headline="", credentials=[credential]
    )
    profile = client.get(reverse("learners:profile_public", kwargs={"slug": "ana"})).text
    assert picture in profile
