"""The EU standard elements of a micro-credential in plain words, each with what it means.

Pure: it reads the specification snapshot an issued credential carries and the bundled
vocabularies, and runs no queries. The order and numbering are those of Annex I of the
Council Recommendation of 16 June 2022 on micro-credentials.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credentials.content_language import in_active_language
from credentials.ects import ects_number
from credentials.standards import vocabularies

# One ECTS credit stands for 25 to 30 hours of study (ECTS Users' Guide, 2015).
ECTS_HOURS_LOW = 25
ECTS_HOURS_HIGH = 30

# One whole sentence per level: pieces joined in code ("Level 6 is " + "the level of …") left
# French with "à le niveau" and German with "entspricht das Niveau".
EQF_MEANING: Mapping[str, Promise] = {
    "1": gettext_lazy("Level 1 is basic general knowledge, as at the end of primary education."),
    "2": gettext_lazy("Level 2 is basic factual knowledge, as at the end of compulsory schooling."),
    "3": gettext_lazy(
        "Level 3 is knowledge of facts and general concepts, as in basic vocational training."
    ),
    "4": gettext_lazy("Level 4 is the level of an upper-secondary school leaving certificate."),
    "5": gettext_lazy("Level 5 is the level of a short-cycle higher education programme."),
    "6": gettext_lazy("Level 6 is the level of a bachelor's degree."),
    "7": gettext_lazy("Level 7 is the level of a master's degree."),
    "8": gettext_lazy("Level 8 is the level of a doctorate."),
}


# Labels from the EU lists that mean little to a learner, in plain words. The official term
# is shown beside them ("At a workplace (official term: Workbased)"): it is what the signed
# credential and EU tools say.
PLAIN_LABELS: Mapping[str, Promise] = {
    f"{vocabularies.MODE_PREFIX}729f3bed4b": gettext_lazy("At a workplace"),
    f"{vocabularies.MODE_PREFIX}7813801c77": gettext_lazy("Through a project"),
    f"{vocabularies.MODE_PREFIX}9191af2ed9": gettext_lazy("On site, in person"),
    f"{vocabularies.MODE_PREFIX}920fbb3cbe": gettext_lazy("Online"),
    f"{vocabularies.MODE_PREFIX}e92d221e4d": gettext_lazy("Partly online, partly on site"),
    f"{vocabularies.MODE_PREFIX}ed4c557045": gettext_lazy("In a research lab"),
    f"{vocabularies.MODE_PREFIX}c_3a90b26d": gettext_lazy(
        "On site or online, in the same sessions"
    ),
    "http://data.europa.eu/snb/accreditation/003293d2ce": gettext_lazy(
        "The institution's quality system is checked by an external agency"
    ),
    "http://data.europa.eu/snb/accreditation/e57dddfcf3": gettext_lazy(
        "The programme is licensed by a public authority"
    ),
}


@dataclass(frozen=True, slots=True)
class Element:
    """One element: its name, its value on this credential, and what it means."""

    name: str
    value: str
    explanation: str
    number: int | None = None  # 1 to 11 for the mandatory elements, None for optional ones
    items: tuple[str, ...] = ()  # for the elements that are lists (learning outcomes)


def concept_label(uri: str) -> str:
    """The label of a vocabulary URI in the active language (English when the vocabulary has
    none in it); the URI itself when it is not bundled."""
    if not uri:
        return ""
    try:
        return vocabularies.concept(uri).localized_label
    except vocabularies.UnknownConcept:
        return uri


def plain_label(uri: str) -> str:
    """A vocabulary label a learner understands, with the official term beside it when the
    two differ; the official label alone when there is no plain one."""
    official = concept_label(uri)
    plain = PLAIN_LABELS.get(uri)
    if plain is None or str(plain).casefold() == official.casefold():
        return official
    return _("%(plain)s (official term: %(official)s)") % {"plain": plain, "official": official}


def number_text(value: Decimal | str | int | None) -> str:
    """5.00 → "5", 7.50 → "7.5" ("7,5" in French and German): credentials.ects's way."""
    return ects_number(value)


def workload_explanation(ects: Decimal | str | None) -> str:
    """What a number of ECTS credits means in hours."""
    if ects in (None, ""):
        return str(_("The notional time needed to achieve the learning outcomes, in ECTS credits."))
    credits = Decimal(str(ects))
    return _(
        "About %(low)s–%(high)s hours of study, the unit European universities use to "  # noqa: RUF001  # an en dash is the sign for a range; xgettext needs it literal
        "recognise learning (one ECTS credit is 25 to 30 hours)."
    ) % {
        "low": number_text(credits * ECTS_HOURS_LOW),
        "high": number_text(credits * ECTS_HOURS_HIGH),
    }


