"""The portal's JSON APIs.

- The issuer API (/api/v1/credentials…): an institution's own systems, such as its student
  information system, issue, list, read, revoke, suspend and reinstate credentials.
- The W3C VC-API (/vc-api/…), so that standard tools and test suites can drive the portal.

Both speak JSON only. They read no cookie, so they are exempt from CSRF: the bearer token is the
only credential. Every refusal is {"error": {"code", "message", "fields"?}} with a 4xx status,
never an HTML page. The machine-readable contract is credentials/api/openapi.py.
"""

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from functools import wraps
from typing import Any, Final
from uuid import UUID

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from credentials.api import openapi
from credentials.exceptions import CredentialError, CredentialIdTaken, CredentialUnsignable
from credentials.issuing import recipients, selectors, services, verifier
from credentials.models import ApiCredential, CredentialStatus, IssuedCredential, StatusReason
from credentials.standards import data_model, proof_sets, signing, strict_json
from credentials.standards.jsonld.loader import bundled_index
from credentials.standards.verification import issuer_id, parse_date_time_stamp
from institutions import selectors as institution_selectors
from institutions import services as institution_services
from institutions.models import ApiScope, ApiToken
from meshe import plain_text, rate_limits
from meshe.errors import UserFacingError

View = Callable[..., HttpResponse]

# The issuer API's bodies: a full batch with long evidence narratives stays well inside.
MAX_BODY_BYTES: Final = 2 * 1024 * 1024
# The VC-API's bodies are one credential or presentation, as the verifier's own cap.
MAX_VC_API_BODY_BYTES: Final = 512 * 1024
# One transaction signs the whole batch; larger runs belong in the spreadsheet upload.
MAX_BATCH: Final = 100
DEFAULT_PAGE: Final = 50
MAX_PAGE: Final = 100

_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_UUID: Final = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_URL: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]+")
# JSON-LD 1.1 API error codes are lower-case words ("invalid local context").
_JSONLD_ERROR_CODE: Final = re.compile(r"[a-z@]+(?: [a-z@]+)+")
_UUID_EXAMPLE: Final = "3f6f2c1e-8a55-4b8f-9d0e-2f4c1a7b9e21"
_STATUS_TEXT: Final = {"true": True, "1": True, "false": False, "0": False}
_CANONICALIZATION_CODES: Final = {
    signing.Failure.UNDEFINED_TERM: "undefined_term",
    signing.Failure.CONTEXT_NOT_BUNDLED: "unknown_context",
    signing.Failure.RELATIVE_IRI: "relative_iri",
    # Work budgets (docs/security.md, "Work budgets"): refused by name, never worked on for long.
    signing.Failure.TOO_LARGE: "too_large",
    signing.Failure.TOO_MANY_BLANK_NODES: "too_many_blank_nodes",
    signing.Failure.TOO_COMPLEX: "too_complex",
}


class ApiError(UserFacingError):
    """A refused API request: its status, a stable code, a sentence and per-field messages."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.fields = dict(fields) if fields else None
        self.headers = dict(headers) if headers else {}
        self.body = dict(body) if body else {}


def _error_response(exc: ApiError) -> JsonResponse:
    error: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if exc.fields:
        error["fields"] = exc.fields
    response = JsonResponse({**exc.body, "error": error}, status=exc.status)
    for name, value in exc.headers.items():
        response[name] = value
    return response


def json_endpoint(*methods: str) -> Callable[[View], View]:
    """JSON in and out, CSRF-exempt, methods checked, known refusals answered as JSON errors."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise ApiError(
                        405,
                        "method_not_allowed",
                        _("Use %(methods)s here.") % {"methods": " or ".join(methods)},
                        headers={"Allow": ", ".join(methods)},
                    )
                response = view(request, *args, **kwargs)
            except ApiError as exc:
                response = _error_response(exc)
            except Http404:
                response = _error_response(
                    ApiError(
                        404,
                        "not_found",
                        _("There is no such resource, or it belongs to another institution."),
                    )
                )
            except CredentialError as exc:
                response = _error_response(ApiError(409, "conflict", exc.message))
            response.setdefault("Cache-Control", "no-store")
            return response

        return csrf_exempt(wrapper)

    return decorate


# ---------------------------------------------------------------- authentication


