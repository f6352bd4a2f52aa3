"""Writes institutions' signing keys to an encrypted backup file.

    MESHE_KEY_BACKUP_PASSPHRASE=… manage.py export_signing_keys --all --output keys.json
    manage.py export_signing_keys --institution uni-a --output keys.json   (asks the passphrase)

The file is created readable by its owner only, and never overwrites one.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from institutions import key_backup, services
from institutions.exceptions import KeyCustodyError
from institutions.management.commands._passphrase import backup_passphrase


class Command(BaseCommand):
    help = "Export signing keys, private halves included, to a passphrase-encrypted file."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument(
            "--institution", action="append", metavar="SLUG", help="Repeat for several."
        )
        which.add_argument("--all", action="store_true", help="Every institution of this node.")
        parser.add_argument("--output", required=True, help="A new file to write.")

    def handle(self, *args: Any, **options: Any) -> None:
        passphrase = backup_passphrase(confirm=True)
        try:
            payload = services.signing_keys_export(
                slugs=None if options["all"] else options["institution"]
            )
            key_backup.write_new_file(
                options["output"], key_backup.seal(payload, passphrase=passphrase)
            )
        except (KeyCustodyError, key_backup.BackupError) as exc:
            raise CommandError(str(exc)) from None
        count = sum(len(item["keys"]) for item in payload["institutions"])
        self.stdout.write(
            f"{count} keys of {len(payload['institutions'])} institutions written to "
            f"{options['output']}. Keep the file and its passphrase apart."
        )
