import base64
import io
import re
import shutil
import subprocess
import sys
import uuid
import zlib
from datetime import date
from pathlib import Path

import pytest
import segno
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from PIL import Image
from weasyprint.images import RasterImage, SVGImage
from weasyprint.text.ffi import harfbuzz_subset

from credentials.issuing import certificate, certificate_services, services, tasks
from tests.conftest import wait_for
from tests.credentials.certificates import sample, text_of
from tests.factories import issue

# Where the session's real worker (started by tests/conftest.py) stores files.
WORKER_MEDIA_ROOT = django_settings.MEDIA_ROOT

EU_ELEMENT_LABELS = [
    "Learner",
    "Title of the micro-credential",
    "Country of the issuer",
    "Awarding body",
    "Date of issuing",
    "Learning outcomes",
    "Notional workload",
    "Level",
    "Type of assessment",
    "Form of participation",
    "Type of quality assurance",
]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Stored certificates and logos go to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"


def png(width: int = 300, height: int = 100) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "#7a1f2b").save(out, format="PNG")
    return out.getvalue()


def replaced_images(document) -> list[object]:
    boxes = document.pages[0]._page_box.descendants(placeholders=True)
    return [box.replacement for box in boxes if hasattr(box, "replacement")]


def inflated(pdf: bytes) -> bytes:
    """The PDF with its Flate streams inflated, so names inside object streams can be found."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.DOTALL):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"\n".join(parts)


def embedded_fonts(pdf: bytes) -> set[str]:
    """The families embedded in the PDF, without the subset tag ("ABCDEF+")."""
    names = re.findall(rb"/BaseFont\s*/[A-Z]{6}\+([^\s/<>\[\]()]+)", inflated(pdf))
    return {name.decode() for name in names}


def qr_modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules of segno's one-path SVG at scale 1: each h draws a run on one row."""
    path = re.search(r' d="([^"]+)"', svg)
    assert path is not None
    x = y = 0.0
    dark: set[tuple[int, int]] = set()
    for command, first, second in re.findall(r"([Mmh])(-?[\d.]+)(?:\s(-?[\d.]+))?", path[1]):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        else:
            dark.update((int(x) + step, int(y)) for step in range(int(float(first))))
            x += float(first)
    return dark


def code_modules(url: str) -> set[tuple[int, int]]:
    code = segno.make(url, error="m")
    return {(x, y) for y, row in enumerate(code.matrix) for x, bit in enumerate(row) if bit}


# The pure module ---------------------------------------------------------------------------


def test_the_certificate_is_a_one_page_a4_pdf():
    pdf = certificate.render(sample())
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", inflated(pdf))) == 1
    page = certificate.document(sample()).pages[0]
    # A4 in CSS pixels (96 per inch): 210 by 297 mm.
    assert (round(page.width * 25.4 / 96), round(page.height * 25.4 / 96)) == (210, 297)


def test_the_certificate_shows_the_learner_the_title_and_the_institution():
    text = text_of(certificate.document(sample()))
    assert "Ana Kowalska" in text
    assert "Data Literacy for Public Policy" in text
    assert "University A" in text
    assert "Belgium" in text


def test_the_certificate_labels_all_eleven_eu_elements_in_annex_order():
    values = sample()
    assert [element.label for element in certificate.eu_elements(values)] == EU_ELEMENT_LABELS
    text = text_of(certificate.document(values))
    for label in EU_ELEMENT_LABELS:
        assert label in text


def test_vocabulary_uris_are_shown_as_their_english_labels():
    text = text_of(certificate.document(sample()))
    assert "EQF level 6" in text
    assert "Written examination" in text
    assert "Blended" in text
    assert "Institutional evaluation" in text
    assert "data.europa.eu/snb" not in text


def test_the_certificate_shows_outcomes_workload_grade_dates_and_identifiers():
    text = text_of(certificate.document(sample()))
    assert "Interpret descriptive statistics in policy reports." in text
    assert "ESCO skills: think critically" in text
    assert "5 ECTS credits (140 hours)" in text
    assert "Grade achieved 8.5" in text
    assert "Awarded on 20 November 2026" in text
    assert "Date of issuing 23 November 2026" in text
    assert "urn:uuid:0b6f6d8e-4a55-4a3e-9d7e-3c2f1b0a9e87" in text
    assert "did:web:meshe.example.eu:institutions:uni-a" in text


