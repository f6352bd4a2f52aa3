"""Secrets never reach the logs, the console or a command's output.

A few real flows run with every logger at DEBUG (SQL included) into a handler that carries the
configured console handler's filters; then the captured text is searched for every secret the
flows handled, in each form it could be written.
"""

import base64
import io
import logging
import re
import sys
from collections.abc import Iterator

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from credentials.standards.multiformats import encode_ed25519_private_key
from institutions.models import SigningKey
from institutions.selectors import API_TOKEN_TEXT
from meshe.log_redaction import RedactSecretUrls, redact
from tests.exchange.partners import partnership, send
from tests.factories import (
    LEARNER,
    PASSWORD,
    MembershipFactory,
    MicroCredentialFactory,
    UserFactory,
    make_token,
)

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.exchange.inbound_urls")]

PASSPHRASE = "a backup passphrase nobody may read"
NEW_SECRET = "the-next-key-encryption-secret-for-the-log-test-0123456789"


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Everything every logger says at DEBUG, as the configured console handler would pass it."""
    console = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, RedactSecretUrls) for f in handler.filters)
    ]
    assert console, "the console handler must redact secret URLs"
    buffer = io.StringIO()
    capture = logging.StreamHandler(buffer)
    capture.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    for log_filter in console[0].filters:
        capture.addFilter(log_filter)
    capture.setLevel(logging.DEBUG)
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    levels = {logger: logger.level for logger in loggers}
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(capture)
    connection.force_debug_cursor = True
    yield buffer
    connection.force_debug_cursor = False
    logging.getLogger().removeHandler(capture)
    for logger, level in levels.items():
        logger.setLevel(level)


def forms_of(seed: bytes) -> list[str]:
    """A private key's 32-byte seed as logs could show it."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return [
        repr(seed),
        seed.hex(),
        base64.b64encode(seed).decode(),
        base64.urlsafe_b64encode(seed).decode().rstrip("="),
        encode_ed25519_private_key(Ed25519PrivateKey.from_private_bytes(seed)),
    ]


def test_no_secret_reaches_the_logs_or_the_output_of_a_days_work(
    client, captured_logs, capsys, monkeypatch, settings, django_capture_on_commit_callbacks
):
    old_secret = settings.MESHE_KEY_ENCRYPTION_SECRET
    admin = MembershipFactory()
    micro_credential = MicroCredentialFactory(institution=admin.institution)
    partner, sender = partnership()
    institutions = [admin.institution, partner.institution, sender]
    seeds = [
        key.private_key.private_bytes_raw()
        for key in SigningKey.objects.filter(institution__in=institutions)
    ]
    outputs = io.StringIO()

    # Sign in, with a wrong password first.
    client.post(reverse("account_login"), {"login": admin.user.email, "password": "Wr0ng-guess"})
    client.post(reverse("account_login"), {"login": admin.user.email, "password": PASSWORD})
    # Issue through the API, which e-mails the learner a claim link.
    token = make_token(admin.institution)
    # The secret may hold "_" itself: split as the API does, not at the last "_".
    token_text = API_TOKEN_TEXT.fullmatch(token)
    assert token_text is not None
    with django_capture_on_commit_callbacks(execute=True):
        issued = client.post(
            "/api/v1/credentials",
            {"micro_credential": str(micro_credential.public_id), **LEARNER},
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert issued.status_code == 201, issued.content
    found = re.search(r"/claim/([^/\s]+)/", str(mail.outbox[-1].body))
    assert found is not None
    claim_token = found.group(1)
    # The learner opens the link until the limit answers 429, which Django logs with the path.
    settings.MESHE_RATE_LIMITS = {**settings.MESHE_RATE_LIMITS, "claim": "1/m"}
    learner = UserFactory(email=LEARNER["holder_email"])
    client.force_login(learner)
    claim_path = reverse("learners:claim", kwargs={"token": claim_token})
    assert client.post(claim_path).status_code == 302
    assert client.post(claim_path).status_code == 429
    # A 404 under the claim path is logged with it too.
    client.get(claim_path + "missing/")
    # A signed exchange request.
    answer, _request = send(client, sender=sender, slug=partner.institution.slug)
    assert answer.status_code == 200
    # Export a backup, then rotate the encryption secret.
    monkeypatch.setenv("MESHE_KEY_BACKUP_PASSPHRASE", PASSPHRASE)
    call_command(
        "export_signing_keys",
        "--all",
        "--output",
        str(settings.VAR_DIR / f"log-test-{admin.institution.slug}.json"),
        stdout=outputs,
        stderr=outputs,
    )
    monkeypatch.setenv("MESHE_KEY_ENCRYPTION_SECRET_NEW", NEW_SECRET)
    call_command("rotate_key_encryption_secret", stdout=outputs, stderr=outputs)
    (settings.VAR_DIR / f"log-test-{admin.institution.slug}.json").unlink()

    console = capsys.readouterr()
    logs = captured_logs.getvalue()
    assert "Too Many Requests: /claim/[redacted]/" in logs  # the flows were logged
    assert "SELECT" in logs  # with their SQL
    haystack = "\n".join([logs, console.out, console.err, outputs.getvalue()])
    secrets = {
        "SECRET_KEY": settings.SECRET_KEY,
        "old MESHE_KEY_ENCRYPTION_SECRET": old_secret,
        "new MESHE_KEY_ENCRYPTION_SECRET": NEW_SECRET,
        "backup passphrase": PASSPHRASE,
        "password": PASSWORD,
        "wrong password": "Wr0ng-guess",
        "API token": token,
        "API token secret": token_text["secret"],
        "claim token": claim_token,
    }
    for number, seed in enumerate(seeds):
        for form in forms_of(seed):
            secrets[f"private key {number} as {form[:4]}…"] = form
    leaked = [name for name, secret in secrets.items() if secret in haystack]
    assert leaked == []


def test_a_traceback_is_redacted_too():
    try:
        raise ValueError("while sending http://node/claim/AbC-123/")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    RedactSecretUrls().filter(record)
    text = logging.Formatter().format(record)
    assert "AbC-123" not in text
    assert "claim/[redacted]/" in text


def test_the_redaction_covers_claim_confirmation_and_reset_links():
    assert redact("Not Found: /claim/AbC-123_x/") == "Not Found: /claim/[redacted]/"
    assert redact('"GET /accounts/confirm-email/MTI:1u:abc/ HTTP/1.1" 200') == (
        '"GET /accounts/confirm-email/[redacted]/ HTTP/1.1" 200'
    )
    assert redact("/accounts/password/reset/key/1-abc-def/") == (
        "/accounts/password/reset/key/[redacted]/"
    )
    assert redact("/accounts/password/reset/key/done/") == "/accounts/password/reset/key/done/"
    assert redact("/oid4vci/offer?pre-authorized_code=xyz&x=1") == (
        "/oid4vci/offer?pre-authorized_code=[redacted]&x=1"
    )
    assert redact("'path': 'claim/AbC/missing/'") == "'path': 'claim/[redacted]/missing/'"
    assert redact("reclaim/this") == "reclaim/this"
    token = "meshe_0123abcd_" + "x" * 43
    assert redact(f"'text': '{token}'") == "'text': 'meshe_0123abcd_[redacted]'"
    assert redact("nothing to see") == "nothing to see"