def eqf_explanation(uri: str) -> str:
    code = uri.rstrip("/").rsplit("/", 1)[-1] if uri else ""
    meaning = EQF_MEANING.get(code)
    general = _(
        "The European Qualifications Framework places every qualification on one of eight "
        "levels, so they compare across countries."
    )
    if meaning is None:
        return general
    return f"{general} {meaning}"


def _country(code: str) -> str:
    try:
        return vocabularies.country(code).localized_label
    except vocabularies.UnknownConcept:
        return code


def _outcome_text(outcome: Mapping[str, Any], language: str) -> str:
    text = outcome.get("text", "")
    if isinstance(text, Mapping):
        return in_active_language(text, main=language)
    return str(text)


def standard_elements(
    *,
    snapshot: Mapping[str, Any],
    holder_name: str,
    awarding_body: str,
    country_code: str,
    issued_at: datetime,
) -> list[Element]:
    """The eleven mandatory elements, in the Recommendation's order."""
    language = snapshot["language"]
    ects = snapshot.get("ects")
    workload = _("%(ects)s ECTS") % {"ects": number_text(ects)}
    if snapshot.get("workload_hours"):
        workload += " · " + _("%(hours)s hours") % {"hours": snapshot["workload_hours"]}
    quality = concept_label(snapshot.get("quality_assurance", ""))
    if snapshot.get("quality_assurance_note"):
        quality += " — " + snapshot["quality_assurance_note"]
    outcomes = tuple(
        _outcome_text(outcome, language) for outcome in snapshot.get("learning_outcomes", [])
    )
    return [
        Element(
            number=1,
            name=_("Learner"),
            value=holder_name,
            explanation=_(
                "Who earned it. The credential names you and carries your e-mail address only "
                "in scrambled (hashed) form, so you can prove it is yours without publishing it."
            ),
        ),
        Element(
            number=2,
            name=_("Title"),
            value=in_active_language(snapshot["title"], main=language),
            explanation=_("What the micro-credential is called, as the institution published it."),
        ),
        Element(
            number=3,
            name=_("Country of the issuer"),
            value=_country(country_code),
            explanation=_(
                "Where the awarding institution is established: the education system and "
                "quality rules it answers to."
            ),
        ),
        Element(
            number=4,
            name=_("Awarding body"),
            value=awarding_body,
            explanation=_(
                "The institution that assessed you and awarded the credential. Its digital "
                "signature on the credential shows the credential comes from it, unchanged."
            ),
        ),
        Element(
            number=5,
            name=_("Date of issuing"),
            value=date_format(timezone.localtime(issued_at), "DATE_FORMAT"),
            explanation=_("When the institution issued the credential."),
        ),
        Element(
            number=6,
            name=_("Learning outcomes"),
            value="",
            items=outcomes,
            explanation=_(
                "What you know and can do, as the institution assessed it. This is what "
                "employers and universities read to understand what you learnt."
            ),
        ),
        Element(
            number=7,
            name=_("Workload"),
            value=workload,
            explanation=workload_explanation(ects),
        ),
        Element(
            number=8,
            name=_("Level"),
            value=concept_label(snapshot.get("eqf_level", "")),
            explanation=eqf_explanation(snapshot.get("eqf_level", "")),
        ),
        Element(
            number=9,
            name=_("Type of assessment"),
            value=concept_label(snapshot.get("assessment_type", "")),
            explanation=_("How your learning was checked before the credential was awarded."),
        ),
        Element(
            number=10,
            name=_("Form of participation"),
            value=concept_label(snapshot.get("form_of_participation", "")),
            explanation=_(
                "How you took part in the learning: online, on site, or a mix (blended)."
            ),
        ),
        Element(
            number=11,
            name=_("Quality assurance"),
            value=quality,
            explanation=_(
                "Who checks the quality of the course and its assessment. It is what lets other "
                "universities and employers trust the credential."
            ),
        ),
    ]


def _prospective_explanations() -> dict[int, str]:
    """What each element means to someone considering the offer, by element number."""
    return {
        1: _(
            "The credential will name you and carry your e-mail address only in scrambled "
            "(hashed) form, so you can prove it is yours without publishing it."
        ),
        2: _("What the micro-credential is called, as the institution publishes it."),
        3: _(
            "Where the institution is established: the education system and quality rules it "
            "answers to."
        ),
        4: _(
            "The institution that teaches the course, assesses you and awards the credential. "
            "Its digital signature will show the credential comes from it, unchanged."
        ),
        5: _("Your credential will carry the date it is issued to you."),
        6: _(
            "What you will be able to do once you pass. Employers and universities read these "
            "to understand what you learnt."
        ),
        9: _(
            "Who assesses you and how: the institution checks your learning this way before "
            "it awards the credential."
        ),
        10: _("How you take part in the learning: online, on site, or a mix of both."),
        11: _(
            "Who checks the quality of the course and its assessment, so that other "
            "universities and employers can trust your credential."
        ),
    }


