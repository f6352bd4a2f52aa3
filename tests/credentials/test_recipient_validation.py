"""One set of recipient rules: the same bad learner is refused the same way, in the same words,
through the issue form, the bulk spreadsheet and the issuer API."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from credentials.issuing import recipients, services
from credentials.models import IssuedCredential
from institutions.models import Role
from tests.factories import MembershipFactory, MicroCredentialFactory, make_token

pytestmark = pytest.mark.django_db

GOOD = {
    "holder_name": "Ana Kowalska",
    "holder_email": "ana@example.eu",
    "grade": "",
    "evidence_url": "",
    "evidence_narrative": "",
}
NOT_A_WEB_ADDRESS = "The evidence link is not a web address."
BAD = {
    "unsafe IRI braces": ("evidence_url", "https://uni.example/{work}", NOT_A_WEB_ADDRESS),
    "unsafe IRI quote": ("evidence_url", 'https://uni.example/a"b', NOT_A_WEB_ADDRESS),
    "unsafe IRI backslash": ("evidence_url", "https://uni.example/a\\b", NOT_A_WEB_ADDRESS),
    "unsafe IRI caret": ("evidence_url", "https://uni.example/a^b", NOT_A_WEB_ADDRESS),
    "not a web address": ("evidence_url", "ftp://uni.example/work", NOT_A_WEB_ADDRESS),
    "long link": (
        "evidence_url",
        "https://uni.example/" + "a" * 200,
        "The evidence link is longer than 200 characters.",
    ),
    "not an e-mail": (
        "holder_email",
        "not-an-address",
        "“not-an-address” is not an e-mail address.",
    ),
    "long name": ("holder_name", "N" * 201, "The name is longer than 200 characters."),
    "long grade": (
        "grade",
        "8" * 101,
        "The grade must be at most 100 characters of plain text.",
    ),
    "long evidence": (
        "evidence_narrative",
        "e" * 10_001,
        "The evidence is longer than 10000 characters.",
    ),
    # Bidirectional overrides and isolates would show another name than the one signed.
    "name with a right-to-left override": (
        "holder_name",
        "Ana \u202eakswolaK",
        "The name: This contains control characters; remove them and try again.",
    ),
    "name with an isolate": (
        "holder_name",
        "Ana \u2067Kowalska\u2069",
        "The name: This contains control characters; remove them and try again.",
    ),
    "grade with an override": (
        "grade",
        "\u202d8.5",
        "The grade must be at most 100 characters of plain text.",
    ),
    "evidence with an embedding": (
        "evidence_narrative",
        "Built \u202bit",
        "The evidence: This contains control characters; remove them and try again.",
    ),
}
FUTURE = "The date of achievement is in the future."


def tomorrow() -> str:
    return (timezone.localdate() + timedelta(days=1)).isoformat()


def through_form(client, micro_credential, fields: dict[str, str]) -> dict[str, list[str]]:
    url = reverse("credentials:issue", kwargs={"slug": micro_credential.institution.slug})
    response = client.post(url, {"micro_credential": micro_credential.pk, **fields})
    assert response.status_code == 200
    return dict(response.context["form"].errors)


def through_spreadsheet(micro_credential, fields: dict[str, str]) -> list[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["name", "email", "awarded_date", "grade", "evidence_url", "evidence_narrative"]
    )
    writer.writerow(
        [
            fields["holder_name"],
            fields["holder_email"],
            fields["awarded_date"],
            fields["grade"],
            fields["evidence_url"],
            fields["evidence_narrative"],
        ]
    )
    job = services.bulk_job_create(
        actor=MembershipFactory(institution=micro_credential.institution).user,
        institution=micro_credential.institution,
        micro_credential=micro_credential,
        filename="roster.csv",
        content=out.getvalue().encode(),
    )
    (row,) = job.rows.all()
    return row.errors


def through_api(client, micro_credential, fields: dict[str, str]) -> dict[str, list[str]]:
    body = {"micro_credential": str(micro_credential.public_id), **fields}
    response = client.post(
        "/api/v1/credentials",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {make_token(micro_credential.institution)}"},
    )
    assert response.status_code == 422, response.content[:300]
    return response.json()["error"]["fields"]


@pytest.fixture
def issuer_client(client):
    def log_in(micro_credential):
        membership = MembershipFactory(institution=micro_credential.institution, role=Role.ISSUER)
        client.force_login(membership.user)
        return client

    return log_in


def refused_everywhere(issuer_client, field: str, fields: dict[str, str], message: str) -> None:
    micro_credential = MicroCredentialFactory()
    assert through_form(issuer_client(micro_credential), micro_credential, fields) == {
        field: [message]
    }
    assert through_spreadsheet(micro_credential, fields) == [message]
    assert through_api(issuer_client(micro_credential), micro_credential, fields) == {
        field: [message]
    }
    assert not IssuedCredential.objects.exists()


@pytest.mark.parametrize(("field", "value", "message"), BAD.values(), ids=BAD.keys())
def test_a_bad_recipient_field_is_refused_the_same_way_through_every_door(
    issuer_client, field, value, message
):
    fields = {**GOOD, "awarded_date": "2026-01-20", field: value}
    refused_everywhere(issuer_client, field, fields, message)


@pytest.mark.date_sensitive
def test_a_date_of_achievement_in_the_future_is_refused_the_same_way_through_every_door(
    issuer_client,
):
    fields = {**GOOD, "awarded_date": tomorrow()}
    refused_everywhere(issuer_client, "awarded_date", fields, FUTURE)


def test_the_rules_accept_a_good_recipient_with_every_optional_field():
    assert (
        recipients.recipient_problems(
            holder_name="Ana Kowalska",
            holder_email="ana@example.eu",
            awarded_date="2026-01-20",
            grade="8.5 / 10",
            evidence_url="https://uni.example/work/1?view=full#top",
            evidence_narrative="A report\non two lines.",
            today=timezone.localdate(),
        )
        == {}
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("holder_name", "Ana\nKowalska"),
        ("grade", "8\t5"),
        ("evidence_narrative", "bell\x07"),
        ("evidence_url", "https://uni.example/a b"),
        ("awarded_date", "20260120"),
        ("awarded_date", "2026-02-30"),
        ("holder_email", ""),
        ("holder_name", ""),
    ],
)
def test_the_rules_refuse_control_characters_loose_dates_and_missing_values(field, value):
    fields = {**GOOD, "awarded_date": "2026-01-20", field: value}
    problems = recipients.recipient_problems(**fields, today=timezone.localdate())
    assert list(problems) == [field]
