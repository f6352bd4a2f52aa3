"""The issuer API and its tokens: who may call what, and what each call does."""

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from credentials.api import views as api
from credentials.issuing import verifier
from credentials.models import CredentialStatus, IssuedCredential, MicroCredential
from institutions import services as institution_services
from institutions.exceptions import InstitutionError
from institutions.models import ApiScope, ApiToken, AuditEvent, Role
from tests.factories import (
    ALL_SCOPES,
    LEARNER,
    InstitutionFactory,
    MembershipFactory,
    MicroCredentialFactory,
    issue,
    make_token,
)

pytestmark = pytest.mark.django_db


def call(client: Client, method: str, path: str, *, token: str | None = None, body: Any = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if method == "GET":
        return client.get(path, headers=headers)
    data = body if isinstance(body, str | bytes) else json.dumps(body if body is not None else {})
    return client.post(path, data, content_type="application/json", headers=headers)


@dataclass(frozen=True)
class World:
    """One institution with a published micro-credential and an issued credential, and another."""

    micro_credential: MicroCredential
    credential: IssuedCredential
    other_micro_credential: MicroCredential

    @property
    def institution(self):
        return self.micro_credential.institution


@pytest.fixture
def world() -> World:
    micro_credential = MicroCredentialFactory()
    return World(
        micro_credential=micro_credential,
        credential=issue(micro_credential),
        other_micro_credential=MicroCredentialFactory(),
    )


# ---------------------------------------------------------------- every endpoint, every caller


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    scope: str
    path: Callable[[World], str]
    body: Callable[[World], Any]
    ok: int
    # What a valid token of another institution gets.
    elsewhere: int


def _issue_body(w: World) -> dict[str, Any]:
    return {"micro_credential": str(w.micro_credential.public_id), **LEARNER}


def _vc(w: World) -> dict[str, Any]:
    return {
        "credential": {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "issuer": w.institution.did,
            "credentialSubject": {"id": "did:example:ana"},
        }
    }


def status_path(action: str) -> Callable[[World], str]:
    return lambda w: f"/api/v1/credentials/{w.credential.public_id}/{action}"


ENDPOINTS = [
    Endpoint(
        "issue", "POST", ApiScope.ISSUE, lambda w: "/api/v1/credentials", _issue_body, 201, 404
    ),
    Endpoint(
        "batch",
        "POST",
        ApiScope.ISSUE,
        lambda w: "/api/v1/credentials/batch",
        lambda w: {"micro_credential": str(w.micro_credential.public_id), "recipients": [LEARNER]},
        201,
        404,
    ),
    Endpoint(
        "list", "GET", ApiScope.READ, lambda w: "/api/v1/credentials", lambda w: None, 200, 200
    ),
    Endpoint(
        "get",
        "GET",
        ApiScope.READ,
        lambda w: f"/api/v1/credentials/{w.credential.public_id}",
        lambda w: None,
        200,
        404,
    ),
    *(
        Endpoint(
            action,
            "POST",
            ApiScope.STATUS,
            status_path(action),
            lambda w: {"reason": "Checked with the examiner"},
            200,
            404,
        )
        for action in ("revoke", "suspend", "reinstate")
    ),
    Endpoint(
        "vc-issue", "POST", ApiScope.ISSUE, lambda w: "/vc-api/credentials/issue", _vc, 201, 400
    ),
    Endpoint(
        "vc-status",
        "POST",
        ApiScope.STATUS,
        lambda w: "/vc-api/credentials/status",
        lambda w: {
            "credentialId": w.credential.credential_id,
            "credentialStatus": [{"statusPurpose": "suspension", "status": True}],
        },
        200,
        404,
    ),
]
ENDPOINT_IDS = [endpoint.name for endpoint in ENDPOINTS]


def nothing_changed(world: World) -> bool:
    world.credential.refresh_from_db()
    return (
        IssuedCredential.objects.count() == 1
        and world.credential.status == CredentialStatus.ISSUED
        and not AuditEvent.objects.filter(action__startswith="vc_api.").exists()
    )


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINT_IDS)
def test_every_endpoint_refuses_a_request_without_a_token(client, world, endpoint):
    response = call(client, endpoint.method, endpoint.path(world), body=endpoint.body(world))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert nothing_changed(world)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINT_IDS)
