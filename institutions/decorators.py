from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from institutions import selectors

View = Callable[..., HttpResponseBase]


def staff_required(view: View) -> View:
    """Login, and a second factor for staff whose institution (or this node) demands one."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        mfa_required = settings.MESHE_STAFF_REQUIRE_MFA or selectors.institution_requires_mfa_for(
            user=user  # type: ignore[arg-type]  # login_required guarantees a real user
        )
        if mfa_required and not is_mfa_enabled(user, types=["totp"]):
            messages.warning(
                request,
                _("Staff pages need two-factor authentication. Set up an authenticator app first."),
            )
            return redirect("mfa_activate_totp")
        return view(request, *args, **kwargs)

    return wrapper
