"""ECTS credits as people read them: "4 ECTS", "4.5 ECTS", and "4,5 ECTS" in French and German.

Every page, e-mail and PDF shows a workload through these two functions (the `ects` and
`ects_number` template filters call them), so a page never says "4.00 ECTS" where another says
"4 ECTS". Pure: no queries; the active language decides the decimal separator.
"""

from decimal import Decimal, InvalidOperation

from django.utils.formats import number_format
from django.utils.translation import gettext as _


def ects_number(value: Decimal | float | int | str | None) -> str:
    """4.00 → "4", 7.50 → "7.5" (or "7,5" in French and German); "" for no value."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not number.is_finite():
        return str(value)
    exponent = number.normalize().as_tuple().exponent
    places = max(0, -exponent) if isinstance(exponent, int) else 0
    return number_format(number, decimal_pos=places, use_l10n=True)


def ects_text(value: Decimal | float | int | str | None) -> str:
    """The workload with its unit, "4.5 ECTS"; "" for no value."""
    number = ects_number(value)
    return _("%(ects)s ECTS") % {"ects": number} if number else ""
