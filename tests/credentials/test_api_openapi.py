"""The OpenAPI 3.1 document: valid, true to the URL configuration, and honoured by the app.

schemathesis drives every operation through the WSGI app with a valid token: no 5xx, and
every answer has a documented status, content type and shape.
"""

import re
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from jsonschema import Draft202012Validator

from credentials.api import openapi
from credentials.api import urls as api_urls
from credentials.models import IssuedCredential
from tests.factories import MicroCredentialFactory, issue, make_token

pytestmark = pytest.mark.django_db

SERVER = "http://testserver"
DOCUMENT = openapi.document(base_url=SERVER)
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
SAMPLE_UUID = "3f6f2c1e-8a55-4b8f-9d0e-2f4c1a7b9e21"


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def refs(element: Any) -> list[str]:
    if isinstance(element, dict):
        found = [element["$ref"]] if isinstance(element.get("$ref"), str) else []
        return found + [ref for value in element.values() for ref in refs(value)]
    if isinstance(element, list):
        return [ref for value in element for ref in refs(value)]
    return []


def pointer(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    target: Any = document
    for part in ref[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return target


def test_the_document_is_valid_openapi_3_1():
    assert DOCUMENT["openapi"] == "3.1.0"
    # schemathesis checks against the official OpenAPI 3.1 JSON Schema it ships...
    schemathesis.openapi.from_dict(DOCUMENT).validate()
    # ...and that check does refuse a broken document.
    broken = {**DOCUMENT, "info": {"title": "MESHE API"}}
    with pytest.raises(ValueError, match="version"):
        schemathesis.openapi.from_dict(broken).validate()


def test_every_reference_resolves_and_every_schema_is_json_schema_2020_12():
    for ref in refs(DOCUMENT):
        assert pointer(DOCUMENT, ref) is not None, ref
    for schema in DOCUMENT["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_operations_have_unique_ids_responses_and_a_known_security_scheme():
    ids = [operation["operationId"] for _path, _method, operation in operations()]
    assert len(ids) == len(set(ids))
    schemes = set(DOCUMENT["components"]["securitySchemes"])
    for path, method, operation in operations():
        assert operation["responses"], (path, method)
        assert "security" in operation, (path, method)
        for requirement in operation["security"]:
            assert set(requirement) <= schemes


def test_every_example_is_valid_for_its_schema():
    checked = 0
    for _path, _method, operation in operations():
        contents = [operation.get("requestBody", {}).get("content", {})]
        contents += [
            response.get("content", {})
            for response in operation["responses"].values()
            if "$ref" not in response
        ]
        for content in contents:
            for media in content.values():
                validator = Draft202012Validator(
                    {"allOf": [media["schema"]], "components": DOCUMENT["components"]}
                )
                for example in media.get("examples", {}).values():
                    validator.validate(example["value"])
                    checked += 1
    assert checked >= 8


def api_routes() -> set[str]:
    """Every route of the API URL module, as an OpenAPI path template."""
    return {
        "/" + re.sub(r"<uuid:(\w+)>", r"{\1}", str(route.pattern))
        for route in api_urls.urlpatterns
        if route.name != "not_found"
    }


def test_the_document_describes_exactly_the_routes_there_are():
    documented = set(DOCUMENT["paths"])
    assert api_routes() <= documented
    assert documented - api_routes() == {"/api/v1/verify"}
    for path in documented:
        match = resolve(path.replace("{public_id}", SAMPLE_UUID))
        assert match.url_name != "not_found", path
    with pytest.raises(Resolver404):
        resolve("/api/v2/credentials/")


def test_the_document_is_served_with_this_node_as_its_server(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json() == openapi.document(base_url=django_settings.MESHE_BASE_URL)
    assert response.json()["servers"] == [{"url": django_settings.MESHE_BASE_URL}]


# ---------------------------------------------------------------- schemathesis


schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.app = get_wsgi_application()
# The document's examples, schemathesis's boundary cases and some fuzzing: enough to find a
# 500 or an undocumented answer while the whole run stays around 15 s (300 examples per
# operation found nothing more and took 35 s).
EXAMPLES_PER_OPERATION = 50
schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])
schema.config.generation.update(max_examples=EXAMPLES_PER_OPERATION)


@pytest.fixture
def connection_kept_open() -> Iterator[None]:
    """The WSGI app would close the test's database connection at the end of each request,
    as it does in production; Django's test client suspends that the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(connection_kept_open: None) -> str:
    """A token with every scope, of an institution that holds the micro-credential and the
    credential the document's examples name, so the examples succeed for real."""
    micro_credential = MicroCredentialFactory(public_id=UUID(openapi.EXAMPLE_MICRO_CREDENTIAL_ID))
    credential = issue(micro_credential)
    IssuedCredential.objects.filter(pk=credential.pk).update(
        public_id=UUID(openapi.EXAMPLE_CREDENTIAL_ID)
    )
    return make_token(micro_credential.institution)


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_every_operation_answers_as_documented_and_never_with_a_5xx(case, token):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        # The API checks more than JSON Schema can say (a date of achievement not in the
        # future, Django's e-mail and web address rules, a micro-credential that exists),
        # so schema-valid input may rightly get a 404 or 422.
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
    )
