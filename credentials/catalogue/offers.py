"""The public catalogue of published micro-credentials: search, filters, offer pages.

Reads only (selectors in all but name): every function returns published offers, never
drafts or retired ones, whoever asks. Offers imported from agreed partners' catalogue feeds
are listed beside our own unless withdrawn, once each however many of our institutions
imported them: exchange answers the catalogue's questions about them (below).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import Exists, IntegerField, OuterRef, Q, QuerySet, Value
from django.http import Http404, QueryDict
from django.urls import reverse
from django.utils.translation import gettext as _

from credentials import documents
from credentials.catalogue import explanations, practical
from credentials.models import Endorsement, MicroCredential
from credentials.standards import vocabularies
from institutions.models import Institution
from meshe.hooks import Hook

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
    # What the search form gave that could not be understood, said to the visitor; each such
    # filter is ignored.
    problems: tuple[str, ...] = ()

    @classmethod
    def from_query(cls, query: QueryDict) -> "Filters":
        """Reads the search form; a value not understood is ignored and said in problems."""
        problems: list[str] = []

        def number(name: str, message: str) -> Decimal | None:
            text = query.get(name, "").strip()
            if not text:
                return None
            try:
                value = Decimal(text.replace(",", "."))
            except InvalidOperation:
                value = None
            if value is None or not value.is_finite() or value < 0:
                problems.append(message)
                return None
            return value

        country_text = query.get("country", "").strip()[:100]
        country = country_code(country_text)
        if country_text and country is None:
            problems.append(
                _("We do not know the country “%(text)s”: choose one from the list.")
                % {"text": country_text}
            )
        return cls(
            text=query.get("q", "").strip()[:200],
            institution=query.get("institution", ""),
            country=country or "",
            eqf_level=query.get("eqf", ""),
            isced_field=query.get("isced", ""),
            participation=query.get("participation", ""),
            language=query.get("language", "").lower()[:3],
            ects_min=number("ects_min", _("ECTS minimum must be a number, such as 5.")),
            ects_max=number("ects_max", _("ECTS maximum must be a number, such as 10.")),
            stacks=query.get("stacks") == "1",
            problems=tuple(problems),
        )


def country_code(text: str) -> str | None:
    """The ISO 3166 code of a country given by its code ("nl") or by its name in any language
    the vocabularies know ("Netherlands", "Pays-Bas"); None when it names no country."""
    if not text:
        return None
    try:
        if len(text) == 2:
            return vocabularies.country(text).annotations["alpha2"]
    except (vocabularies.UnknownConcept, KeyError):
        return None
    wanted = text.casefold()
    for concept in vocabularies.concepts(vocabularies.COUNTRY):
        alpha2 = concept.annotations.get("alpha2")
        if alpha2 and any(label.casefold() == wanted for label in concept.labels.values()):
            return str(alpha2)
    return None


def country_choices() -> list[tuple[str, str]]:
    """(ISO code, name in the visitor's language) of every country, by name, for the filter."""
    found = [
        (str(concept.annotations["alpha2"]), concept.localized_label)
        for concept in vocabularies.concepts(vocabularies.COUNTRY)
        if concept.annotations.get("alpha2")
    ]
    return sorted(found, key=lambda pair: pair[1].casefold())


def published() -> QuerySet[MicroCredential]:
    return MicroCredential.objects.filter(status=MicroCredential.Status.PUBLISHED).select_related(
        "institution"
    )


def _local_offers(filters: Filters) -> QuerySet[MicroCredential]:
    """Published offers of our institutions matching every given filter, by title."""
    found = published()
    if filters.text:
        # Institutions are few: naming them by id keeps every branch of the OR on this table,
        # so PostgreSQL can combine its trigram indexes (migration 0009) instead of scanning.
        named = list(
            Institution.objects.filter(name__icontains=filters.text).values_list("pk", flat=True)
        )
        found = found.filter(
            Q(title__icontains=filters.text)
            | Q(description__icontains=filters.text)
            | Q(institution_id__in=named)
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


# Partners' offers (exchange.PartnerOffer) join ours through these questions, which exchange
# answers (exchange/partner_catalogue.py): the catalogue knows rows with a pk and a title, and
# listings that templates show, nothing of partners.


def _no_partner_offers(filters: Filters) -> QuerySet[Any] | None:
    return None


def _no_listings(ids: list[int]) -> dict[int, Any]:
    return {}


def _not_recognised(*, micro_credential: MicroCredential) -> list[Any]:
    return []


# Partner offers matching the filters, one row (pk, title) per offer, or None when the
# filters ask for one of our institutions.
partner_offers_matching: Hook[[Filters], QuerySet[Any] | None] = Hook(
    "partner_offers_matching", default=_no_partner_offers
)
# The listings of those rows, by pk, as the catalogue's templates show a partner's offer.
partner_listings: Hook[[list[int]], dict[int, Any]] = Hook("partner_listings", default=_no_listings)
# Where one of our offers is recognised by partners, for its page.
offer_recognitions: Hook[..., list[Any]] = Hook("offer_recognitions", default=_not_recognised)


class Results:
    """Our offers and partners' offers matching the filters, merged by title.

    What Paginator and templates need (count, len, slices, iteration) in a fixed number of
    queries: a count, the page's (kind, id, title) from one UNION, then the page's rows of
    each kind.
    """

    def __init__(self, local: QuerySet[MicroCredential], partner: QuerySet[Any] | None) -> None:
        self.local = local
        self.partner = partner
        self._count: int | None = None

    def _merged(self) -> QuerySet[Any]:
        assert self.partner is not None
        ours = self.local.order_by().annotate(kind=Value(0, output_field=IntegerField()))
        theirs = self.partner.order_by().annotate(kind=Value(1, output_field=IntegerField()))
        return (
            ours.values_list("kind", "pk", "title")
            .union(theirs.values_list("kind", "pk", "title"), all=True)
            .order_by("title", "kind", "pk")
        )

    def count(self) -> int:
        if self._count is None:
            self._count = self.local.count() if self.partner is None else self._merged().count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __bool__(self) -> bool:
        return self.count() > 0

    def __iter__(self) -> Iterator[Any]:
        return iter(self[0 : self.count()])

    def __getitem__(self, index: slice) -> list[Any]:
        if not isinstance(index, slice):
            raise TypeError("catalogue results are read in pages")
        if self.partner is None:
            return list(self.local[index])
        keys = list(self._merged()[index])
        local_ids = [pk for kind, pk, _title in keys if kind == 0]
        partner_ids = [pk for kind, pk, _title in keys if kind == 1]
        ours = self.local.in_bulk(local_ids) if local_ids else {}
        theirs = partner_listings(partner_ids)
        found: list[Any] = []
        for kind, pk, _title in keys:
            listing = ours.get(pk) if kind == 0 else theirs.get(pk)
            if listing is not None:
                found.append(listing)
        return found


def institutions_with_offers() -> QuerySet[Institution]:
    """Our institutions with at least one published offer, by name (the search form's list)."""
    return Institution.objects.filter(
        Exists(
            MicroCredential.objects.filter(
                institution=OuterRef("pk"), status=MicroCredential.Status.PUBLISHED
            )
        )
    ).order_by("name")


def offers(filters: Filters) -> Results:
    """Published offers, ours and agreed partners', matching every given filter, by title."""
    return Results(_local_offers(filters), partner_offers_matching(filters))


def offer(*, public_id: UUID) -> MicroCredential:
    """One published offer; 404 for anything else."""
    try:
        return published().get(public_id=public_id)
    except MicroCredential.DoesNotExist:
        raise Http404 from None


def endorsements(micro_credential: MicroCredential) -> list[Endorsement]:
    """The endorsements of an offer with what their last check found, newest first."""
    return list(micro_credential.endorsements.order_by("-issued_at", "-pk"))


def elements(micro_credential: MicroCredential) -> list[explanations.Element]:
    """The eleven EU elements of an offer, explained for someone considering it."""
    institution = micro_credential.institution
    return explanations.offer_elements(
        snapshot=documents.specification_snapshot(micro_credential),
        awarding_body=institution.name,
        country_code=institution.country,
    )


def details(micro_credential: MicroCredential) -> list[explanations.Element]:
    """The optional elements staff gave (prerequisites, criteria, …), for the offer page."""
    return explanations.offer_details(documents.specification_snapshot(micro_credential))


def practical_information(micro_credential: MicroCredential) -> list[practical.Row]:
    """How to enrol, when, cost, language, mode and place, as the offer page lists them."""
    return practical.rows(practical.from_micro_credential(micro_credential))


@dataclass(frozen=True)
class Skill:
    uri: str
    label: str


def skills(micro_credential: MicroCredential) -> list[Skill]:
    """The ESCO skills of the offer's learning outcomes, each once, by label."""
    found = {
        skill["uri"]: Skill(uri=skill["uri"], label=skill["label"])
        for outcome in micro_credential.learning_outcomes
        for skill in outcome.get("esco", [])
    }
    return sorted(found.values(), key=lambda skill: skill.label.casefold())


@dataclass(frozen=True)
class Comparison:
    """The elements of compared offers, row by row: those that differ between the offers,
    each with every offer's cell, and those that are the same for all, once."""

    differing: list[tuple[explanations.Element, list[explanations.Element]]]
    same: list[explanations.Element]


def comparison(elements: list[list[explanations.Element]]) -> Comparison:
    differing = []
    same = []
    for cells in zip(*elements, strict=True):
        first = cells[0]
        if all((cell.value, cell.items) == (first.value, first.items) for cell in cells):
            same.append(first)
        else:
            differing.append((first, list(cells)))
    return Comparison(differing=differing, same=same)


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
    data["hasCourseInstance"] = practical.course_instances(
        practical.from_micro_credential(micro_credential)
    )
    skills = [
        skill["label"]
        for outcome in micro_credential.learning_outcomes
        for skill in outcome["esco"]
    ]
    if skills:
        data["teaches"] = sorted(set(skills))
    return data
