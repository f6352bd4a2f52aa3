"""The ECTS filters: `{{ value|ects }}` is "4.5 ECTS", `{{ value|ects_number }}` is "4.5",
both in the active language's way (credentials.ects)."""

from decimal import Decimal

from django import template

from credentials.ects import ects_number as _ects_number
from credentials.ects import ects_text

register = template.Library()


@register.filter
def ects(value: Decimal | float | int | str | None) -> str:
    return ects_text(value)


@register.filter
def ects_number(value: Decimal | float | int | str | None) -> str:
    return _ects_number(value)