def test_the_qr_code_is_an_embedded_svg_of_the_public_url():
    values = sample()
    svg = re.search(r"<svg[^>]*>.*?</svg>", certificate.html(values), re.DOTALL)
    assert svg is not None
    assert qr_modules(svg[0]) == code_modules(values.public_url)
    assert qr_modules(svg[0]) != code_modules(values.public_url + "x")
    images = replaced_images(certificate.document(values))
    assert [type(image) for image in images] == [SVGImage]


def test_a_valid_certificate_certifies_the_award_and_defers_later_status_to_the_live_check():
    text = text_of(certificate.document(sample()))
    assert "This certifies that Ana Kowalska has been awarded the micro-credential" in text
    assert "It does not show whether the credential is still valid" in text
    assert "https://meshe.example.eu/credentials/0b6f6d8e-4a55-4a3e-9d7e-3c2f1b0a9e87" in text
    assert "REVOKED" not in text
    assert "SUSPENDED" not in text


def test_a_revoked_certificate_says_revoked_and_since_when_and_certifies_nothing():
    document = certificate.document(sample(status="revoked", status_since=date(2026, 12, 7)))
    text = text_of(document)
    assert len(document.pages) == 1
    assert text.count("REVOKED") == 2  # the banner and the mark across the page
    assert "Revoked by the issuer on 7 December 2026. This credential is no longer valid." in text
    assert "This certifies that" not in text
    assert "This credential, now revoked, stated that Ana Kowalska had been awarded" in text
    assert "It does not show whether the credential is still valid" not in text


def test_a_suspended_certificate_says_suspended_and_since_when():
    document = certificate.document(sample(status="suspended", status_since=date(2026, 12, 7)))
    text = text_of(document)
    assert len(document.pages) == 1
    assert "SUSPENDED" in text
    assert "Suspended by the issuer on 7 December 2026." in text
    assert "This certifies that" not in text


BUNDLED_FONTS = {"MESHE-Sans", "MESHE-Sans-Bold"}


@pytest.mark.parametrize(
    "name",
    ["Γεώργιος Παπαδόπουλος", "Олена Іваненко-Пєтрова", "Łucja Żółkiewska-Gęślą", "Ștefan Țărnă"],
)
def test_non_latin_names_are_set_in_the_bundled_font_alone(name, caplog):
    pdf = certificate.render(sample(learner_name=name))
    # No system font stood in for a missing glyph, and no glyph was missing everywhere.
    assert embedded_fonts(pdf) == BUNDLED_FONTS
    assert ".notdef" not in caplog.text
    assert name in text_of(certificate.document(sample(learner_name=name)))


def test_a_script_the_bundled_font_lacks_shows_up_in_the_checks_above(caplog):
    pdf = certificate.render(sample(learner_name="李小龍"))
    assert embedded_fonts(pdf) != BUNDLED_FONTS or ".notdef" in caplog.text


def test_the_logo_is_embedded_when_there_is_one():
    logo = certificate.Logo(content=png(), media_type="image/png")
    with_logo = sample(institution_logo=logo)
    assert base64.b64encode(logo.content).decode() in certificate.html(with_logo)
    assert RasterImage in {
        type(image) for image in replaced_images(certificate.document(with_logo))
    }
    without = replaced_images(certificate.document(sample()))
    assert RasterImage not in {type(image) for image in without}


def test_markup_in_a_name_is_printed_as_text():
    name = '<img src="http://attacker.example/x.png">Eve'
    values = sample(learner_name=name)
    assert '<img src="http://attacker.example' not in certificate.html(values)
    assert name in text_of(certificate.document(values))