@pytest.mark.parametrize(
    "header",
    [
        "Bearer meshe_nonsense",
        "Bearer meshe_0123abcd_" + "A" * 43,
        "Basic dXNlcjpwYXNz",
        "Bearer",
    ],
    ids=["malformed", "unknown", "wrong-scheme", "empty"],
)
def test_every_endpoint_refuses_a_malformed_or_unknown_token(client, world, endpoint, header):
    response = client.generic(
        endpoint.method,
        endpoint.path(world),
        json.dumps(endpoint.body(world)) if endpoint.method == "POST" else "",
        content_type="application/json",
        headers={"Authorization": header},
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"
    assert nothing_changed(world)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINT_IDS)
def test_every_endpoint_refuses_a_revoked_token(client, world, endpoint):
    token = make_token(world.institution, revoked=True)
    response = call(
        client, endpoint.method, endpoint.path(world), token=token, body=endpoint.body(world)
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_revoked"
    assert nothing_changed(world)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINT_IDS)
def test_every_endpoint_keeps_a_token_to_its_own_institution(client, world, endpoint):
    token = make_token(world.other_micro_credential.institution)
    response = call(
        client, endpoint.method, endpoint.path(world), token=token, body=endpoint.body(world)
    )
    assert response.status_code == endpoint.elsewhere
    if endpoint.elsewhere == 200:
        assert response.json()["credentials"] == []
    else:
        assert response.json()["error"]["code"] in {"not_found", "issuer_mismatch"}
    assert nothing_changed(world)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINT_IDS)
def test_every_endpoint_needs_its_scope(client, world, endpoint):
    others = [scope for scope in ALL_SCOPES if scope != endpoint.scope]
    token = make_token(world.institution, scopes=others)
    response = call(
        client, endpoint.method, endpoint.path(world), token=token, body=endpoint.body(world)
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"
    assert endpoint.scope in response["WWW-Authenticate"]
    assert nothing_changed(world)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINT_IDS)
def test_every_endpoint_serves_a_valid_token_with_its_scope(client, world, endpoint):
    token = make_token(world.institution, scopes=[endpoint.scope])
    response = call(
        client, endpoint.method, endpoint.path(world), token=token, body=endpoint.body(world)
    )
    assert response.status_code == endpoint.ok, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"


# ---------------------------------------------------------------- tokens


def test_a_token_is_shown_once_and_only_its_hmac_is_stored(world, settings):
    text = make_token(world.institution, scopes=[ApiScope.READ])
    match = re.fullmatch(r"meshe_([0-9a-f]{8})_([A-Za-z0-9_-]{43})", text)
    assert match
    token = ApiToken.objects.get(prefix=match[1])
    assert match[2] not in token.secret_digest
    assert token.secret_digest != hashlib.sha256(match[2].encode()).hexdigest()
    assert token.matches(match[2])
    assert not token.matches(match[2][:-1] + ("A" if match[2][-1] != "A" else "B"))
    settings.SECRET_KEY = "another-secret-key-that-is-long-enough-for-django-9876543210-abcdef"
    assert not token.matches(match[2])


def test_a_token_survives_a_secret_key_rotation_done_with_fallbacks(client, world, settings):
    text = make_token(world.institution, scopes=[ApiScope.READ])
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "another-secret-key-that-is-long-enough-for-django-9876543210-abcdef"
    assert call(client, "GET", "/api/v1/credentials", token=text).status_code == 401
    settings.SECRET_KEY_FALLBACKS = [old]
    assert call(client, "GET", "/api/v1/credentials", token=text).status_code == 200


