import json
from decimal import Decimal
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from credentials.issuing import services as credential_services
from credentials.models import IssuedCredential, MicroCredential, StatusList
from credentials.standards.verification import issuer_id
from institutions import e_seals
from institutions import services as institution_services
from institutions.models import Institution, Membership, Role

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

ESCO = "http://data.europa.eu/esco/skill/"
MICRO_CREDENTIALS: list[dict[str, Any]] = [
    {
        "institution": "uni-a",
        "title": "Data Literacy for Public Administration",
        "description": "Reading, questioning and explaining data in public policy work.",
        "learning_outcomes": [
            {
                "text": "Interpret descriptive statistics and charts in policy reports.",
                "esco": [
                    {
                        "uri": ESCO + "7dd94ad3-13d6-43fe-8b94-51fcbf67ced9",
                        "label": "think critically",
                    }
                ],
            },
            {
                "text": "Explain data-driven findings to citizens in plain language.",
                "esco": [
                    {
                        "uri": ESCO + "80f308e6-0e09-404a-80cd-ec5f50f6f304",
                        "label": "communicate with target community",
                    }
                ],
            },
        ],
        "ects": Decimal("5"),
        "workload_hours": 140,
        "eqf_level": "http://data.europa.eu/snb/eqf/6",
        "isced_field": "http://data.europa.eu/snb/isced-f/0413",
        "assessment_type": "http://data.europa.eu/snb/assessment/6e6cb2cc78",
        "form_of_participation": "http://data.europa.eu/snb/learning-assessment/e92d221e4d",
        "quality_assurance": "http://data.europa.eu/snb/accreditation/003293d2ce",
        "grading_scheme": "Dutch scale from 1 to 10; 5.5 or higher is a pass.",
        "enrolment_url": "https://aldermoor.example/lifelong-learning/data-literacy",
        "enrolment_contact": "lifelong-learning@aldermoor.example",
        "starts_any_time": True,
        "duration_amount": 8,
        "duration_unit": "weeks",
        "schedule": "Online modules at your own pace, with two Saturdays on campus.",
        "cost": "fee",
        "price": Decimal("350.00"),
        "currency": "EUR",
        "cost_note": "Free for staff of Dutch public administrations.",
        "instruction_languages": ["en", "nl"],
        "place": "Aldermoor, city campus",
    },
    {
        "institution": "uni-b",
        "title": "Applied Machine Learning Fundamentals",
        "description": "Build, evaluate and explain supervised learning models.",
        "learning_outcomes": [
            {
                "text": "Train and evaluate a supervised model on tabular data.",
                "esco": [
                    {
                        "uri": ESCO + "5fd5c985-eaaa-47aa-8314-62359c54505a",
                        "label": "develop digital content",
                    }
                ],
            },
            {
                "text": "Work in a team to document a model's limits.",
                "esco": [
                    {"uri": ESCO + "60c78287-22eb-4103-9c8c-28deaa460da0", "label": "work in teams"}
                ],
            },
        ],
        "ects": Decimal("3"),
        "workload_hours": 80,
        "eqf_level": "http://data.europa.eu/snb/eqf/7",
        "isced_field": "http://data.europa.eu/snb/isced-f/0613",
        "assessment_type": "http://data.europa.eu/snb/assessment/795dac4096",
        "form_of_participation": "http://data.europa.eu/snb/learning-assessment/920fbb3cbe",
        "quality_assurance": "http://data.europa.eu/snb/accreditation/003293d2ce",
        "is_partial": True,
        "enrolment_contact": "microcredentials@btu.example",
        "starts_any_time": True,
        "duration_amount": 10,
        "duration_unit": "weeks",
        "schedule": "Two live online sessions a week, Tuesday and Thursday at 17:00 (EET).",
        "cost": "funded",
        "cost_note": "Free for students of partner universities.",
        "instruction_languages": ["en"],
    },
]


