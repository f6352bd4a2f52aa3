"""What the node's verifier remembers of its own DID documents, status lists and names, and
that a revocation, a suspension or a key rotation is seen at once, here and in other processes.

Memory is only kept outside a transaction that changed something, so most tests here commit
(transaction=True), as the web and worker processes do.
"""

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import transaction
from django.test.utils import override_settings

from credentials.issuing import services, verifier
from credentials.models import IssuedCredential
from credentials.standards.did_resolution import did_web_to_url
from credentials.standards.verification import CheckedStatusList, verify_credential
from institutions import publications
from institutions import services as institution_services
from tests.factories import MicroCredentialFactory

ROOT = Path(__file__).resolve().parents[2]


def issue(micro_credential=None) -> IssuedCredential:
    micro_credential = micro_credential or MicroCredentialFactory()
    return services.credential_issue(
        actor=None,
        institution=micro_credential.institution,
        micro_credential=micro_credential,
        holder_name="Ana Kowalska",
        holder_email="ana@example.eu",
        awarded_date=date(2026, 11, 20),
    )


def status_detail(result: dict) -> str:
    return next(check["detail"] for check in result["checks"] if check["check"] == "status")


@pytest.fixture(autouse=True)
def nothing_remembered():
    verifier.forget()
    yield
    verifier.forget()


@pytest.mark.django_db(transaction=True)
def test_a_second_verification_of_a_local_credential_reads_nothing_from_the_database(
    django_assert_num_queries,
):
    credential = issue()
    assert verifier.verify(credential.document)["verified"]
    with django_assert_num_queries(0):
        result = verifier.verify(credential.document)
    assert result["verified"]
    assert "Known issuer" in result["checks"][-1]["detail"]


@pytest.mark.django_db(transaction=True)
def test_a_revocation_is_seen_at_once_by_a_process_that_remembers_the_list():
    credential = issue()
    assert verifier.verify(credential.document)["verified"]
    services.credential_revoke(credential=credential, actor=None, reason="plagiarism")
    result = verifier.verify(credential.document)
    assert not result["verified"]
    assert status_detail(result) == "Revoked by the issuer"


@pytest.mark.django_db(transaction=True)
def test_a_suspension_and_its_lifting_are_seen_at_once():
    credential = issue()
    assert verifier.verify(credential.document)["verified"]
    services.credential_suspend(credential=credential, actor=None)
    assert status_detail(verifier.verify(credential.document)) == "Suspended by the issuer"
    services.credential_reinstate(credential=credential, actor=None)
    assert verifier.verify(credential.document)["verified"]


def test_a_revocation_is_seen_inside_the_transaction_that_made_it(db):
    credential = issue()
    assert verifier.verify(credential.document)["verified"]
    services.credential_revoke(credential=credential, actor=None)
    assert status_detail(verifier.verify(credential.document)) == "Revoked by the issuer"


@pytest.mark.django_db(transaction=True)
def test_nothing_read_inside_a_transaction_that_is_rolled_back_is_remembered():
    credential = issue()
    assert verifier.verify(credential.document)["verified"]
    with transaction.atomic():
        services.credential_revoke(credential=credential, actor=None)
        assert not verifier.verify(credential.document)["verified"]
        transaction.set_rollback(True)
    assert verifier.verify(credential.document)["verified"]


@pytest.mark.django_db(transaction=True)
def test_a_revocation_in_another_process_is_seen_here_at_once(django_assert_num_queries):
    """The other process shares only the database and the cache with this one."""
    credential = issue()
    assert verifier.verify(credential.document)["verified"]
    with django_assert_num_queries(0):
        assert verifier.verify(credential.document)["verified"]  # remembered here

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        url = f"sqlite:///{database['NAME']}"
    else:
        url = (
            f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST']}"
            f":{database['PORT'] or 5432}/{database['NAME']}"
        )
    script = (
        "import django; django.setup()\n"
        "from credentials.issuing import services\n"
        "from credentials.models import IssuedCredential\n"
        f"credential = IssuedCredential.objects.get(pk={credential.pk})\n"
        "services.credential_revoke(credential=credential, actor=None, reason='elsewhere')\n"
    )
    subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "meshe.settings"},
        check=True,
        timeout=120,
    )

    result = verifier.verify(credential.document)
    assert status_detail(result) == "Revoked by the issuer"