@pytest.mark.skipif(
    harfbuzz_subset is None,
    reason="libharfbuzz-subset0 is not installed (.ci/run and the Dockerfile install it): "
    "weasyprint's fallback, fontTools, stamps the time into each font it subsets",
)
def test_the_same_values_give_the_same_bytes():
    assert certificate.render(sample()) == certificate.render(sample())


# Storing, the task and the view ------------------------------------------------------------


def certificate_url(credential) -> str:
    return reverse("credentials:certificate", kwargs={"public_id": credential.public_id})


@pytest.mark.django_db
def test_the_first_request_answers_202_with_a_page_that_reloads_itself(client):
    credential = issue()
    response = client.get(certificate_url(credential))
    assert response.status_code == 202
    assert response["Cache-Control"] == "no-store"
    assert response["Retry-After"] == "3"
    page = response.content.decode()
    assert "Your certificate is being prepared" in page
    assert '<meta http-equiv="refresh" content="3">' in page


@pytest.mark.django_db
def test_requests_before_the_render_enqueue_it_once(client, django_capture_on_commit_callbacks):
    credential = issue()
    with django_capture_on_commit_callbacks() as callbacks:
        for _ in range(3):
            assert client.get(certificate_url(credential)).status_code == 202
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_once_rendered_the_certificate_is_served_inline_to_anyone(
    client, eager_celery, django_capture_on_commit_callbacks
):
    credential = issue(holder_name="Γεώργιος Παπαδόπουλος")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(certificate_url(credential)).status_code == 202
    response = client.get(certificate_url(credential))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'inline; filename="certificate-{credential.public_id}.pdf"'
    )
    assert response.content.startswith(b"%PDF-")
    assert default_storage.exists(certificate_services.certificate_name(credential))


@pytest.mark.django_db
def test_a_stored_certificate_is_not_rendered_again(
    client, monkeypatch, django_capture_on_commit_callbacks
):
    credential = issue()
    certificate_services.certificate_render(credential_id=credential.pk)
    stored = certificate_services.stored_certificate(credential=credential)

    def render_again(values):
        raise AssertionError("rendered again")

    monkeypatch.setattr(certificate, "render", render_again)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.get(certificate_url(credential))
    assert response.status_code == 200
    assert response.content == stored
    assert callbacks == []
    certificate_services.certificate_render(credential_id=credential.pk)


@pytest.mark.django_db
def test_a_new_template_version_renders_the_certificate_again(client, monkeypatch):
    credential = issue()
    certificate_services.certificate_render(credential_id=credential.pk)
    bumped = str(int(certificate.TEMPLATE_VERSION) + 1)
    monkeypatch.setattr(certificate, "TEMPLATE_VERSION", bumped)
    assert client.get(certificate_url(credential)).status_code == 202
    certificate_services.certificate_render(credential_id=credential.pk)
    assert default_storage.exists(f"certificates/{credential.public_id}/v{bumped}.pdf")


@pytest.mark.django_db
def test_a_half_written_file_is_not_served_and_is_replaced(client):
    credential = issue()
    name = certificate_services.certificate_name(credential)
    default_storage.save(name, ContentFile(b"%PDF-1.7\n1 0 obj"))
    assert client.get(certificate_url(credential)).status_code == 202
    certificate_services.certificate_render(credential_id=credential.pk)
    response = client.get(certificate_url(credential))
    assert response.status_code == 200
    assert response.content.rstrip().endswith(b"%%EOF")


@pytest.mark.django_db
def test_after_a_revocation_the_stored_certificate_is_not_served_and_a_revoked_one_is_rendered(
    client,
):
    credential = issue()
    certificate_services.certificate_render(credential_id=credential.pk)
    before = client.get(certificate_url(credential))
    assert before.status_code == 200
    assert before["Cache-Control"] == "no-cache"
    services.credential_revoke(credential=credential, actor=None, reason="Fraud")
    assert client.get(certificate_url(credential)).status_code == 202
    certificate_services.certificate_render(credential_id=credential.pk)
    after = client.get(certificate_url(credential))
    assert after.status_code == 200
    assert after.content != before.content
    credential.refresh_from_db()
    revoked_on = timezone.localdate(credential.events.get(action="revoked").created_at)
    assert certificate_services.certificate_name(credential).endswith(
        f"-revoked-{revoked_on.isoformat()}.pdf"
    )
    text = text_of(certificate.document(certificate_services.certificate_values(credential)))
    assert "REVOKED" in text
    assert f"Revoked by the issuer on {date_format(revoked_on, 'DATE_FORMAT')}." in text
    assert "Fraud" not in text  # the reason is the learner's, not the certificate's


