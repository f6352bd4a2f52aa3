"""Restores signing keys from a backup written by export_signing_keys: all of them or none.

    MESHE_KEY_BACKUP_PASSPHRASE=… manage.py import_signing_keys keys.json [--dry-run]

Each private key must match its public key, the institutions must exist here, and none of
the keys may be here already. The keys are sealed with this node's MESHE_KEY_ENCRYPTION_SECRET.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from institutions import key_backup, services
from institutions.exceptions import KeyCustodyError
from institutions.management.commands._passphrase import backup_passphrase


class Command(BaseCommand):
    help = "Import signing keys from an encrypted backup file; nothing if any key is refused."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="The backup file.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the whole file; import nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            content = Path(options["path"]).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {options['path']}: {exc.strerror}.") from None
        passphrase = backup_passphrase(confirm=False)
        try:
            payload = key_backup.open_backup(content, passphrase=passphrase)
            keys = services.signing_keys_import(payload=payload, dry_run=options["dry_run"])
        except (KeyCustodyError, key_backup.BackupError) as exc:
            raise CommandError(str(exc)) from None
        done = "would be imported" if options["dry_run"] else "imported"
        self.stdout.write(f"{len(keys)} keys {done}: " + ", ".join(str(key) for key in keys))
