"""The badge picture of an issued credential, as SVG and as PNG, from plain values.

Pure and deterministic: the same values give the same bytes. No queries, no network; the only
files read are the bundled fonts in credentials/fonts. One layout (shapes and text lines placed
by measuring the bundled font) is written out twice: as SVG markup, and as a PNG drawn with
Pillow from the same layout and the same font. Both carry no credential; credentials.standards.badge_images
bakes one in.

The picture holds no words of the interface, only the institution's name, the credential's title,
"EQF" with the level and "ECTS" with the credits, so it is the same in every language. Uploaded
institution artwork is a follow-up: today every badge is generated.
"""

import hashlib
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Final
from xml.sax.saxutils import escape, quoteattr

from PIL import Image, ImageDraw, ImageFont

# Bump whenever the layout, palette or fonts change: it is part of the downloads' ETag.
ARTWORK_VERSION: Final = "1"
SIZE: Final = 512
FONTS_DIR: Final = Path(__file__).resolve().parent / "fonts"
FONT_FILES: Final = {False: "MesheSans-Regular.ttf", True: "MesheSans-Bold.ttf"}
# The bundled font is DejaVu Sans; viewers of the SVG without it get a font as wide or narrower.
SVG_FONT_FAMILY: Final = "'MESHE Sans', 'DejaVu Sans', Verdana, sans-serif"
WHITE: Final = "#ffffff"
# Dark colours on which white text (and which, as text, on white) passes WCAG 2.1 AA contrast
# (at least 4.5:1); each institution gets one, by its name.
PALETTE: Final = ("#1f4e79", "#1b5e20", "#6a1b9a", "#8b1e3f", "#00566b", "#5d4037", "#283593")
# Drawn this many times larger, then scaled down: Pillow's shapes have no anti-aliasing.
_SUPERSAMPLE: Final = 2
_BOLD: Final = ' font-weight="bold"'
_ELLIPSIS: Final = "…"
# Characters XML 1.0 cannot carry; they have no place in a name or a title either.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class Badge:
    """What the badge shows. eqf_level is the ELM concept URI as issued (or "")."""

    institution_name: str
    title: str
    eqf_level: str
    ects: Decimal


@dataclass(frozen=True, slots=True)
class Line:
    """One line of text, centred on x with its baseline at y."""

    text: str
    y: float
    size: int
    bold: bool
    fill: str


@dataclass(frozen=True, slots=True)
class Layout:
    colour: str
    lines: tuple[Line, ...]
    # The pill behind the credits line: left, top, right, bottom.
    pill: tuple[float, float, float, float]
    title: str
    description: str


def eqf_number(uri: str) -> str:
    """The level of an EQF concept URI (".../snb/eqf/6" gives "6"), or "" for anything else."""
    last = uri.rstrip("/").rsplit("/", 1)[-1]
    return last if "/eqf/" in uri and last in {str(n) for n in range(1, 9)} else ""


def credits_line(badge: Badge) -> str:
    ects = f"{badge.ects.normalize():f}"
    level = eqf_number(badge.eqf_level)
    return f"EQF {level} · {ects} ECTS" if level else f"{ects} ECTS"


def colour_for(institution_name: str) -> str:
    digest = hashlib.sha256(institution_name.encode("utf-8")).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def layout(badge: Badge) -> Layout:
    """Where everything goes on the badge (SIZE by SIZE), text wrapped to fit inside the ring."""
    colour = colour_for(badge.institution_name)
    institution = _clean(badge.institution_name)
    title = _clean(badge.title)
    lines: list[Line] = []
    named = _wrap(institution, size=22, bold=False, width=300, most=2)
    for number, text in enumerate(named):
        # The last line sits just above the divider, however many lines the name takes.
        y = 166 - 26 * (len(named) - 1 - number)
        lines.append(Line(text=text, y=y, size=22, bold=False, fill=WHITE))
    for size, most in ((34, 3), (30, 3), (26, 4), (22, 4)):
        wrapped = _wrap(title, size=size, bold=True, width=340, most=most)
        if not _truncated(wrapped, title):
            break
    height = size * 1.2
    first = 268 - (len(wrapped) - 1) * height / 2 + size * 0.35
    for number, text in enumerate(wrapped):
        lines.append(Line(text=text, y=first + height * number, size=size, bold=True, fill=WHITE))
    credits = credits_line(badge)
    half = _width(credits, size=22, bold=True) / 2 + 24
    lines.append(Line(text=credits, y=380, size=22, bold=True, fill=colour))
    description = f"{institution} · {credits}"
    return Layout(
        colour=colour,
        lines=tuple(lines),
        pill=(SIZE / 2 - half, 350, SIZE / 2 + half, 394),
        title=title,
        description=description,
    )