@pytest.mark.django_db
def test_a_suspension_then_a_reinstatement_serve_a_suspended_then_a_clean_certificate(client):
    credential = issue()
    services.credential_suspend(credential=credential, actor=None, reason_code="other", reason="Q")
    certificate_services.certificate_render(credential_id=credential.pk)
    suspended = client.get(certificate_url(credential)).content
    credential.refresh_from_db()
    assert "SUSPENDED" in text_of(
        certificate.document(certificate_services.certificate_values(credential))
    )
    services.credential_reinstate(credential=credential, actor=None)
    assert client.get(certificate_url(credential)).status_code == 202
    certificate_services.certificate_render(credential_id=credential.pk)
    assert client.get(certificate_url(credential)).content != suspended
    credential.refresh_from_db()
    assert certificate_services.certificate_values(credential).status == ""


@pytest.mark.django_db
def test_an_unknown_credential_is_404_and_enqueues_nothing(
    client, django_capture_on_commit_callbacks
):
    url = reverse("credentials:certificate", kwargs={"public_id": uuid.uuid4()})
    with django_capture_on_commit_callbacks() as callbacks:
        assert client.get(url).status_code == 404
    assert callbacks == []


@pytest.mark.django_db
def test_the_certificate_shows_the_specification_as_issued_with_the_institutions_logo():
    credential = issue(grade="8.5")
    credential.institution.logo.save("logo.png", ContentFile(png()))
    values = certificate_services.certificate_values(credential)
    assert values.title == credential.version.title
    assert values.learner_name == "Ana Kowalska"
    assert values.learning_outcomes == (
        certificate.LearningOutcome(
            "Interpret descriptive statistics in policy reports.", ("think critically",)
        ),
    )
    assert values.eqf_level == "http://data.europa.eu/snb/eqf/6"
    assert values.grade == "8.5"
    assert values.issuer_did == credential.institution.did
    assert values.public_url == django_settings.MESHE_BASE_URL + credential.get_absolute_url()
    assert values.institution_logo == certificate.Logo(content=png(), media_type="image/png")


@pytest.mark.django_db
@pytest.mark.parametrize(("queue", "options"), [("", {}), ("pdf", {"queue": "pdf"})])
def test_the_render_goes_to_the_queue_the_settings_name(
    settings, monkeypatch, django_capture_on_commit_callbacks, queue, options
):
    settings.MESHE_PDF_QUEUE = queue
    credential = issue()
    sent = []
    monkeypatch.setattr(
        tasks.render_certificate, "apply_async", lambda *args, **kwargs: sent.append(kwargs)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert certificate_services.certificate_request(credential=credential)
    assert sent == [{"kwargs": {"credential_id": credential.pk}, **options}]


def test_web_processes_serve_certificates_without_loading_weasyprint():
    # Web processes only read stored PDFs; weasyprint would cost each one 0.4 s and 45 MB.
    code = (
        "import sys, django; django.setup(); "
        "import credentials.urls, credentials.issuing.certificate_services; "
        "sys.exit('weasyprint' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert result.returncode == 0, result.stderr.decode()


@pytest.mark.django_db(transaction=True)
def test_the_default_worker_renders_the_certificate(celery_worker_process, client, settings):
    settings.MEDIA_ROOT = WORKER_MEDIA_ROOT
    credential = issue()
    url = certificate_url(credential)
    try:
        assert client.get(url).status_code == 202
        assert wait_for(lambda: client.get(url).status_code == 200), "no certificate rendered"
    finally:
        shutil.rmtree(Path(WORKER_MEDIA_ROOT) / "certificates" / str(credential.public_id), True)