def _within_limit(scope: str, key: str) -> None:
    """Counts the request against an abuse limit; 429 with Retry-After over it."""
    decision = rate_limits.hit(scope, key)
    if not decision.allowed:
        raise ApiError(
            429,
            "rate_limited",
            rate_limits.retry_message(decision.retry_after),
            headers={"Retry-After": str(decision.retry_after)},
        )


def _authenticate(request: HttpRequest, scope: str) -> ApiToken:
    """The token of the request if it may act with `scope`; 401 without a valid one, 403
    without the scope. Records the use."""
    header = request.headers.get("Authorization", "")
    challenge = 'Bearer realm="meshe"'
    if not header:
        raise ApiError(
            401,
            "unauthenticated",
            _("Send an API token in the header Authorization: Bearer meshe_…"),
            headers={"WWW-Authenticate": challenge},
        )
    scheme, _space, text = header.partition(" ")
    token = (
        institution_selectors.api_token_presented(text=text.strip())
        if scheme.lower() == "bearer"
        else None
    )
    invalid = {"WWW-Authenticate": f'{challenge}, error="invalid_token"'}
    if token is None:
        raise ApiError(401, "invalid_token", _("The API token is not valid."), headers=invalid)
    if token.revoked_at is not None:
        raise ApiError(401, "token_revoked", _("This API token was revoked."), headers=invalid)
    _within_limit("api", f"token:{token.public_id}")
    if not token.has_scope(scope):
        raise ApiError(
            403,
            "insufficient_scope",
            _("This API token does not have the permission %(scope)s.") % {"scope": scope},
            headers={
                "WWW-Authenticate": f'{challenge}, error="insufficient_scope", scope="{scope}"'
            },
        )
    institution_services.api_token_mark_used(token=token)
    return token


# ---------------------------------------------------------------- reading requests


def _json_object(request: HttpRequest, *, limit: int, empty_ok: bool = False) -> dict[str, Any]:
    """The body as a JSON object; 413 over `limit` bytes, 400 for anything but a JSON object."""
    length = request.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > limit:
        raise _too_large(limit)
    try:
        body = request.body
    except RequestDataTooBig:
        raise _too_large(limit) from None
    if len(body) > limit:
        raise _too_large(limit)
    if empty_ok and not body.strip():
        return {}
    try:
        document = strict_json.load_object(body)
    except strict_json.JsonRefused as exc:
        if exc.problem is strict_json.Problem.NOT_OBJECT:
            raise ApiError(400, "invalid_body", _("The body must be a JSON object.")) from None
        raise ApiError(
            400, "malformed_json", _("The body is not valid JSON: %(problem)s") % {"problem": exc}
        ) from None
    return document


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413, "too_large", _("The body is larger than %(size)s KiB.") % {"size": limit // 1024}
    )


class _Reader:
    """Reads typed fields from a JSON object, collecting one list of messages per field."""

    def __init__(
        self, data: Mapping[str, Any], errors: dict[str, list[str]], prefix: str = ""
    ) -> None:
        self.data = data
        self.errors = errors
        self.prefix = prefix

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(self.prefix + name, []).append(message)

    def refuse_unknown(self, allowed: Iterable[str]) -> None:
        for name in self.data:
            if name not in allowed:
                self.add(name, _("This field is not known."))

    def string(
        self,
        name: str,
        *,
        required: bool = False,
        max_length: int,
        multiline: bool = False,
        strip: bool = True,
    ) -> str:
        """The text, stripped unless it has a format; "" when absent or null."""
        value = self.data.get(name)
        if value is None:
            if required:
                self.add(name, _("This field is required."))
            return ""
        if not isinstance(value, str):
            self.add(name, _("This must be a string."))
            return ""
        if strip:
            value = value.strip()
        if required and not value:
            self.add(name, _("This field is required."))
        elif len(value) > max_length:
            self.add(name, _("This is longer than %(max)s characters.") % {"max": max_length})
        elif plain_text.typed_text_problem(value, multiline=multiline):
            self.add(name, _("This contains control characters."))
        return value

    def text(self, name: str, *, strip: bool = True) -> str:
        """The text as sent, stripped unless it has a format; "" when absent, null or not text."""
        value = self.data.get(name)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.add(name, _("This must be a string."))
            return ""
        return value.strip() if strip else value

    def uuid(self, name: str, *, required: bool = False) -> UUID | None:
        text = self.string(name, required=required, max_length=45, strip=False)
        if not text:
            return None
        if not _UUID.fullmatch(text):
            self.add(name, _("This is not a UUID like %(example)s.") % {"example": _UUID_EXAMPLE})
            return None
        return UUID(text)

    def date(self, name: str, *, required: bool = False) -> date | None:
        text = self.string(name, required=required, max_length=10, strip=False)
        if not text:
            return None
        try:
            if not _DATE.fullmatch(text):
                raise ValueError(text)
            return date.fromisoformat(text)
        except ValueError:
            self.add(name, _("This is not a date like 2026-06-30."))
            return None

    def date_time(self, name: str) -> datetime | None:
        text = self.string(name, max_length=40, strip=False)
        if not text:
            return None
        try:
            moment = parse_date_time_stamp(text)
        except ValueError:
            self.add(
                name,
                _("This is not a date and time with a time zone, like %(example)s.")
                % {"example": "2026-06-30T12:00:00Z"},
            )
            return None
        if not 1900 <= moment.year <= 9000:
            self.add(name, _("This date is out of range."))
            return None
        return moment


