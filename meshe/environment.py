"""Strict readers for settings that come from the environment.

Each reader refuses a malformed value with a message naming the variable, so a
typo in production fails at start-up instead of silently meaning something else.
"""

import json
import os
import secrets
import warnings
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "on"})
FALSE_WORDS = frozenset({"0", "false", "off"})


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str) -> str:
    """The variable's text, or the default when unset or blank."""
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    """Only true/false, 1/0 and on/off are accepted; anything else is an error."""
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (or 1/0, on/off), not {value!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """A whole number, refused when malformed or below the minimum."""
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list; empty items are refused rather than dropped."""
    value = _raw(name)
    if value is None:
        return list(default)
    items = [item.strip() for item in value.split(",")]
    if any(not item for item in items):
        raise ImproperlyConfigured(f"{name} has an empty item: {value!r}.")
    return items


def env_url(name: str, default: str, *, schemes: tuple[str, ...] = ("http", "https")) -> str:
    """An absolute URL with one of the given schemes, without a trailing slash."""
    value = env_str(name, default)
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        allowed = ", ".join(schemes)
        raise ImproperlyConfigured(f"{name} must be an absolute URL ({allowed}), not {value!r}.")
    if parts.query or parts.fragment:
        raise ImproperlyConfigured(f"{name} must not carry a query or fragment: {value!r}.")
    return value.rstrip("/")


def env_json_list(name: str) -> list[dict[str, object]]:
    """A JSON array of objects, or an empty list when unset."""
    value = _raw(name)
    if value is None:
        return []
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"{name} is not valid JSON: {exc.msg}.") from None
    if not isinstance(parsed, list) or not all(isinstance(item, dict) for item in parsed):
        raise ImproperlyConfigured(f"{name} must be a JSON array of objects.")
    return parsed


def env_overrides(name: str, defaults: dict[str, str]) -> dict[str, str]:
    """The defaults with some values replaced by a JSON object of strings: {"verify": "30/m"}.

    Names the defaults do not have are refused, so a typo does not silently change nothing.
    """
    value = _raw(name)
    if value is None:
        return dict(defaults)
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"{name} is not valid JSON: {exc.msg}.") from None
    if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
        raise ImproperlyConfigured(f"{name} must be a JSON object of strings.")
    unknown = sorted(set(parsed) - set(defaults))
    if unknown:
        known = ", ".join(sorted(defaults))
        raise ImproperlyConfigured(f"{name} names unknown {', '.join(unknown)} (known: {known}).")
    return {**defaults, **parsed}


def env_secret(name: str, *, debug: bool, store: Path, min_length: int = 32) -> str:
    """A required secret in production; in debug a generated one, kept in `store`.

    The development value is written to a file so that the web process and the
    Celery worker agree on it and keys encrypted yesterday still decrypt today. Only
    generating it warns: every later command of every process would repeat the same line.
    """
    value = _raw(name)
    if value is not None:
        if len(value) < min_length:
            raise ImproperlyConfigured(f"{name} must be at least {min_length} characters long.")
        return value
    if not debug:
        raise ImproperlyConfigured(
            f"{name} must be set in production (it is only generated when DEBUG=true)."
        )
    stored: dict[str, str] = json.loads(store.read_text()) if store.exists() else {}
    if name not in stored:
        stored[name] = secrets.token_urlsafe(48)
        store.parent.mkdir(parents=True, exist_ok=True)
        store.write_text(json.dumps(stored, indent=2))
        store.chmod(0o600)
        warnings.warn(
            f"{name} is not set: generated a development value, kept in {store}.",
            stacklevel=2,
        )
    return stored[name]
