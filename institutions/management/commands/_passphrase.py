"""The backup passphrase of the key commands: from the environment, or typed at a terminal.

Never an argument: arguments show in `ps`, shell histories and CI logs.
"""

import getpass
import os
import sys

from django.core.management.base import CommandError

PASSPHRASE_VARIABLE = "MESHE_KEY_BACKUP_PASSPHRASE"  # noqa: S105  # a variable name, not a secret


def backup_passphrase(*, confirm: bool) -> str:
    """The passphrase from MESHE_KEY_BACKUP_PASSPHRASE, else asked for (twice with `confirm`)."""
    value = os.environ.get(PASSPHRASE_VARIABLE, "")
    if value:
        return value
    if not sys.stdin.isatty():
        raise CommandError(
            f"Set {PASSPHRASE_VARIABLE}, or run the command at a terminal to type the passphrase."
        )
    value = getpass.getpass("Backup passphrase: ")
    if confirm and getpass.getpass("The same passphrase again: ") != value:
        raise CommandError("The two passphrases differ.")
    return value
