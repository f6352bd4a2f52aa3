"""The one set of rules for a learner to issue to, whichever door they come through: the issue
form, the bulk spreadsheet and the issuer API. Each door reads its own input (a form field, a
cell, a JSON member) into text or a date and shows the messages where its users look; the
rules and their words are here, so the same bad input is refused the same way everywhere."""

import re
from collections.abc import Callable
from datetime import date
from typing import Final

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.translation import gettext as _

from credentials.models import IssuedCredential
from meshe import plain_text

FIELDS: Final = (
    "holder_name",
    "holder_email",
    "awarded_date",
    "grade",
    "evidence_url",
    "evidence_narrative",
)
NAME_MAX: Final = 200
EMAIL_MAX: Final = 254
GRADE_MAX: Final = 100
EVIDENCE_URL_MAX: Final = IssuedCredential._meta.get_field("evidence_url").max_length or 200
NARRATIVE_MAX: Final = 10_000
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# What an IRI in a signed document may not hold, though URLValidator lets some through.
_IRI_UNSAFE: Final = re.compile(r'[\s<>"{}|^`\\]')
_web_address = URLValidator(schemes=["https", "http"])


def awarded_date_parse(value: date | str) -> date | None:
    """The date of achievement given as a date or as text like 2026-06-30; None otherwise."""
    if isinstance(value, date):
        return value
    if not _DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def recipient_problems(
    *,
    holder_name: str,
    holder_email: str,
    awarded_date: date | str,
    grade: str,
    evidence_url: str,
    evidence_narrative: str,
    today: date,
) -> dict[str, str]:
    """What is wrong with a recipient, one message per field (in FIELDS order); empty when it
    may be issued to. Text is checked as given: a door that trims input trims it first."""
    problems: dict[str, str] = {}
    if not holder_name:
        problems["holder_name"] = _("The name is missing.")
    elif len(holder_name) > NAME_MAX:
        problems["holder_name"] = _("The name is longer than 200 characters.")
    elif problem := plain_text.typed_text_problem(holder_name, multiline=False):
        problems["holder_name"] = _("The name: %(problem)s") % {"problem": problem}
    if not holder_email:
        problems["holder_email"] = _("The e-mail address is missing.")
    elif len(holder_email) > EMAIL_MAX or not _is_email(holder_email):
        problems["holder_email"] = _("“%(email)s” is not an e-mail address.") % {
            "email": holder_email[:EMAIL_MAX]
        }
    if awarded_date == "":
        problems["awarded_date"] = _("The date of achievement is missing.")
    elif (awarded := awarded_date_parse(awarded_date)) is None:
        problems["awarded_date"] = _("“%(value)s” is not a date like 2026-06-30.") % {
            "value": str(awarded_date)[:40]
        }
    elif awarded > today:
        problems["awarded_date"] = _("The date of achievement is in the future.")
    if len(grade) > GRADE_MAX or plain_text.typed_text_problem(grade, multiline=False):
        problems["grade"] = _("The grade must be at most 100 characters of plain text.")
    if evidence_url:
        if len(evidence_url) > EVIDENCE_URL_MAX:
            problems["evidence_url"] = _(
                "The evidence link is longer than %(limit)s characters."
            ) % {"limit": EVIDENCE_URL_MAX}
        elif not _is_web_address(evidence_url):
            problems["evidence_url"] = _("The evidence link is not a web address.")
    if len(evidence_narrative) > NARRATIVE_MAX:
        problems["evidence_narrative"] = _("The evidence is longer than %(limit)s characters.") % {
            "limit": NARRATIVE_MAX
        }
    elif problem := plain_text.typed_text_problem(evidence_narrative):
        problems["evidence_narrative"] = _("The evidence: %(problem)s") % {"problem": problem}
    return problems


def _is_email(text: str) -> bool:
    return _passes(validate_email, text)


def _is_web_address(text: str) -> bool:
    # The link becomes an IRI in the signed credential, where these characters break it.
    return _passes(_web_address, text) and not _IRI_UNSAFE.search(text)


def _passes(validator: Callable[[str], None], text: str) -> bool:
    try:
        validator(text)
    except ValidationError:
        return False
    return True
