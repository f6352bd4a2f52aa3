"""PDF certificates: rendered once per credential and template version by a task, then served.

A certificate is stored in the default storage under its credential's public id,
certificate.TEMPLATE_VERSION and the credential's status with the day it took effect, so the
web and worker processes of every machine agree on whether it exists. A revoked or suspended
credential's certificate says so; after a status change the stored name is a new one, so the
old certificate is never served again and the new one is rendered on the next request.
Whether the credential is still valid later is checked live through its QR code.
"""

import hashlib
import logging
import mimetypes
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone, translation

from credentials.issuing import certificate, selectors, tasks
from credentials.models import IssuedCredential

logger = logging.getLogger(__name__)

# While a render is queued or running, further requests for the certificate do not enqueue
# another. Longer than a render with a queue in front of it; if the worker is gone, a request
# after this enqueues again.
RENDER_REQUEST_TTL_SECONDS: Final = 120
# weasyprint's PDFs end with this trailer; a file without it is still being written.
_PDF_TRAILER: Final = b"%%EOF"


@dataclass(frozen=True, slots=True)
class _Status:
    """What of a credential's status its certificate shows (nothing while it is valid), and
    the state of the endorsements it carries, as the issuer last checked them."""

    status: str = ""
    since: date | None = None
    endorsements: tuple[certificate.CarriedEndorsement, ...] = ()

    @property
    def key(self) -> str:
        key = f"-{self.status}-{self.since.isoformat()}" if self.status and self.since else ""
        if self.endorsements:
            # A revoked endorsement makes another certificate, as a revoked credential does.
            states = ",".join(f"{each.state}@{each.checked_at}" for each in self.endorsements)
            key += "-e" + hashlib.sha256(states.encode()).hexdigest()[:12]
        return key


def _status(credential: IssuedCredential) -> _Status:
    notice = selectors.status_notice(credential=credential)
    endorsements = tuple(
        certificate.CarriedEndorsement(
            endorser_name=endorsement.endorser_name,
            comment=endorsement.comment,
            state=endorsement.state,
            checked_at=timezone.localdate(endorsement.checked_at),
        )
        for endorsement in selectors.carried_endorsements(credential=credential)
    )
    if notice is None:
        return _Status(endorsements=endorsements)
    return _Status(notice.status, notice.since_date, endorsements)


def certificate_name(credential: IssuedCredential, *, status: _Status | None = None) -> str:
    """Return where the credential's certificate for the current template version and its
    current status is stored."""
    key = (status or _status(credential)).key
    return f"certificates/{credential.public_id}/v{certificate.TEMPLATE_VERSION}{key}.pdf"


def stored_certificate(
    *, credential: IssuedCredential, status: _Status | None = None
) -> bytes | None:
    """Return the credential's stored certificate for its current status, or None until that
    one is completely written."""
    name = certificate_name(credential, status=status)
    if not default_storage.exists(name):
        return None
    try:
        with default_storage.open(name, "rb") as file:
            pdf = file.read()
    except FileNotFoundError:
        return None
    # A file system storage shows a file while it is being written; an object store does not.
    if not pdf.rstrip().endswith(_PDF_TRAILER):
        return None
    return pdf


def certificate_request(*, credential: IssuedCredential) -> bool:
    """Enqueue the certificate's render on commit, once per RENDER_REQUEST_TTL_SECONDS."""
    status = _status(credential).key
    key = (
        f"certificate-render-requested:{credential.public_id}:"
        f"{certificate.TEMPLATE_VERSION}{status}"
    )
    if not cache.add(key, True, timeout=RENDER_REQUEST_TTL_SECONDS):
        return False
    options: dict[str, Any] = {}
    # A node with a dedicated PDF worker names its queue; otherwise the default worker renders.
    queue = getattr(settings, "MESHE_PDF_QUEUE", "")
    if queue:
        options["queue"] = queue
    tasks.render_certificate.apply_async_on_commit(
        kwargs={"credential_id": credential.pk}, **options
    )
    return True


