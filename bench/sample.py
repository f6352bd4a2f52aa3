"""The realistic micro-credential the benchmark signs: the builder tests' sample, and variants of it.

The values are those of tests/credentials/builder_samples.py (copied: bench/ does not import
tests/). Every variant has the same shape and different per-learner values, as a day of issuing
one specification has.
"""

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from credentials import ob3
from credentials.achievement import (
    Award,
    CredentialReference,
    EscoSkill,
    Evidence,
    Holder,
    Issuer,
    LearningOutcome,
    QualityAssurance,
    Specification,
    StatusEntry,
    hash_email,
)

THINK_CRITICALLY = EscoSkill(
    uri="http://data.europa.eu/esco/skill/7dd94ad3-13d6-43fe-8b94-51fcbf67ced9",
    label="think critically",
)
PERFORM_BUSINESS_ANALYSIS = EscoSkill(
    uri="http://data.europa.eu/esco/skill/27ed854c-15b8-4ba2-90e9-ae888a219703",
    label="perform business analysis",
)
COMMUNICATE_WITH_COMMUNITY = EscoSkill(
    uri="http://data.europa.eu/esco/skill/80f308e6-0e09-404a-80cd-ec5f50f6f304",
    label="communicate with target community",
)
DEVELOP_DIGITAL_CONTENT = EscoSkill(
    uri="http://data.europa.eu/esco/skill/5fd5c985-eaaa-47aa-8314-62359c54505a",
    label="develop digital content",
)
WORK_IN_TEAMS = EscoSkill(
    uri="http://data.europa.eu/esco/skill/60c78287-22eb-4103-9c8c-28deaa460da0",
    label="work in teams",
)

ISSUER = Issuer(
    did="did:web:meshe.example:institutions:uni-a",
    name="University of Amstelland",
    url="https://uni-a.example.eu",
    country_code="NL",
    legal_identifier="NTRNL-30276874",
    schac_code="uni-a.example.eu",
    erasmus_code="NL AMSTERD99",
    email="microcredentials@uni-a.example.eu",
    logo_url="https://uni-a.example.eu/static/logo.png",
    qa_evidence_text="Institutional audit by NVAO, positive decision of 12 March 2021.",
    qa_evidence_url="https://www.deqar.eu/institutions/uni-a",
)

SPECIFICATION = Specification(
    id="https://meshe.example/institutions/uni-a/micro-credentials/data-literacy/v2",
    version=2,
    title={
        "en": "Data Literacy for Public Administration",
        "nl": "Datageletterdheid voor de publieke sector",
    },
    description={
        "en": "Reading, questioning and communicating data in public policy work.",
        "nl": "Data lezen, bevragen en uitleggen in het beleidswerk.",
    },
    learning_outcomes=(
        LearningOutcome(
            text={
                "en": "Interpret descriptive statistics and charts in public policy reports.",
                "nl": "Beschrijvende statistiek en grafieken in beleidsrapporten interpreteren.",
            },
            esco_skills=(THINK_CRITICALLY, PERFORM_BUSINESS_ANALYSIS),
        ),
        LearningOutcome(
            text={"en": "Explain data-driven findings to citizens in plain language."},
            esco_skills=(COMMUNICATE_WITH_COMMUNITY, DEVELOP_DIGITAL_CONTENT),
        ),
        LearningOutcome(
            text={"en": "Assess the quality and ethics of an open data set with colleagues."},
            esco_skills=(WORK_IN_TEAMS, THINK_CRITICALLY),
        ),
    ),
    ects=Decimal("5"),
    workload_hours=140,
    eqf_level="http://data.europa.eu/snb/eqf/6",
    isced_f="http://data.europa.eu/snb/isced-f/0413",
    assessment_type="http://data.europa.eu/snb/assessment/6e6cb2cc78",
    form_of_participation="http://data.europa.eu/snb/learning-assessment/e92d221e4d",
    learning_setting="http://data.europa.eu/snb/learning-setting/e207a81fc7",
    quality_assurance=QualityAssurance(
        type_uri="http://data.europa.eu/snb/accreditation/e57dddfcf3",
        description={"en": "Offered under the institution's NVAO-accredited QA system."},
        url="https://uni-a.example.eu/quality/micro-credentials",
        agency_name="NVAO",
        agency_country_code="NL",
    ),
    prerequisites={"en": "A bachelor's degree or two years of work in public administration."},
    supervision_verification="http://data.europa.eu/snb/supervision-verification/70be69aaf9",
    grading_scheme={"en": "Dutch scale from 1 to 10; 5.5 or higher is a pass."},
    is_partial=True,
    part_of=(
        CredentialReference(
            url="https://meshe.example/institutions/uni-b/programmes/public-data-leadership/v1",
            title={"en": "Certificate in Public Data Leadership"},
        ),
    ),
    further_information={"en": "Taught in cooperation with the Dutch Digital Government Office."},
    further_information_url="https://uni-a.example.eu/data-literacy",
    criteria={"en": "Pass the written examination and submit a data-story portfolio."},
    languages=("en", "nl"),
    image_url="https://uni-a.example.eu/static/badges/data-literacy.png",
)

