"""Open Badges 3.0 baking: a signed credential carried inside a PNG or SVG badge image.

Pure: bytes in, bytes or text out. No Django, no queries, no files, no network.

What OB 3.0 says ("Baked Badge" in the Document Formats section; 1EdTech
openbadges-specification, ob_v3p0/docformat.md; no copy is kept in tests/standards):

- PNG: an ``iTXt`` chunk with keyword ``openbadgecredential`` whose text is the JSON of the
  credential (embedded proof) or its compact JWS (VC-JWT). "Compression MUST NOT be used." The
  chunk "MUST NOT appear in a PNG more than once"; a baker may refuse or overwrite, and this one
  refuses, so an image never silently changes which credential it carries.
- SVG: ``xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"`` on the ``<svg>`` root and,
  directly after the root's start tag, one ``<openbadges:credential>`` holding the JSON in a
  CDATA section (or, for VC-JWT, the JWS in a ``verify`` attribute).

Bakers write the credential text exactly as given, so unbaking returns it byte for byte and the
signature still verifies. Readers are strict (signature, chunk lengths, CRCs, one credential,
size caps) and, for SVG, refuse entity declarations and external entities. Besides the size
cap, each format has a work budget, so that no image under the cap costs more than a few
hundredths of a second of CPU or a few megabytes: a PNG is read chunk by chunk, keeping only the
iTXt chunks, and refused past MAX_PNG_CHUNKS chunks; an SVG is refused past MAX_SVG_NODES
elements, attributes and CDATA sections, MAX_SVG_ATTRIBUTES attributes in one tag, or
MAX_SVG_DEPTH levels of nesting (docs/security.md, "Badge images").
"""

import re
import struct
import zlib
from dataclasses import dataclass, field
from typing import Final, NoReturn
from xml.parsers import expat

PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
PNG_KEYWORD: Final = b"openbadgecredential"
# Open Badges 2.0's keyword and SVG element: recognised only to say why they cannot be imported.
OB2_PNG_KEYWORD: Final = b"openbadges"
SVG_NAMESPACE: Final = "http://www.w3.org/2000/svg"
OB3_NAMESPACE: Final = "https://purl.imsglobal.org/ob/v3p0"
OB2_NAMESPACE: Final = "http://openbadges.org"

# A badge image is artwork plus one credential; anything larger is not a badge.
MAX_IMAGE_BYTES: Final = 4 * 1024 * 1024
# The same cap as the verifier's (credentials.standards.verification.DEFAULT_MAX_BYTES).
MAX_CREDENTIAL_BYTES: Final = 512 * 1024
# The PNG specification's largest chunk length (2^31 - 1).
_PNG_MAX_CHUNK_LENGTH: Final = 0x7FFFFFFF
# Work budgets. A real badge PNG has a handful to a few dozen chunks (encoders split the image
# data into IDAT chunks of 8 KiB or more, so 4 MiB makes at most a few hundred); 12-byte chunks
# would fit 350,000 in the size cap, each costing a Python loop turn and a CRC.
MAX_PNG_CHUNKS: Final = 10_000
# Elements, attributes and CDATA sections in an SVG, counted over the whole document: each
# costs a Python callback or object. Badge artwork has tens to a few thousand elements of a few
# attributes each; the baked credential, one element and one CDATA section per "]]>" or carriage
# return it holds.
MAX_SVG_NODES: Final = 200_000
# Attributes of one element. expat and pyexpat build every attribute of a start tag before any
# handler sees it (360,000 in one tag cost 0.4 s and 90 MB), so this is checked on the bytes
# before parsing: XML forbids "<" in attribute values, so the attributes of a tag all lie
# between its "<" and the next one, each with its own "=".
MAX_SVG_ATTRIBUTES: Final = 1_000
_TOO_MANY_ATTRIBUTES = re.compile(rb"<(?:[^<=]*+=){%d}" % (MAX_SVG_ATTRIBUTES + 1))
# Nesting of SVG elements: expat keeps a stack entry per open element.
MAX_SVG_DEPTH: Final = 256
_CHUNK_TYPE = re.compile(rb"[A-Za-z]{4}")
# Characters XML 1.0 cannot carry at all, not even as a character reference.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_UTF8_BOM: Final = b"\xef\xbb\xbf"


