"""Races: two staff revoking one credential at the same moment, and two bulk jobs of one
institution issuing at once. Threads each have their own database connection; on PostgreSQL
they block on row locks, on SQLite on the write lock of an IMMEDIATE transaction."""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections

from credentials.issuing import services
from credentials.models import CredentialEvent, CredentialStatus, StatusList
from credentials.standards import status_list
from institutions.models import AuditEvent
from tests.factories import MembershipFactory, MicroCredentialFactory, issue
from tests.faults import jobs

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Runs the calls in threads released together; returns results or raised exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except Exception as exc:  # reported to the test, which asserts on it
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_two_staff_revoking_one_credential_at_once_make_one_event():
    credential = issue()
    alice = MembershipFactory(institution=credential.institution).user
    bob = MembershipFactory(institution=credential.institution).user
    results = at_once(
        lambda: services.credential_revoke(credential=credential, actor=alice, reason="Alice"),
        lambda: services.credential_revoke(credential=credential, actor=bob, reason="Bob"),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert all(result.status == CredentialStatus.REVOKED for result in results)
    events = CredentialEvent.objects.filter(credential=credential, action="revoked")
    assert events.count() == 1
    assert AuditEvent.objects.filter(action="credential.revoked").count() == 1
    revocations = StatusList.objects.get(pk=credential.revocation_list_id)
    assert status_list.get_bit(bytes(revocations.bits), credential.revocation_index)


def test_a_revoke_and_a_suspend_at_once_end_revoked_with_consistent_lists():
    credential = issue()
    results = at_once(
        lambda: services.credential_revoke(credential=credential, actor=None, reason="r"),
        lambda: services.credential_suspend(credential=credential, actor=None, reason="s"),
    )
    credential.refresh_from_db()
    # Either order is allowed (suspend then revoke, or revoke then a refused suspend).
    assert credential.status == CredentialStatus.REVOKED
    refused = [r for r in results if isinstance(r, Exception)]
    assert all(getattr(r, "message", "") for r in refused), refused
    revocations = StatusList.objects.get(pk=credential.revocation_list_id)
    assert status_list.get_bit(bytes(revocations.bits), credential.revocation_index)
    assert CredentialEvent.objects.filter(credential=credential, action="revoked").count() == 1


def test_two_bulk_jobs_of_one_institution_at_once_never_share_a_status_index():
    micro_credential = MicroCredentialFactory()
    first = jobs.validated_job(micro_credential, rows=300, prefix="a")
    second = jobs.validated_job(micro_credential, rows=300, prefix="b")
    for job in (first, second):
        jobs.mark_running(job)
    results = at_once(
        lambda: services.bulk_job_run(job_id=first.pk),
        lambda: services.bulk_job_run(job_id=second.pk),
    )
    assert results == [None, None], results
    jobs.assert_issued_exactly_once(first, second)


def test_one_job_run_twice_at_once_issues_each_row_once():
    # What a redelivered message or the resume sweep does while the first run is alive.
    job = jobs.validated_job(MicroCredentialFactory(), rows=300)
    jobs.mark_running(job)
    results = at_once(
        lambda: services.bulk_job_run(job_id=job.pk),
        lambda: services.bulk_job_run(job_id=job.pk),
    )
    assert results == [None, None], results
    jobs.assert_issued_exactly_once(job)
