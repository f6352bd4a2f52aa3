from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from institutions import selectors
from meshe.http import AuthenticatedHttpRequest


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


@login_required
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Where sign-in lands: staff go to their institutions, learners to their wallet."""
    if selectors.memberships_for_user(user=request.user).exists():
        return redirect("institutions:staff_home")
    return redirect("learners:wallet")
