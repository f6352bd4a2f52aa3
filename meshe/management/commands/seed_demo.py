from typing import Any

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction

from institutions import services as institution_services
from institutions.models import Institution, Membership, Role
from learners.models import User

DEMO_PASSWORD = "meshe-demo-2026"  # noqa: S105  # published on purpose: demo data only

INSTITUTIONS = [
    {
        "slug": "uni-a",
        "name": "University of Aldermoor",
        "country": "NL",
        "schac_code": "aldermoor.example",
        "erasmus_code": "NL ALDERMO01",
        "website": "https://aldermoor.example",
        "qa_evidence": "Institutional accreditation by the national QA agency (ESG-compliant).",
    },
    {
        "slug": "uni-b",
        "name": "Baltic Technical University",
        "country": "LT",
        "schac_code": "btu.example",
        "erasmus_code": "LT BALTIC02",
        "website": "https://btu.example",
        "qa_evidence": "Listed in DEQAR with a positive institutional review.",
    },
]
STAFF = [
    ("admin@uni-a.example", "Anna Admin", "uni-a", Role.ADMIN),
    ("issuer@uni-a.example", "Ivo Issuer", "uni-a", Role.ISSUER),
    ("admin@uni-b.example", "Birutė Admin", "uni-b", Role.ADMIN),
]
LEARNERS = [
    ("learner@example.org", "Lea Learner"),
    ("second.learner@example.org", "Sami Learner"),
]


class Command(BaseCommand):
    help = "Creates demo institutions, staff and learners. Running it again changes nothing."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        for fields in INSTITUTIONS:
            if not Institution.objects.filter(slug=fields["slug"]).exists():
                institution_services.institution_create(actor=None, require_mfa=False, **fields)
        for email, name in LEARNERS:
            self.person(email, name)
        for email, name, slug, role in STAFF:
            Membership.objects.get_or_create(
                user=self.person(email, name),
                institution=Institution.objects.get(slug=slug),
                defaults={"role": role},
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready. Sign in as admin@uni-a.example, issuer@uni-a.example or "
                f"learner@example.org with the password {DEMO_PASSWORD}."
            )
        )

    def person(self, email: str, name: str) -> User:
        """A user with a verified address and the demo password, created once."""
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, DEMO_PASSWORD, name=name)
        EmailAddress.objects.get_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        return user