@pytest.mark.django_db(transaction=True)
def test_a_credential_signed_after_a_key_rotation_verifies_at_once():
    micro_credential = MicroCredentialFactory()
    before = issue(micro_credential)
    assert verifier.verify(before.document)["verified"]  # the DID document is remembered
    institution_services.signing_key_rotate(actor=None, institution=micro_credential.institution)
    after = issue(micro_credential)
    assert verifier.verify(after.document)["verified"]
    assert verifier.verify(before.document)["verified"]


@pytest.mark.django_db(transaction=True)
def test_a_remembered_list_is_dropped_after_a_minute(monkeypatch, django_assert_num_queries):
    credential = issue()
    verifier.verify(credential.document)
    later = verifier.time.monotonic() + verifier.REMEMBER_SECONDS + 1
    monkeypatch.setattr(verifier.time, "monotonic", lambda: later)
    with django_assert_num_queries(5):  # DID document (2), both lists, the issuer's name
        assert verifier.verify(credential.document)["verified"]


@pytest.mark.django_db(transaction=True)
@override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}})
def test_without_a_cache_to_share_a_version_nothing_is_remembered(django_assert_num_queries):
    credential = issue()
    assert publications.version() is None
    verifier.verify(credential.document)
    with django_assert_num_queries(5):
        assert verifier.verify(credential.document)["verified"]


def test_a_remembered_list_is_still_checked_against_each_credentials_issuer(db):
    """The memory holds lists whose proof and key were checked; whose list it is, and whether
    it is in date, are checked for every credential."""
    credential = issue()
    other = issue()
    memo: dict[str, CheckedStatusList] = {}

    class Memo:
        def get(self, url: str) -> CheckedStatusList | None:
            return memo.get(url)

        def put(self, url: str, checked: CheckedStatusList) -> None:
            memo[url] = checked

    dependencies = verifier.node_dependencies()
    assert verify_credential(credential.document, **dependencies, status_list_memo=Memo()).verified
    assert len(memo) == 2
    # The other institution's credential, pointed at this institution's lists.
    for url, checked in list(memo.items()):
        memo[url.replace(credential.institution.slug, other.institution.slug)] = checked
    result = verify_credential(other.document, **dependencies, status_list_memo=Memo())
    assert not result.verified
    assert "not by the credential's issuer" in result.check("status").detail


@pytest.mark.django_db(transaction=True)
def test_another_nodes_status_lists_are_reused_only_when_asked_and_for_as_long_as_asked(
    client, monkeypatch, settings
):
    """A partner's batch names the same lists: a delivery's verification may reuse them for a
    minute; any other verification fetches them again, and so does one a minute later."""
    micro_credential = MicroCredentialFactory()
    first, second = issue(micro_credential), issue(micro_credential)
    did = micro_credential.institution.did
    lists = sorted(
        {
            entry["statusListCredential"]
            for credential in (first, second)
            for entry in json.loads(credential.document)["credentialStatus"]
        }
    )
    # What the issuing node answers, by URL, read while this node is still that node.
    served = {url: client.get(urlsplit(url).path).json() for url in [did_web_to_url(did), *lists]}
    fetched: list[str] = []

    def fetch(url: str) -> dict:
        fetched.append(url)
        return served[url]

    # This node now answers at another address: the credentials are another node's.
    settings.MESHE_BASE_URL = "https://elsewhere.example"
    monkeypatch.setattr(verifier, "fetch_json", fetch)

    def verify(credential: IssuedCredential, **reuse: float) -> list[str]:
        fetched.clear()
        assert verifier.verify(credential.document, **reuse)["verified"]
        return sorted(url for url in fetched if url in lists)

    assert verify(first, reuse_remote_status_seconds=60) == lists
    assert verify(second, reuse_remote_status_seconds=60) == []
    assert verify(second) == lists  # not asked to reuse: read again
    later = verifier.time.monotonic() + 61
    monkeypatch.setattr(verifier.time, "monotonic", lambda: later)
    assert verify(first, reuse_remote_status_seconds=60) == lists