def _read_recipient(reader: _Reader, *, today: date) -> services.Recipient | None:
    """One learner to issue to, or None with the reasons in reader.errors."""
    # Formats (the e-mail address, the link, the date) are checked as sent; free text trimmed.
    values = {
        name: reader.text(name, strip=name not in ("holder_email", "evidence_url", "awarded_date"))
        for name in recipients.FIELDS
    }
    own = _own(reader)
    problems = recipients.recipient_problems(**values, today=today)
    for name, message in problems.items():
        if name not in own:
            reader.add(name, message)
    if problems or own & set(recipients.FIELDS):
        return None
    awarded = recipients.awarded_date_parse(values["awarded_date"])
    assert awarded is not None  # no problem was found with it
    return services.Recipient(
        holder_name=values["holder_name"],
        holder_email=values["holder_email"],
        awarded_date=awarded,
        grade=values["grade"],
        evidence_url=values["evidence_url"],
        evidence_narrative=values["evidence_narrative"],
    )


def _own(reader: _Reader) -> set[str]:
    """The field names (without prefix) that already have a message."""
    return {
        name.removeprefix(reader.prefix) for name in reader.errors if name.startswith(reader.prefix)
    }


def _invalid(errors: Mapping[str, list[str]]) -> ApiError:
    return ApiError(
        422, "invalid_fields", _("Some fields are not valid; see fields."), fields=errors
    )


# ---------------------------------------------------------------- answers


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _credential_json(
    credential: IssuedCredential, *, with_document: bool = False
) -> dict[str, Any]:
    version = credential.version
    data: dict[str, Any] = {
        "id": str(credential.public_id),
        "credential_id": credential.credential_id,
        "status": credential.status,
        "micro_credential": {
            "id": str(version.micro_credential.public_id),
            "title": version.title,
            "version": version.number,
        },
        "holder_name": credential.holder_name,
        "holder_email": credential.holder_email,
        "awarded_date": credential.awarded_date.isoformat(),
        "issued_at": _iso(credential.issued_at),
        "valid_from": _iso(credential.valid_from),
        "valid_until": _iso(credential.valid_until),
        "grade": credential.grade,
        "url": settings.MESHE_BASE_URL + credential.get_absolute_url(),
        "document_url": settings.MESHE_BASE_URL
        + reverse("credentials:document", kwargs={"public_id": credential.public_id}),
    }
    if with_document:
        # The stored text is what was signed; as JSON it keeps the same statements.
        data["document"] = json.loads(credential.document)
    return data


def _api_location(credential: IssuedCredential) -> str:
    return reverse("api:credential", kwargs={"public_id": credential.public_id})


# ---------------------------------------------------------------- issuer API