class BadgeImageError(ValueError):
    """An image that cannot be baked or read; the message says why, in plain English."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """One PNG chunk: its four-letter type and its data (length and CRC already checked)."""

    type: bytes
    data: bytes


# Sniffing --------------------------------------------------------------------------------------


def is_png(data: bytes) -> bool:
    return data.startswith(PNG_SIGNATURE)


def is_svg(data: bytes) -> bool:
    """Whether data looks like XML; a JSON credential never starts with "<"."""
    return data.removeprefix(_UTF8_BOM).lstrip(b" \t\r\n").startswith(b"<")


def is_image(data: bytes) -> bool:
    return is_png(data) or is_svg(data)


def unbake(data: bytes) -> str:
    """The credential text baked into a PNG or SVG image. Raises BadgeImageError."""
    if is_png(data):
        return unbake_png(data)
    if is_svg(data):
        return unbake_svg(data)
    raise BadgeImageError("this is neither a PNG nor an SVG image")


# PNG -------------------------------------------------------------------------------------------


def png_chunks(png: bytes) -> list[Chunk]:
    """The chunks of a PNG, strictly: signature, IHDR first, IEND last and nothing after it,
    every length within the file and every CRC right, at most MAX_PNG_CHUNKS of them.
    Raises BadgeImageError."""
    view = memoryview(png)
    return [Chunk(type=kind, data=bytes(view[start:end])) for kind, start, end in _png_scan(png)]


def _png_scan(png: bytes) -> list[tuple[bytes, int, int]]:
    """Each chunk's type and the bounds of its data, checked as png_chunks says; no chunk's
    data is copied. Raises BadgeImageError."""
    if len(png) > MAX_IMAGE_BYTES:
        raise BadgeImageError(
            f"the image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MiB; no badge is that large"
        )
    if not is_png(png):
        raise BadgeImageError("this is not a PNG image (the PNG signature is missing)")
    view = memoryview(png)
    chunks: list[tuple[bytes, int, int]] = []
    offset = len(PNG_SIGNATURE)
    while True:
        if len(chunks) >= MAX_PNG_CHUNKS:
            raise BadgeImageError(
                f"the PNG image has more than {MAX_PNG_CHUNKS:,} chunks; no badge has that many"
            )
        if offset + 8 > len(png):
            raise BadgeImageError("the PNG image is truncated (it ends before its IEND chunk)")
        length, chunk_type = struct.unpack(">I4s", png[offset : offset + 8])
        if not _CHUNK_TYPE.fullmatch(chunk_type):
            raise BadgeImageError(f"the PNG image has a malformed chunk at byte {offset}")
        if length > _PNG_MAX_CHUNK_LENGTH or offset + 12 + length > len(png):
            raise BadgeImageError(
                f"the PNG image is truncated (its {chunk_type.decode()} chunk is cut short)"
            )
        (crc,) = struct.unpack_from(">I", png, offset + 8 + length)
        if zlib.crc32(view[offset + 8 : offset + 8 + length], zlib.crc32(chunk_type)) != crc:
            raise BadgeImageError(
                f"the PNG image is damaged (the CRC of its {chunk_type.decode()} chunk is wrong)"
            )
        if not chunks and chunk_type != b"IHDR":
            raise BadgeImageError("the PNG image is malformed (it does not start with IHDR)")
        chunks.append((chunk_type, offset + 8, offset + 8 + length))
        offset += 12 + length
        if chunk_type == b"IEND":
            break
    if offset != len(png):
        raise BadgeImageError("the PNG image has data after its IEND chunk")
    return chunks


def png_chunk(chunk_type: bytes, data: bytes) -> bytes:
    """One encoded chunk: length, type, data and CRC-32 of type and data."""
    if len(data) > _PNG_MAX_CHUNK_LENGTH:
        raise BadgeImageError("the chunk is too large for a PNG")
    return (
        struct.pack(">I", len(data))
        + chunk_type
        + data
        + struct.pack(">I", zlib.crc32(chunk_type + data))
    )


def itxt_data(keyword: bytes, text: str) -> bytes:
    """An uncompressed iTXt chunk's data, with an empty language tag and translated keyword."""
    # keyword NUL, compression flag 0, compression method 0, language tag "" NUL,
    # translated keyword "" NUL, then the UTF-8 text, which is not NUL-terminated.
    return keyword + b"\x00" + b"\x00\x00" + b"\x00" + b"\x00" + text.encode("utf-8")


