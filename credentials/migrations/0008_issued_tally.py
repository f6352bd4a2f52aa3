"""The issued-credential tally, kept by triggers, and what keeps the staff list fast at scale.

IssuedTally counts credentials by institution, version, UTC month, status and claimed; the
triggers below keep it on every insert, update and delete of IssuedCredential, in the same
transaction, whatever code writes (bulk_create, update(), the admin). On PostgreSQL an insert
statement adds its rows grouped, in one upsert per statement; an update or a delete moves one
row's count. On SQLite each row moves its own count. Existing credentials are counted once here.

The staff list reads a page newest first through a new (institution, issued_at, id) index, and,
on PostgreSQL, searches the learner's name and e-mail through pg_trgm indexes on the UPPER()
expressions Django's icontains compares (as migration 0002 does for the catalogue).
"""

# The SQL below is built from this module's constants only, never from input.
# ruff: noqa: S608

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TALLY = "credentials_issuedtally"
CREDENTIAL = "credentials_issuedcredential"
BUCKET = "institution_id, version_id, month, status, claimed"
# The UTC month of issued_at, as each database writes a DateField.
MONTH = {
    "postgresql": "(date_trunc('month', {row}.issued_at AT TIME ZONE 'UTC'))::date",
    "sqlite": "strftime('%Y-%m-01', {row}.issued_at)",
}
# What moves a credential from one bucket to another.
CHANGED = (
    "OLD.institution_id IS DISTINCT FROM NEW.institution_id"
    " OR OLD.version_id IS DISTINCT FROM NEW.version_id"
    " OR OLD.issued_at IS DISTINCT FROM NEW.issued_at"
    " OR OLD.status IS DISTINCT FROM NEW.status"
    " OR (OLD.holder_id IS NULL) IS DISTINCT FROM (NEW.holder_id IS NULL)"
)
TRIGRAM_INDEXES = {
    "credential_holder_name_trgm": 'UPPER("holder_name"::text)',
    "credential_holder_email_trgm": 'UPPER("holder_email"::text)',
}


def _add(vendor: str, row: str) -> str:
    month = MONTH[vendor].format(row=row)
    return (
        f"INSERT INTO {TALLY} ({BUCKET}, count) VALUES ({row}.institution_id, {row}.version_id,"
        f" {month}, {row}.status, {row}.holder_id IS NOT NULL, 1)"
        f" ON CONFLICT ({BUCKET}) DO UPDATE SET count = {TALLY}.count + 1"
    )


def _remove(vendor: str, row: str) -> str:
    month = MONTH[vendor].format(row=row)
    return (
        f"UPDATE {TALLY} SET count = count - 1 WHERE institution_id = {row}.institution_id"
        f" AND version_id = {row}.version_id AND month = {month} AND status = {row}.status"
        f" AND claimed = ({row}.holder_id IS NOT NULL)"
    )


def _postgresql() -> list[str]:
    month = MONTH["postgresql"].format(row="inserted")
    return [
        f"""CREATE FUNCTION credentials_tally_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO {TALLY} ({BUCKET}, count)
          SELECT institution_id, version_id, {month}, status, holder_id IS NOT NULL, count(*)
          FROM inserted GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
          ON CONFLICT ({BUCKET}) DO UPDATE SET count = {TALLY}.count + EXCLUDED.count;
          RETURN NULL;
        END $$""",
        f"""CREATE FUNCTION credentials_tally_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          {_remove("postgresql", "OLD")};
          IF TG_OP = 'UPDATE' THEN
            {_add("postgresql", "NEW")};
          END IF;
          RETURN NULL;
        END $$""",
        f"""CREATE TRIGGER credentials_tally_insert AFTER INSERT ON {CREDENTIAL}
        REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
        EXECUTE FUNCTION credentials_tally_inserted()""",
        f"""CREATE TRIGGER credentials_tally_update AFTER UPDATE ON {CREDENTIAL}
        FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION credentials_tally_changed()""",
        f"""CREATE TRIGGER credentials_tally_delete AFTER DELETE ON {CREDENTIAL}
        FOR EACH ROW EXECUTE FUNCTION credentials_tally_changed()""",
    ]


def _sqlite() -> list[str]:
    changed = CHANGED.replace("IS DISTINCT FROM", "IS NOT")
    return [
        f"""CREATE TRIGGER credentials_tally_insert AFTER INSERT ON {CREDENTIAL}
        BEGIN {_add("sqlite", "NEW")}; END""",
        f"""CREATE TRIGGER credentials_tally_update AFTER UPDATE ON {CREDENTIAL} WHEN {changed}
        BEGIN {_remove("sqlite", "OLD")}; {_add("sqlite", "NEW")}; END""",
        f"""CREATE TRIGGER credentials_tally_delete AFTER DELETE ON {CREDENTIAL}
        BEGIN {_remove("sqlite", "OLD")}; END""",
    ]


def create_tally_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in MONTH:
        raise RuntimeError(f"the issued-credential tally has no triggers for {vendor}")
    if vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, expression in TRIGRAM_INDEXES.items():
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "{CREDENTIAL}"'
                f" USING gin (({expression}) gin_trgm_ops)"
            )
    for statement in _postgresql() if vendor == "postgresql" else _sqlite():
        schema_editor.execute(statement)
    # Counted after the triggers exist and in the same transaction: nothing is missed or twice.
    month = MONTH[vendor].format(row=CREDENTIAL)
    schema_editor.execute(
        f"INSERT INTO {TALLY} ({BUCKET}, count) SELECT institution_id, version_id, {month},"
        f" status, holder_id IS NOT NULL, count(*) FROM {CREDENTIAL} GROUP BY 1, 2, 3, 4, 5"
    )


def drop_tally_triggers(apps, schema_editor):
    for name in ("insert", "update", "delete"):
        on = f" ON {CREDENTIAL}" if schema_editor.connection.vendor == "postgresql" else ""
        schema_editor.execute(f"DROP TRIGGER IF EXISTS credentials_tally_{name}{on}")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS credentials_tally_inserted()")
        schema_editor.execute("DROP FUNCTION IF EXISTS credentials_tally_changed()")
        for name in TRIGRAM_INDEXES:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
    schema_editor.execute(f"DELETE FROM {TALLY}")


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
