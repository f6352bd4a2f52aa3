"""The public catalogue of published micro-credentials: search, filters, offer pages.

Reads only (selectors in all but name): every function returns published offers, never
drafts or retired ones, whoever asks.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404, QueryDict
from django.urls import reverse
from django.utils.translation import gettext as _

from credentials import documents
from credentials.models import MicroCredential
from learners import explanations

MAX_COMPARED = 3


@dataclass(frozen=True)
class Filters:
    text: str = ""
    institution: str = ""
    country: str = ""
    eqf_level: str = ""
    isced_field: str = ""
    participation: str = ""
    language: str = ""
    ects_min: Decimal | None = None
    ects_max: Decimal | None = None
    stacks: bool = False

    @classmethod
    def from_query(cls, query: QueryDict) -> "Filters":
        """Reads the search form; malformed numbers are ignored rather than refused."""

        def number(name: str) -> Decimal | None:
            try:
                value = Decimal(query.get(name, "").strip())
            except InvalidOperation:
                return None
            return value if value.is_finite() and value >= 0 else None

        return cls(
            text=query.get("q", "").strip()[:200],
            institution=query.get("institution", ""),
            country=query.get("country", "").upper()[:2],
            eqf_level=query.get("eqf", ""),
            isced_field=query.get("isced", ""),
            participation=query.get("participation", ""),
            language=query.get("language", "").lower()[:3],
            ects_min=number("ects_min"),
            ects_max=number("ects_max"),
            stacks=query.get("stacks") == "1",
        )


def published() -> QuerySet[MicroCredential]:
    return MicroCredential.objects.filter(status=MicroCredential.Status.PUBLISHED).select_related(
        "institution"
    )


def offers(filters: Filters) -> QuerySet[MicroCredential]:
    """Published offers matching every given filter, by title."""
    found = published()
    if filters.text:
        found = found.filter(
            Q(title__icontains=filters.text)
            | Q(description__icontains=filters.text)
            | Q(institution__name__icontains=filters.text)
        )
    exact = {
        "institution__slug": filters.institution,
        "institution__country": filters.country,
        "eqf_level": filters.eqf_level,
        "form_of_participation": filters.participation,
    }
    found = found.filter(**{field: value for field, value in exact.items() if value})
    if filters.isced_field:
        # A broad or narrow field includes the detailed fields below it (0413 is in 041 and 04).
        found = found.filter(isced_field__startswith=filters.isced_field)
    if filters.language:
        found = found.filter(
            Q(language=filters.language)
            | Q(instruction_languages__icontains=f'"{filters.language}"')
        )
    if filters.ects_min is not None:
        found = found.filter(ects__gte=filters.ects_min)
    if filters.ects_max is not None:
        found = found.filter(ects__lte=filters.ects_max)
    if filters.stacks:
        found = found.filter(is_partial=True)
    return found.order_by("title", "pk")


def offer(*, public_id: UUID) -> MicroCredential:
    """One published offer; 404 for anything else."""
    try:
        return published().get(public_id=public_id)
    except MicroCredential.DoesNotExist:
        raise Http404 from None


def elements(micro_credential: MicroCredential) -> list[explanations.Element]:
    """The eleven EU elements of an offer, laid out as on every offer and credential."""
    institution = micro_credential.institution
    listed = explanations.standard_elements(
        snapshot=documents.specification_snapshot(micro_credential),
        holder_name=_("The person who earns it"),
        awarding_body=institution.name,
        country_code=institution.country,
        issued_at=micro_credential.updated_at,
    )
    # The date belongs to each credential, not to the offer.
    return [
        explanations.Element(
            number=element.number,
            name=element.name,
            value=_("Stated on each credential") if element.number == 5 else element.value,
            explanation=element.explanation,
            items=element.items,
        )
        for element in listed
    ]


def course_json_ld(micro_credential: MicroCredential) -> dict[str, Any]:
    """schema.org Course markup, so search engines understand the offer."""
    institution = micro_credential.institution
    url = settings.MESHE_BASE_URL + reverse(
        "credentials:offer", kwargs={"public_id": micro_credential.public_id}
    )
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Course",
        "name": micro_credential.title,
        "description": micro_credential.description,
        "url": url,
        "inLanguage": micro_credential.language,
        "provider": {
            "@type": "CollegeOrUniversity",
            "name": institution.name,
            "address": {"@type": "PostalAddress", "addressCountry": institution.country},
            **({"url": institution.website} if institution.website else {}),
        },
        "educationalCredentialAwarded": {
            "@type": "EducationalOccupationalCredential",
            "name": micro_credential.title,
            "credentialCategory": "Micro-credential",
        },
        "numberOfCredits": {
            "@type": "StructuredValue",
            "value": float(micro_credential.ects),
            "unitText": "ECTS",
        },
        "educationalLevel": micro_credential.eqf_level,
    }
    if micro_credential.workload_hours:
        data["timeRequired"] = f"PT{micro_credential.workload_hours}H"
    skills = [
        skill["label"]
        for outcome in micro_credential.learning_outcomes
        for skill in outcome["esco"]
    ]
    if skills:
        data["teaches"] = sorted(set(skills))
    return data
