from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from meshe.http import AuthenticatedHttpRequest


@login_required
def wallet(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "learners/wallet.html")