@json_endpoint("GET", "POST")
def credentials_collection(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _credential_issue(request)
    return _credential_list(request)


ISSUE_FIELDS: Final = {
    "micro_credential",
    "holder_name",
    "holder_email",
    "awarded_date",
    "valid_from",
    "grade",
    "evidence_url",
    "evidence_narrative",
}


def _credential_issue(request: HttpRequest) -> HttpResponse:
    token = _authenticate(request, ApiScope.ISSUE)
    data = _json_object(request, limit=MAX_BODY_BYTES)
    errors: dict[str, list[str]] = {}
    reader = _Reader(data, errors)
    reader.refuse_unknown(ISSUE_FIELDS)
    micro_credential_id = reader.uuid("micro_credential", required=True)
    valid_from = reader.date_time("valid_from")
    recipient = _read_recipient(reader, today=timezone.localdate())
    if errors or recipient is None or micro_credential_id is None:
        raise _invalid(errors)
    micro_credential = selectors.micro_credential_for_token(
        token=token, public_id=micro_credential_id
    )
    credential = _signed_or_refused(
        lambda: services.credential_issue(
            actor=token.created_by,
            institution=token.institution,
            micro_credential=micro_credential,
            holder_name=recipient.holder_name,
            holder_email=recipient.holder_email,
            awarded_date=recipient.awarded_date,
            valid_from=valid_from,
            grade=recipient.grade,
            evidence_url=recipient.evidence_url,
            evidence_narrative=recipient.evidence_narrative,
        )
    )
    response = JsonResponse(_credential_json(credential, with_document=True), status=201)
    response["Location"] = _api_location(credential)
    return response


def _signed_or_refused[T](issue: Callable[[], T]) -> T:
    """Runs an issuing service; a text that cannot be signed is the client's input, so a 422."""
    try:
        return issue()
    except (signing.CanonicalizationError, CredentialUnsignable) as exc:
        raise ApiError(
            422,
            "unsignable",
            _("The credential could not be signed: %(problem)s") % {"problem": exc.detail},
        ) from None


BATCH_FIELDS: Final = {"micro_credential", "valid_from", "recipients"}
RECIPIENT_FIELDS: Final = ISSUE_FIELDS - {"micro_credential", "valid_from"}


@json_endpoint("POST")
def credential_issue_batch(request: HttpRequest) -> HttpResponse:
    token = _authenticate(request, ApiScope.ISSUE)
    data = _json_object(request, limit=MAX_BODY_BYTES)
    errors: dict[str, list[str]] = {}
    reader = _Reader(data, errors)
    reader.refuse_unknown(BATCH_FIELDS)
    micro_credential_id = reader.uuid("micro_credential", required=True)
    valid_from = reader.date_time("valid_from")
    items = data.get("recipients")
    if not isinstance(items, list) or not items:
        reader.add("recipients", _("This must be a list of one or more learners."))
        raise _invalid(errors)
    if len(items) > MAX_BATCH:
        reader.add(
            "recipients",
            _("A batch holds at most %(max)s learners; upload a spreadsheet for more.")
            % {"max": MAX_BATCH},
        )
        raise _invalid(errors)
    today = timezone.localdate()
    batch: list[services.Recipient] = []
    first_of: dict[str, int] = {}
    for index, item in enumerate(items):
        prefix = f"recipients[{index}]"
        if not isinstance(item, dict):
            reader.add(prefix, _("This must be an object."))
            continue
        item_reader = _Reader(item, errors, prefix=prefix + ".")
        item_reader.refuse_unknown(RECIPIENT_FIELDS)
        recipient = _read_recipient(item_reader, today=today)
        if recipient is None:
            continue
        email = recipient.holder_email.lower()
        if email in first_of:
            item_reader.add(
                "holder_email",
                _("The same e-mail address as recipients[%(index)s].") % {"index": first_of[email]},
            )
            continue
        first_of[email] = index
        batch.append(recipient)
    if errors or micro_credential_id is None:
        raise _invalid(errors)
    micro_credential = selectors.micro_credential_for_token(
        token=token, public_id=micro_credential_id
    )

    def issue_all() -> list[IssuedCredential]:
        return services.credential_issue_many(
            actor=token.created_by,
            institution=token.institution,
            micro_credential=micro_credential,
            recipients=batch,
            valid_from=valid_from,
        )

    credentials = _signed_or_refused(issue_all)
    return JsonResponse(
        {"credentials": [_credential_json(credential) for credential in credentials]},
        status=201,
    )


LIST_PARAMETERS: Final = {
    "status",
    "micro_credential",
    "holder_email",
    "issued_after",
    "issued_before",
    "limit",
    "cursor",
}


def _credential_list(request: HttpRequest) -> HttpResponse:
    token = _authenticate(request, ApiScope.READ)
    errors: dict[str, list[str]] = {}
    reader = _Reader({name: request.GET[name] for name in request.GET}, errors)
    reader.refuse_unknown(LIST_PARAMETERS)
    for name in LIST_PARAMETERS & set(request.GET):
        if not request.GET[name].strip():
            reader.add(name, _("This must not be empty."))
    status = reader.string("status", max_length=20) or None
    if status is not None and status not in CredentialStatus.values:
        reader.add(
            "status", _("Use one of: %(values)s.") % {"values": ", ".join(CredentialStatus.values)}
        )
    filters = selectors.CredentialFilters(
        status=status,
        micro_credential=reader.uuid("micro_credential"),
        holder_email=reader.string("holder_email", max_length=254) or None,
        issued_after=reader.date_time("issued_after"),
        issued_before=reader.date_time("issued_before"),
    )
    limit = DEFAULT_PAGE
    if limit_text := reader.string("limit", max_length=4):
        if limit_text.isdigit() and 1 <= int(limit_text) <= MAX_PAGE:
            limit = int(limit_text)
        else:
            reader.add("limit", _("Use a number from 1 to %(max)s.") % {"max": MAX_PAGE})
    after = None
    if cursor := reader.string("cursor", max_length=200):
        after = _decode_cursor(cursor)
        if after is None:
            reader.add("cursor", _("This is not a cursor this API gave out."))
    if errors:
        raise _invalid(errors)
    page = selectors.issued_credentials_for_token(
        token=token, filters=filters, after=after, limit=limit + 1
    )
    more = len(page) > limit
    page = page[:limit]
    return JsonResponse(
        {
            "credentials": [_credential_json(credential) for credential in page],
            "next_cursor": _encode_cursor(page[-1]) if more else None,
        }
    )


def _encode_cursor(credential: IssuedCredential) -> str:
    position = json.dumps([credential.issued_at.isoformat(), str(credential.public_id)])
    return base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, UUID] | None:
    try:
        position = strict_json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        issued_at, public_id = position
        moment = datetime.fromisoformat(issued_at)
        if moment.tzinfo is None:
            return None
        return moment, UUID(public_id)
    except (binascii.Error, ValueError, TypeError):
        return None


