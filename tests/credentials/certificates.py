"""Certificates for the PDF tests: a sample certificate's values, and the text a laid-out
certificate shows."""

import dataclasses
from datetime import date
from decimal import Decimal

from weasyprint.formatting_structure.boxes import TextBox

from credentials.issuing import certificate


def sample(**overrides) -> certificate.Certificate:
    public_id = "0b6f6d8e-4a55-4a3e-9d7e-3c2f1b0a9e87"
    values = certificate.Certificate(
        credential_id=f"urn:uuid:{public_id}",
        public_url=f"https://meshe.example.eu/credentials/{public_id}",
        issuer_did="did:web:meshe.example.eu:institutions:uni-a",
        learner_name="Ana Kowalska",
        title="Data Literacy for Public Policy",
        language="en",
        institution_name="University A",
        institution_country="BE",
        issued_on=date(2026, 11, 23),
        awarded_on=date(2026, 11, 20),
        learning_outcomes=(
            certificate.LearningOutcome(
                "Interpret descriptive statistics in policy reports.", ("think critically",)
            ),
            certificate.LearningOutcome("Build clear charts for non-specialist readers."),
        ),
        ects=Decimal("5.00"),
        workload_hours=140,
        eqf_level="http://data.europa.eu/snb/eqf/6",
        assessment_type="http://data.europa.eu/snb/assessment/6e6cb2cc78",
        form_of_participation="http://data.europa.eu/snb/learning-assessment/e92d221e4d",
        quality_assurance="http://data.europa.eu/snb/accreditation/003293d2ce",
        grade="8.5",
    )
    return dataclasses.replace(values, **overrides)


def text_of(document) -> str:
    """The text weasyprint laid out, fixed footer included, with whitespace collapsed."""
    boxes = document.pages[0]._page_box.descendants(placeholders=True)
    return " ".join(" ".join(box.text for box in boxes if isinstance(box, TextBox)).split())
