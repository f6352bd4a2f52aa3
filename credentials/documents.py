"""From rows to the plain values the standards builders take: no queries, no writes."""

import io
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

import segno
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from credentials.models import (
    IssuedCredential,
    MicroCredential,
    MicroCredentialVersion,
    StatusList,
    StatusPurpose,
)
from credentials.standards import edc, elm_offer, ob3
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
from institutions.models import Institution

# The media type signed credentials are served with.
JSON_LD = "application/ld+json"


def specification_snapshot(micro_credential: MicroCredential) -> dict[str, Any]:
    """Everything an issued credential says about its specification, as JSON values."""
    mc = micro_credential
    return {
        "language": mc.language,
        "title": {mc.language: mc.title, **mc.title_translations},
        "description": {mc.language: mc.description, **mc.description_translations},
        "learning_outcomes": mc.learning_outcomes,
        "ects": str(mc.ects),
        "workload_hours": mc.workload_hours,
        "eqf_level": mc.eqf_level,
        "isced_field": mc.isced_field,
        "assessment_type": mc.assessment_type,
        "form_of_participation": mc.form_of_participation,
        "learning_setting": mc.learning_setting,
        "quality_assurance": mc.quality_assurance,
        "quality_assurance_note": mc.quality_assurance_note,
        "supervision_verification": mc.supervision_verification,
        "prerequisites": mc.prerequisites,
        "criteria": mc.criteria,
        "grading_scheme": mc.grading_scheme,
        "is_partial": mc.is_partial,
        "part_of": mc.part_of,
        "further_information": mc.further_information,
        "further_information_url": mc.further_information_url,
        "instruction_languages": mc.instruction_languages,
        "validity_months": mc.validity_months,
    }


def specification(version: MicroCredentialVersion) -> Specification:
    """The builders' view of a version; raises ValueError when an element is missing."""
    snap = version.snapshot
    lang = snap["language"]

    def text(value: str) -> dict[str, str] | None:
        return {lang: value} if value else None

    institution = version.micro_credential.institution
    return Specification(
        id=version.url,
        version=version.number,
        title=snap["title"],
        description=snap["description"],
        learning_outcomes=tuple(
            LearningOutcome(
                text=outcome["text"]
                if isinstance(outcome["text"], dict)
                else {lang: outcome["text"]},
                esco_skills=tuple(
                    EscoSkill(uri=s["uri"], label=s["label"]) for s in outcome["esco"]
                ),
            )
            for outcome in snap["learning_outcomes"]
        ),
        ects=Decimal(snap["ects"]),
        workload_hours=snap["workload_hours"],
        eqf_level=snap["eqf_level"],
        isced_f=snap["isced_field"] or None,
        assessment_type=snap["assessment_type"],
        form_of_participation=snap["form_of_participation"],
        learning_setting=snap["learning_setting"] or None,
        quality_assurance=QualityAssurance(
            type_uri=snap["quality_assurance"],
            description=text(snap["quality_assurance_note"]),
            url=institution.qa_evidence_url or None,
        ),
        prerequisites=text(snap["prerequisites"]),
        supervision_verification=snap["supervision_verification"] or None,
        grading_scheme=text(snap["grading_scheme"]),
        is_partial=snap["is_partial"],
        part_of=tuple(
            CredentialReference(url=ref["url"], title=ref["title"]) for ref in snap["part_of"]
        ),
        further_information=text(snap["further_information"]),
        further_information_url=snap["further_information_url"] or None,
        criteria=text(snap["criteria"]),
        languages=tuple(snap["instruction_languages"]),
    )


def issuer(institution: Institution) -> Issuer:
    """The institution as the awarding body named in its credentials."""
    return Issuer(
        did=institution.did,
        name=institution.name,
        url=institution.website or settings.MESHE_BASE_URL,
        country_code=institution.country,
        legal_identifier=institution.legal_identifier,
        schac_code=institution.schac_code or None,
        erasmus_code=institution.erasmus_code or None,
        qa_evidence_text=institution.qa_evidence or None,
        qa_evidence_url=institution.qa_evidence_url or None,
    )


def holder(credential: IssuedCredential) -> Holder:
    return Holder(
        name=credential.holder_name,
        identity_hash=hash_email(credential.holder_email, credential.identity_salt),
        salt=credential.identity_salt,
    )


def award(credential: IssuedCredential) -> Award:
    return Award(
        credential_id=credential.credential_id,
        public_url=settings.MESHE_BASE_URL + credential.get_absolute_url(),
        issued_at=credential.issued_at,
        valid_from=credential.valid_from,
        valid_until=credential.valid_until,
        awarded_date=credential.awarded_date,
        grade=credential.grade or None,
        evidence=(
            (
                Evidence(
                    narrative=credential.evidence_narrative, url=credential.evidence_url or None
                ),
            )
            if credential.evidence_narrative or credential.evidence_url
            else ()
        ),
        status=(
            StatusEntry(
                purpose="revocation",
                list_url=credential.revocation_list.url,
                index=credential.revocation_index,
            ),
            *(
                (
                    StatusEntry(
                        purpose="suspension",
                        list_url=credential.suspension_list.url,
                        index=credential.suspension_index,
                    ),
                )
                if credential.offers_suspension
                else ()
            ),
        ),
    )


