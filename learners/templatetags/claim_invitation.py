"""The line that the sign-in and sign-up pages show a learner who came from a claim link."""

from typing import Any

from django import template
from django.utils.translation import gettext as _

register = template.Library()

# learners.views.CLAIM_SESSION_KEY (not imported: the views import the world).
_SESSION_KEY = "claim_pending"


@register.simple_tag(takes_context=True)
def claim_invitation(context: dict[str, Any]) -> str:
    """'Sign in to add <title> from <institution> to your wallet' (or sign up, on that page)
    while a claim link waits; empty otherwise, or when the page leads somewhere else."""
    request = context.get("request")
    if request is None or not hasattr(request, "session"):
        return ""
    pending = request.session.get(_SESSION_KEY)
    if not isinstance(pending, dict):
        return ""
    going_to = request.GET.get("next")
    if going_to and going_to != pending.get("path"):
        return ""
    names = {"title": pending.get("title", ""), "institution": pending.get("institution", "")}
    match = getattr(request, "resolver_match", None)
    if match is not None and match.url_name == "account_signup":
        return (
            _("Create your account to add %(title)s from %(institution)s to your wallet.") % names
        )
    return _("Sign in to add %(title)s from %(institution)s to your wallet.") % names