def offer_elements(
    *, snapshot: Mapping[str, Any], awarding_body: str, country_code: str
) -> list[Element]:
    """The eleven elements as an offer page shows them to someone considering it: what the
    credential will say, explained for a prospective learner, with plain labels."""
    listed = standard_elements(
        snapshot=snapshot,
        holder_name=_("You, once you pass"),
        awarding_body=awarding_body,
        country_code=country_code,
        issued_at=timezone.now(),
    )
    explained = _prospective_explanations()
    values = {
        # The date belongs to each credential, not to the offer.
        5: _("Stated on each credential"),
        10: plain_label(snapshot.get("form_of_participation", "")),
        11: " — ".join(
            part
            for part in (
                plain_label(snapshot.get("quality_assurance", "")),
                snapshot.get("quality_assurance_note", ""),
            )
            if part
        ),
    }
    return [
        Element(
            number=element.number,
            name=element.name,
            value=values.get(element.number or 0, element.value),
            explanation=explained.get(element.number or 0, element.explanation),
            items=element.items,
        )
        for element in listed
    ]


def optional_elements(
    *,
    snapshot: Mapping[str, Any],
    grade: str,
    valid_until: datetime | None,
    awarded_date: date | None = None,
) -> list[Element]:
    """The optional elements this credential carries; absent ones are left out."""
    elements = []
    if awarded_date:
        elements.append(
            Element(
                name=_("Date awarded"),
                value=date_format(awarded_date, "DATE_FORMAT"),
                explanation=_("When you completed the assessment."),
            )
        )
    if grade:
        elements.append(
            Element(
                name=_("Grade"),
                value=grade,
                explanation=snapshot.get("grading_scheme")
                or _("The result you achieved in the assessment."),
            )
        )
    if snapshot.get("prerequisites"):
        elements.append(
            Element(
                name=_("Prerequisites"),
                value=snapshot["prerequisites"],
                explanation=_("What learners needed before they could enrol."),
            )
        )
    if snapshot.get("supervision_verification"):
        elements.append(
            Element(
                name=_("Supervision and identity verification"),
                value=concept_label(snapshot["supervision_verification"]),
                explanation=_(
                    "Whether the assessment was supervised and your identity checked, which "
                    "tells a reader how sure they can be that you yourself took it."
                ),
            )
        )
    part_of = snapshot.get("part_of") or []
    elements.append(
        Element(
            name=_("Stackability"),
            value=(
                _("Stackable towards a larger credential")
                if snapshot.get("is_partial") or part_of
                else _("Stand-alone")
            ),
            items=tuple(str(ref.get("title") or ref.get("url", "")) for ref in part_of),
            explanation=_(
                "Whether this micro-credential counts towards a larger one, such as a "
                "certificate or degree, when combined with others."
            ),
        )
    )
    if valid_until:
        elements.append(
            Element(
                name=_("Valid until"),
                value=date_format(timezone.localtime(valid_until), "DATE_FORMAT"),
                explanation=_(
                    "After this date the institution no longer vouches for the credential; "
                    "it still records what you achieved."
                ),
            )
        )
    if snapshot.get("further_information") or snapshot.get("further_information_url"):
        elements.append(
            Element(
                name=_("Further information"),
                value=snapshot.get("further_information") or snapshot["further_information_url"],
                explanation=_("Anything else the institution wants a reader to know."),
            )
        )
    return elements


