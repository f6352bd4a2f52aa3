"""A realistic, fully deterministic micro-credential for the OB 3.0 and EDC builder tests."""

import dataclasses
import struct
import zlib
from datetime import UTC, date, datetime
from decimal import Decimal

from credentials.standards.achievement import (
    Award,
    CredentialReference,
    DisplayImage,
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

EQF_6 = "http://data.europa.eu/snb/eqf/6"
ISCED_0413 = "http://data.europa.eu/snb/isced-f/0413"
WRITTEN_EXAMINATION = "http://data.europa.eu/snb/assessment/6e6cb2cc78"
BLENDED = "http://data.europa.eu/snb/learning-assessment/e92d221e4d"
NON_FORMAL = "http://data.europa.eu/snb/learning-setting/e207a81fc7"
SUPERVISED_WITH_ID = "http://data.europa.eu/snb/supervision-verification/70be69aaf9"
PROGRAM_LICENSE = "http://data.europa.eu/snb/accreditation/e57dddfcf3"

# Real ESCO skills, labels as in the official ELM and EBSI samples.
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

LEARNER_EMAIL = "  Ana.Kowalska@Example.EU "
LEARNER_SALT = "c0ffee-5a17"

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
    eqf_level=EQF_6,
    isced_f=ISCED_0413,
    assessment_type=WRITTEN_EXAMINATION,
    form_of_participation=BLENDED,
    learning_setting=NON_FORMAL,
    quality_assurance=QualityAssurance(
        type_uri=PROGRAM_LICENSE,
        description={"en": "Offered under the institution's NVAO-accredited QA system."},
        url="https://uni-a.example.eu/quality/micro-credentials",
        agency_name="NVAO",
        agency_country_code="NL",
    ),
    prerequisites={"en": "A bachelor's degree or two years of work in public administration."},
    supervision_verification=SUPERVISED_WITH_ID,
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

HOLDER = Holder(
    name="Ana Kowalska",
    identity_hash=hash_email(LEARNER_EMAIL, LEARNER_SALT),
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

VERIFICATION_METHOD = f"{ISSUER.did}#key-1"
SIGNED_AT = "2025-06-30T14:05:00Z"


def png(width: int = 2, height: int = 1) -> bytes:
    """Return a small, valid, always identical grey PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


DISPLAY_IMAGES = (
    DisplayImage(content=png(), media_type="image/png", language="en", page=1),
    DisplayImage(content=png(3, 1), media_type="image/png", language="nl", page=1),
)


def minimal_specification() -> Specification:
    """Return the sample specification with every optional element left out."""
    return dataclasses.replace(
        SPECIFICATION,
        title={"en": SPECIFICATION.title["en"]},
        description={"en": SPECIFICATION.description["en"]},
        learning_outcomes=(
            LearningOutcome(text={"en": "Interpret descriptive statistics in policy reports."}),
        ),
        workload_hours=None,
        isced_f=None,
        learning_setting=None,
        quality_assurance=QualityAssurance(type_uri=PROGRAM_LICENSE),
        prerequisites=None,
        supervision_verification=None,
        grading_scheme=None,
        is_partial=False,
        part_of=(),
        further_information=None,
        further_information_url=None,
        criteria=None,
        languages=(),
        image_url=None,
    )


def minimal_issuer() -> Issuer:
    """Return the sample issuer with every optional field left out."""
    return Issuer(
        did=ISSUER.did,
        name=ISSUER.name,
        url=ISSUER.url,
        country_code=ISSUER.country_code,
        legal_identifier=ISSUER.legal_identifier,
    )


def minimal_award() -> Award:
    """Return the sample award with every optional field left out."""
    return Award(
        credential_id=AWARD.credential_id,
        public_url=AWARD.public_url,
        issued_at=AWARD.issued_at,
        awarded_date=AWARD.awarded_date,
    )
