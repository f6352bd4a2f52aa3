"""axe-core on the pages learners, verifiers and staff use most: no serious or critical
violations (WCAG 2.1 AA rules)."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from institutions.models import Role
from learners import services as learner_services
from tests.browser.axe import serious_violations
from tests.browser.sessions import _session_for
from tests.factories import MembershipFactory, MicroCredentialFactory, UserFactory, issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_public_learner_and_staff_pages_have_no_serious_violations(
    live_server, page: Page, settings
):
    settings.MESHE_BASE_URL = live_server.url
    staff = MembershipFactory(role=Role.ISSUER)
    micro_credential = MicroCredentialFactory(institution=staff.institution)
    credential = issue(micro_credential, holder_email="ana@example.eu")
    learner = UserFactory(email="ana@example.eu")
    learner_services.credentials_attach(user=learner)

    public_pages = [
        "/",
        reverse("credentials:catalogue"),
        reverse("credentials:offer", kwargs={"public_id": micro_credential.public_id}),
        reverse("credentials:verify"),
        credential.get_absolute_url(),
        reverse("guide_home"),
        reverse("account_login"),
    ]
    problems = {}
    for path in public_pages:
        page.goto(live_server.url + path)
        problems[path] = serious_violations(page)

    page.context.add_cookies(
        [{"name": "sessionid", "value": _session_for(learner), "url": live_server.url}]
    )
    for path in [reverse("learners:wallet")]:
        page.goto(live_server.url + path)
        problems[path] = serious_violations(page)

    page.context.add_cookies(
        [{"name": "sessionid", "value": _session_for(staff.user), "url": live_server.url}]
    )
    slug = staff.institution.slug
    for path in [
        reverse("credentials:issue", kwargs={"slug": slug}),
        reverse("credentials:bulk_upload", kwargs={"slug": slug}),
        reverse("credentials:staff_list", kwargs={"slug": slug}),
        reverse("credentials:micro_credential_new", kwargs={"slug": slug}),
        reverse(
            "credentials:staff_detail", kwargs={"slug": slug, "public_id": credential.public_id}
        ),
    ]:
        page.goto(live_server.url + path)
        problems[path] = serious_violations(page)

    assert {path: found for path, found in problems.items() if found} == {}


def test_the_check_reports_a_real_violation(page: Page):
    page.set_content('<html lang="en"><body><main><img src="data:,"></main></body></html>')
    assert any(problem.startswith("image-alt (critical)") for problem in serious_violations(page))
