import csv
import io
from datetime import UTC, date, datetime

import pytest
from django.conf import settings
from django.urls import reverse

from credentials.issuing import services
from credentials.issuing.selectors import institution_numbers
from credentials.staff import charts
from exchange.models import Decision, Delivery, OutboxStatus, Partner, PartnerStatus
from institutions.models import Role
from learners import services as learner_services
from tests.factories import MembershipFactory, MicroCredentialFactory, UserFactory, issue

pytestmark = pytest.mark.django_db


@pytest.mark.date_sensitive
def test_the_numbers_count_issued_claimed_revoked_suspended_and_sent_to_partners(
    django_assert_max_num_queries, frozen_clock
):
    viewer = MembershipFactory(role=Role.VIEWER)
    first = MicroCredentialFactory(institution=viewer.institution, title="Alpha")
    second = MicroCredentialFactory(institution=viewer.institution, title="Beta")
    credentials = [issue(first, holder_email=f"a{n}@example.eu") for n in range(3)]
    credentials.append(issue(second, holder_email="claimer@example.eu"))
    services.credential_revoke(credential=credentials[0], actor=None)
    services.credential_suspend(credential=credentials[1], actor=None)
    learner_services.credentials_attach(user=UserFactory(email="claimer@example.eu"))
    issue(MicroCredentialFactory(), holder_email="elsewhere@example.eu")  # another institution
    partner = Partner.objects.create(
        institution=viewer.institution,
        did="did:web:b.example:institutions:b",
        name="University B",
        base_url="https://b.example",
        status=PartnerStatus.CONFIRMED,
    )
    Delivery.objects.create(
        partner=partner,
        credential=credentials[2],
        status=OutboxStatus.DELIVERED,
        decision=Decision.RECOGNISED,
    )
    Delivery.objects.create(partner=partner, credential=credentials[3], status=OutboxStatus.FAILED)
    with django_assert_max_num_queries(4):
        numbers = institution_numbers(viewer=viewer)
    assert (numbers.issued, numbers.claimed, numbers.revoked, numbers.suspended) == (4, 1, 1, 1)
    assert numbers.claim_rate == 25
    assert (numbers.sent, numbers.delivered, numbers.recognised, numbers.failed) == (2, 1, 1, 1)
    assert numbers.per_specification == [("Alpha", 3), ("Beta", 1)]
    assert len(numbers.per_month) == 12
    assert numbers.per_month[-1][1] == 4
    assert sum(count for _month, count in numbers.per_month) == 4


@pytest.mark.date_sensitive
def test_the_months_are_brussels_months_up_to_this_one(time_machine):
    viewer = MembershipFactory(role=Role.VIEWER)
    micro_credential = MicroCredentialFactory(institution=viewer.institution)
    # 23:30 UTC on New Year's Eve is already 00:30 on 1 January in Brussels.
    time_machine.move_to(datetime(2027, 12, 31, 22, 59, tzinfo=UTC), tick=False)
    issue(micro_credential, holder_email="december@example.eu")
    time_machine.move_to(datetime(2027, 12, 31, 23, 30, tzinfo=UTC), tick=False)
    issue(micro_credential, holder_email="january@example.eu")
    numbers = institution_numbers(viewer=viewer)
    assert [month for month, _count in numbers.per_month] == [
        date(2027, month, 1) for month in range(2, 13)
    ] + [date(2028, 1, 1)]
    assert numbers.per_month[-2:] == [(date(2027, 12, 1), 1), (date(2028, 1, 1), 1)]


def test_each_bar_is_its_share_of_the_longest_and_a_small_one_stays_visible():
    chart = charts.bar_chart(
        [
            charts.Bar("Alpha", 200),
            charts.Bar("Beta", 50),
            charts.Bar("Gamma", 1),
            charts.Bar("Delta", 0),
        ],
        title="Issued",
    )
    assert [(row.label, row.percent) for row in chart.rows] == [
        ("Alpha", 100.0),
        ("Beta", 25.0),
        ("Gamma", 1.0),
        ("Delta", 0.0),
    ]


def test_an_empty_chart_has_no_rows():
    assert charts.bar_chart([], title="Issued").rows == ()


def test_a_viewer_sees_the_dashboard_and_downloads_its_csv(logged_in):
    viewer = MembershipFactory(role=Role.VIEWER)
    issue(MicroCredentialFactory(institution=viewer.institution, title="Alpha"))
    client = logged_in(viewer.user)
    url = reverse("credentials:dashboard", kwargs={"slug": viewer.institution.slug})
    page = client.get(url)
    assert page.status_code == 200
    assert '<dt class="bar-chart-label">Alpha</dt>' in page.text
    assert '<rect class="chart-bar" width="100.0" height="1"/>' in page.text
    rows = list(csv.reader(io.StringIO(client.get(url + "?format=csv").content.decode())))
    assert ["issued", "", "1"] in rows
    assert ["issued_per_specification", "Alpha", "1"] in rows


def test_the_dashboard_escapes_titles_and_writes_them_whole(logged_in):
    viewer = MembershipFactory(role=Role.VIEWER)
    title = "<b>Literacy</b> for Public Administration and the Digital State of Tomorrow"
    issue(MicroCredentialFactory(institution=viewer.institution, title=title))
    url = reverse("credentials:dashboard", kwargs={"slug": viewer.institution.slug})
    page = logged_in(viewer.user).get(url).text
    assert "<b>Literacy</b>" not in page
    assert (
        "&lt;b&gt;Literacy&lt;/b&gt; for Public Administration and the Digital State of Tomorrow"
        in page
    )


def test_the_months_are_named_in_the_language_of_the_page(logged_in, time_machine):
    time_machine.move_to(datetime(2027, 3, 15, 12, tzinfo=UTC), tick=False)
    viewer = MembershipFactory(role=Role.VIEWER)
    issue(MicroCredentialFactory(institution=viewer.institution))
    client = logged_in(viewer.user)
    url = reverse("credentials:dashboard", kwargs={"slug": viewer.institution.slug})
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    german = client.get(url).text
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(url).text
    assert '<dt class="bar-chart-label">März 2027</dt>' in german
    assert '<dt class="bar-chart-label">Dezember 2026</dt>' in german
    assert "March 2027" not in german
    assert '<dt class="bar-chart-label">March 2027</dt>' in english


def test_staff_of_another_institution_cannot_see_the_numbers(logged_in):
    institution = MembershipFactory().institution
    outsider = MembershipFactory()
    url = reverse("credentials:dashboard", kwargs={"slug": institution.slug})
    assert logged_in(outsider.user).get(url).status_code == 404