@json_endpoint("GET")
def credential_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    token = _authenticate(request, ApiScope.READ)
    credential = selectors.issued_credential_for_token(token=token, public_id=public_id)
    return JsonResponse(_credential_json(credential, with_document=True))


@json_endpoint("POST")
def credential_status_change(request: HttpRequest, public_id: UUID, action: str) -> HttpResponse:
    token = _authenticate(request, ApiScope.STATUS)
    data = _json_object(request, limit=MAX_BODY_BYTES, empty_ok=True)
    errors: dict[str, list[str]] = {}
    reader = _Reader(data, errors)
    reader.refuse_unknown({"reason", "reason_code"})
    reason = reader.string("reason", max_length=1000, multiline=True)
    reason_code = reader.string("reason_code", max_length=30)
    if reason_code and reason_code not in StatusReason.values:
        reader.add(
            "reason_code",
            _("Use one of: %(codes)s.") % {"codes": ", ".join(StatusReason.values)},
        )
    if errors:
        raise _invalid(errors)
    credential = selectors.issued_credential_for_token(token=token, public_id=public_id)
    changed = services.STATUS_SERVICES[action](
        credential=credential, actor=token.created_by, reason=reason, reason_code=reason_code
    )
    credential.status = changed.status
    return JsonResponse(_credential_json(credential))


