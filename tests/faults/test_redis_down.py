"""Redis (cache and broker) down: pages still serve, issuing still works, and the e-mail
that could not be queued is sent once Redis is back. Only when REDIS_URL is set."""

import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from credentials.issuing import services
from credentials.models import CredentialEvent, IssuedCredential
from tests.factories import MembershipFactory, MicroCredentialFactory, issue
from tests.faults import jobs, processes
from tests.security import hostile

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.REDIS_URL,
        reason="stops Redis: runs when REDIS_URL is set (CI step 2)",
    ),
]


def test_pages_issuing_and_queued_work_survive_redis_going_down(caplog):
    micro_credential = MicroCredentialFactory()
    credential = issue(micro_credential)
    staff = MembershipFactory(institution=micro_credential.institution)
    client = Client(raise_request_exception=False)
    client.force_login(staff.user)
    slug = micro_credential.institution.slug
    reads = [
        reverse("credentials:catalogue"),
        reverse("credentials:offer", args=[micro_credential.public_id]),
        credential.get_absolute_url(),
        reverse("credentials:document", args=[credential.public_id]),
        reverse("credentials:staff_list", args=[slug]),
        reverse("credentials:dashboard", args=[slug]),
    ]
    with hostile.nothing_logged_at_error(caplog), processes.private_workers() as workers:
        # The outage is logged, as warnings (the error log stays empty).
        caplog.set_level(logging.WARNING, logger="meshe")
        with processes.redis_stopped():
            assert not processes.redis_alive()
            for url in reads:
                assert client.get(url).status_code == 200, url
            # Rate-limited doors count in the cache: they let requests through meanwhile.
            verified = client.post(reverse("credentials:verify_api"), credential.document,
                                   content_type="application/json")  # fmt: skip
            assert verified.status_code == 200 and verified.json()["verified"]
            issued = client.post(
                reverse("credentials:issue", args=[slug]),
                {
                    "micro_credential": micro_credential.pk,
                    "holder_name": "Ben Okafor",
                    "holder_email": "ben@example.eu",
                    "awarded_date": "2026-01-20",
                    "confirm": "1",
                },
            )
            assert issued.status_code == 302, issued.status_code
        queued_while_down = IssuedCredential.objects.get(holder_email="ben@example.eu")
        assert queued_while_down.notified_at is None
        warnings = [r.getMessage() for r in caplog.records if r.name.startswith("meshe.")]
        assert any("left to its sweep" in message for message in warnings), warnings
        assert any("Cache unreachable" in message for message in warnings), warnings

        # Back up: the sweep (every MESHE_WORK_SWEEP_SECONDS) finds the unsent e-mail.
        assert processes.redis_alive()
        assert services.holders_notify_sweep(older_than=timedelta(0)) >= 1
        workers.start()
        assert jobs.poll(
            lambda: IssuedCredential.objects.filter(
                pk=queued_while_down.pk, notified_at__isnull=False
            ).exists(),
            timeout=60,
            interval=0.2,
        )
    notified = CredentialEvent.objects.filter(credential=queued_while_down, action="notified")
    assert notified.count() == 1
    # Sent: the sweep finds nothing more to send.
    assert services.holders_notify_sweep(older_than=timedelta(0)) == 0
    assert "ben@example.eu" not in [m.to[0] for m in mail.outbox]  # the worker sent it
