"""Milliseconds to render one PDF certificate, cold and warm, against the 75 ms goal (issue 20).

Run from the repository root:

    python bench/certificate.py [--renders N] [--cold-runs N] [--write FILE]

It renders the same realistic certificate (a Polish learner, five learning outcomes with ESCO
skills, a PNG logo, every optional element) in each of these ways, in one run on one machine:

- cold: the first render in a fresh Python process (median over --cold-runs processes). This is
  what a freshly recycled PDF worker pays once: fontconfig, the bundled fonts, the template.
  Importing weasyprint, which that first render also does, is timed apart.
- warm: credentials.issuing.certificate.render, the portal's path (median over --renders renders).
- naive: the same HTML through weasyprint's defaults, `HTML(string=...).write_pdf()`, which set it
  in the system's fonts and subset them on every render; once with HarfBuzz subsetting (what
  weasyprint uses when libharfbuzz-subset is installed, as here and in the Dockerfile) and once
  with its fontTools fallback.
- full fonts: the portal's path with weasyprint's full_fonts=True (embed the fonts unsubset),
  kept to show why the portal subsets its pre-subset fonts instead.

No database, no Django project settings: only the template engine is configured.
"""

import argparse
import io
import logging
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
if str(REPOSITORY) not in sys.path:
    # Run as a script, Python puts bench/ on the path, not the repository.
    sys.path.insert(0, str(REPOSITORY))

import django  # noqa: E402
from django.conf import settings  # noqa: E402

from bench import report  # noqa: E402
from credentials.issuing import certificate  # noqa: E402
from credentials.issuing.certificate import Certificate, LearningOutcome, Logo  # noqa: E402

TARGET_MS = 75.0
PUBLIC_ID = "3f9a6c1e-2b7d-4c1a-9e58-0d4b7a6f21c3"


def configure_django() -> None:
    """Configure only what the certificate needs: templates and translations."""
    if not settings.configured:
        settings.configure(
            TEMPLATES=[
                {
                    "BACKEND": "django.template.backends.django.DjangoTemplates",
                    "DIRS": [REPOSITORY / "templates"],
                }
            ],
            USE_I18N=True,
            LANGUAGE_CODE="en",
            USE_TZ=True,
        )
        django.setup()


def logo_png() -> bytes:
    """Return a 600 by 200 pixel PNG, the size of a typical uploaded university logo."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 200), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 190, 190), fill="#7a1f2b")
    draw.ellipse((50, 50, 150, 150), fill="white")
    draw.rectangle((220, 70, 580, 100), fill="#7a1f2b")
    draw.rectangle((220, 115, 480, 135), fill="#999999")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def sample() -> Certificate:
    """Return the realistic certificate that every figure renders."""
    return Certificate(
        credential_id=f"urn:uuid:{PUBLIC_ID}",
        public_url=f"https://meshe.uj.edu.pl/credentials/{PUBLIC_ID}",
        issuer_did="did:web:meshe.uj.edu.pl:institutions:uj",
        learner_name="Zofia Wiśniewska-Łukasik",
        title="Data Literacy for Evidence-Based Public Policy",
        language="en",
        institution_name="Uniwersytet Jagielloński w Krakowie",
        institution_country="PL",
        institution_logo=Logo(content=logo_png(), media_type="image/png"),
        issued_on=date(2026, 11, 23),
        awarded_on=date(2026, 11, 20),
        learning_outcomes=(
            LearningOutcome(
                "Interpret descriptive statistics and uncertainty in policy reports.",
                ("think critically",),
            ),
            LearningOutcome(
                "Design a small survey and judge the quality of its sampling.",
                ("design questionnaires", "perform data analysis"),
            ),
            LearningOutcome(
                "Build clear charts and dashboards for non-specialist readers.",
                ("present reports",),
            ),
            LearningOutcome(
                "Assess open data sets for bias, completeness and licensing.",
                ("manage open data",),
            ),
            LearningOutcome(
                "Write a two-page evidence brief with a reproducible analysis.",
                ("write reports", "perform business analysis"),
            ),
        ),
        ects=Decimal("5.00"),
        workload_hours=140,
        eqf_level="http://data.europa.eu/snb/eqf/6",
        assessment_type="http://data.europa.eu/snb/assessment/6e6cb2cc78",
        form_of_participation="http://data.europa.eu/snb/learning-assessment/e92d221e4d",
        quality_assurance="http://data.europa.eu/snb/accreditation/003293d2ce",
        quality_assurance_note="Internal quality assurance of the university, accredited by PKA.",
        grade="5.0 (very good)",
        valid_until=None,
        supervision_verification="http://data.europa.eu/snb/supervision-verification/70be69aaf9",
        prerequisites="A bachelor's degree or three years of professional experience.",
        is_partial=True,
    )


def timed(render: Callable[[], bytes], renders: int) -> tuple[float, int]:
    """Return the median milliseconds of renders calls, and the size of the last PDF."""
    times = []
    size = 0
    for _ in range(renders):
        start = time.perf_counter()
        size = len(render())
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), size


def cold_once() -> tuple[float, float]:
    """Return the milliseconds of importing weasyprint and of this process's first render."""
    configure_django()
    values = sample()
    start = time.perf_counter()
    import weasyprint  # noqa: F401  # the first render imports it; timed apart

    imported = time.perf_counter()
    certificate.render(values)
    return (imported - start) * 1000, (time.perf_counter() - imported) * 1000