@json_endpoint("GET")
def openapi_document(request: HttpRequest) -> HttpResponse:
    response = JsonResponse(openapi.document(base_url=settings.MESHE_BASE_URL))
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@json_endpoint("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    raise Http404


# ---------------------------------------------------------------- W3C VC-API


def _verification_inputs() -> dict[str, Any]:
    return verifier.node_dependencies()


def _vc_api_body(request: HttpRequest, *, required: str, allowed: set[str]) -> dict[str, Any]:
    data = _json_object(request, limit=MAX_VC_API_BODY_BYTES)
    unknown = sorted(set(data) - allowed - {required})
    if unknown:
        raise ApiError(400, "invalid_request", _("Unknown member %(name)s.") % {"name": unknown[0]})
    if not isinstance(data.get(required), dict):
        raise ApiError(
            400,
            "invalid_request",
            _("The body needs %(name)s, a JSON object.") % {"name": required},
        )
    if "options" in data and not isinstance(data["options"], dict):
        raise ApiError(400, "invalid_request", _("options must be a JSON object."))
    return data


# Issue options this issuer honours: the VC-API's credentialId, which names the credential
# for later status updates, and MESHE's credentialStatus: false signs it without this node's
# status entries (it is then kept as "without status" and can never be revoked).
ISSUE_OPTIONS: Final = {"credentialId", "credentialStatus"}


@json_endpoint("POST")
def vc_api_issue(request: HttpRequest) -> HttpResponse:
    token = _authenticate(request, ApiScope.ISSUE)
    data = _vc_api_body(request, required="credential", allowed={"options"})
    credential_id, with_status = _issue_options(data.get("options", {}), data["credential"])
    credential = _credential_to_sign(data["credential"], did=token.institution.did)
    try:
        kept = services.api_credential_sign(
            token=token, credential=credential, credential_id=credential_id, with_status=with_status
        )
    except data_model.DataModelError as exc:
        raise ApiError(
            400,
            exc.code,
            _("The credential does not follow the VC data model: %(problems)s")
            % {"problems": exc.detail},
            fields={"credential": [problem.message for problem in exc.problems]},
        ) from None
    except signing.CanonicalizationError as exc:
        raise _jsonld_refusal(exc, credential) from None
    except CredentialIdTaken as exc:
        raise ApiError(409, "credential_id_taken", exc.message) from None
    except CredentialError as exc:
        raise ApiError(400, "invalid_credential", exc.message) from None
    return JsonResponse({"verifiableCredential": json.loads(kept.document)}, status=201)


def _issue_options(options: Mapping[str, Any], credential: Mapping[str, Any]) -> tuple[str, bool]:
    """The id to keep the credential under and whether it gets status entries; 400 otherwise."""
    unsupported = sorted(set(options) - ISSUE_OPTIONS)
    if unsupported:
        raise ApiError(
            400,
            "unsupported_option",
            _("The option %(name)s is not supported.") % {"name": unsupported[0]},
        )
    given = credential.get("id")
    credential_id = given if isinstance(given, str) else ""
    if "credentialId" in options:
        option = options["credentialId"]
        if not isinstance(option, str) or not _URL.fullmatch(option):
            raise ApiError(
                400,
                "invalid_option",
                _("options.credentialId must be a string: the credential's id, a URL."),
            )
        if credential_id and option != credential_id:
            raise ApiError(
                400,
                "invalid_option",
                _("options.credentialId must be the credential's own id when it has one."),
            )
        credential_id = option
    with_status = options.get("credentialStatus", True)
    if not isinstance(with_status, bool):
        raise ApiError(
            400,
            "invalid_option",
            _(
                "options.credentialStatus must be true (this node adds status entries) "
                "or false (signed without them, never revocable)."
            ),
        )
    return credential_id, with_status


def _jsonld_refusal(exc: signing.CanonicalizationError, credential: Mapping[str, Any]) -> ApiError:
    """A refusal in MESHE's words for a credential the JSON-LD processing turned down."""
    if exc.failure == signing.Failure.CONTEXT_NOT_BUNDLED:
        missing = getattr(exc.__cause__, "url", None) or _unbundled_context(credential)
        return ApiError(
            400,
            "unknown_context",
            _(
                "The credential's @context cannot be processed: %(url)s is not a context this "
                "node holds, and it fetches none."
            )
            % {"url": missing or "?"},
        )
    if exc.failure != signing.Failure.INVALID_JSON_LD:
        return ApiError(
            400,
            _CANONICALIZATION_CODES.get(exc.failure, "invalid_json_ld"),
            _("The credential cannot be signed: %(problem)s") % {"problem": exc.detail},
        )
    # The processor's own text is a library's: say which part is at fault, in our words.
    code = _jsonld_error_code(exc)
    reason = (
        _("JSON-LD error “%(code)s”.") % {"code": code}
        if code
        else _("it is not a JSON-LD context this node can read.")
    )
    try:
        signing.canonicalize(
            {"@context": credential.get("@context"), "type": "VerifiableCredential"}
        )
    except signing.CanonicalizationError:
        return ApiError(
            400,
            "invalid_context",
            _("The credential's @context cannot be processed: %(reason)s") % {"reason": reason},
        )
    return ApiError(
        400,
        "invalid_json_ld",
        _("The credential cannot be read as JSON-LD: %(reason)s")
        % {"reason": reason if code else _("a value has a form JSON-LD does not allow.")},
    )


def _jsonld_error_code(exc: BaseException) -> str | None:
    """The JSON-LD 1.1 API error code (a spec's term, e.g. "invalid vocab mapping") behind exc."""
    seen: BaseException | None = exc
    code = None
    while seen is not None:
        found = getattr(seen, "code", None)
        if isinstance(found, str) and _JSONLD_ERROR_CODE.fullmatch(found):
            code = found
        seen = seen.__cause__ or seen.__context__
    return code


def _unbundled_context(credential: Mapping[str, Any]) -> str | None:
    context = credential.get("@context")
    for entry in context if isinstance(context, list) else [context]:
        if isinstance(entry, str) and entry not in bundled_index():
            return entry
    return None


def _credential_to_sign(credential: dict[str, Any], *, did: str) -> dict[str, Any]:
    """The credential as it will be signed, or a 400 naming what is wrong with it."""

    def refuse(code: str, message: str) -> ApiError:
        return ApiError(400, code, message)

    context = credential.get("@context")
    contexts: list[Any] = context if isinstance(context, list) else []
    first = contexts[0] if contexts else None
    if first not in (signing.CREDENTIALS_V2_CONTEXT, proof_sets.CREDENTIALS_V1_CONTEXT):
        raise refuse(
            "invalid_credential",
            _("@context must be a list starting with %(v2)s (or %(v1)s).")
            % {"v2": signing.CREDENTIALS_V2_CONTEXT, "v1": proof_sets.CREDENTIALS_V1_CONTEXT},
        )
    if "proof" in credential:
        raise refuse("already_signed", _("The credential already has a proof."))
    types = credential.get("type")
    types = types if isinstance(types, list) else [types]
    if "VerifiableCredential" not in types:
        raise refuse("invalid_credential", _("type must include VerifiableCredential."))
    if issuer_id(credential.get("issuer")) != did:
        raise refuse(
            "issuer_mismatch",
            _("This token signs only for %(did)s; the credential's issuer must be it.")
            % {"did": did},
        )
    subjects = credential.get("credentialSubject")
    subjects = subjects if isinstance(subjects, list) else [subjects]
    if not subjects or not all(isinstance(each, dict) and each for each in subjects):
        raise refuse("invalid_credential", _("credentialSubject must make a claim."))
    credential = dict(credential)
    if first == proof_sets.CREDENTIALS_V1_CONTEXT:
        dates = ("issuanceDate", "expirationDate")
        credential.setdefault("issuanceDate", signing.format_created(timezone.now()))
        if signing.DATA_INTEGRITY_V2_CONTEXT not in contexts:
            # VC 1.1 does not define the proof's terms (Data Integrity §2.4.1).
            credential["@context"] = [*contexts, signing.DATA_INTEGRITY_V2_CONTEXT]
    else:
        dates = ("validFrom", "validUntil")
    for name in dates:
        if name in credential:
            try:
                parse_date_time_stamp(credential[name])
            except ValueError as exc:
                raise refuse(
                    "invalid_credential",
                    _("%(name)s is not a date and time: %(problem)s")
                    % {"name": name, "problem": exc},
                ) from None
    return credential


def _verified_or_400(result: dict[str, Any]) -> HttpResponse:
    if result["verified"]:
        return JsonResponse(result)
    message = result["errors"][0] if result["errors"] else _("It does not verify.")
    raise ApiError(400, "not_verified", message, body=result)


@json_endpoint("POST")
def vc_api_verify_credential(request: HttpRequest) -> HttpResponse:
    _within_limit("verify", rate_limits.client_ip(request))
    data = _vc_api_body(request, required="verifiableCredential", allowed={"options"})
    result = proof_sets.verify_any_credential(
        data["verifiableCredential"], **_verification_inputs()
    )
    return _verified_or_400(result.as_dict())


@json_endpoint("POST")
def vc_api_verify_presentation(request: HttpRequest) -> HttpResponse:
    _within_limit("verify", rate_limits.client_ip(request))
    data = _vc_api_body(request, required="verifiablePresentation", allowed={"options"})
    options = data.get("options", {})
    for name in ("challenge", "domain"):
        if name in options and not isinstance(options[name], str):
            raise ApiError(400, "invalid_request", _("%(name)s must be a string.") % {"name": name})
    result = proof_sets.verify_presentation(
        data["verifiablePresentation"],
        challenge=options.get("challenge"),
        domain=options.get("domain"),
        **_verification_inputs(),
    )
    return _verified_or_400(result.as_dict())


@json_endpoint("POST")
def vc_api_status(request: HttpRequest) -> HttpResponse:
    token = _authenticate(request, ApiScope.STATUS)
    data = _vc_api_body_status(request)
    wanted = _wanted_status(data["credentialStatus"])
    credential: IssuedCredential | ApiCredential
    try:
        credential = selectors.issued_credential_for_token(
            token=token, public_id=_credential_uuid(data["credentialId"])
        )
    except Http404:
        # A credential the institution's systems signed through the VC-API itself.
        credential = selectors.api_credential_for_token(
            token=token, credential_id=data["credentialId"]
        )
    revoke, suspend = wanted.get("revocation"), wanted.get("suspension")
    if revoke is False and credential.status == CredentialStatus.REVOKED:
        raise ApiError(409, "conflict", _("A revoked credential cannot be valid again."))
    if revoke:
        action = "revoke"
    elif suspend is True:
        action = "suspend"
    elif suspend is False:
        action = "reinstate"
    else:
        action = ""
    if action:
        # One service per action, for either kind of credential.
        transitions: Mapping[str, Callable[..., Any]] = services.STATUS_SERVICES
        credential.status = transitions[action](
            credential=credential,
            actor=token.created_by,
            # In English, translated when shown: the caller's language is not the reader's.
            reason=services.VC_API_STATUS_REASON,
            reason_code=services.VC_API_STATUS_REASON_CODE,
        ).status
    return JsonResponse(
        {
            "credentialId": credential.credential_id,
            "credentialStatus": [
                {
                    "type": "BitstringStatusListEntry",
                    "statusPurpose": "revocation",
                    "status": credential.status == CredentialStatus.REVOKED,
                },
                {
                    "type": "BitstringStatusListEntry",
                    "statusPurpose": "suspension",
                    "status": credential.status == CredentialStatus.SUSPENDED,
                },
            ],
        }
    )


def _vc_api_body_status(request: HttpRequest) -> dict[str, Any]:
    data = _json_object(request, limit=MAX_VC_API_BODY_BYTES)
    unknown = sorted(set(data) - {"credentialId", "credentialStatus"})
    if unknown:
        raise ApiError(400, "invalid_request", _("Unknown member %(name)s.") % {"name": unknown[0]})
    if not isinstance(data.get("credentialId"), str):
        raise ApiError(400, "invalid_request", _("credentialId must be a string."))
    if not isinstance(data.get("credentialStatus"), list | dict):
        raise ApiError(
            400, "invalid_request", _("credentialStatus must be an entry or a list of them.")
        )
    return data


def _credential_uuid(credential_id: str) -> UUID:
    """The public id in urn:uuid:… (the credential's id) or a bare UUID; 404 otherwise."""
    text = credential_id.removeprefix("urn:uuid:")
    try:
        return UUID(text)
    except ValueError:
        raise Http404 from None


def _wanted_status(entries: list[Any] | dict[str, Any]) -> dict[str, bool]:
    """{purpose: set?} from VC-API status entries; a 400 for anything it cannot read."""
    wanted: dict[str, bool] = {}
    for entry in entries if isinstance(entries, list) else [entries]:
        if not isinstance(entry, dict):
            raise ApiError(400, "invalid_request", _("A credentialStatus entry is not an object."))
        entry_type = entry.get("type", "BitstringStatusListEntry")
        if entry_type != "BitstringStatusListEntry":
            raise ApiError(
                400, "invalid_request", _("Only BitstringStatusListEntry statuses are kept here.")
            )
        purpose = entry.get("statusPurpose")
        if purpose not in ("revocation", "suspension"):
            raise ApiError(
                400, "invalid_request", _("statusPurpose must be revocation or suspension.")
            )
        value = _status_flag(entry.get("status"), purpose=purpose)
        if value is None or wanted.get(purpose, value) != value:
            raise ApiError(
                400,
                "invalid_request",
                _("status must be true or false (or “revoked”, “suspended”)."),
            )
        wanted[purpose] = value
    if not wanted:
        raise ApiError(400, "invalid_request", _("credentialStatus lists no change."))
    return wanted


def _status_flag(value: Any, *, purpose: str) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        named = {"revocation": "revoked", "suspension": "suspended"}[purpose]
        if value.lower() == named:
            return True
        return _STATUS_TEXT.get(value.lower())
    return None
