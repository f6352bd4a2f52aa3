"""An offer's practical information (how to enrol, when, cost, language, mode and place), as
its page, its schema.org markup and the partner feed give it.

Pure: it reads a MicroCredential's fields or a partner feed item's checked summary and runs
no queries. The same Practical comes from either, so our offers and partners' look alike.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from credentials import documents
from credentials.catalogue import explanations
from credentials.standards import vocabularies

# Our duration units and their ISO 8601 designators (P6W is six weeks).
DURATION_DESIGNATORS: Final = documents.DURATION_DESIGNATORS
_DURATION: Final = re.compile(r"P([1-9][0-9]{0,3})([DWM])")
MODE_PREFIX: Final = vocabularies.MODE_PREFIX
# schema.org courseMode values for the EU modes of learning that have one.
SCHEMA_COURSE_MODE: Final = {
    "920fbb3cbe": "online",  # Online
    "9191af2ed9": "onsite",  # Presential
    "e92d221e4d": "blended",  # Blended
    "c_3a90b26d": "blended",  # Hybrid
}


@dataclass(frozen=True, slots=True)
class Practical:
    enrolment_url: str = ""
    enrolment_contact: str = ""
    start_dates: tuple[date, ...] = ()
    starts_any_time: bool = False
    duration_amount: int | None = None
    duration_unit: str = ""  # days, weeks or months
    schedule: str = ""
    cost: str = ""  # fee, free, funded or "" (not stated)
    price: Decimal | None = None
    currency: str = ""
    cost_note: str = ""
    languages: tuple[str, ...] = ()  # language codes
    mode: str = ""  # a URI of the EU "mode of learning and assessment" list
    place: str = ""

    @property
    def duration(self) -> str:
        """ISO 8601: P6W."""
        if not self.duration_amount or self.duration_unit not in DURATION_DESIGNATORS:
            return ""
        return f"P{self.duration_amount}{DURATION_DESIGNATORS[self.duration_unit]}"

    @property
    def is_empty(self) -> bool:
        return not (
            self.enrolment_url
            or self.enrolment_contact
            or self.start_dates
            or self.starts_any_time
            or self.duration
            or self.schedule
            or self.cost
            or self.place
        )


def _dates(values: Sequence[Any]) -> tuple[date, ...]:
    found = []
    for value in values:
        try:
            found.append(date.fromisoformat(str(value)))
        except ValueError:
            continue
    return tuple(sorted(found))


def from_micro_credential(micro_credential: Any, *, assume_main_language: bool = True) -> Practical:
    """The practical information staff entered on one of our offers. Without languages of
    instruction, the course is taken to be taught in its main language unless
    assume_main_language is false (the feed sends only what staff entered)."""
    mc = micro_credential
    main = (mc.language,) if assume_main_language else ()
    return Practical(
        enrolment_url=mc.enrolment_url,
        enrolment_contact=mc.enrolment_contact,
        start_dates=_dates(mc.start_dates),
        starts_any_time=mc.starts_any_time,
        duration_amount=mc.duration_amount,
        duration_unit=mc.duration_unit,
        schedule=mc.schedule,
        cost=mc.cost,
        price=mc.price,
        currency=mc.currency,
        cost_note=mc.cost_note,
        languages=tuple(mc.instruction_languages) or main,
        mode=mc.form_of_participation,
        place=mc.place,
    )


def feed_summary(practical: Practical) -> dict[str, Any]:
    """The feed summary's practical fields (docs/exchange.md); empty ones are left out."""
    found: dict[str, Any] = {
        "enrolmentUrl": practical.enrolment_url,
        "enrolmentContact": practical.enrolment_contact,
        "startDates": [day.isoformat() for day in practical.start_dates],
        "startsAnyTime": practical.starts_any_time or None,
        "duration": practical.duration,
        "schedule": practical.schedule,
        "cost": practical.cost,
        "price": str(practical.price) if practical.price is not None else "",
        "currency": practical.currency,
        "costNote": practical.cost_note,
        "instructionLanguages": list(practical.languages),
        "place": practical.place,
    }
    return {key: value for key, value in found.items() if value}


def from_feed_summary(summary: Mapping[str, Any], *, participation: str) -> Practical:
    """The practical information of a partner's feed item, from its summary as
    exchange.catalogue_feed checked it (practical_fields); participation is the summary's
    mode code."""
    duration = _DURATION.fullmatch(str(summary.get("duration", "")))
    units = {designator: unit for unit, designator in DURATION_DESIGNATORS.items()}
    price = summary.get("price")
    return Practical(
        enrolment_url=summary.get("enrolmentUrl", ""),
        enrolment_contact=summary.get("enrolmentContact", ""),
        start_dates=_dates(summary.get("startDates", [])),
        starts_any_time=bool(summary.get("startsAnyTime")),
        duration_amount=int(duration.group(1)) if duration else None,
        duration_unit=units[duration.group(2)] if duration else "",
        schedule=summary.get("schedule", ""),
        cost=summary.get("cost", ""),
        price=Decimal(price) if price else None,
        currency=summary.get("currency", ""),
        cost_note=summary.get("costNote", ""),
        languages=tuple(summary.get("instructionLanguages", [])),
        mode=MODE_PREFIX + participation if participation else "",
        place=summary.get("place", ""),
    )


