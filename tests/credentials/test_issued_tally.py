"""The issued-credential tally (credentials.models.IssuedTally, credentials/tally.py): the
database's triggers keep it equal to the credentials themselves through every kind of write and
come back after a migration that dropped them, and the dashboard's months, read from it, are the
months of the visitor's time zone."""

from collections import Counter
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from credentials import tally
from credentials.issuing import services
from credentials.issuing.selectors import institution_numbers
from credentials.models import IssuedCredential, IssuedTally
from institutions.models import Role
from learners import services as learner_services
from tests.factories import (
    MembershipFactory,
    MicroCredentialFactory,
    UserFactory,
    issue,
    issue_many,
)

pytestmark = pytest.mark.django_db


def counted_from_rows() -> Counter[tuple[int, int, date, str, bool]]:
    """What the tally must hold: the credentials grouped by hand, by UTC month."""
    return Counter(
        (
            c.institution_id,
            c.version_id,
            c.issued_at.astimezone(UTC).date().replace(day=1),
            c.status,
            c.holder_id is not None,
        )
        for c in IssuedCredential.objects.all()
    )


def tallied() -> Counter[tuple[int, int, date, str, bool]]:
    return Counter(
        {
            (t.institution_id, t.version_id, t.month, t.status, t.claimed): t.count
            for t in IssuedTally.objects.filter(count__gt=0)
        }
    )


def test_the_tally_follows_issuing_status_changes_claims_moves_and_deletes():
    specification = MicroCredentialFactory()
    other = MicroCredentialFactory(institution=specification.institution)
    first = issue(specification, holder_email="claimer@example.eu")
    issue_many(6, other)
    many = list(IssuedCredential.objects.filter(version__micro_credential=other))
    assert tallied() == counted_from_rows()

    services.credential_revoke(credential=many[0], actor=None)
    services.credential_suspend(credential=many[1], actor=None)
    services.credential_suspend(credential=many[2], actor=None)
    services.credential_reinstate(credential=many[2], actor=None)
    services.credentials_change_status(
        credentials=many[3:5], actor=None, action="revoke", reason="Issued in error"
    )
    assert tallied() == counted_from_rows()

    learner = UserFactory(email="claimer@example.eu")
    learner_services.credentials_attach(user=learner)
    assert IssuedCredential.objects.get(pk=first.pk).holder == learner
    assert tallied() == counted_from_rows()

    services.credentials_holder_detach(holder=learner)
    IssuedCredential.objects.filter(pk=many[5].pk).update(
        issued_at=datetime(2025, 2, 28, 23, 30, tzinfo=UTC)
    )
    IssuedCredential.objects.filter(pk=many[0].pk).update(notified_at=timezone.now())
    assert tallied() == counted_from_rows()

    IssuedCredential.objects.filter(pk=many[5].pk).delete()
    assert tallied() == counted_from_rows()
    assert sum(tallied().values()) == IssuedCredential.objects.count() == 6


def test_the_triggers_come_back_with_a_fresh_count_after_a_migration_dropped_them():
    """What happens after `migrate` when a migration rebuilt the credentials table (SQLite's way
    of adding a column): the triggers are gone, credentials written meanwhile are not counted,
    and ensure() installs them again and counts every credential once."""
    for number in range(3):
        issue(holder_email=f"before{number}@example.eu")
    assert tally.ensure(connection) is False  # installed: nothing to do
    tally.remove(connection)
    issue(holder_email="untallied@example.eu")
    assert sum(tallied().values()) == 0
    assert not tally.installed(connection)
    if connection.vendor == "postgresql":
        # Check the foreign keys of the rows written so far now, as after a migration's
        # transaction, so that the triggers can be created on the table.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    assert tally.ensure(connection) is True
    issue(holder_email="after@example.eu")

    assert tally.installed(connection)
    assert tallied() == counted_from_rows()
    assert sum(tallied().values()) == 5


def local_months(viewer) -> dict[date, int]:
    return {month: n for month, n in institution_numbers(viewer=viewer).per_month if n}


def test_the_dashboard_counts_in_the_months_of_the_visitors_time_zone(time_machine):
    viewer = MembershipFactory(role=Role.VIEWER)
    specification = MicroCredentialFactory(institution=viewer.institution)
    # Brussels: 22:30 UTC on 31 March 2027 is 00:30 on 1 April (summer time, UTC+2); 23:30 UTC
    # on 28 February is 00:30 on 1 March (winter time, UTC+1); 21:30 UTC on 31 March is still
    # 23:30 on 31 March.
    for number, moment in enumerate(
        [
            datetime(2027, 3, 31, 22, 30, tzinfo=UTC),
            datetime(2027, 2, 28, 23, 30, tzinfo=UTC),
            datetime(2027, 3, 31, 21, 30, tzinfo=UTC),
            datetime(2027, 4, 1, 2, 0, tzinfo=UTC),
        ]
    ):
        time_machine.move_to(moment, tick=False)
        issue(specification, holder_email=f"edge{number}@example.eu")
    time_machine.move_to(datetime(2027, 4, 20, 12, 0, tzinfo=UTC), tick=False)

    assert local_months(viewer) == {date(2027, 3, 1): 2, date(2027, 4, 1): 2}
    with timezone.override("America/New_York"):
        # 02:00 UTC on 1 April is 22:00 on 31 March in New York; 23:30 UTC on 28 February is
        # 18:30 that day.
        assert local_months(viewer) == {
            date(2027, 2, 1): 1,
            date(2027, 3, 1): 3,
        }
    with timezone.override("UTC"):
        assert local_months(viewer) == {
            date(2027, 2, 1): 1,
            date(2027, 3, 1): 2,
            date(2027, 4, 1): 1,
        }


def test_the_dashboard_reads_as_many_queries_for_many_credentials_as_for_few(frozen_clock):
    viewer = MembershipFactory(role=Role.VIEWER)
    specification = MicroCredentialFactory(institution=viewer.institution)
    issue(specification)
    institution_numbers(viewer=viewer)
    with CaptureQueriesContext(connection) as few:
        institution_numbers(viewer=viewer)
    for number in range(20):
        issue(
            MicroCredentialFactory(institution=viewer.institution), holder_email=f"n{number}@x.eu"
        )
    with CaptureQueriesContext(connection) as many:
        numbers = institution_numbers(viewer=viewer)

    assert len(many) == len(few)
    assert numbers.issued == 21
    assert sum(n for _title, n in numbers.per_specification) == 21
    assert numbers.per_month[-1][1] == 21
