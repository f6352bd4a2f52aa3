"""Trigram indexes for the catalogue's text search, on PostgreSQL only.

The search matches title, description or institution name containing the words (Django's
icontains: UPPER(column) LIKE UPPER('%words%')), which no B-tree can serve. pg_trgm's GIN
indexes on the same UPPER() expressions can, so a search over thousands of offers reads the
few that match. SQLite has no pg_trgm: there the migration does nothing, and searches scan.
"""

from django.db import migrations

TABLE = "credentials_microcredential"
# Index name → the expression icontains compares, exactly as Django writes it.
INDEXES = {
    "micro_credential_title_trgm": 'UPPER("title"::text)',
    "micro_credential_description_trgm": 'UPPER("description")',
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{TABLE}" USING gin (({expression}) gin_trgm_ops)'
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("credentials", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
