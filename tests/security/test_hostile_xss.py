"""One XSS payload in every free-text field people and partners can fill in, and every page that
shows them: the payload appears only as text. Also the PDF certificate's HTML, and the CSV
exports, whose cells never start a spreadsheet formula."""

import csv
import io
import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from credentials.issuing import certificate, certificate_services
from credentials.issuing import services as credential_services
from credentials.models import IssuedCredential
from exchange import deliveries
from exchange import messages as exchange_messages
from exchange.models import Partner
from institutions.models import AuditEvent
from learners import services as learner_services
from meshe.csv_cells import FORMULA_STARTS, safe_cell
from tests.credentials.certificates import text_of
from tests.exchange.partners import staff_client, two_partners
from tests.factories import MicroCredentialFactory, UserFactory
from tests.security import hostile

pytestmark = pytest.mark.django_db

XSS = hostile.XSS
SKILL = "http://data.europa.eu/esco/skill/7dd94ad3-13d6-43fe-8b94-51fcbf67ced9"


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    with hostile.nothing_logged_at_error(caplog):
        yield


@pytest.fixture
def world() -> dict[str, Any]:
    """University A issues under a specification written entirely in payloads, to a learner
    named by one; it sends the credential to University B, which declines it with one."""
    uni_a, uni_b, a_to_b, b_to_a = two_partners()
    Partner.objects.filter(pk__in=[a_to_b.pk, b_to_a.pk]).update(request_note=XSS)
    micro_credential = MicroCredentialFactory(
        institution=uni_a,
        title=XSS,
        title_translations={"de": XSS},
        description=XSS,
        description_translations={"de": XSS},
        learning_outcomes=[{"text": XSS, "esco": [{"uri": SKILL, "label": XSS}]}],
        prerequisites=XSS,
        criteria=XSS,
        grading_scheme=XSS,
        quality_assurance_note=XSS,
        further_information=XSS,
    )
    learner = UserFactory(name=XSS)
    credential = credential_services.credential_issue(
        actor=None,
        institution=uni_a,
        micro_credential=micro_credential,
        holder_name=XSS,
        holder_email=learner.email,
        awarded_date=date(2026, 1, 20),
        grade=XSS,
        evidence_url="https://example.eu/evidence",
        evidence_narrative=XSS,
    )
    IssuedCredential.objects.filter(pk=credential.pk).update(holder=learner)
    credential.holder = learner
    staff_a, _user_a = staff_client(uni_a)
    staff_b, user_b = staff_client(uni_b)
    delivery = deliveries.delivery_create(
        credential=credential, partner=a_to_b, actor=None, by_learner=False, note=XSS
    )
    message = exchange_messages.inbox_message_parse(
        json.dumps(
            {"credential": json.loads(credential.document), "learner": {"name": XSS}, "note": XSS}
        ).encode()
    )
    incoming, _created = deliveries.incoming_receive(partner=b_to_a, message=message)
    deliveries.incoming_decide(
        incoming=incoming,
        actor=user_b,
        decision="declined",
        ects=None,
        programme=XSS,
        reason=XSS,
    )
    type(delivery).objects.filter(pk=delivery.pk).update(
        decision="declined", decision_reason=XSS, decision_programme=XSS
    )
    credential_services.credential_suspend(credential=credential, actor=None, reason=XSS)
    credential_services.credential_reinstate(credential=credential, actor=None, reason=XSS)
    link = learner_services.share_link_create(user=learner, credential=credential, label=XSS)
    imported = learner_services.credential_import(
        user=learner,
        raw=json.dumps(
            {
                "@context": ["http://data.europa.eu/snb/model/context/edc-ap"],
                "type": ["VerifiableCredential", "EuropeanDigitalCredential"],
                "issuer": {"id": "did:web:evil.example", "legalName": {"en": XSS}},
                "credentialSubject": {"hasClaim": {"title": {"en": XSS}}},
            }
        ),
    )
    learner_client = Client(raise_request_exception=False)
    learner_client.force_login(learner)
    return {
        "uni_a": uni_a,
        "uni_b": uni_b,
        "a_to_b": a_to_b,
        "b_to_a": b_to_a,
        "micro_credential": micro_credential,
        "credential": credential,
        "learner": learner,
        "link": link,
        "imported": imported,
        "incoming": incoming,
        "staff_a": staff_a,
        "staff_b": staff_b,
        "learner_client": learner_client,
    }