def _itxt_keyword(data: bytes) -> bytes:
    return data.split(b"\x00", 1)[0]


def _itxt_text(data: bytes) -> str:
    """The text of an iTXt chunk's data, decompressed when flagged so. Raises BadgeImageError."""
    parts = data.split(b"\x00", 1)
    if len(parts) != 2 or len(parts[1]) < 2:
        raise BadgeImageError("the credential's iTXt chunk is malformed")
    flag, method, rest = parts[1][0], parts[1][1], parts[1][2:]
    fields = rest.split(b"\x00", 2)
    if len(fields) != 3:
        raise BadgeImageError("the credential's iTXt chunk is malformed")
    text = fields[2]
    if flag == 1:
        # OB 3.0 forbids compression when baking; a lenient reader still accepts it.
        if method != 0:
            raise BadgeImageError("the credential's iTXt chunk uses an unknown compression")
        inflater = zlib.decompressobj()
        try:
            text = inflater.decompress(text, MAX_CREDENTIAL_BYTES + 1)
        except zlib.error:
            raise BadgeImageError("the credential's compressed iTXt chunk is damaged") from None
        if len(text) > MAX_CREDENTIAL_BYTES or inflater.unconsumed_tail:
            raise BadgeImageError(_too_large())
        if not inflater.eof:
            raise BadgeImageError("the credential's compressed iTXt chunk is truncated")
    elif flag != 0:
        raise BadgeImageError("the credential's iTXt chunk has an invalid compression flag")
    if len(text) > MAX_CREDENTIAL_BYTES:
        raise BadgeImageError(_too_large())
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        raise BadgeImageError("the credential in the PNG image is not UTF-8 text") from None


def unbake_png(png: bytes) -> str:
    """The credential text of the image's one openbadgecredential iTXt chunk, exactly as baked.
    Raises BadgeImageError for a damaged PNG, none or more than one credential."""
    view = memoryview(png)
    texts = [
        Chunk(type=kind, data=bytes(view[start:end]))
        for kind, start, end in _png_scan(png)
        if kind == b"iTXt"
    ]
    keywords = [_itxt_keyword(c.data) for c in texts]
    found = [c for c in texts if _itxt_keyword(c.data) == PNG_KEYWORD]
    if len(found) > 1:
        raise BadgeImageError("the PNG image carries more than one credential")
    if not found:
        if OB2_PNG_KEYWORD in keywords:
            raise BadgeImageError(
                "the PNG image carries an Open Badges 2.0 assertion, not an Open Badges 3.0 credential"
            )
        raise BadgeImageError("the PNG image carries no Open Badges 3.0 credential")
    text = _itxt_text(found[0].data)
    if not text.strip():
        raise BadgeImageError("the credential in the PNG image is empty")
    return text


def bake_png(png: bytes, credential: str) -> bytes:
    """The PNG with the credential text in a new openbadgecredential iTXt chunk before IEND,
    uncompressed; every other byte is kept. Raises BadgeImageError for a damaged PNG or one that
    already carries a credential."""
    _check_credential_text(credential)
    view = memoryview(png)
    if any(
        kind == b"iTXt" and _itxt_keyword(bytes(view[start:end])) == PNG_KEYWORD
        for kind, start, end in _png_scan(png)
    ):
        raise BadgeImageError("the PNG image already carries a credential; one image holds one")
    iend = len(png) - 12  # png_chunks proved the file ends with an empty IEND chunk.
    return png[:iend] + png_chunk(b"iTXt", itxt_data(PNG_KEYWORD, credential)) + png[iend:]


# SVG -------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _SvgScan:
    """What one pass of the XML parser learnt about an SVG."""

    root: str = ""
    root_offset: int = -1
    encoding: str | None = None
    credentials: int = 0
    ob2_assertion: bool = False
    verify: str | None = None
    # Elements, attributes and CDATA sections seen, and elements open: the work budget.
    nodes: int = 0
    depth: int = 0
    depth_in_credential: int = 0
    cdata: bool = False
    # The credential element's character data in document order, each part marked as inside a
    # CDATA section or not.
    parts: list[tuple[bool, str]] = field(default_factory=list)


