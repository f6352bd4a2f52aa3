"""Claim e-mails after issuing: a chunk of holders in one transaction over one mail connection,
on a queue of their own, each holder once, and a mail server failure retried for the rest."""

import re
import smtplib
from datetime import date

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credentials.issuing import services, tasks
from credentials.models import CredentialEvent, IssuedCredential
from meshe.celery import app as celery_app
from tests.factories import MicroCredentialFactory, issue_many

pytestmark = pytest.mark.django_db

opened: list[object] = []


class CountingBackend(LocmemBackend):
    """The test backend, counting the connections opened."""

    def open(self) -> bool | None:
        opened.append(self)
        return super().open()


class FailingAfterTwoBackend(LocmemBackend):
    """A mail server that accepts two messages, then drops the connection."""

    def send_messages(self, messages):
        if len(mail.outbox) >= 2:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture(autouse=True)
def no_connections_yet():
    opened.clear()


def issued(count: int) -> list[int]:
    credentials = issue_many(count)
    mail.outbox.clear()  # the tasks ran inline on commit in other tests' setups; not here
    return [credential.pk for credential in credentials]


def test_a_chunk_of_holders_is_mailed_over_one_connection(settings):
    settings.MAILERS = {
        "default": {"BACKEND": "tests.credentials.test_holder_mail.CountingBackend"}
    }
    ids = issued(5)
    services.holders_notify(credential_ids=ids)
    assert len(opened) == 1
    assert sorted(message.to[0] for message in mail.outbox) == [
        f"learner{n}@example.eu" for n in range(5)
    ]


def test_a_chunk_costs_the_same_queries_whatever_its_size(django_assert_num_queries):
    few, many = issued(3), issued(30)
    with django_assert_num_queries(5) as few_queries:
        services.holders_notify(credential_ids=few)
    with django_assert_num_queries(len(few_queries)):
        services.holders_notify(credential_ids=many)


def test_a_chunk_writes_each_credential_once():
    # A second write of a row in the same transaction makes PostgreSQL check its foreign keys,
    # which locks the institution row that issuing holds: notifying deadlocked with issuing.
    ids = issued(3)
    with CaptureQueriesContext(connection) as queries:
        services.holders_notify(credential_ids=ids)
    table = IssuedCredential._meta.db_table
    updates = [q["sql"] for q in queries if q["sql"].startswith(f'UPDATE "{table}"')]
    assert len(updates) == 1


def test_each_holder_is_marked_notified_with_an_event_and_a_working_claim_link(client):
    ids = issued(3)
    services.holders_notify(credential_ids=ids)
    credentials = IssuedCredential.objects.filter(pk__in=ids)
    assert not credentials.filter(notified_at__isnull=True).exists()
    for notified_at, expires_at in credentials.values_list("notified_at", "claim_expires_at"):
        assert notified_at is not None
        assert expires_at == notified_at + services.CLAIM_LINK_LIFETIME
    assert (
        CredentialEvent.objects.filter(
            credential_id__in=ids, action=CredentialEvent.Action.NOTIFIED
        ).count()
        == 3
    )
    for message in mail.outbox:
        assert isinstance(message, EmailMultiAlternatives)
        found = re.search(r"/claim/([A-Za-z0-9_-]+)/", str(message.body))
        assert found is not None
        token = found[1]
        credential = credentials.get(holder_email=message.to[0])
        assert credential.claim_token_hash == services.claim_token_hash(token)
        assert token not in credential.claim_token_hash
        assert [mimetype for _content, mimetype in message.alternatives] == ["text/html"]


def test_notifying_twice_mails_each_holder_once():
    ids = issued(3)
    services.holders_notify(credential_ids=ids)
    services.holders_notify(credential_ids=ids)
    assert len(mail.outbox) == 3
    assert CredentialEvent.objects.filter(action=CredentialEvent.Action.NOTIFIED).count() == 3


def test_a_mail_server_failure_keeps_those_sent_and_the_retry_sends_only_the_rest(settings):
    ids = issued(5)
    settings.MAILERS = {
        "default": {"BACKEND": "tests.credentials.test_holder_mail.FailingAfterTwoBackend"}
    }
    with pytest.raises(OSError):  # what the task retries
        services.holders_notify(credential_ids=ids)
    notified = IssuedCredential.objects.filter(pk__in=ids, notified_at__isnull=False)
    assert sorted(notified.values_list("holder_email", flat=True)) == sorted(
        message.to[0] for message in mail.outbox
    )
    assert len(mail.outbox) == 2
    assert CredentialEvent.objects.filter(action=CredentialEvent.Action.NOTIFIED).count() == 2

    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    services.holders_notify(credential_ids=ids)
    assert sorted(message.to[0] for message in mail.outbox) == [
        f"learner{n}@example.eu" for n in range(5)
    ]
    assert CredentialEvent.objects.filter(action=CredentialEvent.Action.NOTIFIED).count() == 5


def test_mail_failures_are_retried_by_the_task():
    assert issubclass(smtplib.SMTPException, OSError)
    assert OSError in tasks.notify_holders.autoretry_for


def test_claim_e_mails_and_partner_messages_have_queues_of_their_own_a_plain_worker_consumes():
    router = celery_app.amqp.router
    assert router.route({}, "credentials.issuing.tasks.notify_holders")["queue"].name == "mail"
    assert router.route({}, "credentials.issuing.tasks.resend_claim_link")["queue"].name == "mail"
    assert router.route({}, "credentials.issuing.tasks.run_bulk_issue")["queue"].name == "celery"
    assert router.route({}, "exchange.tasks.deliver")["queue"].name == "exchange"
    assert router.route({}, "exchange.tasks.notice_send")["queue"].name == "exchange"
    # `celery -A meshe worker` without -Q (make run, CI) reads them all.
    assert {"celery", "mail", "exchange"} <= set(celery_app.amqp.queues.consume_from)


def test_the_text_part_shows_names_and_titles_as_typed_and_the_html_part_escapes_them():
    name = 'Zoë "Q" <O\'Neil> & Co'
    micro_credential = MicroCredentialFactory(title='Data & "AI" <Basics>')
    credential = services.credential_issue(
        actor=None,
        institution=micro_credential.institution,
        micro_credential=micro_credential,
        holder_name=name,
        holder_email="zoe@example.eu",
        awarded_date=date(2026, 11, 20),
    )
    mail.outbox.clear()
    services.holders_notify(credential_ids=[credential.pk])
    (message,) = mail.outbox
    assert isinstance(message, EmailMultiAlternatives)
    assert message.subject == 'Your micro-credential: Data & "AI" <Basics>'
    assert f"Dear {name}," in message.body
    assert 'the micro-credential "Data & "AI" <Basics>".' in message.body
    for entity in ("&quot;", "&lt;", "&gt;", "&amp;", "&#x27;", "&#39;"):
        assert entity not in message.body
    html, _mimetype = message.alternatives[0]
    assert "Zoë &quot;Q&quot; &lt;O&#x27;Neil&gt; &amp; Co" in str(html)
    assert name not in str(html)