def certificate_render(*, credential_id: int) -> None:
    """Render and store the credential's certificate unless it is stored. Idempotent."""
    credential = (
        IssuedCredential.objects.select_related("institution", "version__micro_credential")
        .filter(pk=credential_id)
        .first()
    )
    if credential is None:
        return
    # Read once: the name and the page agree even if the status changes meanwhile.
    status = _status(credential)
    if stored_certificate(credential=credential, status=status) is not None:
        return
    # English labels, whatever language the process happens to be in: one stored PDF per
    # credential, template version and status.
    with translation.override(settings.LANGUAGE_CODE):
        pdf = certificate.render(certificate_values(credential, status=status))
    name = certificate_name(credential, status=status)
    if default_storage.exists(name):
        # A partial file left by a worker that died mid-write; storage would not overwrite it.
        default_storage.delete(name)
    saved = default_storage.save(name, ContentFile(pdf))
    if saved != name:
        # Another worker stored the same certificate meanwhile; keep one copy.
        default_storage.delete(saved)
    logger.info("Rendered the certificate of credential %s", credential.public_id)


def certificate_values(
    credential: IssuedCredential, *, status: _Status | None = None
) -> certificate.Certificate:
    """Return what the certificate shows: the specification as issued, the institution, and
    whether and since when the credential is revoked or suspended."""
    status = status or _status(credential)
    snapshot = credential.version.snapshot
    language = snapshot["language"]
    institution = credential.institution
    return certificate.Certificate(
        credential_id=credential.credential_id,
        public_url=settings.MESHE_BASE_URL + credential.get_absolute_url(),
        issuer_did=institution.did,
        learner_name=credential.holder_name,
        title=snapshot["title"][language],
        language=language,
        institution_name=institution.name,
        institution_country=institution.country,
        institution_logo=_logo(credential),
        issued_on=timezone.localdate(credential.issued_at),
        awarded_on=credential.awarded_date,
        valid_until=timezone.localdate(credential.valid_until) if credential.valid_until else None,
        learning_outcomes=tuple(
            certificate.LearningOutcome(
                text=_text(outcome["text"], language),
                skills=tuple(skill["label"] for skill in outcome.get("esco", [])),
            )
            for outcome in snapshot["learning_outcomes"]
        ),
        ects=Decimal(snapshot["ects"]),
        workload_hours=snapshot.get("workload_hours"),
        eqf_level=snapshot["eqf_level"],
        assessment_type=snapshot["assessment_type"],
        form_of_participation=snapshot["form_of_participation"],
        quality_assurance=snapshot["quality_assurance"],
        quality_assurance_note=snapshot.get("quality_assurance_note", ""),
        supervision_verification=snapshot.get("supervision_verification", ""),
        prerequisites=snapshot.get("prerequisites", ""),
        is_partial=bool(snapshot.get("is_partial")),
        grade=credential.grade,
        status=status.status,
        status_since=status.since,
        endorsements=status.endorsements,
    )


def _text(value: str | dict[str, str], language: str) -> str:
    """Return a snapshot text in the specification's language; older snapshots hold a string."""
    if isinstance(value, str):
        return value
    return value.get(language) or value.get("en") or next(iter(value.values()), "")


def _logo(credential: IssuedCredential) -> certificate.Logo | None:
    """Return the institution's logo file, or None when it has none or the file is gone."""
    logo = credential.institution.logo
    if not logo.name:
        return None
    try:
        with logo.storage.open(logo.name, "rb") as file:
            content = file.read()
    except FileNotFoundError:
        logger.warning("The logo of %s is missing from storage", credential.institution.slug)
        return None
    media_type = mimetypes.guess_type(logo.name)[0] or "application/octet-stream"
    return certificate.Logo(content=content, media_type=media_type)
