"""The issued-credential tally, kept by triggers, and what keeps the staff list fast at scale.

IssuedTally counts credentials by institution, version, UTC month, status and claimed; the
triggers of credentials/tally.py keep it on every insert, update and delete of IssuedCredential,
in the same transaction, whatever code writes. Existing credentials are counted once here.

The staff list reads a page newest first through a new (institution, issued_at, id) index, and,
on PostgreSQL, searches the learner's name and e-mail through pg_trgm indexes on the UPPER()
expressions Django's icontains compares (as migration 0002 does for the catalogue).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from credentials import tally

TRIGRAM_INDEXES = {
    "credential_holder_name_trgm": 'UPPER("holder_name"::text)',
    "credential_holder_email_trgm": 'UPPER("holder_email"::text)',
}


def create_tally_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, expression in TRIGRAM_INDEXES.items():
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "credentials_issuedcredential"'
                f" USING gin (({expression}) gin_trgm_ops)"
            )
    tally.install(schema_editor.connection)


def drop_tally_triggers(apps, schema_editor):
    tally.remove(schema_editor.connection)
    if schema_editor.connection.vendor == "postgresql":
        for name in TRIGRAM_INDEXES:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("credentials", "0007_api_credential_status_reason_code"),
        ("institutions", "0002_institution_ob3_strict"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="IssuedTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("month", models.DateField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("issued", "Valid"),
                            ("suspended", "Suspended"),
                            ("revoked", "Revoked"),
                        ],
                        max_length=10,
                    ),
                ),
                ("claimed", models.BooleanField()),
                ("count", models.IntegerField()),
            ],
        ),
        migrations.AddIndex(
            model_name="issuedcredential",
            index=models.Index(
                fields=["institution", "-issued_at", "-id"], name="credential_institution_newest"
            ),
        ),
        migrations.AddField(
            model_name="issuedtally",
            name="institution",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="institutions.institution",
            ),
        ),
        migrations.AddField(
            model_name="issuedtally",
            name="version",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="credentials.microcredentialversion",
            ),
        ),
        migrations.AddConstraint(
            model_name="issuedtally",
            constraint=models.UniqueConstraint(
                fields=("institution", "version", "month", "status", "claimed"),
                name="issued_tally_bucket",
            ),
        ),
        migrations.RunPython(create_tally_triggers, drop_tally_triggers, elidable=False),
    ]
