"""A time bomb for tests/meshe/test_clock_ahead.py to run: it passes only on the day it runs.

Its name keeps pytest from collecting it in the suite; the meta-test names it explicitly."""

from datetime import date

import pytest

RUN_ON = date.today()  # read at import, before any test moves the clock


@pytest.mark.date_sensitive
def test_the_day_it_was_written_on() -> None:
    assert date.today() == RUN_ON
