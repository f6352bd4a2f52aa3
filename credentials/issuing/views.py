"""Public documents of issued credentials: the signed JSON-LD, the EDC rendering, the PDF
certificate, badge images and status lists, and verification for anyone."""

import hashlib
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from credentials import documents
from credentials.issuing import (
    badge_artwork,
    certificate_services,
    forms,
    selectors,
    services,
    verifier,
)
from credentials.models import IssuedCredential, MicroCredentialVersion
from credentials.standards import badge_images
from meshe import rate_limits


def _wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return documents.JSON_LD in accept or (
        "application/json" in accept and "text/html" not in accept
    )


def _signed_json(document: str, *, download_name: str | None = None) -> HttpResponse:
    response = HttpResponse(document, content_type=documents.JSON_LD)
    response["Access-Control-Allow-Origin"] = "*"
    if download_name:
        response["Content-Disposition"] = f'attachment; filename="{download_name}"'
    return response


@require_GET
def status_list(request: HttpRequest, slug: str, purpose: str, number: int) -> HttpResponse:
    row = selectors.published_status_list(slug=slug, purpose=purpose, number=number)
    etag = f'"{row.etag}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = _signed_json(row.document)
    response["ETag"] = etag
    # Short: verifiers must learn of a revocation within a minute.
    response["Cache-Control"] = "public, max-age=60"
    return response


@require_GET
def public_credential(request: HttpRequest, public_id: UUID) -> HttpResponse:
    try:
        credential = selectors.public_credential(public_id=public_id)
    except selectors.PrivateCredential:
        return render(request, "credentials/private.html", status=404)
    if _wants_json(request):
        return _signed_json(credential.document)
    return render(
        request,
        "credentials/public.html",
        {
            "credential": credential,
            "document": documents.signed_document(credential),
            "verification": verifier.labelled(verifier.verify(credential.document)),
            # The date only: the reason is for the learner and staff, not whoever has the link.
            "status_notice": selectors.status_notice(credential=credential),
        },
    )


@require_GET
def credential_document(request: HttpRequest, public_id: UUID) -> HttpResponse:
    credential = selectors.downloadable_credential(public_id=public_id, user=request.user)
    return _signed_json(credential.document, download_name=f"credential-{public_id}.json")


@require_GET
def credential_edc(request: HttpRequest, public_id: UUID) -> HttpResponse:
    credential = selectors.downloadable_credential(public_id=public_id, user=request.user)
    edc = services.credential_edc(credential=credential)
    return _signed_json(edc.text, download_name=f"credential-{public_id}-edc.json")


# Seconds between the pending page's reloads, and the Retry-After it announces.
PENDING_REFRESH_SECONDS = 3


@require_GET
def credential_certificate(request: HttpRequest, public_id: UUID) -> HttpResponse:
    credential = selectors.downloadable_credential(public_id=public_id, user=request.user)
    pdf = certificate_services.stored_certificate(credential=credential)
    if pdf is None:
        certificate_services.certificate_request(credential=credential)
        response = render(
            request,
            "credentials/certificate_pending.html",
            {"credential": credential, "refresh_seconds": PENDING_REFRESH_SECONDS},
            status=202,
        )
        response["Retry-After"] = str(PENDING_REFRESH_SECONDS)
        # The next request must reach the server, which knows when the PDF is ready.
        response["Cache-Control"] = "no-store"
        return response
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="certificate-{public_id}.pdf"'
    # A status change makes another certificate: no cache may keep serving this one.
    response["Cache-Control"] = "no-cache"
    return response


@rate_limits.limited("verify", methods=frozenset({"POST"}))
def verify_page(request: HttpRequest) -> HttpResponse:
    posted = request.method == "POST"
    form = forms.VerifyForm(request.POST if posted else None, request.FILES if posted else None)
    result = None
    if posted and form.is_valid():
        data = form.cleaned_data
        if data["url"]:
            result = verifier.verify_url(data["url"])
        elif data["upload"]:
            result = verifier.verify(data["upload"].read())
        else:
            result = verifier.verify(data["document"])
    return render(
        request,
        "credentials/verify.html",
        {"form": form, "result": verifier.labelled(result), "checked_at": timezone.now()},
    )


