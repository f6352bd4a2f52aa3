"""Rebuilds the certificate fonts in this folder from Debian's DejaVu Sans (fonts-dejavu-core).

Run from the repository root: `.venv/bin/python credentials/issuing/fonts/subset_fonts.py`. The output is
committed, so rendering never depends on the fonts a machine happens to have. Bump
credentials.issuing.certificate.TEMPLATE_VERSION after changing the fonts.
"""

import sys
from pathlib import Path
from typing import Final

# fontTools ships no type hints; pyproject.toml's list of untyped modules does not name it yet.
from fontTools import subset
from fontTools.ttLib import TTFont

SOURCE_DIR: Final = Path("/usr/share/fonts/truetype/dejavu")
TARGET_DIR: Final = Path(__file__).resolve().parent
FAMILY: Final = "MESHE Sans"
FONTS: Final = (
    ("DejaVuSans.ttf", "MesheSans-Regular.ttf", "Regular"),
    ("DejaVuSans-Bold.ttf", "MesheSans-Bold.ttf", "Bold"),
)
# Every script of the EU's official languages, with the punctuation and symbols a certificate
# uses: Latin with all its extensions (Latin Extended Additional holds ẞ and names from outside
# the EU), Greek, Cyrillic, combining marks for decomposed input, and U+FFFD for the unknown.
UNICODE_RANGES: Final = (
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x024F),  # Latin-1 Supplement, Latin Extended-A and -B (ș ț)
    (0x02B0, 0x036F),  # spacing modifiers (caron, breve, ogonek) and combining diacritical marks
    (0x0370, 0x03FF),  # Greek
    (0x0400, 0x04FF),  # Cyrillic
    (0x1E00, 0x1EFF),  # Latin Extended Additional
    (0x2000, 0x206F),  # general punctuation: dashes, quotes, bullets, ellipsis
    (0x20A0, 0x20CF),  # currency, with €
    (0x2100, 0x214F),  # letterlike symbols, with №
    (0x2190, 0x2195),  # arrows
    (0x2212, 0x2212),  # minus
    (0x2713, 0x2713),  # check mark
    (0xFFFD, 0xFFFD),  # replacement character
)


def codepoints() -> list[int]:
    """Return every codepoint the bundled fonts keep."""
    return [point for start, end in UNICODE_RANGES for point in range(start, end + 1)]


def subset_font(source: Path, target: Path, style: str) -> int:
    """Write the subset of source to target under the MESHE Sans name; return its glyph count."""
    # Keep the source's timestamp, so a rebuild from the same source is byte for byte the same.
    font = TTFont(source, recalcTimestamp=False)
    options = subset.Options()
    options.layout_features = ["*"]  # kerning and mark positioning for diacritics
    options.hinting = False  # PDF viewers do not use TrueType hinting
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.drop_tables += ["FFTM"]  # FontForge's timestamps: not needed, and fontTools warns
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=codepoints())
    subsetter.subset(font)
    # A renamed family tells the bundled copy apart from an installed DejaVu Sans, in the PDF
    # and in fontconfig; DejaVu's licence also asks modified copies to be renamed.
    names = font["name"]
    postscript = f"{FAMILY.replace(' ', '')}-{style}"
    for record in list(names.names):
        if record.nameID in (1, 16):
            names.setName(FAMILY, record.nameID, record.platformID, record.platEncID, record.langID)
        elif record.nameID in (2, 17):
            names.setName(style, record.nameID, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 3:
            names.setName(
                f"{postscript} (subset of DejaVu Sans)",
                3,
                record.platformID,
                record.platEncID,
                record.langID,
            )
        elif record.nameID == 4:
            full_name = FAMILY if style == "Regular" else f"{FAMILY} {style}"
            names.setName(full_name, 4, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 6:
            names.setName(postscript, 6, record.platformID, record.platEncID, record.langID)
    font.save(target)
    return len(font.getGlyphOrder())


def main() -> int:
    for source_name, target_name, style in FONTS:
        source = SOURCE_DIR / source_name
        if not source.is_file():
            print(f"{source} is missing: apt-get install fonts-dejavu-core", file=sys.stderr)
            return 1
        glyphs = subset_font(source, TARGET_DIR / target_name, style)
        print(f"{target_name}: {glyphs} glyphs, {(TARGET_DIR / target_name).stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