def test_creating_and_revoking_a_token_is_audited_and_revoking_is_idempotent(world):
    admin = MembershipFactory(institution=world.institution)
    token, _text = institution_services.api_token_create(
        actor=admin.user, institution=world.institution, name=" SIS ", scopes=[ApiScope.READ]
    )
    assert token.name == "SIS"
    institution_services.api_token_revoke(actor=admin.user, token=token)
    first = token.revoked_at
    institution_services.api_token_revoke(actor=admin.user, token=token)
    assert token.revoked_at == first
    actions = list(
        AuditEvent.objects.filter(institution=world.institution)
        .filter(action__startswith="api_token.")
        .values_list("action", flat=True)
    )
    assert sorted(actions) == ["api_token.created", "api_token.revoked"]
    assert AuditEvent.objects.get(action="api_token.created").detail["token"] == token.prefix


@pytest.mark.parametrize(
    ("name", "scopes"),
    [("", [ApiScope.READ]), ("SIS", []), ("SIS", ["credentials:everything"])],
    ids=["no-name", "no-scope", "unknown-scope"],
)
def test_a_token_needs_a_name_and_known_scopes(world, name, scopes):
    admin = MembershipFactory(institution=world.institution)
    with pytest.raises(InstitutionError):
        institution_services.api_token_create(
            actor=admin.user, institution=world.institution, name=name, scopes=scopes
        )
    assert not ApiToken.objects.exists()


def test_using_a_token_records_when_it_was_last_used(client, world):
    text = make_token(world.institution, scopes=[ApiScope.READ])
    token = ApiToken.objects.get()
    assert token.last_used_at is None
    call(client, "GET", "/api/v1/credentials", token=text)
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_signed_in_admin_without_a_token_is_refused_the_api(client, world):
    admin = MembershipFactory(institution=world.institution)
    client.force_login(admin.user)
    assert call(client, "GET", "/api/v1/credentials").status_code == 401


def test_the_api_needs_no_csrf_token_because_it_reads_no_cookie(world):
    client = Client(enforce_csrf_checks=True)
    token = make_token(world.institution)
    response = call(client, "POST", "/api/v1/credentials", token=token, body=_issue_body(world))
    assert response.status_code == 201


# ---------------------------------------------------------------- issuing


