"""How issued credentials are stored for bulk issuing's sake (migration
0011_issued_credential_inserts): a chunk's rows go in as one VALUES list, the table has no index
that another one's leading column already gives, and on PostgreSQL new documents are compressed
with LZ4. The scale bench measures what it saves (docs/performance.md)."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from credentials.models import IssuedCredential
from tests.factories import issue_many

pytestmark = pytest.mark.django_db

TABLE = IssuedCredential._meta.db_table
REDUNDANT = {
    "credentials_issuedcredential_institution_id_4f08ca0c",
    "credentials_issuedcredential_revocation_list_id_6ed40c7b",
    "credentials_issuedcredential_suspension_list_id_8db3739d",
    "credentials_issuedcredential_claim_token_hash_0f374ebf",
    "credentials_issuedcredential_claim_token_hash_0f374ebf_like",
}
KEPT = {"credential_claim_token", "credential_institution_newest", "credential_holder_email_lower"}


def index_names() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [TABLE])
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = %s", [TABLE]
            )
        return {name for (name,) in cursor.fetchall()}


def test_a_chunk_of_credentials_goes_in_as_one_list_of_values():
    # Django's other way on PostgreSQL, an UNNEST array per column, escapes every signed
    # document into an array literal.
    with CaptureQueriesContext(connection) as queries:
        credentials = issue_many(3)
    (insert,) = [q["sql"] for q in queries if q["sql"].startswith(f'INSERT INTO "{TABLE}"')]
    assert "UNNEST" not in insert
    assert insert.count("VALUES") == 1
    stored = IssuedCredential.objects.filter(pk__in=[c.pk for c in credentials])
    assert sorted(stored.values_list("document", flat=True)) == sorted(
        c.document for c in credentials
    )


def test_issued_credentials_keep_no_index_another_one_already_gives():
    names = index_names()
    assert names >= KEPT
    assert not names & REDUNDANT


def test_a_claim_link_is_found_through_its_own_index():
    (credential,) = issue_many(1)
    IssuedCredential.objects.filter(pk=credential.pk).update(claim_token_hash="a" * 64)
    query = IssuedCredential.objects.filter(claim_token_hash="a" * 64).values("pk")
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A few rows never make a scan look dear to the planner: may it use the index at all?
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
        plan = query.explain()
    assert "credential_claim_token" in plan
    assert list(query) == [{"pk": credential.pk}]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="column compression is PostgreSQL's")
def test_new_documents_are_compressed_with_lz4_on_postgresql():
    (credential,) = issue_many(1)
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT pg_column_compression("document") FROM "{TABLE}" WHERE id = %s',  # noqa: S608
            [credential.pk],
        )
        assert cursor.fetchone() == ("lz4",)
