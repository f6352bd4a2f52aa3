"""Reading what the portal mailed: a claim link's token, a wallet offer's PIN."""

import re

from django.core import mail


def claim_token(message: mail.EmailMessage) -> str:
    found = re.search(r"/claim/([^/\s]+)/", str(message.body))
    assert found is not None, message.body
    return found.group(1)


def pin_in(message) -> str:
    """The six-digit PIN on a line of its own in an e-mail."""
    found = re.search(r"^\s+(\d{6})$", str(message.body), re.MULTILINE)
    assert found is not None, message.body
    return found.group(1)