def achievement_credential(
    credential: IssuedCredential,
    *,
    endorsements: Sequence[Mapping[str, Any]] = (),
    offer: tuple[Issuer, Specification] | None = None,
) -> dict[str, Any]:
    """The unsigned OB 3.0 AchievementCredential of an issued credential, carrying the signed
    `endorsements` of its offer (credentials.issuing.services) in its achievement. `offer` is
    the issuer and specification of the credential's institution and version, when the caller
    built them once for many credentials."""
    issuer_view, specification_view = offer or (
        issuer(credential.institution),
        specification(credential.version),
    )
    return ob3.build_achievement_credential(
        issuer=issuer_view,
        specification=specification_view,
        holder=holder(credential),
        award=award(credential),
        endorsements=endorsements,
    )


def edc_credential(credential: IssuedCredential) -> dict[str, Any]:
    """The EDC (ELM v3) rendering; its required picture is a QR code to the credential page."""
    qr = io.BytesIO()
    segno.make(settings.MESHE_BASE_URL + credential.get_absolute_url(), error="m").save(
        qr, kind="png", scale=6, border=2
    )
    return edc.build_edc_credential(
        issuer=issuer(credential.institution),
        specification=specification(credential.version),
        holder=holder(credential),
        award=award(credential),
        display_images=(DisplayImage(content=qr.getvalue(), media_type="image/png"),),
    )


# Our duration units and their ISO 8601 designators (P6W is six weeks).
DURATION_DESIGNATORS: Final = {"days": "D", "weeks": "W", "months": "M"}


def offer_url(micro_credential: MicroCredential) -> str:
    """The absolute address of an offer's public page, which names it in feeds and in ELM."""
    return settings.MESHE_BASE_URL + reverse(
        "credentials:offer", kwargs={"public_id": micro_credential.public_id}
    )


def offer_practical(micro_credential: MicroCredential) -> elm_offer.Practical:
    """The practical information staff entered on an offer, as the ELM builder takes it."""
    mc = micro_credential
    starts = []
    for value in mc.start_dates:
        try:
            starts.append(date.fromisoformat(str(value)))
        except ValueError:
            continue
    duration = ""
    if mc.duration_amount and mc.duration_unit in DURATION_DESIGNATORS:
        duration = f"P{mc.duration_amount}{DURATION_DESIGNATORS[mc.duration_unit]}"
    return elm_offer.Practical(
        enrolment_url=mc.enrolment_url,
        enrolment_contact=mc.enrolment_contact,
        start_dates=tuple(sorted(starts)),
        starts_any_time=mc.starts_any_time,
        duration=duration,
        schedule=mc.schedule,
        cost=mc.cost,  # type: ignore[arg-type]  # a TextChoices value of the same four strings
        price=mc.price,
        currency=mc.currency,
        cost_note=mc.cost_note,
        languages=tuple(mc.instruction_languages),
        place=mc.place,
    )


def learning_opportunity(
    micro_credential: MicroCredential, version: MicroCredentialVersion
) -> dict[str, Any]:
    """The ELM LearningOpportunity of a published offer and its latest version; raises
    ValueError or UnknownConcept as the builders do. No query when version.micro_credential
    is micro_credential and its institution is loaded."""
    mc = micro_credential
    return elm_offer.build_learning_opportunity(
        issuer=issuer(mc.institution),
        specification=specification(version),
        offer=elm_offer.Offer(
            url=offer_url(mc),
            language=mc.language,
            modified=mc.updated_at,
            practical=offer_practical(mc),
        ),
    )


def signed_document(credential: IssuedCredential) -> dict[str, Any]:
    return json.loads(credential.document)


def preview(
    *,
    institution: Institution,
    micro_credential: MicroCredential,
    holder_name: str,
    holder_email: str,
    awarded_date: date,
    valid_from: datetime | None = None,
    grade: str = "",
    evidence_url: str = "",
    evidence_narrative: str = "",
) -> dict[str, Any]:
    """The credential as it would be signed now; status positions are placeholders (0),
    because real ones are drawn only when it is issued. Raises ValueError or UnknownConcept
    when an EU element is missing."""
    now = timezone.now().replace(microsecond=0)
    lists = {
        purpose: StatusList(institution=institution, purpose=purpose, number=1)
        for purpose in (StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION)
    }
    version = MicroCredentialVersion(
        micro_credential=micro_credential,
        number=(micro_credential.versions.count() or 1),
        snapshot=specification_snapshot(micro_credential),
    )
    credential = IssuedCredential(
        institution=institution,
        version=version,
        holder_name=holder_name,
        holder_email=holder_email,
        identity_salt="preview",
        issued_at=now,
        valid_from=valid_from or now,
        awarded_date=awarded_date,
        grade=grade,
        evidence_url=evidence_url,
        evidence_narrative=evidence_narrative,
        revocation_list=lists[StatusPurpose.REVOCATION],
        revocation_index=0,
        suspension_list=lists[StatusPurpose.SUSPENSION],
        suspension_index=0,
        offers_suspension=not institution.ob3_strict,
    )
    return achievement_credential(credential)
