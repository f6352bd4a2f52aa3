"""Which characters free text may hold, checked where people type it (forms, spreadsheets).

Canonical N-Quads, and so the signature of every credential, cannot carry C0 control
characters other than tab and line breaks, nor DEL: text holding them is refused when it is
typed, in words, rather than when a worker tries to sign it.
"""

import re
from typing import Final

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The same set credentials.standards.signing refuses in literals.
CONTROL_CHARACTERS: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# One-line fields (names, grades, titles) hold no tabs or line breaks either.
LINE_BREAKS: Final = re.compile(r"[\t\n\r\x85\u2028\u2029]")


def control_character_problem(text: str, *, multiline: bool = True) -> str | None:
    """Why `text` cannot be signed as it is, or None when it can."""
    if CONTROL_CHARACTERS.search(text) or (not multiline and LINE_BREAKS.search(text)):
        return str(_("This contains control characters; remove them and try again."))
    return None


def validate_multiline_text(text: str) -> None:
    """A form validator for text that may span lines."""
    if problem := control_character_problem(text):
        raise ValidationError(problem, code="control_characters")


def validate_one_line_text(text: str) -> None:
    """A form validator for names, grades and titles."""
    if problem := control_character_problem(text, multiline=False):
        raise ValidationError(problem, code="control_characters")