_TARGETS: Final = {
    "ext:EQFLevel": "eqf",
    "ext:AssessmentType": "assessment",
    "ext:FormOfParticipation": "participation",
    "ext:QualityAssurance": "quality",
}


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def document_elements(document: Mapping[str, Any]) -> list[Element]:
    """The eleven mandatory EU elements as an OB 3.0 credential from a MESHE node carries
    them (credentials.standards.ob3 documents the paths); what it lacks shows empty. Pure."""
    subject = document.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else {}
    achievement = _get(subject, "achievement")
    issuer = document.get("issuer")
    learner = ""
    for identifier in _get(subject, "identifier") or []:
        if _get(identifier, "identityType") == "name" and not _get(identifier, "hashed"):
            learner = _text(_get(identifier, "identityHash"))
    found: dict[str, str] = {}
    for alignment in _get(achievement, "alignment") or []:
        key = _TARGETS.get(_text(_get(alignment, "targetType")))
        if key and key not in found:
            found[key] = _text(_get(alignment, "targetUrl")) or _text(_get(alignment, "targetName"))
    narrative = _text(_get(_get(achievement, "criteria"), "narrative"))
    outcomes = tuple(
        match.group(1).strip()
        for match in re.finditer(r"^\d+\.\s+(.+)$", narrative.split("\n\n**")[0], re.MULTILINE)
    )
    ects = _get(achievement, "creditsAvailable")
    try:
        ects_text = number_text(Decimal(str(ects))) if isinstance(ects, int | float | str) else ""
    except ArithmeticError:
        ects_text = ""
    hours = re.search(r"\((\d+) hours\)", narrative)
    workload = _("%(ects)s ECTS") % {"ects": ects_text} if ects_text else ""
    if hours:
        workload += " · " + _("%(hours)s hours") % {"hours": hours.group(1)}
    country = _text(_get(_get(issuer, "address"), "addressCountryCode"))
    issued = _text(document.get("validFrom")) or _text(_get(subject, "awardedDate"))
    return [
        Element(number=1, name=_("Learner"), value=learner, explanation=_("Who earned it.")),
        Element(
            number=2,
            name=_("Title"),
            value=_text(_get(achievement, "name")) or _text(document.get("name")),
            explanation=_("What the micro-credential is called, as the institution published it."),
        ),
        Element(
            number=3,
            name=_("Country of the issuer"),
            value=country,
            explanation=_("Where the awarding institution is established."),
        ),
        Element(
            number=4,
            name=_("Awarding body"),
            value=_text(_get(issuer, "name")) or _text(_get(issuer, "id")) or _text(issuer),
            explanation=_("The institution that assessed the learner and signed the credential."),
        ),
        Element(
            number=5,
            name=_("Date of issuing"),
            value=issued[:10],
            explanation=_("When the institution issued the credential."),
        ),
        Element(
            number=6,
            name=_("Learning outcomes"),
            value="" if outcomes else narrative[:2000],
            items=outcomes,
            explanation=_("What the learner knows and can do, as the institution assessed it."),
        ),
        Element(
            number=7,
            name=_("Workload"),
            value=workload,
            explanation=workload_explanation(ects_text or None),
        ),
        Element(
            number=8,
            name=_("Level"),
            value=concept_label(found.get("eqf", "")),
            explanation=eqf_explanation(found.get("eqf", "")),
        ),
        Element(
            number=9,
            name=_("Type of assessment"),
            value=concept_label(found.get("assessment", "")),
            explanation=_("How the learning was checked before the credential was awarded."),
        ),
        Element(
            number=10,
            name=_("Form of participation"),
            value=concept_label(found.get("participation", "")),
            explanation=_("Online, on site, or a mix (blended)."),
        ),
        Element(
            number=11,
            name=_("Quality assurance"),
            value=concept_label(found.get("quality", "")),
            explanation=_("Who checks the quality of the course and its assessment."),
        ),
    ]


def offer_details(snapshot: Mapping[str, Any]) -> list[Element]:
    """The optional elements staff gave for an offer, explained for someone considering it;
    absent ones are left out. (Languages of instruction are under the practical information.)"""
    found = []
    if snapshot.get("prerequisites"):
        found.append(
            Element(
                name=_("Prerequisites"),
                value=snapshot["prerequisites"],
                explanation=_("What you need before you enrol."),
            )
        )
    if snapshot.get("criteria"):
        found.append(
            Element(
                name=_("Assessment criteria"),
                value=snapshot["criteria"],
                explanation=_("What the institution looks for when it assesses your work."),
            )
        )
    if snapshot.get("grading_scheme"):
        found.append(
            Element(
                name=_("Grading scheme"),
                value=snapshot["grading_scheme"],
                explanation=_("How your result will be expressed on the credential."),
            )
        )
    if snapshot.get("supervision_verification"):
        found.append(
            Element(
                name=_("Supervision and identity verification"),
                value=concept_label(snapshot["supervision_verification"]),
                explanation=_(
                    "Whether the assessment is supervised and your identity checked, which "
                    "tells a reader how sure they can be that you yourself took it."
                ),
            )
        )
    if snapshot.get("validity_months"):
        found.append(
            Element(
                name=_("Validity"),
                value=_("%(months)s months after it is issued")
                % {"months": snapshot["validity_months"]},
                explanation=_(
                    "After this time the institution no longer vouches for the credential; it "
                    "still records what you achieved."
                ),
            )
        )
    if snapshot.get("further_information"):
        found.append(
            Element(
                name=_("Further information"),
                value=snapshot["further_information"],
                explanation=_("Anything else the institution wants you to know."),
            )
        )
    return found
