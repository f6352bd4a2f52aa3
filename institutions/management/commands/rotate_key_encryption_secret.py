"""Re-seals every institution's signing key under a new MESHE_KEY_ENCRYPTION_SECRET.

    MESHE_KEY_ENCRYPTION_SECRET_NEW=… manage.py rotate_key_encryption_secret [--dry-run]

The old secret is MESHE_KEY_ENCRYPTION_SECRET_OLD, or else the configured
MESHE_KEY_ENCRYPTION_SECRET. Secrets come from the environment only, never from arguments.
Then set MESHE_KEY_ENCRYPTION_SECRET to the new secret and restart the web and worker
processes: until they restart they cannot sign.
"""

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from institutions import services
from institutions.exceptions import KeyCustodyError

OLD_VARIABLE = "MESHE_KEY_ENCRYPTION_SECRET_OLD"
NEW_VARIABLE = "MESHE_KEY_ENCRYPTION_SECRET_NEW"


class Command(BaseCommand):
    help = (
        f"Re-seal all signing keys from {OLD_VARIABLE} (default: the configured "
        f"MESHE_KEY_ENCRYPTION_SECRET) to {NEW_VARIABLE}, in one transaction."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Check that every key opens; change nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        new_secret = os.environ.get(NEW_VARIABLE, "").strip()
        if not new_secret:
            raise CommandError(f"Set {NEW_VARIABLE} to the new secret (in the environment).")
        old_secret = (
            os.environ.get(OLD_VARIABLE, "").strip() or settings.MESHE_KEY_ENCRYPTION_SECRET
        )
        try:
            result = services.signing_keys_reseal(
                old_secret=old_secret, new_secret=new_secret, dry_run=options["dry_run"]
            )
        except KeyCustodyError as exc:
            raise CommandError(str(exc)) from None
        done = "would be re-sealed" if options["dry_run"] else "re-sealed"
        self.stdout.write(f"{len(result.resealed)} keys {done}.")
        if result.e_seals:
            self.stdout.write(f"{len(result.e_seals)} e-seal keys {done} too.")
        if result.already:
            self.stdout.write(f"{len(result.already)} keys already use the new secret; left alone.")
        if not options["dry_run"] and result.resealed:
            self.stdout.write(
                self.style.WARNING(
                    "Now set MESHE_KEY_ENCRYPTION_SECRET to the new secret and restart the web "
                    "and worker processes: until then they cannot sign."
                )
            )
