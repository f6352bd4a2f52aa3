"""The triggers that keep IssuedTally equal to the issued credentials.

IssuedTally counts credentials by institution, version, UTC month, status and claimed. These
triggers keep it in the same transaction as every insert, update and delete of IssuedCredential,
whatever code writes (bulk_create, update(), the admin). On PostgreSQL an insert statement adds
its rows grouped, in one upsert per statement; an update or a delete moves one row's count. On
SQLite each row moves its own count.

Migration 0008 installs them, and `ensure()` runs after every `migrate` (CredentialsConfig): a
later migration that rebuilds the credentials table, as SQLite's schema editor does to add or
alter a column, drops the table's triggers with it; then they are installed again and the tally
counted afresh, in one transaction.
"""

# The SQL below is built from this module's constants only, never from input.
# ruff: noqa: S608

from typing import Any

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


TRIGGERS = ("credentials_tally_insert", "credentials_tally_update", "credentials_tally_delete")


def install(connection: Any) -> None:
    """Create (or replace) the triggers, then count the credentials already there: after the
    triggers exist and in the caller's transaction, so nothing is missed or counted twice."""
    vendor = connection.vendor
    if vendor not in MONTH:
        raise RuntimeError(f"the issued-credential tally has no triggers for {vendor}")
    remove(connection)
    month = MONTH[vendor].format(row=CREDENTIAL)
    with connection.cursor() as cursor:
        for statement in _postgresql() if vendor == "postgresql" else _sqlite():
            cursor.execute(statement)
        cursor.execute(
            f"INSERT INTO {TALLY} ({BUCKET}, count) SELECT institution_id, version_id, {month},"
            f" status, holder_id IS NOT NULL, count(*) FROM {CREDENTIAL} GROUP BY 1, 2, 3, 4, 5"
        )


def remove(connection: Any) -> None:
    """Drop the triggers and empty the tally."""
    on = f" ON {CREDENTIAL}" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        for name in TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}{on}")
        if connection.vendor == "postgresql":
            cursor.execute("DROP FUNCTION IF EXISTS credentials_tally_inserted()")
            cursor.execute("DROP FUNCTION IF EXISTS credentials_tally_changed()")
        cursor.execute(f"DELETE FROM {TALLY}")


def installed(connection: Any) -> bool:
    """Whether all three triggers are on the credentials table."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname = ANY(%s)",
                [CREDENTIAL, list(TRIGGERS)],
            )
        else:
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s"
                " AND name IN (%s, %s, %s)",
                [CREDENTIAL, *TRIGGERS],
            )
        (found,) = cursor.fetchone()
    return int(found) == len(TRIGGERS)


def ensure(connection: Any) -> bool:
    """Install the triggers if a migration dropped any, recounting the tally; returns whether it
    had to."""
    if installed(connection):
        return False
    install(connection)
    return True
