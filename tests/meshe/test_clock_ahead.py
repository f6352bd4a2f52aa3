"""The clock-ahead mode of tests/conftest.py catches a test that only passes today."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BOMB = "tests/meshe/clock_bomb.py"


def run_bomb(**clock: str) -> subprocess.CompletedProcess[str]:
    env = {
        name: value for name, value in os.environ.items() if not name.startswith("MESHE_TEST_CLOCK")
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", BOMB, "-m", "date_sensitive", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env={**env, **clock},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_test_that_only_passes_today_passes_with_the_real_clock():
    result = run_bomb()
    assert result.returncode == 0, result.stdout
    assert "1 passed" in result.stdout


def test_the_same_test_fails_with_the_clock_a_year_ahead():
    result = run_bomb(MESHE_TEST_CLOCK_AHEAD_DAYS="365")
    assert result.returncode == 1, result.stdout
    assert "1 failed" in result.stdout
    assert "assert datetime.date(" in result.stdout


def test_the_same_test_fails_from_a_chosen_instant():
    result = run_bomb(MESHE_TEST_CLOCK_AT="2031-12-31T23:59:30+01:00")
    assert result.returncode == 1, result.stdout
    assert "datetime.date(2031, 12, 31)" in result.stdout
