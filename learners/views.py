from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from learners import selectors, services
from learners.exceptions import ClaimError
from meshe.http import AuthenticatedHttpRequest


@login_required
def wallet(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request,
        "learners/wallet.html",
        {"credentials": selectors.wallet_credentials(user=request.user)},
    )


def claim(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mailed link: sign in (or up) first, then the credential joins the wallet."""
    if not request.user.is_authenticated:
        messages.info(
            request,
            _("Sign in, or create an account with the address the credential was sent to."),
        )
        return redirect(reverse("account_login") + "?" + urlencode({"next": request.path}))
    if request.method != "POST":
        return render(request, "learners/claim.html")
    try:
        credential = services.credential_claim(token=token, user=request.user)
    except ClaimError as exc:
        messages.error(request, exc.message)
        return redirect("learners:wallet")
    messages.success(
        request, _("%(title)s is in your wallet.") % {"title": credential.version.title}
    )
    return redirect("learners:wallet")