def _refuse_dtd_entities(*_args: object) -> NoReturn:
    raise BadgeImageError("the SVG image declares XML entities, which are not accepted")


def _scan_svg(svg: bytes) -> _SvgScan:
    """Parses the SVG once, safely. Raises BadgeImageError for what is not a well-formed SVG."""
    if len(svg) > MAX_IMAGE_BYTES:
        raise BadgeImageError(
            f"the image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MiB; no badge is that large"
        )
    if svg.count(b"=") > MAX_SVG_ATTRIBUTES and _TOO_MANY_ATTRIBUTES.search(svg):
        raise BadgeImageError(
            f"the SVG image has an element with more than {MAX_SVG_ATTRIBUTES:,} attributes; "
            "no badge has one"
        )
    scan = _SvgScan()
    parser = expat.ParserCreate(namespace_separator=" ")
    # Contiguous text reaches Python in one call (up to the buffer's size), not one per line or
    # per character reference; the CDATA handlers still see where each section starts and ends.
    parser.buffer_text = True
    parser.buffer_size = 64 * 1024
    # No DTD is ever read: no parameter entities, no external entities, no entity declarations
    # (which is what makes "billion laughs" and external-entity reads impossible).
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _refuse_dtd_entities
    parser.UnparsedEntityDeclHandler = _refuse_dtd_entities
    parser.ExternalEntityRefHandler = _refuse_dtd_entities

    def doctype(_name: str, _system: str | None, _public: str | None, internal: int) -> None:
        if internal:
            raise BadgeImageError("the SVG image has an internal DTD subset, which is not accepted")

    def xml_declaration(_version: str, encoding: str | None, _standalone: int) -> None:
        scan.encoding = encoding

    def count(nodes: int) -> None:
        scan.nodes += nodes
        if scan.nodes > MAX_SVG_NODES:
            raise BadgeImageError(
                f"the SVG image has more than {MAX_SVG_NODES:,} elements, attributes and CDATA "
                "sections; no badge has that many"
            )

    def start(name: str, attributes: dict[str, str]) -> None:
        count(1 + len(attributes))
        scan.depth += 1
        if scan.depth > MAX_SVG_DEPTH:
            raise BadgeImageError(
                f"the SVG image nests elements more than {MAX_SVG_DEPTH} deep; no badge does"
            )
        if not scan.root:
            scan.root, scan.root_offset = name, parser.CurrentByteIndex
        if scan.depth_in_credential:
            raise BadgeImageError("the SVG image's credential element contains other elements")
        if name == f"{OB3_NAMESPACE} credential":
            scan.credentials += 1
            if scan.credentials > 1:
                raise BadgeImageError("the SVG image carries more than one credential")
            scan.depth_in_credential = 1
            scan.verify = attributes.get("verify")
        elif name == f"{OB2_NAMESPACE} assertion":
            scan.ob2_assertion = True

    def end(_name: str) -> None:
        scan.depth -= 1
        scan.depth_in_credential = 0

    def text(data: str) -> None:
        if scan.depth_in_credential:
            scan.parts.append((scan.cdata, data))

    def cdata_start() -> None:
        count(1)
        scan.cdata = True

    def cdata_end() -> None:
        scan.cdata = False

    parser.StartDoctypeDeclHandler = doctype
    parser.XmlDeclHandler = xml_declaration
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartCdataSectionHandler = cdata_start
    parser.EndCdataSectionHandler = cdata_end
    try:
        parser.Parse(svg, True)
    except expat.ExpatError as exc:
        raise BadgeImageError(
            f"the SVG image is not well-formed XML ({expat.errors.messages[exc.code]}, "
            f"line {exc.lineno})"
        ) from None
    if scan.root != f"{SVG_NAMESPACE} svg":
        raise BadgeImageError("this is not an SVG image (its root element is not <svg>)")
    return scan


