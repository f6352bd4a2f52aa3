"""The one error type a person may see, and the error pages for everything else."""

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader


class UserFacingError(Exception):
    """A known failure whose message is safe and translated; views show it, nothing else."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No request context: the page must render even when whatever broke was a context processor.
    return HttpResponseServerError(loader.get_template("500.html").render())