class Command(BaseCommand):
    help = (
        "Creates demo institutions, staff and learners, and issues the demo learner a "
        "credential from each. Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--institution",
            action="append",
            dest="institutions",
            metavar="SLUG",
            help=(
                "A demo institution to create (repeatable): "
                + ", ".join(i["slug"] for i in INSTITUTIONS)
                + ". Default: all of them."
            ),
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        slugs = self.chosen(options["institutions"])
        for fields in INSTITUTIONS:
            if (
                fields["slug"] in slugs
                and not Institution.objects.filter(slug=fields["slug"]).exists()
            ):
                institution_services.institution_create(actor=None, require_mfa=False, **fields)
                self.test_e_seal(Institution.objects.get(slug=fields["slug"]))
        for email, name in LEARNERS:
            self.person(email, name)
        for email, name, slug, role in STAFF:
            if slug in slugs:
                Membership.objects.get_or_create(
                    user=self.person(email, name),
                    institution=Institution.objects.get(slug=slug),
                    defaults={"role": role},
                )
        for fields in MICRO_CREDENTIALS:
            if fields["institution"] in slugs:
                self.publish_and_issue(fields)
        self.warn_if_moved(slugs)
        accounts = [email for email, _name, slug, _role in STAFF if slug in slugs]
        accounts.append(LEARNERS[0][0])
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready. Sign in as {', '.join(accounts)} "
                f"with the password {DEMO_PASSWORD}."
            )
        )

    @staticmethod
    def chosen(requested: list[str] | None) -> list[str]:
        """The slugs to seed, in INSTITUTIONS order; every known one when none is named."""
        known = [fields["slug"] for fields in INSTITUTIONS]
        unknown = sorted(set(requested or ()) - set(known))
        if unknown:
            raise CommandError(
                f"Unknown demo institution {', '.join(unknown)}: choose from {', '.join(known)}."
            )
        return [slug for slug in known if not requested or slug in requested]

    @staticmethod
    def test_e_seal(institution: Institution) -> None:
        """A self-signed test e-seal, so the demo's EDCs are sealed; its pages say it is one."""
        institution_services.e_seal_install(
            actor=None,
            institution=institution,
            e_seal=e_seals.self_signed_test_seal(
                name=institution.name, country=institution.country, now=timezone.now()
            ),
        )

    def publish_and_issue(self, fields: dict[str, Any]) -> None:
        """Publishes a demo specification and issues the demo learner a credential, once."""
        institution = Institution.objects.get(slug=fields["institution"])
        values = {k: v for k, v in fields.items() if k != "institution"}
        micro_credential, _created = MicroCredential.objects.get_or_create(
            institution=institution,
            title=values.pop("title"),
            defaults={**values, "status": MicroCredential.Status.PUBLISHED},
        )
        if IssuedCredential.objects.filter(version__micro_credential=micro_credential).exists():
            return
        learner_email, learner_name = LEARNERS[0]
        credential_services.credential_issue(
            actor=None,
            institution=institution,
            micro_credential=micro_credential,
            holder_name=learner_name,
            holder_email=learner_email,
            awarded_date=timezone.localdate(),
            grade="8" if institution.slug == "uni-a" else "",
        )

    def warn_if_moved(self, slugs: list[str]) -> None:
        """Says so when this database's signed documents name another address than the node's.

        did:web carries the node's address: credentials and status lists signed while the node
        served elsewhere (another port or host) name that address and no longer verify here.
        """
        for slug in slugs:
            institution = Institution.objects.get(slug=slug)
            documents = StatusList.objects.filter(institution=institution).values_list(
                "document", flat=True
            )
            signed_for = {issuer_id(json.loads(document).get("issuer")) for document in documents}
            for did in sorted(filter(None, signed_for - {institution.did})):
                self.stderr.write(
                    self.style.WARNING(
                        f"{institution.name}'s credentials here were signed as {did}, not as "
                        f"{institution.did}: they do not verify at {settings.MESHE_BASE_URL}. "
                        f"Give each address its own database (MESHE_VAR_DIR)."
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
