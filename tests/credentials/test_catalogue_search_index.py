"""The catalogue's text search: what it finds, and on PostgreSQL the trigram indexes that let
it read only the offers that match (migration 0002_catalogue_search_trigram), which SQLite goes without."""

import re

import pytest
from django.db import connection, transaction

from credentials.catalogue import offers as catalogue
from tests.factories import InstitutionFactory, MicroCredentialFactory

pytestmark = pytest.mark.django_db

INDEXES = {"micro_credential_title_trgm", "micro_credential_description_trgm"}
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="pg_trgm indexes exist on PostgreSQL only; on SQLite the migration does nothing",
)


def found(text: str) -> set[str]:
    return {offer.title for offer in catalogue.offers(catalogue.Filters(text=text))}


def test_a_search_finds_offers_by_title_description_or_institution_name():
    aldermoor = InstitutionFactory(name="University of Aldermoor")
    MicroCredentialFactory(institution=aldermoor, title="Welding", description="Metal work.")
    MicroCredentialFactory(title="Soil Science", description="Reading the ground.")
    MicroCredentialFactory(title="Statistics", description="Regression for GROUNDWATER data.")
    assert found("aldermoor") == {"Welding"}
    assert found("soil") == {"Soil Science"}
    assert found("ground") == {"Soil Science", "Statistics"}
    assert found("nothing like it") == set()


def test_the_trigram_migration_indexes_postgresql_and_leaves_sqlite_alone():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'credentials_microcredential'"
            )
            assert {name for (name,) in cursor.fetchall()} >= INDEXES
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            assert cursor.fetchone() is not None
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index'"
                " AND tbl_name = 'credentials_microcredential'"
            )
            assert not INDEXES & {name for (name,) in cursor.fetchall()}


@on_postgresql
def test_a_catalogue_search_can_read_the_trigram_indexes_instead_of_scanning():
    """A handful of test rows never makes a scan look dear to the planner, so whole-table
    reads (sequential, or walking another index) are switched off for the question: may the
    search's query use the indexes at all?"""
    InstitutionFactory(name="University of Aldermoor")
    MicroCredentialFactory.create_batch(3)
    query = catalogue.offers(catalogue.Filters(text="literacy")).local
    sql, params = query.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert not re.search(r"(Seq Scan on|Index Scan using \S+ on) credentials_microcredential", plan)
    assert "Bitmap Heap Scan on credentials_microcredential" in plan
    for index in INDEXES:
        assert f"Bitmap Index Scan on {index}" in plan