def test_issuing_answers_the_signed_document_which_verifies(client, world):
    token = make_token(world.institution, scopes=[ApiScope.ISSUE])
    body = {**_issue_body(world), "grade": "8.5", "evidence_url": "https://uni.example/work/1"}
    response = call(client, "POST", "/api/v1/credentials", token=token, body=body)
    assert response.status_code == 201
    data = response.json()
    credential = IssuedCredential.objects.get(public_id=data["id"])
    assert response["Location"] == f"/api/v1/credentials/{credential.public_id}"
    assert data["status"] == "issued"
    assert data["micro_credential"]["id"] == str(world.micro_credential.public_id)
    assert data["document"] == json.loads(credential.document)
    assert verifier.verify(data["document"])["verified"] is True
    assert credential.grade == "8.5"
    assert credential.events.get().actor == ApiToken.objects.get().created_by


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{not json", 400, "malformed_json"),
        ('{"a": 1, "a": 2}', 400, "malformed_json"),
        ("[1, 2]", 400, "invalid_body"),
        ("[" * 100_000 + "]" * 100_000, 400, "malformed_json"),
        ('{"holder_name": 5}', 422, "invalid_fields"),
        (json.dumps({"x": "y"}), 422, "invalid_fields"),
    ],
    ids=[
        "malformed",
        "duplicate-key",
        "not-an-object",
        "deeply-nested",
        "wrong-type",
        "unknown-field",
    ],
)
def test_bad_input_gets_a_json_error_never_a_500(client, world, body, status, code):
    token = make_token(world.institution)
    response = call(client, "POST", "/api/v1/credentials", token=token, body=body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert IssuedCredential.objects.count() == 1


@pytest.mark.date_sensitive
def test_each_invalid_field_is_named(client, world):
    token = make_token(world.institution)
    body = {
        "micro_credential": "not-a-uuid",
        "holder_name": "Ana\nKowalska",
        "holder_email": "ana@",
        "awarded_date": (timezone.localdate() + timedelta(days=2)).isoformat(),
        "evidence_url": "https://uni.example/{work}",
        "valid_from": "2026-06-30",
        "colour": "blue",
    }
    response = call(client, "POST", "/api/v1/credentials", token=token, body=body)
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {
        "micro_credential",
        "holder_name",
        "holder_email",
        "awarded_date",
        "evidence_url",
        "valid_from",
        "colour",
    }


def test_an_unknown_micro_credential_is_404_and_an_unpublished_one_409(client, world):
    token = make_token(world.institution)
    unknown = {**_issue_body(world), "micro_credential": "00000000-0000-4000-8000-000000000000"}
    assert call(client, "POST", "/api/v1/credentials", token=token, body=unknown).status_code == 404
    draft = MicroCredentialFactory(
        institution=world.institution, status=MicroCredential.Status.DRAFT
    )
    body = {**_issue_body(world), "micro_credential": str(draft.public_id)}
    response = call(client, "POST", "/api/v1/credentials", token=token, body=body)
    assert response.status_code == 409
    assert "published" in response.json()["error"]["message"]


def test_a_body_over_the_limit_is_413(client, world):
    token = make_token(world.institution)
    body = {**_issue_body(world), "evidence_narrative": "x" * api.MAX_BODY_BYTES}
    response = call(client, "POST", "/api/v1/credentials", token=token, body=body)
    assert response.status_code == 413


def test_a_batch_issues_every_learner_in_order(client, world):
    token = make_token(world.institution)
    recipients = [
        {**LEARNER, "holder_email": f"learner{n}@example.eu", "holder_name": f"Learner {n}"}
        for n in range(3)
    ]
    body = {"micro_credential": str(world.micro_credential.public_id), "recipients": recipients}
    response = call(client, "POST", "/api/v1/credentials/batch", token=token, body=body)
    assert response.status_code == 201
    issued = response.json()["credentials"]
    assert [item["holder_email"] for item in issued] == [r["holder_email"] for r in recipients]
    assert IssuedCredential.objects.count() == 4


def test_a_batch_with_one_bad_item_issues_nothing_and_names_each_problem(client, world):
    token = make_token(world.institution)
    recipients = [
        LEARNER,
        {**LEARNER, "holder_email": "not-an-address"},
        "Ana",
        {**LEARNER, "holder_name": "Ana again"},
    ]
    body = {"micro_credential": str(world.micro_credential.public_id), "recipients": recipients}
    response = call(client, "POST", "/api/v1/credentials/batch", token=token, body=body)
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {
        "recipients[1].holder_email",
        "recipients[2]",
        "recipients[3].holder_email",
    }
    assert IssuedCredential.objects.count() == 1


def test_a_batch_refused_by_the_service_leaves_nothing_behind(client, world):
    token = make_token(world.institution)
    world.micro_credential.eqf_level = "http://data.europa.eu/snb/eqf/99"
    world.micro_credential.save()
    recipients = [{**LEARNER, "holder_email": f"l{n}@example.eu"} for n in range(2)]
    body = {"micro_credential": str(world.micro_credential.public_id), "recipients": recipients}
    response = call(client, "POST", "/api/v1/credentials/batch", token=token, body=body)
    assert response.status_code == 409
    assert IssuedCredential.objects.count() == 1
    assert world.micro_credential.versions.count() == 1


def test_a_batch_over_the_maximum_is_refused_whole(client, world):
    token = make_token(world.institution)
    recipients = [{**LEARNER, "holder_email": f"l{n}@example.eu"} for n in range(api.MAX_BATCH + 1)]
    body = {"micro_credential": str(world.micro_credential.public_id), "recipients": recipients}
    response = call(client, "POST", "/api/v1/credentials/batch", token=token, body=body)
    assert response.status_code == 422
    assert "at most 100" in response.json()["error"]["fields"]["recipients"][0]
    assert IssuedCredential.objects.count() == 1


# ---------------------------------------------------------------- reading


def test_the_list_pages_by_cursor_without_repeating_or_skipping(client, world):
    for n in range(4):
        issue(world.micro_credential, holder_email=f"l{n}@example.eu")
    token = make_token(world.institution, scopes=[ApiScope.READ])
    seen: list[str] = []
    url = "/api/v1/credentials?limit=2"
    while True:
        page = call(client, "GET", url, token=token).json()
        seen += [item["id"] for item in page["credentials"]]
        if page["next_cursor"] is None:
            break
        url = f"/api/v1/credentials?limit=2&cursor={page['next_cursor']}"
    expected = IssuedCredential.objects.order_by("-issued_at", "-public_id")
    assert seen == [str(credential.public_id) for credential in expected]


def test_the_list_filters_by_status_micro_credential_and_e_mail(client, world):
    other = MicroCredentialFactory(institution=world.institution)
    revoked = issue(other, holder_email="bo@example.eu")
    token = make_token(world.institution)
    call(client, "POST", f"/api/v1/credentials/{revoked.public_id}/revoke", token=token)

    def ids(query: str) -> list[str]:
        response = call(client, "GET", f"/api/v1/credentials?{query}", token=token)
        return [item["id"] for item in response.json()["credentials"]]

    assert ids("status=revoked") == [str(revoked.public_id)]
    assert ids(f"micro_credential={world.micro_credential.public_id}") == [
        str(world.credential.public_id)
    ]
    assert ids("holder_email=BO@example.eu") == [str(revoked.public_id)]
    assert ids("issued_after=2999-01-01T00:00:00Z") == []


@pytest.mark.parametrize(
    "query",
    ["status=lost", "limit=0", "limit=101", "cursor=abc", "issued_after=yesterday", "sort=name"],
)
def test_bad_list_parameters_are_422_and_named(client, world, query):
    token = make_token(world.institution, scopes=[ApiScope.READ])
    response = call(client, "GET", f"/api/v1/credentials?{query}", token=token)
    assert response.status_code == 422
    assert query.split("=")[0] in response.json()["error"]["fields"]


def test_the_list_reads_in_a_fixed_number_of_queries(client, world, django_assert_max_num_queries):
    for n in range(5):
        issue(world.micro_credential, holder_email=f"l{n}@example.eu")
    token = make_token(world.institution, scopes=[ApiScope.READ])
    # Token (with institution and creator), last-used update, one page.
    with django_assert_max_num_queries(3):
        response = call(client, "GET", "/api/v1/credentials", token=token)
    assert len(response.json()["credentials"]) == 6


def test_getting_a_credential_includes_its_signed_document(client, world):
    token = make_token(world.institution, scopes=[ApiScope.READ])
    response = call(client, "GET", f"/api/v1/credentials/{world.credential.public_id}", token=token)
    assert response.json()["document"] == json.loads(world.credential.document)


# ---------------------------------------------------------------- status changes


def test_suspend_reinstate_and_revoke_change_the_status_with_the_reason(client, world):
    token = make_token(world.institution, scopes=[ApiScope.STATUS])
    base = f"/api/v1/credentials/{world.credential.public_id}"
    assert call(client, "POST", f"{base}/suspend", token=token).json()["status"] == "suspended"
    assert call(client, "POST", f"{base}/reinstate", token=token).json()["status"] == "issued"
    response = call(client, "POST", f"{base}/revoke", token=token, body={"reason": "Plagiarism"})
    assert response.json()["status"] == "revoked"
    assert world.credential.events.last().reason == "Plagiarism"
    assert verifier.verify(world.credential.document)["verified"] is False


def test_a_revoked_credential_cannot_be_reinstated_409(client, world):
    token = make_token(world.institution, scopes=[ApiScope.STATUS])
    base = f"/api/v1/credentials/{world.credential.public_id}"
    call(client, "POST", f"{base}/revoke", token=token)
    response = call(client, "POST", f"{base}/reinstate", token=token)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_a_reason_that_is_not_a_string_is_422(client, world):
    token = make_token(world.institution, scopes=[ApiScope.STATUS])
    url = f"/api/v1/credentials/{world.credential.public_id}/revoke"
    response = call(client, "POST", url, token=token, body={"reason": ["x"]})
    assert response.status_code == 422
    world.credential.refresh_from_db()
    assert world.credential.status == CredentialStatus.ISSUED


# ---------------------------------------------------------------- the JSON envelope


def test_a_wrong_method_is_405_with_allow(client, world):
    token = make_token(world.institution)
    response = client.delete(
        f"/api/v1/credentials/{world.credential.public_id}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nothing",
        "/api/v1/credentials/not-a-uuid",
        "/api/v1/credentials/%C3%85%0A%C3%AB/revoke",
        "/vc-api/credentials/derive",
    ],
)
def test_an_unknown_api_path_is_a_json_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_existing_verify_endpoint_still_answers_before_the_catch_all(client, world):
    response = client.post(
        "/api/v1/verify", world.credential.document, content_type="application/json"
    )
    assert response.json()["verified"] is True


