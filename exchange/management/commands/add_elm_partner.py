from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from exchange import catalogue_sync
from institutions.models import Institution


class Command(BaseCommand):
    help = (
        "Makes a university that publishes its offers as an ELM v3 feed, and runs no MESHE "
        "node, a partner of one of this node's institutions for catalogue purposes; the "
        "catalogue sync then imports its offers. Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--institution", required=True, help="slug of our institution")
        parser.add_argument("--name", required=True, help="the partner university's name")
        parser.add_argument("--country", required=True, help="its country, such as PT")
        parser.add_argument("--feed", required=True, help="https address of its ELM feed")

    def handle(self, *args: Any, **options: Any) -> None:
        institution = Institution.objects.filter(slug=options["institution"]).first()
        if institution is None:
            raise CommandError(f"No institution {options['institution']!r} on this node.")
        try:
            partner = catalogue_sync.elm_partner_add(
                actor=None,
                institution=institution,
                name=options["name"],
                country=options["country"],
                feed_url=options["feed"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{partner.name} ({partner.public_id}): catalogue {options['feed']}")