def pages(world: dict[str, Any]) -> list[tuple[str, Client, str]]:
    """(name, client, url) of every page that shows one of the payloads."""
    anonymous = Client(raise_request_exception=False)
    a, b = world["uni_a"].slug, world["uni_b"].slug
    micro_credential = world["micro_credential"]
    credential = world["credential"]
    staff_a, staff_b, learner = world["staff_a"], world["staff_b"], world["learner_client"]
    mc = {"slug": a, "public_id": micro_credential.public_id}
    return [
        ("catalogue", anonymous, reverse("credentials:catalogue")),
        ("catalogue search", anonymous, reverse("credentials:catalogue") + "?q=%3Cscript%3E"),
        ("catalogue in German", anonymous, reverse("credentials:catalogue") + "?lang=de"),
        ("offer", anonymous, reverse("credentials:offer", args=[micro_credential.public_id])),
        (
            "compare",
            anonymous,
            reverse("credentials:compare") + f"?offer={micro_credential.public_id}",
        ),
        (
            "specification version",
            anonymous,
            reverse(
                "credentials:specification_version",
                kwargs={"public_id": micro_credential.public_id, "number": 1},
            ),
        ),
        ("public credential", anonymous, credential.get_absolute_url()),
        ("institution page", anonymous, reverse("institutions:public", args=[a])),
        ("shared link", anonymous, reverse("learners:shared", args=[world["link"].slug])),
        ("staff micro-credentials", staff_a, reverse("credentials:micro_credentials", args=[a])),
        ("staff micro-credential", staff_a, reverse("credentials:micro_credential", kwargs=mc)),
        (
            "staff micro-credential edit",
            staff_a,
            reverse("credentials:micro_credential_edit", kwargs=mc),
        ),
        ("staff credentials", staff_a, reverse("credentials:staff_list", args=[a])),
        (
            "staff credential",
            staff_a,
            reverse(
                "credentials:staff_detail", kwargs={"slug": a, "public_id": credential.public_id}
            ),
        ),
        ("staff issue", staff_a, reverse("credentials:issue", args=[a])),
        ("staff dashboard", staff_a, reverse("credentials:dashboard", args=[a])),
        ("staff audit", staff_a, reverse("institutions:audit", args=[a])),
        ("staff deliveries", staff_a, reverse("exchange:deliveries", args=[a])),
        ("staff partners", staff_a, reverse("exchange:partners", args=[a])),
        (
            "staff partner",
            staff_a,
            reverse("exchange:partner", kwargs={"slug": a, "public_id": world["a_to_b"].public_id}),
        ),
        ("partner's incoming", staff_b, reverse("exchange:incoming", args=[b])),
        (
            "partner's incoming credential",
            staff_b,
            reverse(
                "exchange:incoming_detail",
                kwargs={"slug": b, "public_id": world["incoming"].public_id},
            ),
        ),
        (
            "partner's partner page",
            staff_b,
            reverse("exchange:partner", kwargs={"slug": b, "public_id": world["b_to_a"].public_id}),
        ),
        ("wallet", learner, reverse("learners:wallet")),
        ("wallet credential", learner, reverse("learners:credential", args=[credential.public_id])),
        (
            "wallet imported",
            learner,
            reverse("learners:imported", args=[world["imported"].public_id]),
        ),
        ("wallet profile", learner, reverse("learners:profile")),
        ("wallet privacy", learner, reverse("learners:privacy")),
        ("recognition", learner, reverse("exchange:recognition", args=[credential.public_id])),
    ]