def cold(runs: int) -> tuple[float, float]:
    """Return the median import and first-render times over runs fresh processes."""
    imports, renders = [], []
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, __file__, "--cold-once"],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPOSITORY,
        )
        import_ms, render_ms = (float(part) for part in result.stdout.split())
        imports.append(import_ms)
        renders.append(render_ms)
    return statistics.median(imports), statistics.median(renders)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=30, help="warm renders to time (30)")
    parser.add_argument("--cold-runs", type=int, default=5, help="fresh processes to time (5)")
    parser.add_argument("--write", type=Path, help="also write the certificate to this file")
    parser.add_argument("--cold-once", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold_once:
        print("{:.3f} {:.3f}".format(*cold_once()))
        return 0

    configure_django()
    from weasyprint import HTML

    values = sample()
    page = certificate.html(values)
    certificate.render(values)  # warm-up: the typesetter and template are built once per process
    warm, size = timed(lambda: certificate.render(values), args.renders)
    naive, naive_size = timed(lambda: HTML(string=page).write_pdf(), args.renders)
    with fonttools_subsetting():
        naive_fonttools, _ = timed(lambda: HTML(string=page).write_pdf(), args.renders)
    full, full_size = timed(
        lambda: certificate.document(values).write_pdf(pdf_tags=True, full_fonts=True),
        args.renders,
    )
    import_ms, cold_ms = cold(args.cold_runs)
    pages = len(certificate.document(values).pages)
    if args.write:
        args.write.write_bytes(certificate.render(values))

    print(
        f"PDF certificate, {pages} A4 page; weasyprint {version('weasyprint')}, "
        f"fontTools {version('fonttools')}, Python {sys.version.split()[0]}, {platform.machine()}"
    )
    rows = [
        (f"cold: first render, median of {args.cold_runs} processes", cold_ms, None),
        ("  before it, importing weasyprint", import_ms, None),
        (f"warm: median of {args.renders} renders", warm, size),
        ("naive: weasyprint defaults, system fonts", naive, naive_size),
        ("naive, fontTools subsetting (no HarfBuzz)", naive_fonttools, None),
        ("bundled fonts, full_fonts=True", full, full_size),
    ]
    for label, ms, pdf_bytes in rows:
        size_text = f"{pdf_bytes:>8,} bytes" if pdf_bytes else ""
        print(f"  {label:<44} {ms:7.1f} ms {size_text}".rstrip())
    print(f"  {'warm / ' + f'{TARGET_MS:.0f} ms target':<44} {warm / TARGET_MS:7.2f}")
    print(f"  {'warm / naive':<44} {warm / naive:7.2f}")
    print(f"  {'warm / naive with fontTools subsetting':<44} {warm / naive_fonttools:7.2f}")
    return 0


def measure(*, quick: bool) -> list[report.Row]:
    """The certificate rows of `make bench`: warm render against weasyprint's defaults."""
    renders = 10 if quick else 30
    configure_django()
    from weasyprint import HTML

    values = sample()
    page = certificate.html(values)
    certificate.render(values)
    warm, _size = timed(lambda: certificate.render(values), renders)
    naive, _naive_size = timed(lambda: HTML(string=page).write_pdf(), renders)
    return [
        report.Row(
            "PDF certificate, warm render (median)",
            warm,
            "ms",
            reference_name="weasyprint defaults, same HTML",
            reference=naive,
            better=report.Better.LOWER,
            goal=TARGET_MS,
            note=f"median of {renders}; a first render in a fresh process costs more"
            " (python bench/certificate.py times it)",
        )
    ]


@contextmanager
def fonttools_subsetting() -> Iterator[None]:
    """Make weasyprint subset with fontTools, as it does where libharfbuzz-subset is missing."""
    from weasyprint.pdf import fonts

    harfbuzz_subset = fonts.harfbuzz_subset
    logger = logging.getLogger("weasyprint")
    level = logger.level
    fonts.harfbuzz_subset = None
    logger.setLevel(logging.ERROR)  # it warns about the fallback on every font
    try:
        yield
    finally:
        fonts.harfbuzz_subset = harfbuzz_subset
        logger.setLevel(level)


if __name__ == "__main__":
    sys.exit(main())
