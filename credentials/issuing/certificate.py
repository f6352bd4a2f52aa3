"""The printable certificate of an issued credential: plain values in, an A4 PDF out.

Pure: no queries and no storage. The only files read are the bundled fonts in credentials/issuing/fonts,
the template and its stylesheet; the only images are the ones passed in. Nothing is fetched from the network.

weasyprint is imported on the first render, not with this module: web processes need
TEMPLATE_VERSION but never render, and importing weasyprint costs about 0.4 s and 45 MB.
"""

import base64
import threading
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Final
from urllib.parse import unquote, urlsplit

import segno
from django.template.loader import render_to_string
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from credentials.ects import ects_number
from credentials.standards import vocabularies

if TYPE_CHECKING:
    from weasyprint import CSS, Document
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher

# Part of the key under which rendered certificates are stored: bump it whenever the template,
# the styles, the fonts or what this module puts on the page changes, and every certificate is
# rendered again on its next request.
TEMPLATE_VERSION: Final = "4"
TEMPLATE: Final = "credentials/certificate.html"
# Parsed once per thread with the fonts (_typesetter), not with each document's HTML.
STYLESHEET: Final = Path(__file__).resolve().parent / "certificate.css"
FONTS_DIR: Final = Path(__file__).resolve().parent / "fonts"
FONT_FAMILY: Final = "MESHE Sans"
FONT_FILES: Final = {400: "MesheSans-Regular.ttf", 700: "MesheSans-Bold.ttf"}
# Logos larger than this are downsampled in the PDF; 300 dpi is print quality.
IMAGE_DPI: Final = 300


@dataclass(frozen=True, slots=True)
class Logo:
    """An image file's bytes and media type, as stored."""

    content: bytes
    media_type: str


@dataclass(frozen=True, slots=True)
class LearningOutcome:
    text: str
    # English labels of the ESCO skills the outcome is aligned with.
    skills: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CarriedEndorsement:
    """An endorsement the credential carries, with its state when the issuer last checked it."""

    endorser_name: str
    comment: str
    # An Endorsement.State value: "verified", "endorser_unknown", "revoked" or "invalid".
    state: str
    checked_at: date


@dataclass(frozen=True, slots=True)
class Certificate:
    """What a certificate shows. Vocabulary fields hold the ELM concept URIs, as issued."""

    credential_id: str
    public_url: str
    issuer_did: str
    learner_name: str
    title: str
    # The language of title and learning outcomes, a BCP 47 tag.
    language: str
    institution_name: str
    # ISO 3166-1 alpha-2.
    institution_country: str
    issued_on: date
    awarded_on: date
    learning_outcomes: tuple[LearningOutcome, ...]
    ects: Decimal
    eqf_level: str
    assessment_type: str
    form_of_participation: str
    quality_assurance: str
    workload_hours: int | None = None
    quality_assurance_note: str = ""
    grade: str = ""
    valid_until: date | None = None
    supervision_verification: str = ""
    prerequisites: str = ""
    is_partial: bool = False
    institution_logo: Logo | None = field(default=None, repr=False)
    # "revoked" or "suspended" with the day it became so; "" while the credential is valid.
    # The page then says so prominently and no longer simply certifies the award.
    status: str = ""
    status_since: date | None = None
    endorsements: tuple[CarriedEndorsement, ...] = ()


@dataclass(frozen=True, slots=True)
class Element:
    """One labelled row of the certificate: a text, or a list of learning outcomes."""

    label: str
    text: str = ""
    outcomes: tuple[LearningOutcome, ...] = ()


def render(certificate: Certificate) -> bytes:
    """Return the certificate as a PDF, set in the bundled fonts; same values, same bytes."""
    # Tagged, so screen readers follow the headings and the table. Fonts are subset as usual:
    # with full_fonts=True weasyprint reads every glyph's width through fontTools and embeds
    # 250 KB of fonts, slower than HarfBuzz subsetting the small bundled fonts (see bench/).
    return document(certificate).write_pdf(pdf_tags=True)


def document(certificate: Certificate) -> "Document":
    """Return the laid-out weasyprint document of the certificate, before it becomes a PDF."""
    from weasyprint import HTML

    typesetter = _typesetter()
    return HTML(string=html(certificate), url_fetcher=typesetter.fetcher).render(
        font_config=typesetter.font_config, stylesheets=[typesetter.stylesheet], dpi=IMAGE_DPI
    )


def html(certificate: Certificate) -> str:
    """Return the HTML that weasyprint typesets, in the active language."""
    return render_to_string(
        TEMPLATE,
        {
            "certificate": certificate,
            "country": _country(certificate.institution_country),
            "eqf_level": _eqf(certificate.eqf_level),
            "workload": _workload(certificate.ects, certificate.workload_hours),
            "elements": eu_elements(certificate),
            "details": further_details(certificate),
            "logo": _data_url(certificate.institution_logo),
            "qr_code": qr_svg(certificate.public_url),
        },
    )