def language_name(code: str) -> str:
    """A language's name in the visitor's language ("nl" → "Dutch"); the code when unknown."""
    try:
        return vocabularies.language(code).localized_label
    except vocabularies.UnknownConcept:
        return code


def duration_text(practical: Practical) -> str:
    amount = practical.duration_amount
    if not practical.duration or amount is None:
        return ""
    if practical.duration_unit == "days":
        return ngettext("%(count)s day", "%(count)s days", amount) % {"count": amount}
    if practical.duration_unit == "weeks":
        return ngettext("%(count)s week", "%(count)s weeks", amount) % {"count": amount}
    return ngettext("%(count)s month", "%(count)s months", amount) % {"count": amount}


def cost_text(practical: Practical) -> str:
    if practical.cost == "free":
        text = _("Free")
    elif practical.cost == "funded":
        text = _("Funded: free for eligible learners")
    elif practical.cost == "fee" and practical.price is not None:
        text = "%s %s" % (  # noqa: UP031  # not a translatable string: amount and ISO code
            number_format(practical.price, decimal_pos=2, use_l10n=True),
            practical.currency,
        )
    else:
        return practical.cost_note
    return text + (" — " + practical.cost_note if practical.cost_note else "")


def start_text(practical: Practical) -> str:
    if practical.starts_any_time:
        return _("Any time: start when you are ready")
    return ", ".join(date_format(day, "DATE_FORMAT") for day in practical.start_dates)


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the practical information: a name, a text, and a link when it is one."""

    name: str
    value: str
    link: str = ""


def rows(practical: Practical) -> list[Row]:
    """What the offer page lists under "Practical information", in the order people ask."""
    found: list[Row] = []
    if practical.enrolment_url:
        found.append(
            Row(_("How to enrol"), _("Enrol on the institution's site"), practical.enrolment_url)
        )
    if practical.enrolment_contact:
        contact = practical.enrolment_contact
        link = "mailto:" + contact if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", contact) else ""
        name = _("Contact") if practical.enrolment_url else _("How to enrol")
        found.append(Row(name, contact, link))
    if start := start_text(practical):
        found.append(Row(_("Starts"), start))
    if duration := duration_text(practical):
        found.append(Row(_("Duration"), duration))
    if practical.schedule:
        found.append(Row(_("Schedule"), practical.schedule))
    if cost := cost_text(practical):
        found.append(Row(_("Cost"), cost))
    if practical.languages:
        found.append(
            Row(
                _("Language of instruction"),
                ", ".join(language_name(code) for code in practical.languages),
            )
        )
    if practical.mode:
        found.append(Row(_("Mode"), explanations.plain_label(practical.mode)))
    if practical.place:
        found.append(Row(_("Place"), practical.place))
    return found


def course_instance(practical: Practical) -> dict[str, Any]:
    """The schema.org CourseInstance of an offer (one, for its every start date)."""
    instance: dict[str, Any] = {"@type": "CourseInstance"}
    code = practical.mode.rsplit("/", 1)[-1]
    if code in SCHEMA_COURSE_MODE:
        instance["courseMode"] = SCHEMA_COURSE_MODE[code]
    if practical.place:
        instance["location"] = {"@type": "Place", "name": practical.place}
    if practical.start_dates:
        instance["startDate"] = practical.start_dates[0].isoformat()
    if practical.duration or practical.schedule:
        schedule: dict[str, Any] = {"@type": "Schedule"}
        if practical.duration:
            schedule["duration"] = practical.duration
        if practical.schedule:
            schedule["description"] = practical.schedule
        if practical.start_dates:
            schedule["startDate"] = practical.start_dates[0].isoformat()
        instance["courseSchedule"] = schedule
    if practical.languages:
        instance["inLanguage"] = list(practical.languages)
    if practical.cost in ("free", "funded") or (
        practical.cost == "fee" and practical.price is not None
    ):
        free = practical.cost != "fee"
        offer: dict[str, Any] = {
            "@type": "Offer",
            "price": 0 if free else float(practical.price or 0),
            "category": "Free" if practical.cost == "free" else "Paid",
        }
        if practical.currency:
            offer["priceCurrency"] = practical.currency
        if practical.cost == "funded":
            offer["category"] = "Partially Free"
        if practical.enrolment_url:
            offer["url"] = practical.enrolment_url
        instance["offers"] = offer
    return instance


def course_instances(practical: Practical) -> list[dict[str, Any]]:
    """One CourseInstance per start date (Google reads each intake), or one without a date."""
    base = course_instance(practical)
    if len(practical.start_dates) <= 1:
        return [base]
    instances = []
    for day in practical.start_dates:
        instance = {**base, "startDate": day.isoformat()}
        if "courseSchedule" in base:
            instance["courseSchedule"] = {**base["courseSchedule"], "startDate": day.isoformat()}
        instances.append(instance)
    return instances
