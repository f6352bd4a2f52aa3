"""Signing a browser in without its login pages."""

from django.test import Client


def _session_for(user) -> str:
    """A signed-in session, so the test starts where the login test ends."""
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value