@csrf_exempt
@require_POST
@rate_limits.limited("verify", respond=rate_limits.too_many_requests_json)
def verify_api(request: HttpRequest) -> HttpResponse:
    try:
        body = request.body
    except RequestDataTooBig:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
        return JsonResponse(
            verifier.refusal(
                f"The document is too large (over {limit} KiB)",
                code="json.too_large",
                params={"limit": str(limit)},
            )
        )
    return JsonResponse(verifier.verify(body))


def _version_badge(
    version: MicroCredentialVersion, *, institution_name: str
) -> badge_artwork.Badge:
    """The generated artwork's values: the institution, and the specification as issued."""
    snapshot = version.snapshot
    return badge_artwork.Badge(
        institution_name=institution_name,
        title=version.title,
        eqf_level=snapshot.get("eqf_level", ""),
        ects=Decimal(snapshot["ects"]),
    )


def _badge(credential: IssuedCredential) -> badge_artwork.Badge:
    return _version_badge(credential.version, institution_name=credential.institution.name)


def _badge_image(
    request: HttpRequest, credential: IssuedCredential, *, extension: str
) -> HttpResponse:
    """The credential baked into its badge picture, as a download named after the credential.

    The picture and the signed document never change once issued, except when the institution
    is renamed or the artwork is redrawn; the ETag covers all of them, so a revalidation that
    finds nothing new costs no rendering."""
    badge = _badge(credential)
    fingerprint = "\n".join(
        (badge_artwork.ARTWORK_VERSION, extension, repr(badge), credential.document)
    )
    etag = f'"{hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    elif extension == "png":
        image = badge_images.bake_png(badge_artwork.png(badge), credential.document)
        response = HttpResponse(image, content_type="image/png")
    else:
        image = badge_images.bake_svg(badge_artwork.svg(badge), credential.document)
        response = HttpResponse(image, content_type="image/svg+xml")
        # Opened on its own, an SVG is a document of this origin: it may draw, never run.
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response["ETag"] = etag
    # Only whoever holds the link, and each time checked: the file names the learner.
    response["Cache-Control"] = "private, no-cache"
    response["Access-Control-Allow-Origin"] = "*"
    response["Content-Disposition"] = (
        f'attachment; filename="credential-{credential.public_id}.{extension}"'
    )
    return response


@require_GET
def credential_badge_png(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The credential baked into a PNG badge (OB 3.0 iTXt openbadgecredential), for backpacks."""
    credential = selectors.downloadable_credential(public_id=public_id, user=request.user)
    return _badge_image(request, credential, extension="png")


@require_GET
def credential_badge_svg(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The credential baked into an SVG badge (OB 3.0 <openbadges:credential>), for backpacks."""
    credential = selectors.downloadable_credential(public_id=public_id, user=request.user)
    return _badge_image(request, credential, extension="svg")


@require_GET
def specification_badge(request: HttpRequest, public_id: UUID, number: int) -> HttpResponse:
    """The badge picture of a specification version as issued, with no credential baked in and
    so nothing about any learner: what the wallet, the credential pages and public profiles
    show. The same picture as the baked downloads of the credentials issued under it."""
    version = selectors.micro_credential_version(public_id=public_id, number=number)
    badge = _version_badge(version, institution_name=version.micro_credential.institution.name)
    fingerprint = "\n".join((badge_artwork.ARTWORK_VERSION, repr(badge)))
    etag = f'"{hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(badge_artwork.svg(badge), content_type="image/svg+xml")
    # Opened on its own, an SVG is a document of this origin: it may draw, never run.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response["ETag"] = etag
    # Public data; an hour, so that a renamed institution shows its new name within one.
    response["Cache-Control"] = "public, max-age=3600"
    return response