def svg(badge: Badge) -> bytes:
    """The badge as a UTF-8 SVG document, with a title and description for screen readers."""
    plan = layout(badge)
    left, top, right, bottom = plan.pill
    texts = "\n".join(
        f'    <text x="{SIZE / 2:g}" y="{line.y:.1f}" font-size="{line.size}"'
        f'{_BOLD if line.bold else ""} fill="{line.fill}">{escape(line.text)}</text>'
        for line in plan.lines
    )
    markup = f"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}" role="img" aria-labelledby="badge-title badge-desc">
  <title id="badge-title">{escape(plan.title)}</title>
  <desc id="badge-desc">{escape(plan.description)}</desc>
  <circle cx="256" cy="256" r="248" fill="{plan.colour}"/>
  <circle cx="256" cy="256" r="228" fill="none" stroke="{WHITE}" stroke-width="4"/>
  <line x1="216" y1="190" x2="296" y2="190" stroke="{WHITE}" stroke-width="2"/>
  <rect x="{left:.1f}" y="{top:g}" width="{right - left:.1f}" height="{bottom - top:g}" rx="22" fill="{WHITE}"/>
  <g font-family={quoteattr(SVG_FONT_FAMILY)} text-anchor="middle">
{texts}
  </g>
</svg>
"""
    return markup.encode("utf-8")


def png(badge: Badge) -> bytes:
    """The same badge as a SIZE by SIZE RGBA PNG with a transparent background."""
    plan = layout(badge)
    scale = _SUPERSAMPLE
    image = Image.new("RGBA", (SIZE * scale, SIZE * scale), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)

    def box(cx: float, cy: float, r: float) -> tuple[float, float, float, float]:
        return ((cx - r) * scale, (cy - r) * scale, (cx + r) * scale, (cy + r) * scale)

    draw.ellipse(box(256, 256, 248), fill=plan.colour)
    draw.ellipse(box(256, 256, 230), outline=WHITE, width=4 * scale)
    draw.line((216 * scale, 190 * scale, 296 * scale, 190 * scale), fill=WHITE, width=2 * scale)
    left, top, right, bottom = plan.pill
    draw.rounded_rectangle(
        (left * scale, top * scale, right * scale, bottom * scale), radius=22 * scale, fill=WHITE
    )
    for line in plan.lines:
        draw.text(
            (SIZE / 2 * scale, line.y * scale),
            line.text,
            font=_font(line.size * scale, line.bold),
            fill=line.fill,
            anchor="ms",
        )
    # A box filter at a whole-number factor averages each block of pixels: plain anti-aliasing.
    image = image.resize((SIZE, SIZE), Image.Resampling.BOX)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@cache
def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont:
    # The basic layout engine, not Raqm: the same glyph positions on every machine.
    return ImageFont.truetype(
        str(FONTS_DIR / FONT_FILES[bold]), size, layout_engine=ImageFont.Layout.BASIC
    )


def _width(text: str, *, size: int, bold: bool) -> float:
    return float(_font(size, bold).getlength(text))


def _clean(text: str) -> str:
    return " ".join(_NOT_XML.sub("", text).split())


def _truncated(lines: list[str], text: str) -> bool:
    return bool(lines) and lines[-1].endswith(_ELLIPSIS) and not text.endswith(_ELLIPSIS)


def _wrap(text: str, *, size: int, bold: bool, width: float, most: int) -> list[str]:
    """Lines of at most width, breaking between words (inside a word only when it alone is too
    wide); past `most` lines, the last one ends with an ellipsis."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if _width(candidate, size=size, bold=bold) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while _width(current, size=size, bold=bold) > width:
            cut = len(current) - 1
            while cut > 1 and _width(current[:cut], size=size, bold=bold) > width:
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    if current:
        lines.append(current)
    if len(lines) <= most:
        return lines
    last = lines[most - 1]
    while last and _width(last + _ELLIPSIS, size=size, bold=bold) > width:
        last = last[:-1].rstrip()
    return [*lines[: most - 1], last + _ELLIPSIS]
