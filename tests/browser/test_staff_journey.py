"""The staff day, through the real browser: describe, publish, issue, bulk-issue, certify,
revoke. A screenshot of each step lands in MESHE_SCREENSHOTS (default
var/screenshots/staff-journey)."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from institutions.models import Role
from tests.browser.sessions import _session_for
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("MESHE_SCREENSHOTS", "var/screenshots")) / "staff-journey"
SKILL = "http://data.europa.eu/esco/skill/7dd94ad3-13d6-43fe-8b94-51fcbf67ced9"


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def roster() -> str:
    lines = [f"Learner {n},learner{n}@example.eu,2026-06-30,8,," for n in range(50)]
    lines[10] = "Bad Mail,not-an-address,2026-06-30,,,"
    lines[20] = "Bad Date,bad.date@example.eu,30/06/2026,,,"
    lines[30] = "Twice,learner0@example.eu,2026-06-30,,,"
    return "name,email,awarded_date,grade,evidence_url,evidence_narrative\n" + "\n".join(lines)


def test_a_staff_member_runs_the_whole_issuing_day(
    live_server, page: Page, settings, celery_worker_process, tmp_path
):
    settings.MESHE_BASE_URL = live_server.url
    membership = MembershipFactory(role=Role.ADMIN, institution__name="University of Aldermoor")
    slug = membership.institution.slug
    page.context.add_cookies(
        [{"name": "sessionid", "value": _session_for(membership.user), "url": live_server.url}]
    )

    page.goto(f"{live_server.url}/staff/{slug}/")
    shot(page, "01-institution")
    page.get_by_role("link", name="Micro-credentials", exact=True).click()
    page.get_by_role("link", name="Describe a new micro-credential").click()
    page.get_by_label("Title:", exact=True).fill("Circular Economy Basics")
    page.get_by_label("Description:", exact=True).fill("Materials, loops and business models.")
    page.get_by_label("Learning outcome").first.fill("Explain the loops of a circular product.")
    page.get_by_label("ESCO skills (links, one per line)").first.fill(SKILL)
    page.get_by_label("Workload in ECTS").fill("2.5")
    page.get_by_label("Workload in hours").fill("70")
    page.get_by_label("Level (EQF)").select_option(label="Level 6")
    page.get_by_label("Type of assessment").select_option(label="written examination")
    page.get_by_label("Form of participation").select_option(label="Blended")
    page.get_by_label("Learning setting").select_option(label="non-formal learning")
    page.get_by_label("Supervision and identity verification during assessment").select_option(
        label="Supervised with ID Verification"
    )
    page.get_by_label("Type of quality assurance").select_option(label="Institutional evaluation")
    page.get_by_label("Prerequisites").fill("A bachelor's degree.")
    page.get_by_label("Grading scheme").fill("1 to 10; 5.5 passes.")
    shot(page, "02-editor")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved Circular Economy Basics.")).to_be_visible()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Circular Economy Basics is now published.")).to_be_visible()
    shot(page, "03-published")

    page.get_by_role("link", name="Issue", exact=True).click()
    page.get_by_label("Learner's full name").fill("Ana Kowalska")
    page.get_by_label("Learner's e-mail address").fill("ana@example.eu")
    page.get_by_role("button", name="Preview").click()
    shot(page, "04-preview")
    page.get_by_role("button", name="Sign and issue").click()
    expect(page.get_by_text("Credential issued to Ana Kowalska.")).to_be_visible()
    shot(page, "05-issued")
    single = page.url

    page.goto(f"{live_server.url}/staff/{slug}/credentials/bulk/")
    page.get_by_label("Micro-credential").select_option(label="Circular Economy Basics")
    spreadsheet = tmp_path / "roster.csv"
    spreadsheet.write_text(roster())
    page.get_by_label("Spreadsheet (CSV or XLSX)").set_input_files(str(spreadsheet))
    page.get_by_role("button", name="Check the rows").click()
    expect(page.get_by_text("47 of 50 rows are valid.")).to_be_visible()
    problems = page.get_by_role("table")
    expect(problems).to_contain_text("is not an e-mail address")
    expect(problems).to_contain_text("is not a date like 2026-06-30")
    expect(problems).to_contain_text("The same e-mail address as row 2.")
    shot(page, "06-bulk-checked")
    page.get_by_role("button", name="Issue 47 valid rows").click()
    expect(page.get_by_role("heading", name="Done")).to_be_visible(timeout=60_000)
    expect(page.locator("#bulk-progress")).to_have_attribute("value", "100")
    shot(page, "07-bulk-done")
    with page.expect_download() as report:
        page.get_by_role("link", name="Download the report (CSV)").click()
    lines = report.value.path().read_text().splitlines()
    assert len(lines) == 51
    assert sum("Not valid" in line for line in lines) == 3

    page.goto(single)
    page.get_by_role("link", name="Public page").click()
    page.get_by_role("link", name="Printable certificate (PDF)").click()
    expect(page).to_have_url(re.compile(r"certificate\.pdf$"))
    pdf = page.request.get(page.url)
    for _attempt in range(60):
        if pdf.headers["content-type"] == "application/pdf":
            break
        page.wait_for_timeout(500)
        pdf = page.request.get(page.url)
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    shot(page, "08-certificate")

    page.goto(single)
    page.get_by_role("link", name="Revoke…").click()
    page.get_by_label("Reason:", exact=True).select_option(label="Issued in error")
    page.get_by_label(re.compile("^Yes, revoke")).check()
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("The credential is revoked.")).to_be_visible()
    shot(page, "09-revoked")