LEARNER_SALT = "c0ffee-5a17"
HOLDER = Holder(
    name="Ana Kowalska",
    identity_hash=hash_email("  Ana.Kowalska@Example.EU ", LEARNER_SALT),
    salt=LEARNER_SALT,
)

AWARD = Award(
    credential_id="urn:uuid:6f1c2b8e-3d4a-4e5b-9c7d-8e9f0a1b2c3d",
    public_url="https://meshe.example/credentials/6f1c2b8e-3d4a-4e5b-9c7d-8e9f0a1b2c3d",
    issued_at=datetime(2025, 6, 30, 14, 5, 0, tzinfo=UTC),
    awarded_date=date(2025, 6, 27),
    valid_until=datetime(2030, 6, 30, 0, 0, 0, tzinfo=UTC),
    grade="8.5",
    evidence=(
        Evidence(
            narrative="Data story on municipal housing statistics, graded 9.",
            url="https://uni-a.example.eu/portfolio/ana-kowalska/housing-data-story",
            name="Data-story portfolio",
        ),
    ),
    status=(
        StatusEntry(
            purpose="revocation",
            list_url="https://meshe.example/status/uni-a/revocation/1",
            index=94567,
        ),
        StatusEntry(
            purpose="suspension",
            list_url="https://meshe.example/status/uni-a/suspension/1",
            index=94567,
        ),
    ),
)

_NAMES = ("Ana Kowalska", "Jan de Vries", "Zoë Ødegård", "Μαρία Παπαδοπούλου", "Łukasz Wąs")


def credential(*, issuer_did: str | None = None) -> dict[str, Any]:
    """Return the sample's unsigned credential, issued by issuer_did when given."""
    issuer = dataclasses.replace(ISSUER, did=issuer_did) if issuer_did else ISSUER
    return ob3.build_achievement_credential(
        issuer=issuer, specification=SPECIFICATION, holder=HOLDER, award=AWARD
    )


def credentials(count: int, *, issuer_did: str | None = None) -> list[dict[str, Any]]:
    """Return count unsigned credentials of the sample's shape, each for another learner."""
    issuer = dataclasses.replace(ISSUER, did=issuer_did) if issuer_did else ISSUER
    documents = []
    for number in range(count):
        salt = f"{number:08x}-5a17"
        name = f"{_NAMES[number % len(_NAMES)]} {number}"
        uuid = f"6f1c2b8e-3d4a-4e5b-9c7d-{number:012x}"
        holder = Holder(
            name=name,
            identity_hash=hash_email(f"learner{number}@example.eu", salt),
            salt=salt,
        )
        award = dataclasses.replace(
            AWARD,
            credential_id=f"urn:uuid:{uuid}",
            public_url=f"https://meshe.example/credentials/{uuid}",
            issued_at=AWARD.issued_at + timedelta(minutes=number),
            awarded_date=AWARD.awarded_date - timedelta(days=number % 30),
            valid_until=AWARD.valid_until + timedelta(minutes=number)
            if AWARD.valid_until
            else None,
            grade=f"{6 + number % 5}.{number % 10}",
            evidence=(
                dataclasses.replace(
                    AWARD.evidence[0],
                    url=f"https://uni-a.example.eu/portfolio/learner-{number}/data-story",
                ),
            ),
            status=tuple(
                dataclasses.replace(entry, index=1000 + 7 * number) for entry in AWARD.status
            ),
        )
        documents.append(
            ob3.build_achievement_credential(
                issuer=issuer, specification=SPECIFICATION, holder=holder, award=award
            )
        )
    return documents
