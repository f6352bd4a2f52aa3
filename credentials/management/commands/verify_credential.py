import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credentials.issuing import verifier
from credentials.standards.badge_images import MAX_IMAGE_BYTES


class Command(BaseCommand):
    help = (
        "Verifies a credential file (or - for standard input): JSON, a baked badge image (PNG "
        "or SVG) or a European Digital Credential. Prints the same JSON as POST /api/v1/verify "
        "and exits 0 only when the credential is verified."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", help="path of the credential (JSON, PNG or SVG), or - for standard input"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["file"]
        if name == "-":
            raw = sys.stdin.buffer.read(MAX_IMAGE_BYTES + 1)
        else:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"No such file: {name}")
            with path.open("rb") as file:
                # A badge image may be larger than the credential it carries; one byte past
                # the image limit is enough for the verifier to say it is too large.
                raw = file.read(MAX_IMAGE_BYTES + 1)
        result = verifier.verify(raw)
        self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))
        if not result["verified"]:
            sys.exit(1)
