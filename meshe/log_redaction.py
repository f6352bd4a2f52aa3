"""Keeps secrets that travel in URLs out of the logs.

Django logs the path of every 4xx and 5xx answer (django.request), and runserver logs every
request (django.server), tracebacks included. Claim links, e-mail confirmation keys and
password-reset keys are bearer secrets in the path, and API tokens can show in a traceback, so
the console handler passes every record through this filter.
"""

import logging
import re
from typing import Final

REDACTED: Final = "[redacted]"
# The secret part of each URL that carries one, as allauth and learners.urls route them; with
# or without the leading slash (a Resolver404 names the path without it).
SECRET_IN_PATH: Final = re.compile(
    r"(?P<before>(?<![\w.-])(?:claim|confirm-email|password/reset/key)/)"
    r"(?P<secret>(?!done/)[^/\s\"'?#]+)"
)
SECRET_IN_QUERY: Final = re.compile(
    r"(?P<before>[?&](?:pre-authorized_code|code|token|key|tx_code)=)(?P<secret>[^&\s\"'#]+)"
)
# An API token's whole text (institutions.selectors.API_TOKEN_TEXT): its prefix stays.
API_TOKEN: Final = re.compile(r"(?P<before>meshe_[0-9a-f]{8}_)(?P<secret>[A-Za-z0-9_-]{43})")


def redact(text: str) -> str:
    """The text with the secrets of claim, confirmation and reset links replaced."""
    for pattern in (SECRET_IN_PATH, SECRET_IN_QUERY, API_TOKEN):
        text = pattern.sub(r"\g<before>" + REDACTED, text)
    return text


class RedactSecretUrls(logging.Filter):
    """Rewrites a record whose message or traceback holds such a URL or a token; never drops
    a record. The traceback is formatted here, once, so handlers print the redacted text."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_TRACEBACKS: Final = logging.Formatter()
