"""What allauth needs to keep the promise of docs/security.md: refusals are 429 with Retry-After.

allauth answers its own limits with 429 (meshe.urls.handler429), but a lock after repeated
failures (the `login_failed` limit) is a form error on a 200 page: "Too many failed login
attempts". This middleware keeps that page and its text, and makes it a 429 with Retry-After.
"""

from collections.abc import Callable
from typing import Final

from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from meshe.rate_limits import allauth_retry_after

# The code of allauth's form error when its `login_failed` limit refuses an attempt.
LOCKED_OUT: Final = "too_many_login_attempts"


def _locked_out(form: object) -> bool:
    if not isinstance(form, BaseForm) or not form.is_bound:
        return False
    return any(
        error.code == LOCKED_OUT for errors in form.errors.values() for error in errors.as_data()
    )


class LoginLockoutMiddleware:
    """A page whose form allauth refused for too many failed sign-ins answers 429, with
    Retry-After: the longest period of the page's limits, after which every counted attempt
    has expired."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_template_response(
        self, request: HttpRequest, response: TemplateResponse
    ) -> TemplateResponse:
        context = response.context_data or {}
        if response.status_code == 200 and _locked_out(context.get("form")):
            response.status_code = 429
            response["Retry-After"] = str(allauth_retry_after(request))
            response["Cache-Control"] = "no-store"
        return response
