"""Fewer indexes on issued credentials, their documents inserted as VALUES and, on PostgreSQL,
compressed with LZ4 (bulk issuing spends less per row; docs/performance.md).

The indexes of the institution and of the two status lists duplicate the leading column of
other indexes (the staff list's and the status positions' unique ones), and the claim token,
looked up by equality only, needs no pattern index. Dropping them by name keeps the table and
its foreign-key constraints as they are, on PostgreSQL and SQLite alike; Django's own AlterField
would re-create the constraints (PostgreSQL checks every row again) or copy the table (SQLite).
LZ4 compresses a signed document in about half the time of PostgreSQL's default, pglz; documents
already stored keep their compression."""

from collections.abc import Callable
from typing import Any

import django.db.models.deletion
from django.db import migrations, models

import credentials.models

DROPPED = [
    ("credentials_issuedcredential_institution_id_4f08ca0c", "institution_id"),
    ("credentials_issuedcredential_revocation_list_id_6ed40c7b", "revocation_list_id"),
    ("credentials_issuedcredential_suspension_list_id_8db3739d", "suspension_list_id"),
    ("credentials_issuedcredential_claim_token_hash_0f374ebf", "claim_token_hash"),
]


def compression(method: str) -> Callable[[Any, Any], None]:
    """Set the compression of new documents to `method` where the server has it."""

    def alter(apps: Any, schema_editor: Any) -> None:
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression'"
                " AND %s = ANY(enumvals)",
                [method],
            )
            if cursor.fetchone() is None:
                return  # a server built without LZ4 keeps pglz
            cursor.execute(
                'ALTER TABLE "credentials_issuedcredential" ALTER COLUMN "document"'
                f" SET COMPRESSION {method}"
            )

    return alter


class Migration(migrations.Migration):
    dependencies = [
        ("credentials", "0010_endorsement"),
        ("institutions", "0003_e_seal_certificate"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="issuedcredential",
                    name="claim_token_hash",
                    field=models.CharField(blank=True, max_length=64),
                ),
                migrations.AlterField(
                    model_name="issuedcredential",
                    name="document",
                    field=credentials.models.SignedDocumentField(),
                ),
                migrations.AlterField(
                    model_name="issuedcredential",
                    name="institution",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="issued_credentials",
                        to="institutions.institution",
                    ),
                ),
                migrations.AlterField(
                    model_name="issuedcredential",
                    name="revocation_list",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="credentials.statuslist",
                    ),
                ),
                migrations.AlterField(
                    model_name="issuedcredential",
                    name="suspension_list",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="credentials.statuslist",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=[
                        *(f'DROP INDEX IF EXISTS "{name}"' for name, _column in DROPPED),
                        # PostgreSQL's pattern index beside the claim token's (none on SQLite).
                        'DROP INDEX IF EXISTS "credentials_issuedcredential_claim_token_hash_0f374ebf_like"',
                    ],
                    reverse_sql=[
                        f'CREATE INDEX IF NOT EXISTS "{name}" ON "credentials_issuedcredential" ("{column}")'
                        for name, column in DROPPED
                    ],
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="issuedcredential",
            index=models.Index(fields=["claim_token_hash"], name="credential_claim_token"),
        ),
        migrations.RunPython(compression("lz4"), compression("pglz")),
    ]