# ---------------------------------------------------------------- token pages


def tokens_url(institution) -> str:
    return reverse("institutions:api_tokens", kwargs={"slug": institution.slug})


def test_an_admin_creates_a_token_and_sees_it_once(logged_in):
    admin = MembershipFactory()
    client = logged_in(admin.user)
    response = client.post(
        tokens_url(admin.institution), {"name": "Student records", "scopes": [ApiScope.ISSUE]}
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    shown = re.search(r'value="(meshe_[0-9a-f]{8}_[A-Za-z0-9_-]{43})"', response.text)
    assert shown is not None
    text = shown[1]
    assert call(Client(), "POST", "/vc-api/credentials/status", token=text).status_code == 403
    again = client.get(tokens_url(admin.institution))
    assert "Student records" in again.text
    assert text not in again.text
    assert text[:14] in again.text


def test_an_admin_sees_an_invalid_token_form_inline(logged_in):
    admin = MembershipFactory()
    response = logged_in(admin.user).post(tokens_url(admin.institution), {"name": "SIS"})
    assert response.status_code == 200
    assert "This field is required." in response.text
    assert not ApiToken.objects.exists()


def test_an_admin_revokes_a_token_and_it_stops_working(logged_in, world):
    admin = MembershipFactory(institution=world.institution)
    text = make_token(world.institution, scopes=[ApiScope.READ])
    token = ApiToken.objects.get()
    url = reverse(
        "institutions:api_token_revoke",
        kwargs={"slug": world.institution.slug, "public_id": token.public_id},
    )
    response = logged_in(admin.user).post(url, follow=True)
    assert "is revoked" in response.text
    assert call(Client(), "GET", "/api/v1/credentials", token=text).status_code == 401


@pytest.mark.parametrize("role", [Role.ISSUER, Role.VIEWER])
def test_issuers_and_viewers_may_not_manage_tokens(logged_in, world, role):
    member = MembershipFactory(institution=world.institution, role=role)
    make_token(world.institution)
    token = ApiToken.objects.get()
    client = logged_in(member.user)
    assert client.get(tokens_url(world.institution)).status_code == 403
    assert (
        client.post(tokens_url(world.institution), {"name": "x", "scopes": ALL_SCOPES}).status_code
        == 403
    )
    revoke = reverse(
        "institutions:api_token_revoke",
        kwargs={"slug": world.institution.slug, "public_id": token.public_id},
    )
    assert client.post(revoke).status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None
    assert ApiToken.objects.count() == 1


def test_an_admin_of_another_institution_gets_404(logged_in, world):
    make_token(world.institution)
    token = ApiToken.objects.get()
    stranger = MembershipFactory(institution=InstitutionFactory())
    client = logged_in(stranger.user)
    assert client.get(tokens_url(world.institution)).status_code == 404
    own_slug_foreign_token = reverse(
        "institutions:api_token_revoke",
        kwargs={"slug": stranger.institution.slug, "public_id": token.public_id},
    )
    assert client.post(own_slug_foreign_token).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_anonymous_visitors_are_sent_to_sign_in_from_the_token_pages(client, world):
    response = client.get(tokens_url(world.institution))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_only_admins_see_the_link_to_the_token_page(logged_in, world):
    admin = MembershipFactory(institution=world.institution)
    issuer = MembershipFactory(institution=world.institution, role=Role.ISSUER)
    page = world.institution.get_absolute_url()
    assert tokens_url(world.institution) in logged_in(admin.user).get(page).text
    assert tokens_url(world.institution) not in logged_in(issuer.user).get(page).text