def test_every_page_shows_the_payloads_as_text_only(world):
    shown = []
    for name, client, url in pages(world):
        response = client.get(url, follow=True)
        assert response.status_code == 200, (name, url, response.status_code)
        html = response.content.decode()
        hostile.assert_no_markup(html, page=name)
        if "&lt;script&gt;alert(1)&lt;/script&gt;" in html:
            shown.append(name)
    # The payload did reach the pages (escaped), so the checks above saw it.
    assert len(shown) >= 20, shown


def test_the_verify_result_shows_the_payloads_as_text_only(world):
    client = Client(raise_request_exception=False)
    response = client.post(
        reverse("credentials:verify"), {"document": world["credential"].document}
    )
    assert response.status_code == 200
    assert response.context["result"]["verified"]
    hostile.assert_no_markup(response.content.decode(), page="verify result")


def test_the_offer_structured_data_cannot_close_its_script_element(world):
    url = reverse("credentials:offer", args=[world["micro_credential"].public_id])
    html = Client().get(url).content.decode()
    start = html.index('<script type="application/ld+json"')
    block = html[start : html.index("</script>", start)]
    assert "<" not in block[block.index(">") + 1 :]
    data = json.loads(block[block.index(">") + 1 :])
    assert data["name"] == XSS


def strings_of(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return set().union(*map(strings_of, value)) if value else set()
    return set()


def test_the_json_documents_carry_the_payloads_as_data(world):
    client = Client()
    credential = world["credential"]
    for name in ("credentials:document", "credentials:edc"):
        response = client.get(reverse(name, args=[credential.public_id]))
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/")
        assert XSS in strings_of(json.loads(response.content))


def test_the_certificate_hands_weasyprint_escaped_text(world):
    values = certificate_services.certificate_values(world["credential"])
    html = certificate.html(values)
    hostile.assert_no_markup(html, page="certificate HTML")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_laid_out_certificate_prints_the_payload_as_text(world):
    values = certificate_services.certificate_values(world["credential"])
    text = text_of(certificate.document(values))
    assert "<script>alert(1)</script>" in text.replace(" ", "")


# CSV exports ---------------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def cells(response) -> list[list[str]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(content.decode("utf-8"))))


def assert_no_formula(rows: list[list[str]], *, export: str) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), f"{export}: {cell!r} runs as a formula"


@pytest.mark.parametrize("formula", FORMULAS)
def test_the_safe_cell_neutralises_each_formula_start(formula):
    assert safe_cell(formula) == "'" + formula
    assert safe_cell("Ana") == "Ana"
    assert safe_cell(None) == ""
    assert safe_cell(Decimal("-1.5")) == "'-1.5"


@pytest.mark.parametrize("formula", FORMULAS)
def test_every_csv_export_neutralises_formulas(formula):
    uni_a, _uni_b, _a_to_b, _b_to_a = two_partners()
    micro_credential = MicroCredentialFactory(institution=uni_a, title=formula + " title")
    credential_services.credential_issue(
        actor=None,
        institution=uni_a,
        micro_credential=micro_credential,
        holder_name=formula.strip() + " name",
        holder_email="ana@example.eu",
        awarded_date=date(2026, 1, 20),
    )
    AuditEvent.objects.create(institution=uni_a, action=formula, detail={"note": formula})
    staff, user = staff_client(uni_a)
    roster = (
        "name,email,awarded_date\n"
        f'"{formula}",ana2@example.eu,2026-01-20\n'
        f'Ben,"{formula}@example.eu",2026-01-20\n'
    ).encode()
    job = credential_services.bulk_job_create(
        actor=user,
        institution=uni_a,
        micro_credential=micro_credential,
        filename="r.csv",
        content=roster,
    )
    exports = {
        "dashboard": reverse("credentials:dashboard", args=[uni_a.slug]) + "?format=csv",
        "audit log": reverse("institutions:audit_csv", args=[uni_a.slug]),
        "bulk report": reverse(
            "credentials:bulk_report", kwargs={"slug": uni_a.slug, "public_id": job.public_id}
        ),
    }
    for export, url in exports.items():
        response = staff.get(url)
        assert response.status_code == 200, export
        assert response["Content-Type"].startswith("text/csv")
        rows = cells(response)
        assert len(rows) > 1, export
        assert_no_formula(rows, export=export)
