from django.http import HttpRequest

from accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """The request type of views behind login_required, where `user` is a real user."""

    user: User
