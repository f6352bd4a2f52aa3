"""Which characters free text may hold, checked where people type it (forms, spreadsheets).

Canonical N-Quads, and so the signature of every credential, cannot carry C0 control
characters other than tab and line breaks, nor DEL: text holding them is refused when it is
typed, in words, rather than when a worker tries to sign it.

Typed text (names, titles, descriptions, grades) may not hold the bidirectional embeddings,
overrides and isolates either: invisible, they reorder how the text around them is shown, so
"Ana\u202eakswolaK" would show as another name on a credential or a page. The marks (LRM,
RLM, ALM) stay allowed: they only nudge neutral characters, and right-to-left text needs them.
"""

import re
from typing import Final

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The same set credentials.standards.signing refuses in literals.
CONTROL_CHARACTERS: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# One-line fields (names, grades, titles) hold no tabs or line breaks either.
LINE_BREAKS: Final = re.compile(r"[\t\n\r\x85\u2028\u2029]")
# LRE, RLE, PDF, LRO, RLO and LRI, RLI, FSI, PDI (Unicode Bidi_Control without the marks).
BIDI_OVERRIDES: Final = re.compile(r"[\u202a-\u202e\u2066-\u2069]")


def control_character_problem(text: str, *, multiline: bool = True) -> str | None:
    """Why `text` cannot be signed as it is, or None when it can."""
    if CONTROL_CHARACTERS.search(text) or (not multiline and LINE_BREAKS.search(text)):
        return str(_("This contains control characters; remove them and try again."))
    return None


def typed_text_problem(text: str, *, multiline: bool = True) -> str | None:
    """Why `text` may not be typed into a name, title or description (it cannot be signed, or it
    holds bidirectional overrides or isolates), or None when it may."""
    if BIDI_OVERRIDES.search(text):
        # They are Unicode's bidirectional control characters, so the sentence holds.
        return str(_("This contains control characters; remove them and try again."))
    return control_character_problem(text, multiline=multiline)


def validate_multiline_text(text: str) -> None:
    """A form validator for text that may span lines."""
    if problem := typed_text_problem(text):
        raise ValidationError(problem, code="control_characters")


def validate_one_line_text(text: str) -> None:
    """A form validator for names, grades and titles."""
    if problem := typed_text_problem(text, multiline=False):
        raise ValidationError(problem, code="control_characters")