def eu_elements(certificate: Certificate) -> list[Element]:
    """Return the eleven mandatory elements of the Council Recommendation, in Annex I order."""
    c = certificate
    quality_assurance = _label(c.quality_assurance)
    if c.quality_assurance_note:
        quality_assurance = f"{quality_assurance}. {c.quality_assurance_note}"
    return [
        Element(_("Learner"), c.learner_name),
        Element(_("Title of the micro-credential"), c.title),
        Element(_("Country of the issuer"), _country(c.institution_country)),
        Element(_("Awarding body"), c.institution_name),
        Element(_("Date of issuing"), _date(c.issued_on)),
        Element(_("Learning outcomes"), outcomes=c.learning_outcomes),
        Element(_("Notional workload"), _workload(c.ects, c.workload_hours)),
        Element(_("Level"), _eqf(c.eqf_level)),
        Element(_("Type of assessment"), _label(c.assessment_type)),
        Element(_("Form of participation"), _label(c.form_of_participation)),
        Element(_("Type of quality assurance"), quality_assurance),
    ]


def further_details(certificate: Certificate) -> list[Element]:
    """Return the optional elements the credential states; none when it states none."""
    c = certificate
    details = []
    if c.grade:
        details.append(Element(_("Grade achieved"), c.grade))
    if c.supervision_verification:
        details.append(
            Element(_("Supervision and identity verification"), _label(c.supervision_verification))
        )
    if c.prerequisites:
        details.append(Element(_("Prerequisites"), c.prerequisites))
    details.append(
        Element(
            _("Integration"),
            _("Stackable towards a larger credential")
            if c.is_partial
            else _("Stand-alone micro-credential"),
        )
    )
    if c.valid_until:
        details.append(Element(_("Valid until"), _date(c.valid_until)))
    return details


def qr_svg(url: str) -> SafeString:
    """Return an inline SVG QR code of url, sized by the stylesheet."""
    code = segno.make(url, error="m")
    # segno writes only its own markup: numbers and a path, no text from the URL.
    return mark_safe(  # noqa: S308
        code.svg_inline(scale=1, border=0, omitsize=True, dark="#1a1a1a", svgclass="qr-code")
    )


def _label(uri: str) -> str:
    """Return a vocabulary concept's label in the active language (else English), capitalised;
    the URI when it is unknown."""
    try:
        label = vocabularies.concept(uri).localized_label
    except vocabularies.UnknownConcept:
        # Issuing checked the URI; a later vocabulary update must not stop a certificate.
        return uri
    return label[:1].upper() + label[1:]


def _eqf(uri: str) -> str:
    return _("EQF %(level)s") % {"level": _label(uri).lower()}


def _country(alpha2: str) -> str:
    try:
        return vocabularies.country(alpha2).localized_label
    except vocabularies.UnknownConcept:
        return alpha2


def _workload(ects: Decimal, hours: int | None) -> str:
    credits = _("%(ects)s ECTS credits") % {"ects": ects_number(ects)}
    if hours:
        return _("%(credits)s (%(hours)s hours)") % {"credits": credits, "hours": hours}
    return credits


def _date(day: date) -> str:
    # The active language's own way, with the month named: "20 novembre 2026", never 11/12/2026.
    return date_format(day, "DATE_FORMAT")


def _data_url(logo: Logo | None) -> str:
    if logo is None:
        return ""
    return f"data:{logo.media_type};base64,{base64.b64encode(logo.content).decode('ascii')}"


def _local_fetcher() -> "URLFetcher":
    """Return a URL fetcher that serves the bundled fonts and data: URLs and refuses the rest."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalFetcher(URLFetcher):
        def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
            if url.startswith("data:"):
                return super().fetch(url)  # decoded by urllib's DataHandler, without any I/O
            parts = urlsplit(url)
            if parts.scheme == "file":
                path = Path(unquote(parts.path)).resolve()
                if path.parent == FONTS_DIR and path.suffix == ".ttf":
                    return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": "font/ttf"})
            # A certificate holds only what it was given: never the network, never other files.
            raise ValueError(f"certificates load nothing from {url}")

    return LocalFetcher(allowed_protocols=("data",))


@dataclass(slots=True)
class _Typesetter:
    """weasyprint objects that are expensive to build and safe to reuse within one thread."""

    fetcher: "URLFetcher"
    font_config: "FontConfiguration"
    stylesheet: "CSS"  # the bundled fonts' faces and certificate.css


_local = threading.local()


def _typesetter() -> _Typesetter:
    """Return this thread's typesetter, built on first use.

    Pango's font map is not thread-safe, so each thread has its own. Building one is most of
    what a cold render costs more: fontconfig's scan of the system, loading the fonts, and the
    SSL context of a URL fetcher, which weasyprint's defaults rebuild for every document.
    """
    typesetter: _Typesetter | None = getattr(_local, "typesetter", None)
    if typesetter is None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        fetcher = _local_fetcher()
        font_config = FontConfiguration()
        faces = "\n".join(
            f"@font-face {{ font-family: '{FONT_FAMILY}'; font-weight: {weight}; "
            f"src: url('{(FONTS_DIR / name).as_uri()}'); }}"
            for weight, name in FONT_FILES.items()
        )
        stylesheet = CSS(
            string=faces + "\n" + STYLESHEET.read_text(encoding="utf-8"),
            font_config=font_config,
            url_fetcher=fetcher,
        )
        typesetter = _local.typesetter = _Typesetter(fetcher, font_config, stylesheet)
    return typesetter