def unbake_svg(svg: bytes) -> str:
    """The credential text of the SVG's one <openbadges:credential>: its CDATA exactly as baked
    (or its ``verify`` JWS). Raises BadgeImageError for bad XML, none or more than one."""
    scan = _scan_svg(svg)
    if not scan.credentials:
        if scan.ob2_assertion:
            raise BadgeImageError(
                "the SVG image carries an Open Badges 2.0 assertion, not an Open Badges 3.0 credential"
            )
        raise BadgeImageError("the SVG image carries no Open Badges 3.0 credential")
    text = scan.verify.strip() if scan.verify and scan.verify.strip() else _credential_text(scan)
    if not text.strip():
        raise BadgeImageError("the credential in the SVG image is empty")
    if len(text.encode("utf-8")) > MAX_CREDENTIAL_BYTES:
        raise BadgeImageError(_too_large())
    return text


def _credential_text(scan: _SvgScan) -> str:
    """The credential element's text. Whitespace around the CDATA (as in the specification's
    example) is layout; from the first CDATA section to the last, every character counts."""
    marked = [index for index, (in_cdata, _text) in enumerate(scan.parts) if in_cdata]
    if not marked:
        return "".join(text for _in_cdata, text in scan.parts).strip()
    first, last = marked[0], marked[-1]
    around = scan.parts[:first] + scan.parts[last + 1 :]
    if "".join(text for _in_cdata, text in around).strip():
        raise BadgeImageError("the SVG image's credential has text outside its CDATA section")
    return "".join(text for _in_cdata, text in scan.parts[first : last + 1])


def svg_credential_element(credential: str) -> str:
    """<openbadges:credential> holding the text in CDATA, exactly: a "]]>" inside it splits the
    section, and a carriage return (which XML would turn into a line feed) is a reference."""
    _check_credential_text(credential)
    if _NOT_XML.search(credential):
        raise BadgeImageError("the credential holds characters that XML cannot carry")
    body = credential.replace("]]>", "]]]]><![CDATA[>").replace("\r", "]]>&#13;<![CDATA[")
    return f"<openbadges:credential><![CDATA[{body}]]></openbadges:credential>"


def bake_svg(svg: bytes, credential: str) -> bytes:
    """The SVG with the OB 3.0 namespace on its root and the credential directly after the root's
    start tag; every other byte is kept. Raises BadgeImageError for an SVG that is not UTF-8,
    not well-formed, or already carries a credential."""
    scan = _scan_svg(svg)
    if scan.credentials:
        raise BadgeImageError("the SVG image already carries a credential; one image holds one")
    if scan.encoding is not None and scan.encoding.lower().replace("_", "-") != "utf-8":
        raise BadgeImageError("only a UTF-8 SVG image can be baked")
    start_tag_end = _start_tag_end(svg, scan.root_offset)
    if svg[start_tag_end - 1 : start_tag_end] == b"/":
        raise BadgeImageError("the SVG image is empty")
    start_tag = svg[scan.root_offset : start_tag_end]
    declaration = f'xmlns:openbadges="{OB3_NAMESPACE}"'.encode()
    if b"xmlns:openbadges" in start_tag and declaration not in start_tag:
        raise BadgeImageError("the SVG image binds the openbadges prefix to another namespace")
    attribute = b"" if declaration in start_tag else b" " + declaration
    baked = (
        svg[:start_tag_end]
        + attribute
        + b">"
        + svg_credential_element(credential).encode("utf-8")
        + svg[start_tag_end + 1 :]
    )
    # The promise is a byte-identical credential; reading it back proves it for this image.
    if unbake_svg(baked) != credential:
        raise BadgeImageError("the credential could not be baked into this SVG image unchanged")
    return baked


def _start_tag_end(svg: bytes, offset: int) -> int:
    """The index of the ">" that closes the start tag at offset (quotes may hold a ">")."""
    quote: int | None = None
    for index in range(offset, len(svg)):
        byte = svg[index]
        if quote is not None:
            if byte == quote:
                quote = None
        elif byte in b"\"'":
            quote = byte
        elif byte == ord(">"):
            return index
    raise BadgeImageError("the SVG image is not well-formed XML")


def _check_credential_text(credential: str) -> None:
    if not credential.strip():
        raise BadgeImageError("there is no credential to bake")
    if len(credential.encode("utf-8")) > MAX_CREDENTIAL_BYTES:
        raise BadgeImageError(_too_large())


def _too_large() -> str:
    return f"the credential is larger than {MAX_CREDENTIAL_BYTES // 1024} KiB; none is that large"
